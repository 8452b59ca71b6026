package catalog

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
)

// The province tables shipped with lienthong (NQ 202/2025/QH15). The 63-province table is
// taken as in force from ProvincesBaseline, the last change before 2025 (Hà Tây joined
// Hà Nội on 2008-08-01); earlier history is not loaded.
var (
	//go:embed data/provinces-before-2025-07-01.csv
	provincesBefore []byte
	//go:embed data/provinces-from-2025-07-01.csv
	provincesAfter []byte
)

// Dates of the province tables.
const (
	ProvincesBaseline = "2008-08-01"
	Reorganisation    = "2025-07-01"
)

type provinceRow struct {
	code, name string
	kind       catalogv1.UnitKind
	mergedFrom []string
}

func readProvinceCSV(data []byte, withMerged bool) ([]provinceRow, error) {
	r := csv.NewReader(bytes.NewReader(data))
	if _, err := r.Read(); err != nil {
		return nil, fmt.Errorf("province table header: %w", err)
	}
	var rows []provinceRow
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("province table: %w", err)
		}
		if len(rec) < 3 || (withMerged && len(rec) < 4) {
			return nil, fmt.Errorf("province table: short row %v", rec)
		}
		row := provinceRow{code: rec[0], name: platform.NFC(rec[1])}
		switch rec[2] {
		case "city":
			row.kind = catalogv1.UnitKind_UNIT_KIND_CITY
		case "province":
			row.kind = catalogv1.UnitKind_UNIT_KIND_PROVINCE
		default:
			return nil, fmt.Errorf("province table: kind %q of %s", rec[2], rec[0])
		}
		if withMerged {
			row.mergedFrom = strings.Fields(rec[3])
		}
		rows = append(rows, row)
	}
}

// provinceUnits builds the province units with their history from the two tables.
func provinceUnits(before, after []byte) (map[string]*catalogv1.Unit, error) {
	old, err := readProvinceCSV(before, false)
	if err != nil {
		return nil, err
	}
	cur, err := readProvinceCSV(after, true)
	if err != nil {
		return nil, err
	}
	units := map[string]*catalogv1.Unit{}
	for _, p := range old {
		units[p.code] = &catalogv1.Unit{
			Code: p.code, Name: p.name, Kind: p.kind, ValidFrom: ProvincesBaseline,
			Names: []*catalogv1.UnitName{{Name: p.name, ValidFrom: ProvincesBaseline, Kind: p.kind}},
		}
	}
	last := dayBefore(Reorganisation)
	for _, p := range cur {
		u, ok := units[p.code]
		if !ok {
			u = &catalogv1.Unit{Code: p.code, ValidFrom: Reorganisation}
			units[p.code] = u
		}
		if n := len(u.Names); n == 0 || u.Names[n-1].GetName() != p.name || u.Names[n-1].GetKind() != p.kind {
			if n > 0 {
				u.Names[n-1].ValidTo = last
			}
			u.Names = append(u.Names, &catalogv1.UnitName{Name: p.name, ValidFrom: Reorganisation, Kind: p.kind})
		}
		u.Name, u.Kind = p.name, p.kind
		for _, from := range p.mergedFrom {
			if from == p.code {
				continue
			}
			pred, ok := units[from]
			if !ok {
				return nil, fmt.Errorf("province table: %s merges unknown code %s", p.code, from)
			}
			units[from] = retire(pred, last, p.code)
			u.Predecessors = appendUnique(u.Predecessors, from)
		}
	}
	return units, nil
}

// seedProvinces stores the province units once, on a new data file.
func (c *Catalog) seedProvinces(_ context.Context) (bool, error) {
	var done bool
	if err := c.db.View(func(tx *bolt.Tx) error {
		done = tx.Bucket(bucketMeta).Get(metaProvincesSeeded) != nil
		return nil
	}); err != nil || done {
		return false, err
	}
	units, err := provinceUnits(provincesBefore, provincesAfter)
	if err != nil {
		return false, err
	}
	err = c.db.Update(func(tx *bolt.Tx) error {
		for code, u := range units {
			if err := putRecord(tx, bucketUnits, code, u); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(metaProvincesSeeded, []byte(Reorganisation))
	})
	if err != nil {
		return false, fmt.Errorf("seed provinces: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for code, u := range units {
		c.units[code] = proto.Clone(u).(*catalogv1.Unit)
	}
	c.unitCodes = sortedKeys(c.units)
	return true, nil
}

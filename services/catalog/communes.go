package catalog

import (
	"context"
	_ "embed"
	"fmt"
	"regexp"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
)

// The commune-level units (communes, wards, special zones) of the 34 provinces from
// 2025-07-01, with their 5-digit codes and provinces (docs/domain.md, Administrative units).
//
//go:embed data/communes-from-2025-07-01.csv
var communesCSV []byte

var communeCodeRE = regexp.MustCompile(`^\d{5}$`)

var communeKinds = map[string]catalogv1.UnitKind{
	"commune":      catalogv1.UnitKind_UNIT_KIND_COMMUNE,
	"ward":         catalogv1.UnitKind_UNIT_KIND_WARD,
	"special_zone": catalogv1.UnitKind_UNIT_KIND_SPECIAL_ZONE,
}

// communeUnits builds the commune-level units from the table, each under a province in force
// on 2025-07-01.
func communeUnits(data []byte, units map[string]*catalogv1.Unit) ([]*catalogv1.Unit, error) {
	recs, err := readCSV(data, []string{"code", "name", "kind", "province_code", "name_en"})
	if err != nil {
		return nil, fmt.Errorf("commune table: %w", err)
	}
	seen := map[string]bool{}
	out := make([]*catalogv1.Unit, 0, len(recs))
	for i, r := range recs {
		code, name, province := r[0], platform.NFC(r[1]), r[3]
		kind, ok := communeKinds[r[2]]
		p := units[province]
		switch {
		case !communeCodeRE.MatchString(code) || seen[code]:
			return nil, fmt.Errorf("commune table row %d: code %q is not 5 digits or repeats", i+1, code)
		case !ok:
			return nil, fmt.Errorf("commune table row %d: kind %q", i+1, r[2])
		case name == "":
			return nil, fmt.Errorf("commune table row %d: no name", i+1)
		case p == nil || len(province) != 2 || !inForce(p.GetValidFrom(), p.GetValidTo(), Reorganisation):
			return nil, fmt.Errorf("commune table row %d: province %q is not in force on %s", i+1, province, Reorganisation)
		}
		seen[code] = true
		out = append(out, &catalogv1.Unit{
			Code: code, Name: name, Kind: kind, ParentCode: province, ValidFrom: Reorganisation,
			Names: []*catalogv1.UnitName{{Name: name, ValidFrom: Reorganisation, Kind: kind}},
		})
	}
	return out, nil
}

// seedCommunes stores the commune-level units once, also on a data file made before they
// were shipped.
func (c *Catalog) seedCommunes(_ context.Context) (int, error) {
	var done bool
	if err := c.db.View(func(tx *bolt.Tx) error {
		done = tx.Bucket(bucketMeta).Get(metaCommunesSeeded) != nil
		return nil
	}); err != nil || done {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	communes, err := communeUnits(communesCSV, c.units)
	if err != nil {
		return 0, err
	}
	var fresh []*catalogv1.Unit
	for _, u := range communes {
		if _, ok := c.units[u.GetCode()]; !ok { // a unit an admin created first is kept
			fresh = append(fresh, u)
		}
	}
	err = c.db.Update(func(tx *bolt.Tx) error {
		for _, u := range fresh {
			if err := putRecord(tx, bucketUnits, u.GetCode(), u); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(metaCommunesSeeded, []byte(Reorganisation))
	})
	if err != nil {
		return 0, fmt.Errorf("seed communes: %w", err)
	}
	for _, u := range fresh {
		c.units[u.GetCode()] = proto.Clone(u).(*catalogv1.Unit)
	}
	c.unitCodes = sortedKeys(c.units)
	return len(fresh), nil
}

package catalog

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/csv"
	"fmt"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
)

// Demo data (`lienthong up --demo`): agencies of every province and departments and
// districts of the provinces in the source articles, and realistic procedures. Names are
// real; codes follow the national formats but are not the official assignments.
var (
	//go:embed demo/agencies.csv
	demoAgencies []byte
	//go:embed demo/procedures.csv
	demoProcedures []byte
)

// LoadDemo adds the demo agencies and procedures once; later calls do nothing.
func (c *Catalog) LoadDemo(ctx context.Context) error {
	var loaded bool
	if err := c.db.View(func(tx *bolt.Tx) error {
		loaded = tx.Bucket(bucketMeta).Get(metaDemoLoaded) != nil
		return nil
	}); err != nil || loaded {
		return err
	}
	agencies, err := c.demoAgencyList()
	if err != nil {
		return err
	}
	c.mu.Lock()
	if err := c.putAgencies(agencies); err != nil {
		c.mu.Unlock()
		return err
	}
	c.mu.Unlock()
	var v platform.Violations
	rows, err := ParseProceduresCSV(demoProcedures, &v)
	if err == nil {
		err = v.Err()
	}
	if err != nil {
		return fmt.Errorf("demo procedures: %w", err)
	}
	admin := platform.WithCaller(ctx, &platform.Caller{System: "lienthong/demo", Role: platform.RoleAdmin})
	resp, err := c.ImportProcedures(admin, &catalogv1.ImportProceduresRequest{Procedures: rows})
	if err != nil {
		return fmt.Errorf("demo procedures: %w", err)
	}
	if err := c.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(metaDemoLoaded, []byte("1")) }); err != nil {
		return err
	}
	c.lg.Info("demo catalog loaded", zap.Int("agencies", len(agencies)), zap.Int32("procedures", resp.GetCreated()+resp.GetUpdated()))
	return nil
}

func (c *Catalog) demoAgencyList() ([]*catalogv1.Agency, error) {
	recs, err := csv.NewReader(bytes.NewReader(demoAgencies)).ReadAll()
	if err != nil || len(recs) < 2 {
		return nil, fmt.Errorf("demo agencies: %v", err)
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	var v platform.Violations
	known := map[string]*catalogv1.Agency{}
	var out []*catalogv1.Agency
	for i, r := range recs[1:] {
		if len(r) != 4 {
			return nil, fmt.Errorf("demo agencies row %d: want 4 cells", i+1)
		}
		in := &catalogv1.Agency{Code: r[0], Name: r[1], UnitCode: r[2], ParentCode: r[3]}
		known[in.Code] = in
		out = append(out, c.checkAgency(in, fmt.Sprintf("rows[%d].", i+1), known, &v))
	}
	if err := v.Err(); err != nil {
		return nil, fmt.Errorf("demo agencies: %w", err)
	}
	return out, nil
}

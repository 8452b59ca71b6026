package catalog

import (
	"context"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
)

// checkAgency normalises an agency and lists what is wrong with it. Callers hold c.mu
// (read or write). known has agencies being added in the same transaction.
func (c *Catalog) checkAgency(in *catalogv1.Agency, prefix string, known map[string]*catalogv1.Agency, v *platform.Violations) *catalogv1.Agency {
	a := &catalogv1.Agency{
		Code: platform.NFC(in.GetCode()), Name: platform.NFC(in.GetName()),
		UnitCode: platform.NFC(in.GetUnitCode()), ParentCode: platform.NFC(in.GetParentCode()),
		ValidFrom: in.GetValidFrom(), ValidTo: in.GetValidTo(), SuccessorCode: platform.NFC(in.GetSuccessorCode()),
		Kind: in.GetKind(),
	}
	code, err := platform.ParseAgencyCode(a.Code)
	if err != nil {
		v.Add(prefix+"code", "must be an electronic identifier NNN.NN.NN.XNN (e.g. 000.00.00.H31) or XNN.NN (e.g. H31.01), got %q", a.Code)
	}
	if a.Name == "" || len(a.Name) > 300 {
		v.Add(prefix+"name", "is required, at most 300 bytes")
	}
	if a.UnitCode == "" {
		v.Add(prefix+"unit_code", "is required")
	} else if _, ok := c.units[a.UnitCode]; !ok {
		v.Add(prefix+"unit_code", "unit %q does not exist", a.UnitCode)
	}
	if a.ParentCode != "" {
		_, inCatalog := c.agencies[a.ParentCode]
		_, inBatch := known[a.ParentCode]
		if !inCatalog && !inBatch {
			v.Add(prefix+"parent_code", "agency %q does not exist", a.ParentCode)
		}
		if a.ParentCode == a.Code {
			v.Add(prefix+"parent_code", "an agency cannot be its own parent")
		}
	}
	c.checkAgencyLife(a, code, prefix, known, v)
	c.checkAgencyKind(a, prefix, v)
	return a
}

// CreateAgency registers an agency.
func (c *Catalog) CreateAgency(ctx context.Context, r *catalogv1.CreateAgencyRequest) (*catalogv1.Agency, error) {
	if _, err := platform.RequireRole(ctx, platform.RoleAdmin); err != nil {
		return nil, err
	}
	var v platform.Violations
	if r.GetAgency() == nil {
		v.Add("agency", "is required")
		return nil, v.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.checkAgency(r.GetAgency(), "agency.", nil, &v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if old, ok := c.agencies[a.Code]; ok {
		if proto.Equal(old, a) {
			return c.agencyAt(old, c.today()), nil // the same agency again: nothing to do
		}
		return nil, platform.AlreadyExists("agency", a.Code)
	}
	if err := c.putAgencies([]*catalogv1.Agency{a}); err != nil {
		return nil, err
	}
	return c.agencyAt(a, c.today()), nil
}

// putAgencies stores agencies, then keeps them in memory. Callers hold c.mu.
func (c *Catalog) putAgencies(as []*catalogv1.Agency) error {
	if err := c.db.Update(func(tx *bolt.Tx) error {
		for _, a := range as {
			if err := putRecord(tx, bucketAgencies, a.GetCode(), a); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	for _, a := range as {
		c.agencies[a.GetCode()] = a
		c.agCodes = insertSorted(c.agCodes, a.GetCode())
		c.indexRoot(a)
	}
	return nil
}

// GetAgency answers one agency.
func (c *Catalog) GetAgency(_ context.Context, r *catalogv1.GetAgencyRequest) (*catalogv1.Agency, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	a, ok := c.agencies[r.GetCode()]
	if !ok {
		return nil, platform.NotFound("agency", r.GetCode())
	}
	return c.agencyAt(a, c.today()), nil
}

// ListAgencies answers agencies by code, filtered.
func (c *Catalog) ListAgencies(_ context.Context, r *catalogv1.ListAgenciesRequest) (*catalogv1.ListAgenciesResponse, error) {
	size, err := platform.PageSize(r.GetPageSize())
	if err != nil {
		return nil, err
	}
	q := platform.Fold(r.GetQ())
	query := "agencies|" + r.GetUnit() + "|" + r.GetParentCode() + "|" + q
	if r.GetKind() != catalogv1.AgencyKind_AGENCY_KIND_UNSPECIFIED {
		query += "|" + r.GetKind().String()
	}
	after, err := platform.DecodePageToken(query, r.GetPageToken())
	if err != nil {
		return nil, err
	}
	today := c.today()
	c.mu.RLock()
	defer c.mu.RUnlock()
	out, next, total := page(c.agCodes, after, size, query, func(code string) (*catalogv1.Agency, bool) {
		a := c.agencies[code]
		if r.GetUnit() != "" && a.GetUnitCode() != r.GetUnit() {
			return nil, false
		}
		if r.GetParentCode() != "" && a.GetParentCode() != r.GetParentCode() {
			return nil, false
		}
		if r.GetKind() != catalogv1.AgencyKind_AGENCY_KIND_UNSPECIFIED && a.GetKind() != r.GetKind() {
			return nil, false
		}
		if q != "" && !platform.MatchAllWords(platform.Fold(a.GetCode()+" "+a.GetName()), q) {
			return nil, false
		}
		return a, true
	})
	for i, a := range out {
		out[i] = c.agencyAt(a, today)
	}
	return &catalogv1.ListAgenciesResponse{Agencies: out, NextPageToken: next, TotalSize: int32(total)}, nil
}

package catalog

import (
	"context"
	_ "embed"
	"fmt"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"github.com/lienthong/lienthong/services/platform"
)

// Commune People's Committees are agencies (docs/domain.md, Agencies): their unit is the
// commune, ward or special zone, and their identifiers are assigned by each province. The
// ones found in public sources are in data/commune-agencies.csv with how sure each row is;
// the others are registered like any agency (POST /v1/agencies with
// kind AGENCY_KIND_COMMUNE_PEOPLES_COMMITTEE).
//
//go:embed data/commune-agencies.csv
var communeAgenciesCSV []byte

// communeAgencyEvidence are the values of the table's evidence column.
var communeAgencyEvidence = map[string]bool{"CONFIRMED": true, "INFERRED": true}

// communeAgencies reads the table of commune People's Committees: each in force from the
// reorganisation of 2025-07-01, with its commune as unit. Callers hold c.mu.
func (c *Catalog) communeAgencies(data []byte) ([]*catalogv1.Agency, error) {
	recs, err := readCSV(data, []string{"commune_code", "agency_code", "name", "evidence", "source_url", "note"})
	if err != nil {
		return nil, fmt.Errorf("commune agencies: %w", err)
	}
	var v platform.Violations
	known := map[string]*catalogv1.Agency{}
	out := make([]*catalogv1.Agency, 0, len(recs))
	for i, r := range recs {
		prefix := fmt.Sprintf("rows[%d].", i+1)
		if !communeAgencyEvidence[r[3]] {
			v.Add(prefix+"evidence", "must be CONFIRMED or INFERRED, got %q", r[3])
		}
		if r[4] == "" {
			v.Add(prefix+"source_url", "is required")
		}
		in := &catalogv1.Agency{Code: r[1], Name: r[2], UnitCode: r[0], ValidFrom: Reorganisation,
			Kind: catalogv1.AgencyKind_AGENCY_KIND_COMMUNE_PEOPLES_COMMITTEE}
		if _, dup := known[in.Code]; dup {
			v.Add(prefix+"agency_code", "%s repeats", in.Code)
		}
		a := c.checkAgency(in, prefix, known, &v)
		known[a.Code] = a
		out = append(out, a)
	}
	if err := v.Err(); err != nil {
		return nil, fmt.Errorf("commune agencies: %w", err)
	}
	return out, nil
}

// seedCommuneAgencies adds the table's commune People's Committees that the catalog does
// not hold yet, at every start, so that rows added to the table reach existing data files;
// an agency an admin registered under the same code is kept as it is.
func (c *Catalog) seedCommuneAgencies(_ context.Context) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	all, err := c.communeAgencies(communeAgenciesCSV)
	if err != nil {
		return 0, err
	}
	var fresh []*catalogv1.Agency
	for _, a := range all {
		if _, ok := c.agencies[a.GetCode()]; !ok {
			fresh = append(fresh, a)
		}
	}
	if len(fresh) == 0 {
		return 0, nil
	}
	if err := c.putAgencies(fresh); err != nil {
		return 0, fmt.Errorf("seed commune agencies: %w", err)
	}
	return len(fresh), nil
}

// checkAgencyKind checks what an agency's kind requires: a commune People's Committee
// belongs to a commune-level unit (commune, ward or special zone) and is not in force
// before its unit. Callers hold c.mu.
func (c *Catalog) checkAgencyKind(a *catalogv1.Agency, prefix string, v *platform.Violations) {
	switch a.GetKind() {
	case catalogv1.AgencyKind_AGENCY_KIND_UNSPECIFIED:
	case catalogv1.AgencyKind_AGENCY_KIND_COMMUNE_PEOPLES_COMMITTEE:
		u, ok := c.units[a.GetUnitCode()]
		if !ok {
			return // reported on unit_code
		}
		if !isCommuneLevel(u.GetKind()) {
			v.Add(prefix+"unit_code", "a commune People's Committee belongs to a commune, ward or special zone; unit %s (%s) is not one", u.GetCode(), u.GetName())
			return
		}
		if from := a.GetValidFrom(); from != "" && from < u.GetValidFrom() {
			v.Add(prefix+"valid_from", "is before its commune %s is in force (%s < %s)", u.GetCode(), from, u.GetValidFrom())
		}
	default:
		v.Add(prefix+"kind", "unknown agency kind %d", a.GetKind())
	}
}

// isCommuneLevel reports whether a unit kind is a commune-level one.
func isCommuneLevel(k catalogv1.UnitKind) bool {
	for _, ck := range communeKinds {
		if ck == k {
			return true
		}
	}
	return false
}

package catalog

import (
	"context"
	"fmt"
	"strings"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/protobuf/proto"
)

// CSV columns of an agency import. kind takes the short name (COMMUNE_PEOPLES_COMMITTEE),
// the full name (AGENCY_KIND_COMMUNE_PEOPLES_COMMITTEE) or the number.
var agencyColumns = []string{
	"code", "name", "unit_code", "parent_code", "valid_from", "valid_to", "successor_code", "kind",
}

var requiredAgencyColumns = []string{"code", "name", "unit_code"}

// ParseAgenciesCSV reads agencies from CSV with a header row, with the rules of
// ParseProceduresCSV: bad cells are recorded in v as rows[N].column and the rows are still
// returned, one per line.
func ParseAgenciesCSV(data []byte, v *platform.Violations) ([]*catalogv1.Agency, error) {
	return parseImportCSV(data, agencyColumns, requiredAgencyColumns, v, agencyFromRecord)
}

func agencyFromRecord(rec []string, col map[string]int, prefix string, v *platform.Violations) *catalogv1.Agency {
	get := cell(rec, col)
	a := &catalogv1.Agency{
		Code: get("code"), Name: get("name"), UnitCode: get("unit_code"), ParentCode: get("parent_code"),
		ValidFrom: get("valid_from"), ValidTo: get("valid_to"), SuccessorCode: get("successor_code"),
	}
	a.Kind = catalogv1.AgencyKind(parseEnum(get("kind"), "AGENCY_KIND_", catalogv1.AgencyKind_value, prefix+"kind", v))
	return a
}

// ImportAgencies registers many agencies, all or nothing (docs/domain.md, Agencies): each
// row is checked as CreateAgency checks one (checkAgency); rows may name each other as
// parent or successor in any order; an agency already held with the same fields is
// unchanged, one with other fields is a bad row, never overwritten. The new agencies are
// stored in one transaction, synced to disk before the answer.
func (c *Catalog) ImportAgencies(ctx context.Context, r *catalogv1.ImportAgenciesRequest) (*catalogv1.ImportAgenciesResponse, error) {
	rows, v, parsed, err := importRows(ctx, r.GetAgencies(), r.GetCsv(), "agencies", ParseAgenciesCSV)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	known := make(map[string]*catalogv1.Agency, len(rows))
	for _, in := range rows {
		if code := platform.NFC(in.GetCode()); code != "" {
			known[code] = in
		}
	}
	resp := &catalogv1.ImportAgenciesResponse{ValidatedOnly: r.GetValidateOnly()}
	seen := make(map[string]int, len(rows))
	var fresh []*catalogv1.Agency
	for i, in := range rows {
		prefix := fmt.Sprintf("rows[%d].", i+1)
		a := c.checkAgency(in, prefix, known, &v)
		if a.GetCode() == "" {
			continue
		}
		if first, dup := seen[a.Code]; dup {
			v.Add(prefix+"code", "agency %s is also in row %d", a.Code, first)
			continue
		}
		seen[a.Code] = i + 1
		if old, ok := c.agencies[a.Code]; ok {
			if proto.Equal(old, a) {
				resp.Unchanged++
			} else {
				v.Add(prefix+"code", "agency %s exists with another %s; an import never changes an agency",
					a.Code, strings.Join(differingFields(old, a), ", "))
			}
			continue
		}
		resp.Created++
		fresh = append(fresh, a)
	}
	if err := dedupeViolations(v, parsed).Err(); err != nil {
		return nil, err
	}
	if r.GetValidateOnly() || len(fresh) == 0 {
		return resp, nil
	}
	if err := c.putAgencies(fresh); err != nil {
		return nil, err
	}
	return resp, nil
}

// differingFields names the fields whose values differ between two messages of one type.
func differingFields(a, b proto.Message) []string {
	ra, rb := a.ProtoReflect(), b.ProtoReflect()
	fields := ra.Descriptor().Fields()
	var out []string
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if !ra.Get(fd).Equal(rb.Get(fd)) {
			out = append(out, string(fd.Name()))
		}
	}
	return out
}

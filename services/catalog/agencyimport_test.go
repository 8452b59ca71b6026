package catalog

import (
	"context"
	"slices"
	"strings"
	"testing"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/grpc/codes"
)

// hungYenCommittees is a province's list of commune People's Committees as an import CSV.
// The communes and wards are real units of Hưng Yên (33) from 2025-07-01
// (data/communes-from-2025-07-01.csv); the left-to-right codes H31.9xx are EXAMPLES, not
// codes the province assigned (docs/domain.md, Agencies: no provincial list was found).
// The People's Committee of the province, their parent, is in the last row: rows may name
// each other in any order. kind is given short, in full and as a number.
const hungYenCommittees = "code,name,unit_code,parent_code,valid_from,kind\n" +
	"H31.901,Ủy ban nhân dân phường Phố Hiến,11953,000.00.00.H31,2025-07-01,COMMUNE_PEOPLES_COMMITTEE\n" +
	"H31.902,Ủy ban nhân dân xã Tân Hưng,11977,000.00.00.H31,2025-07-01,AGENCY_KIND_COMMUNE_PEOPLES_COMMITTEE\n" +
	"H31.903,Ủy ban nhân dân phường Hồng Châu,11980,000.00.00.H31,2025-07-01,commune_peoples_committee\n" +
	"H31.904,Ủy ban nhân dân xã Diên Hà,12619,000.00.00.H31,2025-07-01,1\n" +
	"000.00.00.H31,Ủy ban nhân dân tỉnh Hưng Yên,33,,,\n"

// A province registers its commune People's Committees from its decision in one call, all
// or nothing, each row checked as CreateAgency checks one (docs/domain.md, Agencies; level-1
// codes of QĐ 20/2020/QĐ-TTg as amended by QĐ 09/2025/QĐ-TTg); importing the same list again
// changes nothing.
func TestImportAgenciesCommuneCommittees(t *testing.T) {
	f := newFixture(t, false)
	admin := f.admin()
	kind := catalogv1.AgencyKind_AGENCY_KIND_COMMUNE_PEOPLES_COMMITTEE

	// A province token may not import (admin only).
	_, err := f.client.ImportAgencies(f.as(platform.RoleProvince, "33"), &catalogv1.ImportAgenciesRequest{Csv: hungYenCommittees})
	wantCode(t, err, codes.PermissionDenied)

	// validate_only checks and stores nothing.
	resp, err := f.client.ImportAgencies(admin, &catalogv1.ImportAgenciesRequest{Csv: hungYenCommittees, ValidateOnly: true})
	if err != nil {
		t.Fatalf("validate only: %v", err)
	}
	if resp.GetCreated() != 5 || !resp.GetValidatedOnly() {
		t.Errorf("validate only: got %v, want 5 to create, validated only", resp)
	}
	_, err = f.client.GetAgency(context.Background(), &catalogv1.GetAgencyRequest{Code: "H31.901"})
	wantCode(t, err, codes.NotFound)

	resp, err = f.client.ImportAgencies(admin, &catalogv1.ImportAgenciesRequest{Csv: hungYenCommittees})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if resp.GetCreated() != 5 || resp.GetUnchanged() != 0 {
		t.Errorf("import: got %v, want 5 created", resp)
	}
	list, err := f.client.ListAgencies(context.Background(), &catalogv1.ListAgenciesRequest{ParentCode: "000.00.00.H31", Kind: kind})
	if err != nil {
		t.Fatal(err)
	}
	var codesGot []string
	for _, a := range list.GetAgencies() {
		codesGot = append(codesGot, a.GetCode())
		if a.GetLevel1Code() != "H31" || !a.GetInForce() || a.GetValidFrom() != "2025-07-01" {
			t.Errorf("%s: got %v, want H31, in force from 2025-07-01", a.GetCode(), a)
		}
	}
	if want := []string{"H31.901", "H31.902", "H31.903", "H31.904"}; !slices.Equal(codesGot, want) {
		t.Errorf("committees under 000.00.00.H31: got %v, want %v", codesGot, want)
	}
	a, err := f.client.GetAgency(context.Background(), &catalogv1.GetAgencyRequest{Code: "H31.904"})
	if err != nil || a.GetUnitCode() != "12619" || a.GetName() != "Ủy ban nhân dân xã Diên Hà" {
		t.Errorf("H31.904: got %v, %v; want Diên Hà's committee (12619)", a, err)
	}

	// Again: every row unchanged, nothing written.
	resp, err = f.client.ImportAgencies(admin, &catalogv1.ImportAgenciesRequest{Csv: hungYenCommittees})
	if err != nil {
		t.Fatalf("re-import: %v", err)
	}
	if resp.GetCreated() != 0 || resp.GetUnchanged() != 5 {
		t.Errorf("re-import: got %v, want 5 unchanged", resp)
	}

	// The JSON form: the same agencies as a list.
	resp, err = f.client.ImportAgencies(admin, &catalogv1.ImportAgenciesRequest{Agencies: []*catalogv1.Agency{
		{Code: "H31.905", Name: "Ủy ban nhân dân phường Sơn Nam", UnitCode: "11983", ParentCode: "000.00.00.H31", ValidFrom: "2025-07-01", Kind: kind},
		{Code: "H31.901", Name: "Ủy ban nhân dân phường Phố Hiến", UnitCode: "11953", ParentCode: "000.00.00.H31", ValidFrom: "2025-07-01", Kind: kind},
	}})
	if err != nil || resp.GetCreated() != 1 || resp.GetUnchanged() != 1 {
		t.Errorf("JSON import: got %v, %v; want 1 created, 1 unchanged", resp, err)
	}
}

// One bad row refuses the whole file, every bad row named by its number (rows[N], N from 1
// after the header), and nothing is stored; an existing agency is never overwritten.
func TestImportAgenciesRefusesBadRows(t *testing.T) {
	f := newFixture(t, false)
	admin := f.admin()
	if _, err := f.client.ImportAgencies(admin, &catalogv1.ImportAgenciesRequest{Csv: hungYenCommittees}); err != nil {
		t.Fatal(err)
	}
	bad := "code,name,unit_code,valid_from,kind\n" +
		"H31.906,Ủy ban nhân dân phường Sơn Nam,11983,2025-07-01,COMMUNE_PEOPLES_COMMITTEE\n" + // good
		"H31.907,Ủy ban nhân dân xã Vân Tụ,17611,2025-07-01,COMMUNE_PEOPLES_COMMITTEE\n" + // a commune of Nghệ An (H41)
		"H31.908,Ủy ban nhân dân xã Không Có,99999,2025-07-01,COMMUNE_PEOPLES_COMMITTEE\n" + // no such unit
		"H31-909,Ủy ban nhân dân phường Sơn Nam,11983,2025-07-01,COMMUNE_PEOPLES_COMMITTEE\n" + // not an identifier
		"H31.906,Ủy ban nhân dân phường Sơn Nam,11983,2025-07-01,COMMUNE_PEOPLES_COMMITTEE\n" + // row 1 again
		"H31.901,Ủy ban nhân dân phường Phố Hiến mới,11953,2025-07-01,COMMUNE_PEOPLES_COMMITTEE\n" + // exists, other fields
		"H31.910,Ủy ban nhân dân phường Sơn Nam,11983,2025-07-01,PROVINCE\n" // unknown kind
	_, err := f.client.ImportAgencies(admin, &catalogv1.ImportAgenciesRequest{Csv: bad})
	wantCode(t, err, codes.InvalidArgument)
	fields := violationFields(err)
	text := violationText(err)
	for _, want := range []struct{ field, words string }{
		{"rows[2].code", "H41"},
		{"rows[3].unit_code", "does not exist"},
		{"rows[4].code", "electronic identifier"},
		{"rows[5].code", "also in row 1"},
		{"rows[6].code", "name"},
		{"rows[7].kind", "unknown value"},
	} {
		if !slices.Contains(fields, want.field) {
			t.Errorf("violations %v: none on %s", fields, want.field)
		}
		if !strings.Contains(text, want.words) {
			t.Errorf("violations %q do not say %q (for %s)", text, want.words, want.field)
		}
	}
	for _, f := range fields {
		if strings.HasPrefix(f, "rows[1].") {
			t.Errorf("the good row 1 has a violation %s: %s", f, text)
		}
	}
	for _, code := range []string{"H31.906", "H31.910"} {
		_, err = f.client.GetAgency(context.Background(), &catalogv1.GetAgencyRequest{Code: code})
		wantCode(t, err, codes.NotFound)
	}
	a, err := f.client.GetAgency(context.Background(), &catalogv1.GetAgencyRequest{Code: "H31.901"})
	if err != nil || a.GetName() != "Ủy ban nhân dân phường Phố Hiến" {
		t.Errorf("H31.901 after a refused import: got %v, %v; want it unchanged", a, err)
	}

	_, err = f.client.ImportAgencies(admin, &catalogv1.ImportAgenciesRequest{})
	wantViolation(t, err, "agencies", "nothing to import")
	_, err = f.client.ImportAgencies(admin, &catalogv1.ImportAgenciesRequest{Csv: "code,name\nH31.911,x\n"})
	wantViolation(t, err, "csv", "unit_code")
}

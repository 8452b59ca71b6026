package catalog

import (
	"context"
	"strings"
	"testing"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"google.golang.org/grpc/codes"
)

// Commune People's Committees are agencies whose unit is the commune (docs/domain.md,
// Agencies; identifiers assigned by each province under QĐ 20/2020/QĐ-TTg as amended by
// QĐ 09/2025/QĐ-TTg): the ones of data/commune-agencies.csv are in the catalog from the
// start, reachable by their commune, and others are registered with the same kind.
func TestCommunePeoplesCommittees(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()

	// The table's row: Ba Đình ward of Hà Nội (00004), H26.107, from 2025-07-01.
	a, err := f.client.GetAgency(ctx, &catalogv1.GetAgencyRequest{Code: "H26.107"})
	if err != nil {
		t.Fatal(err)
	}
	if a.GetUnitCode() != "00004" || a.GetKind() != catalogv1.AgencyKind_AGENCY_KIND_COMMUNE_PEOPLES_COMMITTEE ||
		a.GetValidFrom() != "2025-07-01" || a.GetLevel1Code() != "H26" || !a.GetInForce() {
		t.Errorf("H26.107: got %v, want Ba Đình ward's People's Committee (unit 00004, H26) in force from 2025-07-01", a)
	}
	// Its province is Hà Nội (01), in the view and in the look-up the other parts make.
	refs, err := f.client.LookupReferences(ctx, &catalogv1.LookupReferencesRequest{AgencyCodes: []string{"H26.107"}})
	if err != nil {
		t.Fatal(err)
	}
	if a.GetProvinceCode() != "01" || len(refs.GetAgencies()) != 1 || refs.GetAgencies()[0].GetProvinceCode() != "01" {
		t.Errorf("province code of H26.107: view %q, look-up %v; want 01", a.GetProvinceCode(), refs.GetAgencies())
	}
	list, err := f.client.ListAgencies(ctx, &catalogv1.ListAgenciesRequest{Unit: "00004"})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetAgencies()) != 1 || list.GetAgencies()[0].GetCode() != "H26.107" {
		t.Errorf("agencies of unit 00004: got %v, want H26.107", list.GetAgencies())
	}
	rows := strings.Count(strings.TrimSpace(string(communeAgenciesCSV)), "\n") // rows after the header
	list, err = f.client.ListAgencies(ctx, &catalogv1.ListAgenciesRequest{Kind: catalogv1.AgencyKind_AGENCY_KIND_COMMUNE_PEOPLES_COMMITTEE})
	if err != nil {
		t.Fatal(err)
	}
	if int(list.GetTotalSize()) != rows {
		t.Errorf("commune People's Committees: got %d, want the table's %d", list.GetTotalSize(), rows)
	}

	// An admin registers the committee of a Hưng Yên commune (Phố Hiến ward, 11953): its
	// code carries Hưng Yên's H31; the kind needs a commune-level unit in force.
	admin := f.admin()
	create := func(a *catalogv1.Agency) error {
		_, err := f.client.CreateAgency(admin, &catalogv1.CreateAgencyRequest{Agency: a})
		return err
	}
	kind := catalogv1.AgencyKind_AGENCY_KIND_COMMUNE_PEOPLES_COMMITTEE
	if err := create(&catalogv1.Agency{Code: "H31.901", Name: "Ủy ban nhân dân phường Phố Hiến", UnitCode: "11953", ValidFrom: "2025-07-01", Kind: kind}); err != nil {
		t.Fatalf("commune People's Committee of 11953 refused: %v", err)
	}
	list, err = f.client.ListAgencies(ctx, &catalogv1.ListAgenciesRequest{Unit: "11953", Kind: kind})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetAgencies()) != 1 || list.GetAgencies()[0].GetKind() != kind {
		t.Errorf("agencies of 11953: got %v, want H31.901 with its kind", list.GetAgencies())
	}
	err = create(&catalogv1.Agency{Code: "H31.902", Name: "x", UnitCode: "33", Kind: kind})
	wantViolation(t, err, "agency.unit_code", "commune, ward or special zone")
	err = create(&catalogv1.Agency{Code: "H31.903", Name: "x", UnitCode: "11953", ValidFrom: "2025-01-01", Kind: kind})
	wantViolation(t, err, "agency.valid_from", "2025-07-01")
	err = create(&catalogv1.Agency{Code: "H26.904", Name: "x", UnitCode: "11953", Kind: kind})
	wantViolation(t, err, "agency.code", "H31")
	err = create(&catalogv1.Agency{Code: "H31.905", Name: "x", UnitCode: "11953", Kind: catalogv1.AgencyKind(42)})
	wantViolation(t, err, "agency.kind", "unknown")
	_, err = f.client.CreateAgency(admin, &catalogv1.CreateAgencyRequest{Agency: &catalogv1.Agency{Code: "H26.107", Name: "other", UnitCode: "00008", Kind: kind}})
	wantCode(t, err, codes.AlreadyExists)

	// Seeding again adds nothing: the table's agencies are there already.
	if n, err := f.cat.seedCommuneAgencies(ctx); err != nil || n != 0 {
		t.Errorf("second seed: %d agencies, %v; want 0", n, err)
	}
}

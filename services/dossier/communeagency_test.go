package dossier

import (
	"testing"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"google.golang.org/grpc/codes"
)

// TestCommunePeoplesCommitteeReceives: a commune People's Committee is an agency whose
// catalog unit is the commune (docs/domain.md, Agencies). A dossier it receives belongs to
// the province (the event's unit_code, the token's unit) and carries the commune; the
// committee of a commune of another province is AGENCY_NOT_OF_UNIT.
func TestCommunePeoplesCommitteeReceives(t *testing.T) {
	f := newFixture(t)
	withCommunes(f)
	const phoHien, phuLy = "H31.901", "H42.901"
	f.cat.mu.Lock()
	for code, unit := range map[string]string{phoHien: communePhoHien, phuLy: communePhuLy} {
		f.cat.agencies[code] = &catalogv1.Agency{Code: code, Name: "Ủy ban nhân dân phường " + unit, UnitCode: unit,
			ValidFrom: "2025-07-01", Kind: catalogv1.AgencyKind_AGENCY_KIND_COMMUNE_PEOPLES_COMMITTEE}
	}
	f.cat.mu.Unlock()
	at := vn(2026, 11, 20, 8, 0)

	code := phoHien + "-261120-0001"
	f.mustCreate(f.province("33"),
		withCommune(mkFirst("cp-1", code, sAccepted, at, "33", phoHien, procCivil, chDirect), communePhoHien))
	d := f.dossier(code)
	if d.GetUnitCode() != "33" || d.GetAgencyCode() != phoHien || d.GetCommuneCode() != communePhoHien {
		t.Errorf("dossier %s: unit %q agency %q commune %q; want 33, %s, %s", code, d.GetUnitCode(), d.GetAgencyCode(), d.GetCommuneCode(), phoHien, communePhoHien)
	}
	rows := f.stats(&dossierv1.GetDossierStatsRequest{Unit: "33", From: "2026-11", GroupBy: "commune"}).GetRows()
	if len(rows) != 1 || rows[0].GetKey() != communePhoHien || rows[0].GetReceivedTotal() != 1 {
		t.Errorf("Hưng Yên by commune: got %v, want one dossier of %s", rows, communePhoHien)
	}
	rows = f.stats(&dossierv1.GetDossierStatsRequest{Unit: "33", From: "2026-11", GroupBy: "agency"}).GetRows()
	if len(rows) != 1 || rows[0].GetKey() != phoHien {
		t.Errorf("Hưng Yên by agency: got %v, want the commune's committee %s", rows, phoHien)
	}

	// Ninh Bình's commune committee is not Hưng Yên's, and a commune's committee is not the
	// commune itself: the event's unit is the province.
	_, err := f.create(f.province("33"), mkFirst("cp-2", phuLy+"-261120-0002", sNew, at, "33", phuLy, procCivil, chDirect))
	wantStatus(t, err, codes.FailedPrecondition, "AGENCY_NOT_OF_UNIT")
	_, err = f.create(f.province("33"), mkFirst("cp-3", dcode(agency33a, "261120", 3), sNew, at, "33", agency33a, procCivil, chDirect))
	if err != nil {
		t.Fatalf("a department of the province: %v", err)
	}
	_, err = f.create(f.province("33"), mkFirst("cp-4", dcode(agency33a, "261120", 4), sNew, at, "33", phuLy, procCivil, chDirect))
	wantStatus(t, err, codes.FailedPrecondition, "AGENCY_NOT_OF_UNIT")

	// A dossier code names its agency left to right as well (TT 01/2018/TT-VPCP's
	// AGENCY-YYMMDD-NNNN with a QĐ 20/2020/QĐ-TTg code): Hưng Yên may not take a code of Ninh
	// Bình's commune committee, nor one of an agency the catalog does not know.
	_, err = f.create(f.province("33"), mkFirst("cp-5", phuLy+"-261120-0005", sNew, at, "33", phoHien, procCivil, chDirect))
	wantStatus(t, err, codes.FailedPrecondition, "DOSSIER_CODE_NOT_OF_UNIT")
	_, err = f.create(f.province("33"), mkFirst("cp-6", "H31.999-261120-0006", sNew, at, "33", phoHien, procCivil, chDirect))
	wantStatus(t, err, codes.InvalidArgument, "UNKNOWN_REFERENCE")
	// The national portal's longer codes (an 8-digit date) name no agency.
	if _, err = f.create(f.province("33"), mkFirst("cp-7", "G09.20-20261120-0092637", sNew, at, "33", phoHien, procCivil, chDirect)); err != nil {
		t.Fatalf("a national portal's code: %v", err)
	}
}

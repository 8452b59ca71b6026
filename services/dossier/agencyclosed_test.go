package dossier

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
)

// lifeCatalog is the fake catalog with the agencies' lives of agency_references, as the
// catalog gives them (docs/domain.md, Agencies): Sở Tư pháp Nam Định (unit 36) closed with
// its province on 2025-06-30 (NQ 202/2025/QH15 merged Nam Định into Ninh Bình from
// 2025-07-01); with no successor recorded, the catalog names the People's Committee of Ninh
// Bình, 000.00.00.H42.
type lifeCatalog struct{ *fakeCatalog }

const agency37p = "000.00.00.H42" // UBND Ninh Bình

func (c lifeCatalog) LookupReferences(ctx context.Context, in *catalogv1.LookupReferencesRequest, opts ...grpc.CallOption) (*catalogv1.LookupReferencesResponse, error) {
	out, err := c.fakeCatalog.LookupReferences(ctx, in, opts...)
	if err != nil {
		return nil, err
	}
	for _, a := range out.GetAgencies() {
		ref := &catalogv1.AgencyReference{Agency: &catalogv1.Agency{Code: a.GetCode(), UnitCode: a.GetUnitCode(), InForce: true}, CurrentCode: a.GetCode()}
		if a.GetCode() == agency36 {
			ref.Agency.InForce = false
			ref.Agency.ValidTo = "2025-06-30"
			ref.Agency.SuccessorCode = agency37p
			ref.Agency.SuccessorSource = catalogv1.SuccessorSource_SUCCESSOR_SOURCE_UNIT_MERGER
			ref.CurrentCode = agency37p
		}
		out.AgencyReferences = append(out.AgencyReferences, ref)
	}
	return out, nil
}

// agencyLookups counts the catalog requests that asked for agency.
func agencyLookups(f *fixture, agency string) int {
	n := 0
	for _, r := range f.cat.Requests() {
		if slices.Contains(r.GetAgencyCodes(), agency) {
			n++
		}
	}
	return n
}

// TestAgencyClosedRefusesFirstEvent: a dossier's first event dated (in Vietnam time) after
// its agency closed is refused as AGENCY_CLOSED naming the agency, its last day and the
// successor the catalog names, and nothing is stored; on the agency's last day it is
// accepted; later events of a dossier opened while the agency was in force are accepted
// (docs/domain.md, Agencies; NQ 202/2025/QH15: Nam Định merged into Ninh Bình from
// 2025-07-01). Filing under the successor unit (37) after the merger, which the unit
// roll-up alone allowed, is refused too. The catalog is asked once for the agency: its life
// is cached, not a yes or no per date.
func TestAgencyClosedRefusesFirstEvent(t *testing.T) {
	f := newFixture(t)
	f.svc.refs.client = lifeCatalog{f.cat}
	adm := f.admin()

	// 2025-07-01 00:30 in Vietnam is still 2025-06-30 in UTC: the date is Vietnam's.
	early := time.Date(2025, 7, 1, 0, 30, 0, 0, Vietnam).UTC().Format(time.RFC3339)
	refused := []struct {
		name string
		ev   *dossierv1.DossierEvent
	}{
		{"under the successor unit after the merger", mkFirst("c-1", dcode(agency36, "250702", 1), sNew, vn(2025, 7, 2, 8, 0), "37", agency36, procCivil, chDirect)},
		{"first minutes of 2025-07-01 in Vietnam", mkFirst("c-2", dcode(agency36, "250701", 2), sNew, early, "37", agency36, procCivil, chDirect)},
		{"code of the closed agency, agency in force", mkFirst("c-3", dcode(agency36, "250702", 3), sNew, vn(2025, 7, 2, 8, 0), "37", agency37, procCivil, chDirect)},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.create(adm, tc.ev)
			st := wantStatus(t, err, codes.FailedPrecondition, "AGENCY_CLOSED")
			for _, w := range []string{agency36, "2025-06-30", agency37p} {
				if !strings.Contains(st.Message(), w) {
					t.Errorf("message %q does not name %s", st.Message(), w)
				}
			}
			md := errorInfo(st).GetMetadata()
			if md["agency_code"] != agency36 || md["valid_to"] != "2025-06-30" || md["successor_code"] != agency37p {
				t.Errorf("metadata: got %v", md)
			}
			if _, err := f.client.GetDossier(adm, &dossierv1.GetDossierRequest{Code: tc.ev.GetDossierCode()}); err == nil {
				t.Errorf("dossier %s stored after the refusal", tc.ev.GetDossierCode())
			}
		})
	}

	// The last day in force: accepted under its own unit, and its later events after the
	// agency closed are accepted (received in June, resolved in August).
	code := dcode(agency36, "250630", 9)
	f.mustCreate(adm,
		mkFirst("c-9", code, sAccepted, vn(2025, 6, 30, 16, 0), "36", agency36, procCivil, chDirect),
		mkEv("c-10", code, sProcessing, vn(2025, 7, 2, 8, 0)),
		mkEv("c-11", code, sResolved, vn(2025, 8, 4, 9, 0)),
	)
	if got := f.dossier(code); got.GetAgencyCode() != agency36 || got.GetStatus() != sResolved {
		t.Errorf("dossier %s: agency %s status %s, want %s resolved", code, got.GetAgencyCode(), got.GetStatus(), agency36)
	}
	// The successor files after the merger.
	f.mustCreate(adm, mkFirst("c-12", dcode(agency37, "250702", 12), sNew, vn(2025, 7, 2, 9, 0), "37", agency37, procCivil, chDirect))

	if n := agencyLookups(f, agency36); n != 1 {
		t.Errorf("the catalog was asked %d times for %s, want once", n, agency36)
	}
}

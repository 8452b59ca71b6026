package dossier

import (
	"context"
	"testing"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"google.golang.org/grpc/codes"
)

// TestFirstEventOwnership: on a dossier's first event the token's unit, the event's
// unit_code, the catalog's unit of agency_code and the unit of the agency named in the
// dossier code must agree; a refused event stores nothing. Later events keep the unit and
// the agency.
func TestFirstEventOwnership(t *testing.T) {
	f := newFixture(t)
	at := vn(2026, 11, 20, 8, 0)
	cases := []struct {
		name   string
		ctx    context.Context
		ev     *dossierv1.DossierEvent
		code   codes.Code // OK: stored
		reason string
		field  string
	}{
		{"agency of another unit under the token's unit", f.province("33"),
			mkFirst("o-1", dcode(agency37, "261120", 1), sNew, at, "33", agency37, procLand, chDirect),
			codes.FailedPrecondition, "AGENCY_NOT_OF_UNIT", ""},
		{"agency of another unit, code of the token's unit", f.province("33"),
			mkFirst("o-2", dcode(agency33a, "261120", 2), sNew, at, "33", agency37, procLand, chDirect),
			codes.FailedPrecondition, "AGENCY_NOT_OF_UNIT", ""},
		{"another unit's event and agency", f.province("33"),
			mkFirst("o-3", dcode(agency37, "261120", 3), sNew, at, "37", agency37, procLand, chDirect),
			codes.PermissionDenied, "PERMISSION_DENIED", ""},
		{"code of another unit's agency", f.province("33"),
			mkFirst("o-4", dcode(agency37, "261120", 4), sNew, at, "33", agency33a, procLand, chDirect),
			codes.FailedPrecondition, "DOSSIER_CODE_NOT_OF_UNIT", ""},
		{"code of an agency not in the catalog", f.province("33"),
			mkFirst("o-5", dcode("000.09.00.H31", "261120", 5), sNew, at, "33", agency33a, procLand, chDirect),
			codes.InvalidArgument, "UNKNOWN_REFERENCE", "dossier_code"},
		{"admin: agency of another unit", f.admin(),
			mkFirst("o-6", dcode(agency37, "261120", 6), sNew, at, "33", agency37, procLand, chDirect),
			codes.FailedPrecondition, "AGENCY_NOT_OF_UNIT", ""},
		{"agency of a merged unit before the merger", f.province("37"),
			mkFirst("o-7", dcode(agency36, "240304", 7), sAccepted, vn(2024, 3, 4, 8, 0), "37", agency36, procCivil, chDirect),
			codes.FailedPrecondition, "AGENCY_NOT_OF_UNIT", ""},
		{"agency of a merged unit after the merger", f.province("37"),
			mkFirst("o-8", dcode(agency36, "261120", 8), sNew, at, "37", agency36, procCivil, chDirect),
			codes.OK, "", ""},
		{"code of another agency of the same unit", f.province("33"),
			mkFirst("o-9", dcode(agency33b, "261120", 9), sNew, at, "33", agency33a, procLand, chDirect),
			codes.OK, "", ""},
		{"national code form", f.province("33"),
			mkFirst("o-10", "G09.20-20261120-0092637", sNew, at, "33", agency33a, procLand, chDirect),
			codes.OK, "", ""},
		{"admin: agency of its unit", f.admin(),
			mkFirst("o-11", dcode(agency37, "261120", 11), sNew, at, "37", agency37, procLand, chDirect),
			codes.OK, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.create(tc.ctx, tc.ev)
			if tc.code == codes.OK {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if got := f.dossier(tc.ev.GetDossierCode()).GetAgencyCode(); got != tc.ev.GetAgencyCode() {
					t.Errorf("stored agency: got %q, want %q", got, tc.ev.GetAgencyCode())
				}
				return
			}
			st := wantStatus(t, err, tc.code, tc.reason)
			if tc.field != "" {
				wantFields(t, st, tc.field)
			}
			if _, err := f.client.GetDossier(f.admin(), &dossierv1.GetDossierRequest{Code: tc.ev.GetDossierCode()}); err == nil {
				t.Errorf("dossier %s stored after the refusal", tc.ev.GetDossierCode())
			}
			for _, e := range f.feed() {
				if e.GetEventId() == tc.ev.GetEventId() {
					t.Errorf("event %s in the feed after the refusal", e.GetEventId())
				}
			}
		})
	}

	// Later events keep the dossier's unit and agency.
	code := dcode(agency33b, "261120", 9)
	later := []struct {
		name  string
		ev    *dossierv1.DossierEvent
		field string
	}{
		{"another agency of the unit", func() *dossierv1.DossierEvent {
			e := mkEv("o-20", code, sAccepted, vn(2026, 11, 20, 9, 0))
			e.AgencyCode = agency33b
			return e
		}(), "agency_code"},
		{"another unit", func() *dossierv1.DossierEvent {
			e := mkEv("o-21", code, sAccepted, vn(2026, 11, 20, 9, 0))
			e.UnitCode = "37"
			return e
		}(), "unit_code"},
	}
	for _, tc := range later {
		t.Run("later: "+tc.name, func(t *testing.T) {
			_, err := f.create(f.province("33"), tc.ev)
			wantFields(t, wantStatus(t, err, codes.InvalidArgument, ""), tc.field)
		})
	}
}

// TestFirstEventOwnershipInBatch: a batch mixing a dossier of another unit's agency with a
// good one stores the good one only.
func TestFirstEventOwnershipInBatch(t *testing.T) {
	f := newFixture(t)
	at := vn(2026, 11, 20, 8, 0)
	bad := mkFirst("b-1", dcode(agency37, "261120", 1), sNew, at, "33", agency37, procLand, chDirect)
	good := mkFirst("b-2", dcode(agency33a, "261120", 2), sNew, at, "33", agency33a, procLand, chDirect)
	resp, err := f.client.BatchCreateDossierEvents(f.province("33"), &dossierv1.BatchCreateDossierEventsRequest{Events: []*dossierv1.DossierEvent{bad, good}})
	if err != nil {
		t.Fatal(err)
	}
	r := resp.GetResults()
	if r[0].GetError() == nil || codes.Code(r[0].GetError().GetCode()) != codes.FailedPrecondition {
		t.Errorf("bad event: got %v, want FAILED_PRECONDITION", r[0].GetError())
	}
	if r[1].GetError() != nil {
		t.Errorf("good event refused: %v", r[1].GetError())
	}
	if got := eventIDs(f.feed()); len(got) != 1 || got[0] != "b-2" {
		t.Errorf("feed: got %v, want [b-2]", got)
	}
}

package dossier

import (
	"slices"
	"testing"
	"time"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestCatalogDown(t *testing.T) {
	f := newFixture(t)
	admin := f.admin()
	c1 := dcode(agency33a, "261120", 1)

	t.Run("first event while the catalog is down", func(t *testing.T) {
		f.cat.SetDown(true)
		defer f.cat.SetDown(false)
		calls := f.cat.Calls()
		_, err := f.create(admin, mkFirst("c-1", c1, sAccepted, vn(2026, 11, 20, 8, 0), "33", agency33a, procLand, chDirect))
		wantStatus(t, err, codes.Unavailable, "CATALOG_UNAVAILABLE")
		if f.cat.Calls() != calls+1 {
			t.Errorf("catalog calls: got %d, want %d", f.cat.Calls(), calls+1)
		}
		_, err = f.client.GetDossier(admin, &dossierv1.GetDossierRequest{Code: c1})
		wantStatus(t, err, codes.NotFound, "DOSSIER_NOT_FOUND")
		f.wantNothingAfter(t, 0)
		// In a batch, each first event says so; an invalid one still says what is wrong.
		resp, err := f.client.BatchCreateDossierEvents(admin, &dossierv1.BatchCreateDossierEventsRequest{Events: []*dossierv1.DossierEvent{
			mkFirst("c-1", c1, sAccepted, vn(2026, 11, 20, 8, 0), "33", agency33a, procLand, chDirect),
			mkFirst("c-x", "bad", sAccepted, vn(2026, 11, 20, 8, 0), "33", agency33a, procLand, chDirect),
		}})
		if err != nil {
			t.Fatal(err)
		}
		wantResult(t, 0, resp.GetResults()[0], "c-1", codes.Unavailable, "CATALOG_UNAVAILABLE", "")
		wantResult(t, 1, resp.GetResults()[1], "c-x", codes.InvalidArgument, "INVALID_ARGUMENT", "")
		f.wantNothingAfter(t, 0)
	})

	t.Run("the same event once the catalog is back", func(t *testing.T) {
		f.mustCreate(admin, mkFirst("c-1", c1, sAccepted, vn(2026, 11, 20, 8, 0), "33", agency33a, procLand, chDirect))
	})

	t.Run("events of an existing dossier while it is down", func(t *testing.T) {
		f.cat.SetDown(true)
		defer f.cat.SetDown(false)
		// The cache has the codes; they are not asked again.
		calls := f.cat.Calls()
		f.mustCreate(admin, mkEv("c-2", c1, sProcessing, vn(2026, 11, 20, 9, 0)))
		e := mkEv("c-3", c1, sSupplement, vn(2026, 11, 20, 10, 0))
		e.UnitCode, e.AgencyCode, e.ProcedureCode, e.Channel = "33", agency33a, procLand, chDirect
		f.mustCreate(admin, e)
		if f.cat.Calls() != calls {
			t.Errorf("catalog calls: got %d, want %d (cached)", f.cat.Calls(), calls)
		}
		// Even with the cache expired, the dossier's later events need no catalog.
		f.clock.Advance(10 * time.Minute)
		f.mustCreate(admin, mkEv("c-4", c1, sProcessing, testNow.Add(5*time.Minute).Format(time.RFC3339)))
		// A new dossier now needs the catalog, which is down; the cached answer, though
		// stale, is used rather than refusing.
		c2 := dcode(agency33a, "261123", 2)
		if _, err := f.create(admin, mkFirst("c2-1", c2, sNew, testNow.Add(6*time.Minute).Format(time.RFC3339), "33", agency33a, procLand, chOnline)); err != nil {
			t.Errorf("new dossier with stale cached codes: %v", err)
		}
		// An unknown code cannot be checked.
		c3 := dcode(agency33b, "261123", 3)
		_, err := f.create(admin, mkFirst("c3-1", c3, sNew, testNow.Add(6*time.Minute).Format(time.RFC3339), "33", agency33b, procCivil, chOnline))
		wantStatus(t, err, codes.Unavailable, "CATALOG_UNAVAILABLE")
		// Statistics still answer, from what is cached.
		if _, err := f.client.GetDossierStats(admin, &dossierv1.GetDossierStatsRequest{From: "2026-11", GroupBy: "unit"}); err != nil {
			t.Errorf("statistics while the catalog is down: %v", err)
		}
	})
}

func TestCatalogCalledOncePerBatch(t *testing.T) {
	f := newFixture(t)
	batch := func(day string) []*dossierv1.DossierEvent {
		evs := make([]*dossierv1.DossierEvent, 100)
		for i := range evs {
			c := dcode(agency33a, day, i)
			evs[i] = mkFirst(c, c, sAccepted, vn(2026, 11, 20, 8, 0), "33", agency33a, procLand, chDirect)
		}
		return evs
	}
	f.mustBatch(f.admin(), batch("261120")...)
	if got := f.cat.Calls(); got != 1 {
		t.Fatalf("catalog calls for a batch of 100: got %d, want 1", got)
	}
	req := f.cat.Requests()[0]
	if !slices.Equal(req.GetProcedureCodes(), []string{procLand}) || !slices.Equal(req.GetAgencyCodes(), []string{agency33a}) || !slices.Equal(req.GetUnitCodes(), []string{"33"}) {
		t.Errorf("request: got %v, want each code once", req)
	}
	f.mustBatch(f.admin(), batch("261121")...)
	if got := f.cat.Calls(); got != 1 {
		t.Errorf("catalog calls after a second batch with the same codes: got %d, want 1 (cached)", got)
	}
	// Once the cache expires (5 minutes), the next batch asks again, once.
	f.clock.Advance(6 * time.Minute)
	f.mustBatch(f.admin(), batch("261122")...)
	if got := f.cat.Calls(); got != 2 {
		t.Errorf("catalog calls after the cache expired: got %d, want 2", got)
	}
	// A miss is remembered briefly too: a batch of 100 events with one unknown procedure
	// asks once.
	evs := batch("261119")
	for _, e := range evs {
		e.ProcedureCode = "2.000001"
	}
	resp, err := f.client.BatchCreateDossierEvents(f.admin(), &dossierv1.BatchCreateDossierEventsRequest{Events: evs})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range resp.GetResults() {
		if st := status.FromProto(r.GetError()); st.Code() != codes.InvalidArgument || errorInfo(st).GetReason() != "UNKNOWN_REFERENCE" {
			t.Fatalf("event %d: got %v, want UNKNOWN_REFERENCE", i, r.GetError())
		}
	}
	if got := f.cat.Calls(); got != 3 {
		t.Errorf("catalog calls for 100 unknown: got %d, want 3", got)
	}
}

package dossier

import (
	"testing"
	"time"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Accepted and refused events are counted per sending system over the last 24 hours;
// refusals because the catalog cannot answer are not the sender's; only admin and ministry
// read the counts.
func TestSystemActivity(t *testing.T) {
	f := newFixture(t)
	hy := f.province("33")
	code := dcode(agency33a, "261110", 1)
	at := vn(2026, 11, 10, 8, 0)
	f.mustCreate(hy, mkFirst("a1", code, sNew, at, "33", agency33a, procLand, chOnline))
	if _, err := f.create(hy, mkFirst("a1", code, sNew, at, "33", agency33a, procLand, chOnline)); err != nil {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := f.create(hy, mkEv("a2", code, sResolved, vn(2026, 11, 10, 9, 0))); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("NEW to RESOLVED: %v, want FAILED_PRECONDITION", err)
	}
	f.mustBatch(hy, mkEv("a3", code, sAccepted, vn(2026, 11, 10, 9, 0)))
	bad, err := f.client.BatchCreateDossierEvents(hy, &dossierv1.BatchCreateDossierEventsRequest{Events: []*dossierv1.DossierEvent{
		mkEv("a4", "not a code", sProcessing, vn(2026, 11, 10, 10, 0)),
	}})
	if err != nil || bad.GetResults()[0].GetError() == nil {
		t.Fatalf("bad code in a batch: %v %v", bad, err)
	}
	f.cat.SetDown(true)
	if _, err := f.create(hy, mkFirst("b1", dcode(agency33b, "261110", 1), sNew, at, "33", agency33b, procCivil, chDirect)); status.Code(err) != codes.Unavailable {
		t.Fatalf("catalog down: %v, want UNAVAILABLE", err)
	}
	f.cat.SetDown(false)
	nb := f.province("37")
	f.mustCreate(nb, mkFirst("n1", dcode(agency37, "261110", 1), sNew, at, "37", agency37, procLand, chDirect))

	got, err := f.client.ListSystemActivity(f.ministry(), &dossierv1.ListSystemActivityRequest{})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		system            string
		accepted, refused int64
		reason            string
	}{
		{"000.00.00.H31/motcua", 3, 2, "INVALID_ARGUMENT"},
		{"000.00.00.H42/motcua", 1, 0, ""},
	}
	if len(got.GetSystems()) != len(want) {
		t.Fatalf("systems %v, want %d", got.GetSystems(), len(want))
	}
	for i, w := range want {
		s := got.GetSystems()[i]
		if s.GetSystem() != w.system || s.GetAccepted() != w.accepted || s.GetRefused() != w.refused {
			t.Errorf("%s: accepted %d refused %d, want %d and %d", s.GetSystem(), s.GetAccepted(), s.GetRefused(), w.accepted, w.refused)
		}
		if w.refused > 0 && (s.GetLastRefusedAt() == "" || s.GetLastRefusedReason() == "") {
			t.Errorf("%s: last refusal not told: %v", s.GetSystem(), s)
		}
	}
	if got.GetCountedSince() == "" {
		t.Error("counted_since empty")
	}
	if _, err := f.client.ListSystemActivity(hy, &dossierv1.ListSystemActivityRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("a province reading every system: %v, want PERMISSION_DENIED", err)
	}

	// Each system's last stored event is the stored_at of its last event in the feed (the
	// duplicate and the refusals stored nothing).
	lastStored := map[string]string{}
	for _, ev := range f.feed() {
		lastStored[ev.GetSystem()] = ev.GetStoredAt()
	}
	if len(lastStored) != 2 {
		t.Fatalf("feed systems %v, want two", lastStored)
	}
	for _, s := range got.GetSystems() {
		if w := lastStored[s.GetSystem()]; s.GetLastAcceptedAt() != w || w == "" {
			t.Errorf("%s: last_accepted_at %q, want %q", s.GetSystem(), s.GetLastAcceptedAt(), w)
		}
	}

	// A day later the counts are empty; the last stored events stay.
	f.clock.Advance(25 * time.Hour)
	got, err = f.client.ListSystemActivity(f.ministry(), &dossierv1.ListSystemActivityRequest{})
	if err != nil || len(got.GetSystems()) != 2 {
		t.Fatalf("25 hours later: %v, %v; want the two systems", got.GetSystems(), err)
	}
	for _, s := range got.GetSystems() {
		if s.GetAccepted() != 0 || s.GetRefused() != 0 || s.GetLastRefusedAt() != "" || s.GetLastAcceptedAt() != lastStored[s.GetSystem()] {
			t.Errorf("25 hours later: %v; want no counts and last_accepted_at %q", s, lastStored[s.GetSystem()])
		}
	}
}

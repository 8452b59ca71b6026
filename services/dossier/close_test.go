package dossier

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc/codes"
)

// TestWritesAfterClose: once the part is closed, a write is answered UNAVAILABLE
// (SHUTTING_DOWN) and stores nothing; it must not wait for a writer that is gone.
func TestWritesAfterClose(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "dossier.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clock := newFakeClock(testNow)
	svc, err := Open(db, Options{Catalog: newFakeCatalog(), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := platform.WithCaller(context.Background(), &platform.Caller{System: "000.00.00.G22/test", Role: platform.RoleAdmin})
	c := dcode(agency33a, "261120", 1)
	if _, err := svc.CreateDossierEvent(ctx, &dossierv1.CreateDossierEventRequest{
		Event: mkFirst("a-1", c, sAccepted, vn(2026, 11, 20, 8, 0), "33", agency33a, procLand, chDirect)}); err != nil {
		t.Fatal(err)
	}
	svc.Close()

	const n = 64
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := svc.CreateDossierEvent(ctx, &dossierv1.CreateDossierEventRequest{
				Event: mkEv(fmt.Sprintf("a-%d", i+2), c, sProcessing, vn(2026, 11, 20, 9, 0))})
			errs <- err
		}()
	}
	// A guard, not a wait: each answer comes at once when it is right.
	guard := time.NewTimer(time.Minute)
	defer guard.Stop()
	for i := range n {
		select {
		case err := <-errs:
			wantStatus(t, err, codes.Unavailable, "SHUTTING_DOWN")
		case <-guard.C:
			t.Fatalf("%d of %d writes after Close were never answered", n-i, n)
		}
	}
	rep, err := Verify(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Events != 1 {
		t.Errorf("after Close: %d events, differences %v; want 1 event, none", rep.Events, rep.Differences)
	}
}

// TestWatchEndsAtClose: a watcher is told the part is stopping.
func TestWatchEndsAtClose(t *testing.T) {
	f := newFixture(t)
	c := dcode(agency33a, "261120", 1)
	f.mustCreate(f.admin(), mkFirst("w-1", c, sNew, vn(2026, 11, 20, 8, 0), "33", agency33a, procLand, chDirect))
	ctx, cancel := context.WithTimeout(f.admin(), time.Minute)
	defer cancel()
	s, err := f.client.WatchDossierEvents(ctx, &dossierv1.WatchDossierEventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if e, err := s.Recv(); err != nil || e.GetEventId() != "w-1" {
		t.Fatalf("Recv: %v %v", e, err)
	}
	f.svc.Close()
	_, err = s.Recv()
	wantStatus(t, err, codes.Unavailable, "SHUTTING_DOWN")
}

package dossier

import (
	"maps"
	"testing"
	"time"

	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
)

// Each system's last stored event moves only when one of its events is stored (not on a
// duplicate or a refusal), survives a restart, and a data file without it has it rebuilt
// from the log with the same answer.
func TestLastStoredPerSystem(t *testing.T) {
	f := newFixture(t)
	hy, nb := f.province("33"), f.province("37")
	c33, c37 := dcode(agency33a, "261110", 1), dcode(agency37, "261110", 1)
	at := vn(2026, 11, 10, 8, 0)

	f.mustCreate(hy, mkFirst("h1", c33, sNew, at, "33", agency33a, procLand, chOnline))
	t33 := f.clock.Now().Format(time.RFC3339Nano)
	f.clock.Advance(time.Minute)
	f.mustCreate(nb, mkFirst("n1", c37, sNew, at, "37", agency37, procLand, chDirect))
	t37 := f.clock.Now().Format(time.RFC3339Nano)
	f.clock.Advance(time.Minute)
	if _, err := f.create(hy, mkFirst("h1", c33, sNew, at, "33", agency33a, procLand, chOnline)); err != nil {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := f.create(hy, mkEv("h2", c33, sResolved, vn(2026, 11, 10, 9, 0))); err == nil {
		t.Fatal("NEW to RESOLVED accepted")
	}
	want := map[string]string{"000.00.00.H31/motcua": t33, "000.00.00.H42/motcua": t37}
	if got := f.svc.last.all(); !maps.Equal(got, want) {
		t.Fatalf("last stored %v, want %v", got, want)
	}

	reopen := func() map[string]string {
		t.Helper()
		f.svc.Close()
		svc, err := Open(f.db, Options{Catalog: f.cat, Calendar: DefaultCalendar(), Logger: zap.NewNop(), Now: f.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		f.svc = svc // closed by the fixture's cleanup
		resp, err := svc.ListSystemActivity(platform.WithCaller(t.Context(), &platform.Caller{Role: platform.RoleMinistry}), nil)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, s := range resp.GetSystems() {
			got[s.GetSystem()] = s.GetLastAcceptedAt()
		}
		return got
	}
	if got := reopen(); !maps.Equal(got, want) {
		t.Errorf("after a restart: %v, want %v", got, want)
	}

	// A file of an earlier version, without the bucket.
	f.svc.Close()
	if err := f.db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketSystems) }); err != nil {
		t.Fatal(err)
	}
	if got := reopen(); !maps.Equal(got, want) {
		t.Errorf("rebuilt from the log: %v, want %v", got, want)
	}
	if rep, err := Verify(f.db, nil); err != nil || !rep.OK() {
		t.Errorf("verify after the rebuild: %+v %v", rep, err)
	}
}

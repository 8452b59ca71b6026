package dossier

import (
	"context"
	"path/filepath"
	"testing"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
)

// TestReadsAheadGoneStale: requests read ahead before earlier ones are committed; the
// writer must notice what those commits changed (a dossier's state, the index after its
// keys were written) and not judge by what was read.
func TestReadsAheadGoneStale(t *testing.T) {
	for _, flush := range []int{1, 1000} { // the index written at every commit, or never here
		db, err := bolt.Open(filepath.Join(t.TempDir(), "dossier.db"), 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Open(db, Options{Catalog: newFakeCatalog(), Calendar: DefaultCalendar(), Logger: zap.NewNop(),
			Now: newFakeClock(testNow).Now, IDFlushEvents: flush})
		if err != nil {
			t.Fatal(err)
		}
		ctx := platform.WithCaller(context.Background(), &platform.Caller{System: "000.00.00.H31/motcua", Role: platform.RoleAdmin})
		c := dcode(agency33a, "261022", 1)
		first := mkFirst("e-1", c, sNew, vn(2026, 10, 22, 8, 0), "33", agency33a, procLand, chOnline)
		// All four read ahead while the dossier does not exist yet.
		ja := s.prepare(ctx, []*dossierv1.DossierEvent{first})
		jb := s.prepare(ctx, []*dossierv1.DossierEvent{mkEv("e-2", c, sAccepted, vn(2026, 10, 22, 9, 0))})
		jc := s.prepare(ctx, []*dossierv1.DossierEvent{first}) // the same event again
		jd := s.prepare(ctx, []*dossierv1.DossierEvent{mkEv("e-3", c, sProcessing, vn(2026, 10, 22, 10, 0)),
			mkEv("e-4", c, sResolved, vn(2026, 10, 23, 10, 0))})
		for _, j := range []*job{ja, jb, jc, jd} {
			if j.items[0] == nil || j.items[0].pre == nil || j.items[0].pre.state != nil || j.items[0].pre.idVal != nil {
				t.Fatalf("flush %d: the reads ahead did not happen before the first commit", flush)
			}
			s.enqueue(ctx, j)
			<-j.done
		}
		want := []result{{status: int32(sNew), seq: 1}, {status: int32(sAccepted), seq: 2}, {dup: true, status: int32(sAccepted), seq: 1},
			{status: int32(sProcessing), seq: 3}, {status: int32(sResolved), seq: 4}}
		got := append(append(append(ja.results, jb.results...), jc.results...), jd.results...)
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("flush %d: result %d is %+v, want %+v", flush, i, got[i], want[i])
			}
		}
		s.Close()
		if rep, err := Verify(db, nil); err != nil || !rep.OK() || rep.Events != 4 {
			t.Errorf("flush %d: Verify %+v %v", flush, rep, err)
		}
		db.Close()
	}
}

package dossier

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/testing/protocmp"
)

// liveStats is what the live index answers: every group's open, paused and overdue-now
// figures (group_by agency over the whole history, and by unit for the current month).
func liveStats(t *testing.T, s *Service) []*dossierv1.DossierStats {
	t.Helper()
	var out []*dossierv1.DossierStats
	for _, r := range []*dossierv1.GetDossierStatsRequest{{GroupBy: "agency"}, {GroupBy: "unit", From: "2026-10"}} {
		st, err := s.GetDossierStats(demoAdmin, r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, st)
	}
	return out
}

// resolveSome resolves up to n processing dossiers, one request each.
func resolveSome(t *testing.T, s *Service, tag string, n int) {
	t.Helper()
	list, err := s.ListDossiers(demoAdmin, &dossierv1.ListDossiersRequest{Status: dossierv1.DossierStatus_DOSSIER_STATUS_PROCESSING, PageSize: int32(n)})
	if err != nil || len(list.GetDossiers()) == 0 {
		t.Fatalf("%d processing dossiers to resolve: %v %v", n, list, err)
	}
	for i, d := range list.GetDossiers() {
		if _, err := s.CreateDossierEvent(demoAdmin, &dossierv1.CreateDossierEventRequest{Event: &dossierv1.DossierEvent{
			EventId: fmt.Sprintf("snap-%s-%d", tag, i), DossierCode: d.GetCode(), Status: dossierv1.DossierStatus_DOSSIER_STATUS_RESOLVED,
			OccurredAt: demoNow.Format(time.RFC3339)}}); err != nil {
			t.Fatal(err)
		}
	}
}

// sameEntries checks that the snapshot beside the database at path, made from memory,
// holds the entries of the open-dossier bucket (a paused dossier's overdue instant is
// not kept: the index does not use it), seen as the cells' live index and the commune
// series' each see them (the snapshot may pair a set with another commune of its unit
// that has an entry of the same kind and instant: communes.go).
func sameEntries(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(m map[liveEntry]int, e liveEntry) {
		e = normalizeLive(e)
		if e.status != stAccepted {
			e.overdueAt = math.MaxInt64
		}
		c := e
		c.key = communeKey(e.key)
		c.key.channel = -1 // marks the commune series' view
		e.key.commune = ""
		m[e]++
		m[c]++
	}
	want, got := map[liveEntry]int{}, map[liveEntry]int{}
	var seq int64
	var sum [32]byte
	if err := db.View(func(tx *bolt.Tx) error {
		seq, sum = lastEvent(tx)
		return tx.Bucket(bucketOpen).ForEach(func(_, v []byte) error {
			e, err := decodeLive(v)
			count(want, e)
			return err
		})
	}); err != nil {
		t.Fatal(err)
	}
	n, err := readLiveSnapshot(path+".live", seq, sum, func(_ int, e liveEntry) { count(got, e) })
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 || n == 0 {
		t.Fatal("no open dossiers to compare")
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(liveEntry{}, cellKey{})); diff != "" {
		t.Fatalf("snapshot entries differ from the open-dossier bucket (-bucket +snapshot):\n%s", diff)
	}
}

func sameStats(t *testing.T, what string, want, got []*dossierv1.DossierStats) {
	t.Helper()
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Fatalf("%s: statistics differ (-want +got):\n%s", what, diff)
	}
}

// TestLiveSnapshot: a clean stop leaves a snapshot of the open dossiers that the next start
// reads instead of the index, with the same answers; a snapshot that is behind the log
// (what a crash after more events leaves) or damaged is not used, and the index gives the
// same answers.
func TestLiveSnapshot(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dossier.db")
	cat := &demoFakeCatalog{}
	db, s := demoOpen(t, path, cat, nil)
	if err := s.LoadDemo(demoAdmin, cat, 1500); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.liveFrom, "open-dossier index") {
		t.Fatalf("a new file's open dossiers came from %q", s.liveFrom)
	}
	// Dossiers resolved in commits of their own leave cancelled due instants in the index,
	// which the snapshot must leave out.
	resolveSome(t, s, "early", 10)
	before := liveStats(t, s)
	if open := before[0].GetRows(); len(open) == 0 {
		t.Fatal("no statistics rows")
	}
	s.Close()
	db.Close()
	if _, err := os.Stat(path + ".live"); err != nil {
		t.Fatalf("no snapshot after a clean stop: %v", err)
	}
	sameEntries(t, path)

	// A clean restart reads the snapshot.
	db, s = demoOpen(t, path, cat, nil)
	if !strings.HasPrefix(s.liveFrom, "snapshot") {
		t.Fatalf("after a clean stop the open dossiers came from %q, want the snapshot", s.liveFrom)
	}
	sameStats(t, "from the snapshot", before, liveStats(t, s))

	// One more event, then a copy of the file as a crash would leave it, with the old
	// snapshot beside it: the snapshot is behind the log.
	resolveSome(t, s, "late", 1)
	after := liveStats(t, s)
	crashed := filepath.Join(t.TempDir(), "dossier.db")
	if err := db.View(func(tx *bolt.Tx) error { return tx.CopyFile(crashed, 0o600) }); err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(path + ".live")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(crashed+".live", old, 0o600); err != nil {
		t.Fatal(err)
	}
	cdb, cs := demoOpen(t, crashed, cat, nil)
	if !strings.Contains(cs.liveFrom, "before the last stored event") {
		t.Fatalf("with a snapshot behind the log the open dossiers came from %q", cs.liveFrom)
	}
	sameStats(t, "after a crash, from the index", after, liveStats(t, cs))
	cs.Close()
	cdb.Close()

	// A damaged snapshot of the current state is not used either.
	s.Close()
	db.Close()
	snap, err := os.ReadFile(path + ".live")
	if err != nil {
		t.Fatal(err)
	}
	snap[len(snap)/2] ^= 0x40
	if err := os.WriteFile(path+".live", snap, 0o600); err != nil {
		t.Fatal(err)
	}
	db, s = demoOpen(t, path, cat, nil)
	if !strings.Contains(s.liveFrom, "checksum") {
		t.Fatalf("with a damaged snapshot the open dossiers came from %q", s.liveFrom)
	}
	sameStats(t, "with a damaged snapshot, from the index", after, liveStats(t, s))
	if rep, err := Verify(db, nil); err != nil || !rep.OK() {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

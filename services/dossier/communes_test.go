package dossier

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/store/v1"
	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
)

// sameGeo is geography where every unit is still in force.
type sameGeo struct{}

func (sameGeo) currentUnit(u string) string { return u }
func (sameGeo) field(string) string         { return "" }

// TestCommunesDoNotMultiplyCells: the dossiers of one agency, procedure and channel from
// 100 communes make one set of dimensions among the cells (and one in every roll-up) and
// 100 commune series; the report by commune has their 100 rows, overdue ones counted as
// the clock passes, also after the live index goes through a snapshot.
func TestCommunesDoNotMultiplyCells(t *testing.T) {
	s := newStats()
	received := mustMillis(t, vn(2026, 11, 2, 8, 0))
	due := received + 86_400_000
	d := newDelta()
	var live []liveEntry // open dossiers due one after another
	for i := range 100 {
		st := &storev1.DossierState{Code: fmt.Sprintf("d-%d", i), ReceivedAt: received, Channel: int32(chDirect), UnitCode: "33",
			AgencyCode: agency33a, ProcedureCode: procLand, CommuneCode: fmt.Sprintf("%05d", 11000+i), Status: stAccepted}
		d.change(nil, st)
		live = append(live, liveEntry{key: cellKey{channel: st.Channel, unit: "33", agency: agency33a, procedure: procLand, commune: st.CommuneCode},
			status: stAccepted, overdueAt: due + int64(i)*1000})
	}
	d.liveAdd = live
	s.apply(d)
	if n := len(s.base().keys); n != 1 {
		t.Errorf("%d sets of dimensions among the cells, want 1 (the commune is not one of them)", n)
	}
	for _, r := range s.rollups {
		if len(r.keys) != 1 {
			t.Errorf("roll-up %b: %d sets, want 1", r.mask, len(r.keys))
		}
	}
	if n := len(s.communes.keys); n != 100 {
		t.Errorf("%d commune series, want 100", n)
	}
	now := due + 50_500 // communes 0..50 overdue
	q := statsQuery{groupBy: "commune", unit: "33", fromM: -1, toM: monthOf(now)}
	check := func(what string, s *Stats) *dossierv1.DossierStats {
		t.Helper()
		st := s.query(q, now, sameGeo{})
		if len(st.GetRows()) != 100 {
			t.Fatalf("%s: %d rows by commune, want 100", what, len(st.GetRows()))
		}
		for _, r := range st.GetRows() {
			var i int
			fmt.Sscanf(r.GetKey(), "%d", &i)
			want := int64(0)
			if i-11000 <= 50 {
				want = 1
			}
			if r.GetReceivedTotal() != 1 || r.GetInProgressOverdue() != want || r.GetInProgressWithinDue() != 1-want {
				t.Errorf("%s: commune %s: received %d, overdue %d, within due %d; want 1, %d, %d", what, r.GetKey(),
					r.GetReceivedTotal(), r.GetInProgressOverdue(), r.GetInProgressWithinDue(), want, 1-want)
			}
		}
		total := s.query(statsQuery{unit: "33", fromM: -1, toM: monthOf(now)}, now, sameGeo{})
		if r := total.GetRows(); len(r) != 1 || r[0].GetReceivedTotal() != 100 || r[0].GetInProgressOverdue() != 51 {
			t.Errorf("%s: total %v, want 100 received, 51 overdue", what, r)
		}
		return st
	}
	before := check("in memory", s)

	// Through a snapshot of the live index: the same figures.
	body, n, err := s.appendLive(append([]byte(liveSnapMagic), make([]byte, 40)...))
	if err != nil || n != 100 {
		t.Fatalf("snapshot of %d entries: %v", n, err)
	}
	fresh := newStats()
	fresh.apply(&delta{cells: d.cells, communes: d.communes})
	if _, err := parseLiveSnapshot(bytes.NewReader(body), 0, [32]byte{}, func(_ int, e liveEntry) {
		fresh.liveLoad(normalizeLive(e), received)
	}); err != nil {
		t.Fatal(err)
	}
	fresh.liveLoaded()
	if diff := cmp.Diff(before, check("from a snapshot", fresh), protocmp.Transform()); diff != "" {
		t.Errorf("from a snapshot (-before +after):\n%s", diff)
	}
}

func mustMillis(t *testing.T, rfc3339 string) int64 {
	t.Helper()
	at, err := time.Parse(time.RFC3339, rfc3339)
	if err != nil {
		t.Fatal(err)
	}
	return at.UnixMilli()
}

// TestCommuneFilterRefused: a report by commune filtered on an agency or a procedure is
// refused on that field (communes are counted by unit only).
func TestCommuneFilterRefused(t *testing.T) {
	for _, tc := range []struct {
		r     *dossierv1.GetDossierStatsRequest
		field string
	}{
		{&dossierv1.GetDossierStatsRequest{Unit: "33", GroupBy: "commune", Agency: agency33a}, "agency"},
		{&dossierv1.GetDossierStatsRequest{Unit: "33", GroupBy: "commune", Procedure: procLand}, "procedure"},
	} {
		_, err := parseStatsQuery(tc.r, 0)
		wantFields(t, wantStatus(t, err, codes.InvalidArgument, ""), tc.field)
	}
	for _, r := range []*dossierv1.GetDossierStatsRequest{
		{Unit: "33", GroupBy: "commune", From: "2026-Q3", Geography: "historical"},
		{GroupBy: "commune"},
		{Unit: "33", GroupBy: "agency", Agency: agency33a, Procedure: procLand},
	} {
		if _, err := parseStatsQuery(r, 0); err != nil {
			t.Errorf("%v: %v", r, err)
		}
	}
}

// TestCommuneCellsOfEarlierFiles: a file whose cells hold the commune at the end of their
// key (as written before the commune series) is read by verify as it is, and opened with
// the same figures: its cells are converted (no commune left in them, the commune series
// made), and verify still finds nothing.
func TestCommuneCellsOfEarlierFiles(t *testing.T) {
	f := newFixture(t)
	withCommunes(f)
	createCommuneDossiers(f, "o")
	reqs := []*dossierv1.GetDossierStatsRequest{
		{Unit: "33", From: "2026-11", GroupBy: "commune"}, {Unit: "33", From: "2026-11"},
		{From: "2026-11", GroupBy: "channel"}, {GroupBy: "commune", Geography: "historical"},
	}
	answers := func(svc *Service) []*dossierv1.DossierStats {
		var out []*dossierv1.DossierStats
		for _, r := range reqs {
			st, err := svc.GetDossierStats(demoAdmin, r)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, st)
		}
		return out
	}
	want := answers(f.svc)
	if len(want[0].GetRows()) != 3 {
		t.Fatalf("rows by commune %v, want 3", want[0].GetRows())
	}
	f.svc.Close()
	if err := os.Remove(liveSnapPath(f.db)); err != nil {
		t.Fatal(err)
	}

	// The file as the earlier version wrote it: one cell per month, channel, unit, agency,
	// procedure and commune, the commune appended to the key; no commune bucket.
	err := f.db.Update(func(tx *bolt.Tx) error {
		old := newDelta()
		cells := map[cellKey]*counters{}
		if err := tx.Bucket(bucketDossiers).ForEach(func(_, v []byte) error {
			st := &storev1.DossierState{}
			if err := proto.Unmarshal(v, st); err != nil {
				return err
			}
			for _, c := range contributions(st) {
				if cells[c.key] == nil {
					cells[c.key] = &counters{}
				}
				cells[c.key][c.idx] += c.v
			}
			old.change(nil, st)
			return nil
		}); err != nil {
			return err
		}
		for _, b := range [][]byte{bucketCells, bucketCommuneCells} {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		b, err := tx.CreateBucket(bucketCells)
		if err != nil {
			return err
		}
		for k, c := range cells {
			kb := encodeCellKeyPrefix(k)
			if k.commune != "" {
				kb = append(append(kb, byte(len(k.commune))), k.commune...)
			}
			if err := b.Put(kb, encodeCounters(c)); err != nil {
				return err
			}
		}
		if len(cells) <= len(old.cells) {
			return fmt.Errorf("%d cells of the earlier version, %d without communes: the test needs more", len(cells), len(old.cells))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	verify := func(what string) {
		t.Helper()
		rep, err := Verify(f.db, DefaultCalendar())
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() || rep.Events != 5 {
			t.Errorf("verify %s: %d events, differences %v; want 5, none", what, rep.Events, rep.Differences)
		}
	}
	verify("of the earlier file")

	svc, err := Open(f.db, Options{Catalog: f.cat, Calendar: DefaultCalendar(), Logger: zap.NewNop(), Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	if diff := cmp.Diff(want, answers(svc), protocmp.Transform()); diff != "" {
		t.Errorf("figures of the converted file (-before +after):\n%s", diff)
	}
	if err := f.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketCommuneCells) == nil || tx.Bucket(bucketCommuneCells).Stats().KeyN == 0 {
			t.Error("no commune series after the conversion")
		}
		return tx.Bucket(bucketCells).ForEach(func(k, _ []byte) error {
			if ck, err := decodeCellKey(k); err != nil || ck.commune != "" {
				t.Errorf("cell %x after the conversion: %+v %v", k, ck, err)
			}
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.GetDossierStats(demoAdmin, &dossierv1.GetDossierStatsRequest{GroupBy: "commune", Procedure: procLand}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("by commune filtered on a procedure: %v, want INVALID_ARGUMENT", err)
	}
	verify("of the converted file")

	// Verify compares the commune series too.
	svc.Close()
	if err := f.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCommuneCells)
		k, v := b.Cursor().First()
		c, err := decodeCounters(v)
		if err != nil {
			return err
		}
		c[cReceived]++
		return b.Put(append([]byte(nil), k...), encodeCounters(&c))
	}); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(f.db, DefaultCalendar())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Differences) != 1 || !strings.HasPrefix(rep.Differences[0], "commune statistics ") {
		t.Errorf("verify of a changed commune series: %q, want one difference of the commune statistics", rep.Differences)
	}
}

package dossier_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/store/v1"
	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"github.com/lienthong/lienthong/services/dossier"
	"github.com/lienthong/lienthong/services/dossier/simulate"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
)

var (
	simNow = time.Date(2026, 11, 23, 10, 0, 0, 0, dossier.Vietnam)
	admin  = platform.WithCaller(context.Background(), &platform.Caller{System: "000.00.00.G22/sim", Role: platform.RoleAdmin})
)

func openPart(t *testing.T, path string) (*bolt.DB, *dossier.Service) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := dossier.Open(db, dossier.Options{Catalog: dossier.NewFakeCatalog(), Calendar: dossier.DefaultCalendar(),
		Now: func() time.Time { return simNow }})
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	return db, svc
}

// simulated is the workload: 300 dossiers of units 33 and 37 received in the 80 days before
// now, and 30 of unit 36 received in 2024 (before its merger into 37).
func simulated() []*dossierv1.DossierEvent {
	cal := dossier.DefaultCalendar()
	rng := rand.New(rand.NewPCG(20261123, 766))
	now := simNow
	recent := []simulate.Ref{
		{Unit: "33", Agency: "000.01.00.H31", Procedure: "1.000001", ProcessingDays: 5},
		{Unit: "33", Agency: "000.02.00.H31", Procedure: "1.000002", ProcessingDays: 10},
		{Unit: "37", Agency: "000.01.00.H42", Procedure: "1.000001", ProcessingDays: 5},
		{Unit: "37", Agency: "000.01.00.H42", Procedure: "1.000002", ProcessingDays: 10},
	}
	old := simulate.Ref{Unit: "36", Agency: "000.01.00.H40", Procedure: "1.000002", ProcessingDays: 10}
	var out []*dossierv1.DossierEvent
	for i := range 300 {
		ref := recent[rng.IntN(len(recent))]
		received := now.Add(-time.Duration(rng.Int64N(int64(80 * 24 * time.Hour))))
		out = append(out, simulate.Dossier(rng, simulate.Code(ref.Agency, received, i), ref, received, simulate.Typical, cal, now)...)
	}
	for i := range 30 {
		received := time.Date(2024, 3, 1, 8, 0, 0, 0, dossier.Vietnam).Add(time.Duration(rng.Int64N(int64(200 * 24 * time.Hour))))
		out = append(out, simulate.Dossier(rng, simulate.Code(old.Agency, received, i), old, received, simulate.Typical, cal, now)...)
	}
	return out
}

// answers are what the part says about its statistics and some dossiers.
func answers(t *testing.T, svc *dossier.Service, codes []string) []proto.Message {
	t.Helper()
	var out []proto.Message
	for _, geo := range []string{"current", "historical"} {
		for _, g := range []string{"", "agency", "procedure", "field", "month", "channel", "unit"} {
			for _, p := range [][2]string{{"", ""}, {"2024", ""}, {"2026-09", "2026-11"}, {"2026-10", ""}, {"2026-Q4", ""}, {"2026-11", ""}} {
				st, err := svc.GetDossierStats(admin, &dossierv1.GetDossierStatsRequest{From: p[0], To: p[1], GroupBy: g, Geography: geo})
				if err != nil {
					t.Fatalf("stats %s %s %v: %v", geo, g, p, err)
				}
				out = append(out, st)
			}
		}
	}
	for _, c := range codes {
		d, err := svc.GetDossier(admin, &dossierv1.GetDossierRequest{Code: c})
		if err != nil {
			t.Fatalf("GetDossier %s: %v", c, err)
		}
		out = append(out, d)
	}
	for _, overdue := range []bool{false, true} {
		l, err := svc.ListDossiers(admin, &dossierv1.ListDossiersRequest{Overdue: overdue, PageSize: 1000})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	return out
}

// TestDurability: after a simulated workload, closing and reopening the part on the same
// file answers the same; the sequence continues; Verify agrees with what is stored, and
// names a cell or a dossier state that was changed behind the part's back.
func TestDurability(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dossier.db")
	db, svc := openPart(t, path)
	events := simulated()
	codes := map[string]bool{}
	var sample []string
	var lastSeq int64
	for start := 0; start < len(events); start += dossier.MaxBatch {
		chunk := events[start:min(start+dossier.MaxBatch, len(events))]
		resp, err := svc.BatchCreateDossierEvents(admin, &dossierv1.BatchCreateDossierEventsRequest{Events: chunk})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range resp.GetResults() {
			if r.GetError() != nil {
				t.Fatalf("simulated event %s refused: %v", chunk[i].GetEventId(), r.GetError())
			}
			lastSeq = max(lastSeq, r.GetSequence())
			if c := chunk[i].GetDossierCode(); !codes[c] {
				codes[c] = true
				if len(codes)%10 == 0 {
					sample = append(sample, c)
				}
			}
		}
	}
	if lastSeq != int64(len(events)) || len(codes) != 330 {
		t.Fatalf("workload: %d events stored of %d, %d dossiers", lastSeq, len(events), len(codes))
	}
	before := answers(t, svc, sample)
	// Not a trivial workload: 300 received since September, some of each kind.
	st, err := svc.GetDossierStats(admin, &dossierv1.GetDossierStatsRequest{From: "2026-08", To: "2026-11"})
	if err != nil {
		t.Fatal(err)
	}
	row := st.GetRows()[0]
	if row.GetReceivedTotal() != 300 || row.GetReceivedOnline() == 0 || row.GetResolvedLate() == 0 || row.GetResolvedEarly() == 0 ||
		row.GetInProgressWithinDue() == 0 {
		t.Errorf("workload statistics look thin: %v", row)
	}

	svc.Close()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, svc = openPart(t, path)
	defer func() { svc.Close(); db.Close() }()
	after := answers(t, svc, sample)
	if diff := cmp.Diff(before, after, protocmp.Transform()); diff != "" {
		t.Fatalf("answers differ after reopening (-before +after):\n%s", diff)
	}

	c := "000.01.00.H31-261123-9999"
	resp, err := svc.CreateDossierEvent(admin, &dossierv1.CreateDossierEventRequest{Event: &dossierv1.DossierEvent{
		EventId: "after-reopen", DossierCode: c, Status: dossierv1.DossierStatus_DOSSIER_STATUS_NEW,
		OccurredAt: "2026-11-23T09:00:00+07:00", UnitCode: "33", AgencyCode: "000.01.00.H31", ProcedureCode: "1.000001",
		Channel: dossierv1.Channel_CHANNEL_ONLINE}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetSequence() != lastSeq+1 {
		t.Errorf("first event after reopening: sequence %d, want %d", resp.GetSequence(), lastSeq+1)
	}

	rep, err := dossier.Verify(db, dossier.DefaultCalendar())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Events != lastSeq+1 || rep.Dossiers != 331 || rep.Cells == 0 || rep.Passes != 1 {
		t.Fatalf("Verify: %+v; want OK, %d events, 331 dossiers, one pass", rep, lastSeq+1)
	}
	// In shares, as on a file whose dossiers would not fit in memory at once: the same.
	shared, err := dossier.VerifyWith(db, dossier.VerifyOptions{Passes: 7})
	if err != nil {
		t.Fatal(err)
	}
	if !shared.OK() || shared.Passes != 7 || shared.Events != rep.Events || shared.Dossiers != rep.Dossiers || shared.Cells != rep.Cells {
		t.Fatalf("Verify in 7 passes: %+v; want %+v in 7 passes", shared, rep)
	}
	if shared.Largest > 2*331/7 {
		t.Errorf("Verify in 7 passes held %d of 331 dossiers at once, want about a seventh", shared.Largest)
	}

	t.Run("a changed dossier state", func(t *testing.T) {
		code := sample[3]
		var orig []byte
		change(t, db, "dossiers", []byte(code), func(v []byte) []byte {
			orig = v
			st := &storev1.DossierState{}
			if err := proto.Unmarshal(v, st); err != nil {
				t.Fatal(err)
			}
			st.SupplementCount++
			out, err := proto.Marshal(st)
			if err != nil {
				t.Fatal(err)
			}
			return out
		})
		wantDifference(t, db, fmt.Sprintf("dossier %s: stored state differs", code))
		change(t, db, "dossiers", []byte(code), func([]byte) []byte { return orig })
		if rep, err := dossier.Verify(db, nil); err != nil || !rep.OK() {
			t.Fatalf("restored: %+v %v", rep, err)
		}
	})

	t.Run("a changed last stored event of a system", func(t *testing.T) {
		sys := []byte("000.00.00.G22/sim")
		var orig []byte
		change(t, db, "systems", sys, func(v []byte) []byte {
			orig = v
			return []byte("2020-01-01T00:00:00+07:00")
		})
		wantDifference(t, db, "system 000.00.00.G22/sim: last stored event recorded at 2020-01-01T00:00:00+07:00")
		change(t, db, "systems", sys, func([]byte) []byte { return orig })
		if rep, err := dossier.Verify(db, nil); err != nil || !rep.OK() {
			t.Fatalf("restored: %+v %v", rep, err)
		}
	})

	t.Run("a changed statistics cell", func(t *testing.T) {
		var key []byte
		if err := db.View(func(tx *bolt.Tx) error {
			k, _ := tx.Bucket([]byte("cells")).Cursor().Last()
			key = append([]byte(nil), k...)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		// The value is the counters as varints; the first counts received dossiers.
		change(t, db, "cells", key, func(v []byte) []byte {
			n, w := binary.Varint(v)
			return append(binary.AppendVarint(nil, n+1), v[w:]...)
		})
		wantDifference(t, db, "statistics cell "+describeCell(t, key)+": stored")
	})
}

// change rewrites one value of a bucket directly, as a disk fault or a careless hand would.
func change(t *testing.T, db *bolt.DB, bucket string, key []byte, fn func([]byte) []byte) {
	t.Helper()
	if err := db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		v := b.Get(key)
		if v == nil {
			return fmt.Errorf("%s: key %q missing", bucket, key)
		}
		return b.Put(key, fn(append([]byte(nil), v...)))
	}); err != nil {
		t.Fatal(err)
	}
}

// wantDifference checks that Verify finds the difference, in one pass and in shares.
func wantDifference(t *testing.T, db *bolt.DB, prefix string) {
	t.Helper()
	for _, passes := range []int{1, 5} {
		rep, err := dossier.VerifyWith(db, dossier.VerifyOptions{Passes: passes})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, d := range rep.Differences {
			found = found || strings.HasPrefix(d, prefix)
		}
		if !found {
			t.Errorf("Verify in %d passes: differences %q, want one starting %q", passes, rep.Differences, prefix)
		}
	}
}

// describeCell names a cell key (month(4) channel(1), then unit, agency and procedure
// each length-prefixed) the way Verify does: 2026-10/CHANNEL_DIRECT/33/agency/procedure.
func describeCell(t *testing.T, k []byte) string {
	t.Helper()
	m := int(binary.BigEndian.Uint32(k))
	parts := []string{fmt.Sprintf("%04d-%02d", m/12, m%12+1), dossierv1.Channel(k[4]).String()}
	rest := k[5:]
	for range 3 {
		n := int(rest[0])
		parts = append(parts, string(rest[1:1+n]))
		rest = rest[1+n:]
	}
	return strings.Join(parts, "/")
}

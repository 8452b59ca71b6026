package dossier

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
)

// manyOf33 stores n new dossiers of unit 33 (one event each) in batches, then two events
// of one dossier of unit 37: sequences n+1 and n+2.
func manyOf33(f *fixture, n int) {
	f.t.Helper()
	at := vn(2026, 11, 10, 8, 0)
	for lo := 0; lo < n; lo += MaxBatch {
		var evs []*dossierv1.DossierEvent
		for i := lo; i < min(lo+MaxBatch, n); i++ {
			evs = append(evs, mkFirst(fmt.Sprintf("m-%d", i), dcode(agency33a, "261110", i+1), sNew, at, "33", agency33a, procLand, chOnline))
		}
		f.mustBatch(f.admin(), evs...)
	}
	c37 := dcode(agency37, "261110", 1)
	f.mustCreate(f.admin(), mkFirst("n-1", c37, sNew, at, "37", agency37, procLand, chDirect),
		mkEv("n-2", c37, sAccepted, vn(2026, 11, 10, 9, 0)))
}

// A unit's page of the feed reads that unit's events only, not the country's: a unit with
// none answers an empty last page at once, one with two reads two.
func TestFeedOfOneUnitReadsOnlyItsEvents(t *testing.T) {
	f := newFixture(t)
	const n = 2000
	manyOf33(f, n)
	last := fmt.Sprint(n + 2)

	read := func(call func()) int64 {
		t.Helper()
		before := f.svc.feedRead.Load()
		call()
		return f.svc.feedRead.Load() - before
	}

	t.Run("a unit with no events", func(t *testing.T) {
		var resp *dossierv1.ListDossierEventsResponse
		got := read(func() { resp = f.list(t, &dossierv1.ListDossierEventsRequest{Unit: "36"}) })
		if len(resp.GetEvents()) != 0 || resp.GetNextPageToken() != "" || resp.GetCursor() != last {
			t.Errorf("unit 36: got %d events, token %q, cursor %s; want none, none, %s", len(resp.GetEvents()), resp.GetNextPageToken(), resp.GetCursor(), last)
		}
		if got != 0 {
			t.Errorf("unit 36: %d events read, want 0 (%d of other units are stored)", got, n+2)
		}
	})

	t.Run("a unit with two events", func(t *testing.T) {
		var resp *dossierv1.ListDossierEventsResponse
		got := read(func() { resp = f.list(t, &dossierv1.ListDossierEventsRequest{Unit: "37", PageSize: 10}) })
		if s := seqs(resp.GetEvents()); !slices.Equal(s, []int64{n + 1, n + 2}) || resp.GetNextPageToken() != "" || resp.GetCursor() != last {
			t.Errorf("unit 37: got %v token %q cursor %s", s, resp.GetNextPageToken(), resp.GetCursor())
		}
		if got != 2 {
			t.Errorf("unit 37: %d events read, want 2", got)
		}
	})

	t.Run("a province's watch", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(f.province("37"), 10*time.Second)
		defer cancel()
		var evs []*dossierv1.DossierEvent
		got := read(func() {
			s, err := f.client.WatchDossierEvents(ctx, &dossierv1.WatchDossierEventsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			for len(evs) < 2 {
				e, err := s.Recv()
				if err != nil {
					t.Fatalf("Recv: %v", err)
				}
				evs = append(evs, e)
			}
		})
		if s := seqs(evs); !slices.Equal(s, []int64{n + 1, n + 2}) {
			t.Errorf("watch 37: got %v", s)
		}
		if got != 2 {
			t.Errorf("watch 37: %d events read, want 2", got)
		}
	})

	t.Run("paging a unit by token", func(t *testing.T) {
		first := f.list(t, &dossierv1.ListDossierEventsRequest{Unit: "33", PageSize: 3, After: fmt.Sprint(n - 4)})
		if s := seqs(first.GetEvents()); !slices.Equal(s, []int64{n - 3, n - 2, n - 1}) || first.GetNextPageToken() == "" {
			t.Fatalf("unit 33 page 1: got %v token %q", s, first.GetNextPageToken())
		}
		second := f.list(t, &dossierv1.ListDossierEventsRequest{Unit: "33", PageSize: 3, PageToken: first.GetNextPageToken()})
		if s := seqs(second.GetEvents()); !slices.Equal(s, []int64{n}) || second.GetNextPageToken() != "" || second.GetCursor() != last {
			t.Errorf("unit 33 page 2: got %v token %q cursor %s", s, second.GetNextPageToken(), second.GetCursor())
		}
	})
}

// A data file written before the index existed has it built from the log at start, with
// the same answers; verify finds a missing or a stray key.
func TestFeedIndexBuiltForAnOlderFile(t *testing.T) {
	f := newFixture(t)
	manyOf33(f, 5)
	want := seqs(f.list(t, &dossierv1.ListDossierEventsRequest{Unit: "37"}).GetEvents())

	reopen := func() {
		t.Helper()
		f.svc.Close()
		svc, err := Open(f.db, Options{Catalog: f.cat, Calendar: DefaultCalendar(), Logger: zap.NewNop(), Now: f.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		f.svc = svc
		// The fixture's server still serves the first service: read this one directly.
	}
	listDirect := func(unit string) []int64 {
		t.Helper()
		var got []int64
		_, _, err := f.svc.scanFeed(0, unit, 100, func(ev *dossierv1.DossierEvent) bool {
			got = append(got, ev.GetSequence())
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	// An older file: no index.
	f.svc.Close()
	if err := f.db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketFeedUnits) }); err != nil {
		t.Fatal(err)
	}
	reopen()
	if got := listDirect("37"); !slices.Equal(got, want) || !slices.Equal(want, []int64{6, 7}) {
		t.Errorf("unit 37 after the build: got %v, want %v and [6 7]", got, want)
	}
	if got := listDirect("33"); !slices.Equal(got, []int64{1, 2, 3, 4, 5}) {
		t.Errorf("unit 33 after the build: got %v", got)
	}
	if rep, err := Verify(f.db, nil); err != nil || !rep.OK() {
		t.Fatalf("verify after the build: %+v %v", rep, err)
	}

	// A build cut short resumes where it ended.
	f.svc.Close()
	if err := f.db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketFeedUnits); err != nil {
			return err
		}
		b, err := tx.CreateBucket(bucketFeedUnits)
		if err != nil {
			return err
		}
		for seq := int64(1); seq <= 3; seq++ {
			if err := b.Put(feedUnitKey("33", seq), nil); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(metaFeedUnitsUpto, seqKey(3))
	}); err != nil {
		t.Fatal(err)
	}
	if rep, err := Verify(f.db, nil); err != nil || !rep.OK() {
		t.Errorf("verify of an unfinished build (left to the next start): %+v %v", rep, err)
	}
	reopen()
	if got := listDirect("33"); !slices.Equal(got, []int64{1, 2, 3, 4, 5}) {
		t.Errorf("unit 33 after the resumed build: got %v", got)
	}
	if rep, err := Verify(f.db, nil); err != nil || !rep.OK() {
		t.Fatalf("verify after the resumed build: %+v %v", rep, err)
	}

	// Damage: a key missing, a stray key.
	f.svc.Close()
	for _, c := range []struct {
		name   string
		change func(b *bolt.Bucket) error
		undo   func(b *bolt.Bucket) error
		want   string
	}{
		{"missing", func(b *bolt.Bucket) error { return b.Delete(feedUnitKey("37", 7)) },
			func(b *bolt.Bucket) error { return b.Put(feedUnitKey("37", 7), nil) }, "event 7 of unit 37: missing"},
		{"stray", func(b *bolt.Bucket) error { return b.Put(feedUnitKey("37", 3), nil) },
			func(b *bolt.Bucket) error { return b.Delete(feedUnitKey("37", 3)) }, "8 keys in the feed index by unit for 7 events"},
	} {
		edit := func(fn func(b *bolt.Bucket) error) {
			if err := f.db.Update(func(tx *bolt.Tx) error { return fn(tx.Bucket(bucketFeedUnits)) }); err != nil {
				t.Fatal(err)
			}
		}
		edit(c.change)
		rep, err := Verify(f.db, nil)
		if err != nil || rep.OK() || !strings.Contains(strings.Join(rep.Differences, "\n"), c.want) {
			t.Errorf("%s key: verify reported %v (%v), want %q", c.name, rep.Differences, err, c.want)
		}
		edit(c.undo)
	}
	reopen()
}

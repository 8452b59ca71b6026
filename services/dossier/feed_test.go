package dossier

import (
	"context"
	"slices"
	"testing"
	"time"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"google.golang.org/grpc/codes"
)

func seqs(evs []*dossierv1.DossierEvent) []int64 {
	out := make([]int64, len(evs))
	for i, e := range evs {
		out[i] = e.GetSequence()
	}
	return out
}

// feedFixture stores five events: 1, 2 and 5 of unit 33, 3 and 4 of unit 37.
func feedFixture(t *testing.T) (*fixture, string) {
	f := newFixture(t)
	c33 := dcode(agency33a, "261110", 1)
	c37 := dcode(agency37, "261110", 1)
	f.mustCreate(f.admin(),
		mkFirst("f-1", c33, sNew, vn(2026, 11, 10, 8, 0), "33", agency33a, procLand, chOnline),
		mkEv("f-2", c33, sAccepted, vn(2026, 11, 10, 9, 0)),
		mkFirst("f-3", c37, sNew, vn(2026, 11, 10, 8, 0), "37", agency37, procLand, chDirect),
		mkEv("f-4", c37, sAccepted, vn(2026, 11, 10, 9, 0)),
		mkEv("f-5", c33, sProcessing, vn(2026, 11, 11, 8, 0)),
	)
	return f, c33
}

func (f *fixture) list(t *testing.T, r *dossierv1.ListDossierEventsRequest) *dossierv1.ListDossierEventsResponse {
	t.Helper()
	resp, err := f.client.ListDossierEvents(f.admin(), r)
	if err != nil {
		t.Fatalf("ListDossierEvents(%v): %v", r, err)
	}
	return resp
}

func TestFeedPaging(t *testing.T) {
	f, c33 := feedFixture(t)

	t.Run("pages of 2 by token", func(t *testing.T) {
		var pages [][]int64
		var cursors []string
		token := ""
		for i := 0; i < 10; i++ {
			resp := f.list(t, &dossierv1.ListDossierEventsRequest{PageSize: 2, PageToken: token})
			pages = append(pages, seqs(resp.GetEvents()))
			cursors = append(cursors, resp.GetCursor())
			for _, e := range resp.GetEvents() {
				if e.GetStoredAt() == "" || e.GetSystem() != "000.00.00.G22/test" || e.GetUnitCode() == "" {
					t.Errorf("event %d: stored_at %q system %q unit %q", e.GetSequence(), e.GetStoredAt(), e.GetSystem(), e.GetUnitCode())
				}
			}
			if token = resp.GetNextPageToken(); token == "" {
				break
			}
		}
		if want := [][]int64{{1, 2}, {3, 4}, {5}}; !slices.EqualFunc(pages, want, slices.Equal) {
			t.Errorf("pages: got %v, want %v", pages, want)
		}
		if want := []string{"2", "4", "5"}; !slices.Equal(cursors, want) {
			t.Errorf("cursors: got %v, want %v", cursors, want)
		}
	})

	t.Run("at the end", func(t *testing.T) {
		resp := f.list(t, &dossierv1.ListDossierEventsRequest{After: "5"})
		if len(resp.GetEvents()) != 0 || resp.GetNextPageToken() != "" || resp.GetCursor() != "5" {
			t.Errorf("after 5: got %v, want no events, no token, cursor 5", resp)
		}
		if resp := f.list(t, &dossierv1.ListDossierEventsRequest{}); resp.GetNextPageToken() != "" || len(resp.GetEvents()) != 5 {
			t.Errorf("default page: got %d events, token %q; want 5 and none", len(resp.GetEvents()), resp.GetNextPageToken())
		}
	})

	t.Run("unit filter", func(t *testing.T) {
		first := f.list(t, &dossierv1.ListDossierEventsRequest{Unit: "33", PageSize: 2})
		if got := seqs(first.GetEvents()); !slices.Equal(got, []int64{1, 2}) || first.GetNextPageToken() == "" || first.GetCursor() != "2" {
			t.Fatalf("unit 33 page 1: got %v cursor %s token %q", got, first.GetCursor(), first.GetNextPageToken())
		}
		second := f.list(t, &dossierv1.ListDossierEventsRequest{Unit: "33", PageSize: 2, PageToken: first.GetNextPageToken()})
		if got := seqs(second.GetEvents()); !slices.Equal(got, []int64{5}) || second.GetNextPageToken() != "" || second.GetCursor() != "5" {
			t.Errorf("unit 33 page 2: got %v cursor %s token %q; want [5], 5, none", got, second.GetCursor(), second.GetNextPageToken())
		}
		// A token is bound to its filter.
		_, err := f.client.ListDossierEvents(f.admin(), &dossierv1.ListDossierEventsRequest{Unit: "37", PageToken: first.GetNextPageToken()})
		wantStatus(t, err, codes.InvalidArgument, "INVALID_ARGUMENT")
		// Skipped events of other units still move the cursor.
		only37 := f.list(t, &dossierv1.ListDossierEventsRequest{Unit: "37"})
		if got := seqs(only37.GetEvents()); !slices.Equal(got, []int64{3, 4}) || only37.GetCursor() != "5" {
			t.Errorf("unit 37: got %v cursor %s, want [3 4] cursor 5", got, only37.GetCursor())
		}
	})

	t.Run("cursor resumes after new events arrive", func(t *testing.T) {
		page := f.list(t, &dossierv1.ListDossierEventsRequest{PageSize: 2, After: "2"})
		if got := seqs(page.GetEvents()); !slices.Equal(got, []int64{3, 4}) {
			t.Fatalf("after 2: got %v", got)
		}
		f.mustCreate(f.admin(), mkEv("f-6", c33, sResolved, vn(2026, 11, 12, 8, 0)), mkEv("f-7", c33, sReturned, vn(2026, 11, 13, 8, 0)))
		byCursor := f.list(t, &dossierv1.ListDossierEventsRequest{PageSize: 2, After: page.GetCursor()})
		if got := seqs(byCursor.GetEvents()); !slices.Equal(got, []int64{5, 6}) || byCursor.GetNextPageToken() == "" {
			t.Errorf("after cursor %s: got %v token %q, want [5 6] and a token", page.GetCursor(), got, byCursor.GetNextPageToken())
		}
		byToken := f.list(t, &dossierv1.ListDossierEventsRequest{PageSize: 2, PageToken: page.GetNextPageToken()})
		if got := seqs(byToken.GetEvents()); !slices.Equal(got, []int64{5, 6}) {
			t.Errorf("old page token: got %v, want [5 6]", got)
		}
		last := f.list(t, &dossierv1.ListDossierEventsRequest{PageSize: 2, PageToken: byCursor.GetNextPageToken()})
		if got := seqs(last.GetEvents()); !slices.Equal(got, []int64{7}) || last.GetNextPageToken() != "" || last.GetCursor() != "7" {
			t.Errorf("last page: got %v token %q cursor %s, want [7], none, 7", got, last.GetNextPageToken(), last.GetCursor())
		}
		// The feed's events carry the dossier's unit even when the event did not.
		if e := last.GetEvents()[0]; e.GetUnitCode() != "33" || e.GetEventId() != "f-7" {
			t.Errorf("event 7: got %v", e)
		}
	})

	t.Run("bad requests", func(t *testing.T) {
		for _, r := range []*dossierv1.ListDossierEventsRequest{
			{After: "abc"}, {After: "-1"}, {After: "1.5"}, {PageToken: "not-a-token"}, {PageToken: "AAAAAAAAAAAA"},
			{PageSize: 1001}, {PageSize: -1},
		} {
			_, err := f.client.ListDossierEvents(f.admin(), r)
			wantStatus(t, err, codes.InvalidArgument, "INVALID_ARGUMENT")
		}
	})
}

func TestWatchDossierEvents(t *testing.T) {
	f, c33 := feedFixture(t)
	// A guard against a hang, not a wait: every Recv below returns as soon as the event is
	// committed.
	ctx, cancel := context.WithTimeout(f.admin(), time.Minute)
	defer cancel()

	stream, err := f.client.WatchDossierEvents(ctx, &dossierv1.WatchDossierEventsRequest{After: "2"})
	if err != nil {
		t.Fatal(err)
	}
	recv := func(want ...int64) []*dossierv1.DossierEvent {
		t.Helper()
		var got []*dossierv1.DossierEvent
		for range want {
			e, err := stream.Recv()
			if err != nil {
				t.Fatalf("Recv after %v: %v", seqs(got), err)
			}
			got = append(got, e)
		}
		if !slices.Equal(seqs(got), want) {
			t.Fatalf("watch: got %v, want %v", seqs(got), want)
		}
		return got
	}
	recv(3, 4, 5) // catch-up from the cursor

	// Committed after the catch-up: the stream delivers it.
	f.mustCreate(f.admin(), mkEv("f-6", c33, sResolved, vn(2026, 11, 12, 8, 0)))
	if got := recv(6); got[0].GetEventId() != "f-6" || got[0].GetDossierCode() != c33 {
		t.Errorf("live event: got %v", got[0])
	}
	// A batch arrives in order.
	f.mustBatch(f.admin(), mkEv("f-7", c33, sReturned, vn(2026, 11, 13, 8, 0)),
		mkFirst("f-8", dcode(agency37, "261113", 1), sNew, vn(2026, 11, 13, 8, 0), "37", agency37, procCivil, chPostal))
	recv(7, 8)
	cancel()

	t.Run("resume from the last received", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(f.admin(), time.Minute)
		defer cancel()
		s, err := f.client.WatchDossierEvents(ctx, &dossierv1.WatchDossierEventsRequest{After: "8", Unit: "33"})
		if err != nil {
			t.Fatal(err)
		}
		// An event of 37 (not for this watcher), then one of 33.
		c37 := dcode(agency37, "261113", 1)
		f.mustCreate(f.admin(), mkEv("f-9", c37, sAccepted, vn(2026, 11, 13, 9, 0)),
			mkFirst("f-10", dcode(agency33b, "261114", 1), sNew, vn(2026, 11, 14, 9, 0), "33", agency33b, procLand, chOnline))
		e, err := s.Recv()
		if err != nil {
			t.Fatalf("Recv: %v", err)
		}
		if e.GetSequence() != 10 || e.GetEventId() != "f-10" {
			t.Errorf("unit 33 watcher: got %d %s, want 10 f-10", e.GetSequence(), e.GetEventId())
		}
	})

	t.Run("from the start as a province", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(f.province("37"), time.Minute)
		defer cancel()
		s, err := f.client.WatchDossierEvents(ctx, &dossierv1.WatchDossierEventsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for len(got) < 4 {
			e, err := s.Recv()
			if err != nil {
				t.Fatalf("Recv: %v", err)
			}
			if e.GetUnitCode() != "37" {
				t.Errorf("province 37 watcher got event %d of unit %s", e.GetSequence(), e.GetUnitCode())
			}
			got = append(got, e.GetSequence())
		}
		if !slices.Equal(got, []int64{3, 4, 8, 9}) {
			t.Errorf("province 37: got %v, want [3 4 8 9]", got)
		}
	})

	t.Run("bad cursor", func(t *testing.T) {
		s, err := f.client.WatchDossierEvents(f.admin(), &dossierv1.WatchDossierEventsRequest{After: "x1"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Recv()
		wantStatus(t, err, codes.InvalidArgument, "INVALID_ARGUMENT")
	})
}

package scoring

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"github.com/lienthong/lienthong/services/platform"
	"go.uber.org/zap/zaptest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// fakeFeed serves a fixed feed once, then fails every later call.
type fakeFeed struct {
	mu     sync.Mutex
	events []*dossierv1.DossierEvent
	calls  []string // after= of each call
	auth   []string
	// broken makes the stream fail after the events instead of waiting for more.
	broken bool
}

type fakeStream struct {
	grpc.ClientStream
	ctx    context.Context
	events []*dossierv1.DossierEvent
	broken bool
}

func (s *fakeStream) Recv() (*dossierv1.DossierEvent, error) {
	if len(s.events) == 0 && s.broken {
		return nil, io.ErrUnexpectedEOF
	}
	if len(s.events) == 0 {
		<-s.ctx.Done() // a live feed waits for more
		return nil, s.ctx.Err()
	}
	ev := s.events[0]
	s.events = s.events[1:]
	return ev, nil
}

func (f *fakeFeed) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func (f *fakeFeed) WatchDossierEvents(ctx context.Context, in *dossierv1.WatchDossierEventsRequest, _ ...grpc.CallOption) (grpc.ServerStreamingClient[dossierv1.DossierEvent], error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	md, _ := metadata.FromOutgoingContext(ctx)
	f.calls = append(f.calls, in.GetAfter())
	f.auth = append(f.auth, md.Get("authorization")...)
	if len(f.calls) > 1 {
		return nil, io.ErrUnexpectedEOF
	}
	return &fakeStream{ctx: ctx, events: f.events, broken: f.broken}, nil
}

func TestFeedFollower(t *testing.T) {
	feed := &fakeFeed{events: []*dossierv1.DossierEvent{
		{Sequence: 1, System: "000.00.00.H33/motcua", StoredAt: "2026-11-20T08:00:00Z"},
		{Sequence: 2, System: "000.00.00.H40/motcua", StoredAt: "2026-11-20T09:00:00Z"},
		{Sequence: 3, System: "000.00.00.H33/motcua", StoredAt: "2026-11-20T10:30:00Z"},
	}}
	fol := NewFeedFollower(feed, func() (string, error) { return "tok", nil }, zaptest.NewLogger(t))
	if _, err := fol.LastAccepted(context.Background()); err == nil {
		t.Fatal("before reading the feed, LastAccepted answered")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); fol.Run(ctx) }()
	var last map[string]time.Time
	eventually(t, "the follower to catch up", func() bool {
		m, err := fol.LastAccepted(ctx)
		last = m
		return err == nil && len(m) == 2 && m["000.00.00.H33/motcua"].Hour() == 10
	})
	if got := last["000.00.00.H40/motcua"]; !got.Equal(time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("H40: %v", got)
	}
	cancel()
	<-done
	feed.mu.Lock()
	defer feed.mu.Unlock()
	if len(feed.auth) == 0 || feed.auth[0] != "Bearer tok" {
		t.Errorf("calls carried %v, want the service token", feed.auth)
	}
	if errors.Is(ctx.Err(), context.Canceled) && feed.calls[0] != "" {
		t.Errorf("first call after=%q, want the beginning", feed.calls[0])
	}
}

func TestFeedFollowerResumesAfterTheCursor(t *testing.T) {
	feed := &fakeFeed{broken: true, events: []*dossierv1.DossierEvent{
		{Sequence: 7, System: "000.00.00.H33/motcua", StoredAt: "2026-11-20T08:00:00Z"},
	}}
	fol := NewFeedFollower(feed, nil, zaptest.NewLogger(t))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); fol.Run(ctx) }()
	eventually(t, "the follower to call again after the stream broke", func() bool { return feed.callCount() >= 2 })
	cancel()
	<-done
	if feed.calls[1] != "7" {
		t.Errorf("second call after=%q, want 7 (the last event seen)", feed.calls[1])
	}
	var u *UnavailableError
	if _, err := fol.LastAccepted(context.Background()); !errors.As(err, &u) {
		t.Errorf("with the feed broken: %v, want unavailable", err)
	}
}

// A follower with a checkpoint saves how far it read when it stops, and the next one goes
// on from there with what the first had seen.
func TestFeedFollowerCheckpoint(t *testing.T) {
	db, err := platform.OpenDB(t.TempDir(), Part)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := OpenStore(db)
	if err != nil {
		t.Fatal(err)
	}
	feed := &fakeFeed{events: []*dossierv1.DossierEvent{
		{Sequence: 1, System: "000.00.00.H33/motcua", StoredAt: "2026-11-20T08:00:00Z"},
		{Sequence: 2, System: "000.00.00.H40/motcua", StoredAt: "2026-11-20T09:00:00Z"},
	}}
	fol := NewFeedFollower(feed, nil, zaptest.NewLogger(t))
	if err := fol.WithCheckpoint(st); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); fol.Run(ctx) }()
	eventually(t, "the follower to catch up", func() bool {
		m, err := fol.LastAccepted(ctx)
		return err == nil && len(m) == 2
	})
	cancel()
	<-done

	cursor, last, err := st.LoadFeed()
	if err != nil || cursor != "2" || len(last) != 2 {
		t.Fatalf("checkpoint: cursor %q, %v, %v; want cursor 2 and both systems", cursor, last, err)
	}
	next := &fakeFeed{}
	fol2 := NewFeedFollower(next, nil, zaptest.NewLogger(t))
	if err := fol2.WithCheckpoint(st); err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	done2 := make(chan struct{})
	go func() { defer close(done2); fol2.Run(ctx2) }()
	eventually(t, "the second follower to call the feed", func() bool { return next.callCount() > 0 })
	m, err := fol2.LastAccepted(ctx2)
	cancel2()
	<-done2
	if next.calls[0] != "2" {
		t.Errorf("second follower started after %q, want 2", next.calls[0])
	}
	if err != nil || !m["000.00.00.H40/motcua"].Equal(time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("second follower knows %v (%v), want the first one's times", m, err)
	}
}

package gateway

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestReadTimeShare: a caller that spends half its time reading never waits; a caller with
// many reads in flight gets half a reader's time on average and then waits, or is refused
// when it owes more than a wait may last (readgate.go). Clock of the test's own.
func TestReadTimeShare(t *testing.T) {
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	g := newReadGate(4)
	g.now = func() time.Time { return now }
	ctx := context.Background()

	// One reader, 1,000 reads of 100 ms, each followed by 100 ms of something else: it never
	// owes anything.
	for i := range 1000 {
		release, err := g.acquire(ctx, "system sequential")
		if err != nil {
			t.Fatalf("sequential read %d: %v", i, err)
		}
		now = now.Add(100 * time.Millisecond)
		release()
		now = now.Add(100 * time.Millisecond)
	}

	// Four reads of 5 s at once: 20 s of read time in 5 s, with 5 s of burst (what is
	// earned while the budget is whole is not kept).
	var releases []func()
	for range 4 {
		release, err := g.acquire(ctx, "system greedy")
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, release)
	}
	now = now.Add(5 * time.Second)
	for _, r := range releases {
		r()
	}
	// It owes 15 s, within the 30 s a read may wait: it waits (here, until the context ends).
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := g.acquire(short, "system greedy"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a read owing 15 s: %v, want it to wait until its context ends", err)
	}
	// Another caller is not held back.
	if release, err := g.acquire(ctx, "system other"); err != nil {
		t.Fatalf("another caller: %v", err)
	} else {
		release()
	}
	// Four more reads of 10 s run at once (a read already under way is not cut)... owing
	// more than a wait may last, the next read is refused at once with a retry delay.
	releases = releases[:0]
	for range 4 {
		g.mu.Lock()
		s := g.keys["system greedy"]
		s.budget = 0 // let them start: what matters is what they cost
		g.mu.Unlock()
		release, err := g.acquire(ctx, "system greedy")
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, release)
	}
	now = now.Add(10 * time.Second)
	for _, r := range releases {
		r()
	}
	_, err := g.acquire(ctx, "system greedy")
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("a read owing 30 s or more: %v, want RESOURCE_EXHAUSTED", err)
	}
	// Once the time owed is earned back, it reads again at once.
	now = now.Add(2 * time.Minute)
	if release, err := g.acquire(ctx, "system greedy"); err != nil {
		t.Fatalf("after two minutes: %v", err)
	} else {
		release()
	}
	// Callers idle with a whole budget are forgotten.
	now = now.Add(2 * time.Minute)
	g.mu.Lock()
	g.sweeps = 1 << 20
	g.sweep(now)
	n := len(g.keys)
	g.mu.Unlock()
	if n != 0 {
		t.Errorf("%d callers remembered after two minutes idle, want 0", n)
	}
}

// TestReadKeyGroupsAProvince: a province's systems share one share of read time, whatever
// agency of the province they are (readgate.go readKey).
func TestReadKeyGroupsAProvince(t *testing.T) {
	cases := []struct {
		name string
		c    *platform.Caller
		want string
	}{
		{"province one-stop", &platform.Caller{System: "000.00.00.H31/motcua", Role: platform.RoleProvince, Unit: "33"}, "org H31"},
		{"department of the same province", &platform.Caller{System: "000.06.00.H31/qlvb", Role: platform.RoleAgency}, "org H31"},
		{"left-to-right form", &platform.Caller{System: "H31.01/cong", Role: platform.RoleAgency}, "org H31"},
		{"ministry", &platform.Caller{System: "000.00.00.G22/bo", Role: platform.RoleMinistry}, "org G22"},
		{"lienthong's own", &platform.Caller{System: "lienthong/scoring", Role: platform.RoleMinistry}, "system lienthong/scoring"},
		{"admin", &platform.Caller{System: "lienthong/admin", Role: platform.RoleAdmin}, ""},
		{"anonymous", nil, "addr 127.0.0.2"},
	}
	for _, c := range cases {
		if got := readKey(c.c, "127.0.0.2:40000"); got != c.want {
			t.Errorf("%s: readKey = %q, want %q", c.name, got, c.want)
		}
	}
}

package gateway

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/lienthong/lienthong/services/platform"
)

// Reads cost what they cost: a feed page, a year of statistics grouped by procedure or a
// ranking takes milliseconds of CPU, and its answer's encoding as much again. A rate limit
// counts calls, not their cost, so a caller with many workers could keep both cores busy
// with reads and slow everyone else down. The read gate bounds what one caller's reads
// take, two ways, per calling system (or, anonymous, per client address), each read
// counted from the token check to the last byte of its answer:
//   - at most perKey reads in flight at once (memory: each holds its answer);
//   - at most readTimePerSecond seconds of read time a second, on average (a token bucket
//     of read time, readTimeBurst deep): a caller that spends half its time reading never
//     exceeds it, a caller with many workers gets half the time of one reader. The time charged
//     is the read's wall time, so a read slowed by load costs more, never less.
// A read beyond either waits its turn (at most maxWaiting waiting, for at most maxWait),
// and beyond that is refused RESOURCE_EXHAUSTED TOO_MANY_CALLS (429 with Retry-After). A
// caller's reads therefore hold back only its own; writes are not gated (the rate limit
// and the dossier part's group commit govern them), nor are admin tokens.
// docs/security.md, "Resources"; figures in docs/benchmarks.md, "Under attack".

// DefaultMaxReadsPerCaller is the reads one caller (readKey) may have in flight at once.
const DefaultMaxReadsPerCaller = 2

const (
	readMaxWaiting = 64
	readMaxWait    = 30 * time.Second
	// readTimePerSecond is the read time a caller earns each second: half a reader's, so
	// that on a 2-core machine one caller's reads take at most about a quarter of the CPU
	// (docs/benchmarks.md, "Under attack": with one reader's time the flood still took the
	// victim's batches to 38–57% of quiet).
	readTimePerSecond = 0.5
	// readTimeBurst is how much read time a caller may spend ahead (a dashboard's burst of
	// parallel reads).
	readTimeBurst = 5 * time.Second
)

type readGate struct {
	perKey int
	now    func() time.Time
	mu     sync.Mutex
	keys   map[string]*readSlots
	sweeps int
}

type readSlots struct {
	sem     chan struct{}
	waiting int
	users   int           // holding or waiting
	budget  time.Duration // read time the caller may still spend; negative: owed
	at      time.Time     // when budget was last refilled
}

// refill adds the read time earned since the last refill. Called with mu held.
func (s *readSlots) refill(now time.Time) {
	s.budget = min(readTimeBurst, s.budget+time.Duration(readTimePerSecond*float64(now.Sub(s.at))))
	s.at = now
}

// newReadGate returns a gate of perKey reads a caller (0: DefaultMaxReadsPerCaller;
// less than 0: no gate, nil).
func newReadGate(perKey int) *readGate {
	if perKey == 0 {
		perKey = DefaultMaxReadsPerCaller
	}
	if perKey < 0 {
		return nil
	}
	return &readGate{perKey: perKey, now: time.Now, keys: map[string]*readSlots{}}
}

// acquire waits until key may start a read; release gives its slot back and charges the
// read's time. A nil gate lets everything through.
func (g *readGate) acquire(ctx context.Context, key string) (release func(), err error) {
	if g == nil {
		return func() {}, nil
	}
	now := g.now()
	g.mu.Lock()
	g.sweep(now)
	s := g.keys[key]
	if s == nil {
		s = &readSlots{sem: make(chan struct{}, g.perKey), budget: readTimeBurst, at: now}
		g.keys[key] = s
	}
	s.refill(now)
	owed := -s.budget
	if owed <= 0 {
		select {
		case s.sem <- struct{}{}:
			s.users++
			g.mu.Unlock()
			return g.releaser(s, now), nil
		default:
		}
	}
	if owed > readMaxWait {
		g.mu.Unlock()
		return nil, tooManyCalls(g.perKey, owed, "this caller's reads have used their share of time")
	}
	if s.waiting >= readMaxWaiting {
		g.mu.Unlock()
		return nil, tooManyCalls(g.perKey, time.Second, "too many of this caller's reads are already waiting")
	}
	s.waiting++
	s.users++
	g.mu.Unlock()

	timer := time.NewTimer(readMaxWait)
	defer timer.Stop()
	if owed > 0 { // wait until the time owed is earned back
		wait := time.NewTimer(time.Duration(float64(owed) / readTimePerSecond))
		select {
		case <-wait.C:
		case <-ctx.Done():
			wait.Stop()
			g.giveUp(s)
			return nil, ctx.Err()
		}
	}
	select {
	case s.sem <- struct{}{}:
		g.mu.Lock()
		s.waiting--
		g.mu.Unlock()
		return g.releaser(s, g.now()), nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-timer.C:
		err = tooManyCalls(g.perKey, time.Second, "a read waited its turn too long")
	}
	g.giveUp(s)
	return nil, err
}

// releaser returns the release of a read started at start.
func (g *readGate) releaser(s *readSlots, start time.Time) func() {
	return func() {
		<-s.sem
		now := g.now()
		g.mu.Lock()
		s.refill(now)
		s.budget -= now.Sub(start)
		s.users--
		g.mu.Unlock()
	}
}

// giveUp forgets a waiter that left.
func (g *readGate) giveUp(s *readSlots) {
	g.mu.Lock()
	s.waiting--
	s.users--
	g.mu.Unlock()
}

// sweep forgets, now and then, callers with nothing under way whose budget is whole again:
// the gate remembers only callers that read lately. Called with mu held.
func (g *readGate) sweep(now time.Time) {
	g.sweeps++
	if g.sweeps < 1024 && len(g.keys) < 4096 {
		return
	}
	g.sweeps = 0
	for k, s := range g.keys {
		if s.users == 0 {
			if s.refill(now); s.budget >= readTimeBurst {
				delete(g.keys, k)
			}
		}
	}
}

func tooManyCalls(perKey int, retry time.Duration, why string) error {
	e := platform.ResourceExhausted("TOO_MANY_CALLS",
		fmt.Sprintf("%s: a caller may have %d reads in flight and half a reader's time on average; retry after %s", why, perKey, retry.Round(time.Second)),
		"Hệ thống gửi quá nhiều yêu cầu đọc cùng lúc; vui lòng thử lại sau.")
	e.RetryDelay = max(retry, time.Second)
	return e
}

// readKey is whose read a call is: the province or central body whose systems call (the
// level-1 code of the token's agency, H31 in 000.00.00.H31/motcua or H31.01/cong, G22 in
// 000.00.00.G22/bo), so that a province's systems share one share of read time however
// many of them it holds tokens for; the system itself when its agency has no such code
// (lienthong's own); the client's address for an anonymous call; "" for calls the gate lets
// through (admin tokens).
func readKey(c *platform.Caller, remoteAddr string) string {
	if c == nil {
		host := remoteAddr
		if i := strings.LastIndexByte(host, ':'); i >= 0 {
			host = host[:i]
		}
		return "addr " + host
	}
	if c.Role == platform.RoleAdmin {
		return ""
	}
	if code, err := platform.ParseAgencyCode(c.Agency()); err == nil {
		return "org " + code.Level1
	}
	return "system " + c.System
}

// isReadMethod tells the reads among gRPC methods by their names (AIP standard and custom
// read methods); streams (Watch, Subscribe, Download) have their own cap per system.
func isReadMethod(fullMethod string) bool {
	name := fullMethod[strings.LastIndexByte(fullMethod, '/')+1:]
	for _, p := range []string{"Get", "List", "Lookup", "Resolve", "Track", "Search"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

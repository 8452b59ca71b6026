package platform

import (
	"context"
	"fmt"
	"math"
	"net"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

// RateLimit is how many calls (unary calls and stream messages) each sending system may
// make to one part per second, with a burst. A system is the `sys` of its token; calls
// without a token are counted per client address. The admin token, the operator's own, is
// not limited.
type RateLimit struct {
	PerSecond float64
	Burst     int
}

// DefaultRateLimit leaves room for a province pushing a day's backlog at once while
// stopping a runaway client from taking a small machine.
var DefaultRateLimit = RateLimit{PerSecond: 1000, Burst: 2000}

// maxLimiters bounds the table: beyond it the idlest entries are dropped (a dropped
// system starts again with a full burst, which only errs on the side of the caller).
const maxLimiters = 10000

// RateLimiter holds one token bucket per system.
type RateLimiter struct {
	limit RateLimit
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	l    *rate.Limiter
	used time.Time
}

// NewRateLimiter returns nil (no limit) when l.PerSecond is 0 or less.
func NewRateLimiter(l RateLimit) *RateLimiter {
	if l.PerSecond <= 0 {
		return nil
	}
	if l.Burst < 1 {
		l.Burst = int(math.Ceil(l.PerSecond))
	}
	return &RateLimiter{limit: l, now: time.Now, buckets: map[string]*bucket{}}
}

// take takes one token for key. When none is free it keeps the reservation if the token
// comes within maxWait (the caller waits that long) and otherwise gives it back; either
// way it says how long until the token.
func (r *RateLimiter) take(key string, maxWait time.Duration) (bool, time.Duration) {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.buckets[key]
	if b == nil {
		if len(r.buckets) >= maxLimiters {
			r.evict(now)
		}
		b = &bucket{l: rate.NewLimiter(rate.Limit(r.limit.PerSecond), r.limit.Burst)}
		r.buckets[key] = b
	}
	b.used = now
	res := b.l.ReserveN(now, 1)
	d := res.DelayFrom(now)
	if d > maxWait {
		res.CancelAt(now)
		return false, d
	}
	return true, d
}

// evict drops the entries idle for longest (the quarter of the table least recently used).
func (r *RateLimiter) evict(now time.Time) {
	cutoff := time.Duration(0)
	for _, b := range r.buckets {
		cutoff = max(cutoff, now.Sub(b.used))
	}
	cutoff = cutoff * 3 / 4
	for k, b := range r.buckets {
		if now.Sub(b.used) >= cutoff {
			delete(r.buckets, k)
		}
	}
}

// streamWait is how long a stream message may be held back to stay within the limit
// before the stream is refused: a stream slows down before it is cut.
const streamWait = 2 * time.Second

// check is called by the interceptors for every call (maxWait 0: refused at once) and for
// every stream message (held back up to streamWait).
func (r *RateLimiter) check(ctx context.Context, maxWait time.Duration) error {
	if r == nil {
		return nil
	}
	key := ""
	if c := CallerFrom(ctx); c != nil {
		if c.Role == RoleAdmin {
			return nil
		}
		key = "sys:" + c.System
	} else {
		key = "addr:" + clientAddr(ctx)
	}
	ok, wait := r.take(key, maxWait)
	if ok {
		if wait > 0 {
			t := time.NewTimer(wait)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}
	e := ResourceExhausted("RATE_LIMITED",
		fmt.Sprintf("more than %g calls per second (burst %d) from this system; retry after %s", r.limit.PerSecond, r.limit.Burst, wait.Round(time.Millisecond)),
		"Hệ thống gửi quá nhiều yêu cầu mỗi giây; vui lòng thử lại sau.")
	e.RetryDelay = wait
	return e
}

// clientAddr is the caller's address: the last X-Forwarded-For entry, which the gateway
// appends (REST) or sets (gRPC) from the connection it accepted, so a client cannot choose
// it by sending the header itself; else the connection's peer.
func clientAddr(ctx context.Context) string {
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if vs := md.Get("x-forwarded-for"); len(vs) > 0 {
			v := vs[len(vs)-1]
			if i := strings.LastIndexByte(v, ','); i >= 0 {
				v = v[i+1:]
			}
			if v = strings.TrimSpace(v); v != "" {
				return v
			}
		}
	}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		if host, _, err := net.SplitHostPort(p.Addr.String()); err == nil {
			return host
		}
		return p.Addr.String()
	}
	return ""
}

// DefaultMaxStreamsPerSystem is how many streams one calling system may hold open on one
// part at once unless configured: more than a system's few followers and uploads need, few
// enough that one system cannot hold a part's memory and goroutines.
const DefaultMaxStreamsPerSystem = 64

// streamLimiter counts the open streams of each calling system (its token's `system`;
// calls without a token are counted per client address) and refuses one over the cap.
type streamLimiter struct {
	max int

	mu     sync.Mutex
	counts map[string]int
}

// newStreamLimiter returns nil (no cap) when max is 0 or less.
func newStreamLimiter(max int) *streamLimiter {
	if max <= 0 {
		return nil
	}
	return &streamLimiter{max: max, counts: map[string]int{}}
}

// open counts a new stream of the caller, or refuses it with RESOURCE_EXHAUSTED
// TOO_MANY_STREAMS; release must be called when the stream ends. Health watches are not
// counted: the gateway's and the orchestrator's checks must always get through.
func (l *streamLimiter) open(ctx context.Context, method string) (release func(), err error) {
	if l == nil || strings.HasPrefix(method, "/grpc.health.v1.Health/") {
		return func() {}, nil
	}
	who, key := "this client address", "addr:"+clientAddr(ctx)
	if c := CallerFrom(ctx); c != nil {
		who, key = "system "+Clip(c.System), "sys:"+c.System
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.counts[key] >= l.max {
		e := ResourceExhausted("TOO_MANY_STREAMS",
			fmt.Sprintf("%s already has %d streams open on this part, the most allowed (--max-streams-per-system); close one before opening another", who, l.max),
			fmt.Sprintf("Hệ thống đã mở %d luồng, mức tối đa cho phép; hãy đóng bớt luồng trước khi mở luồng mới.", l.max))
		e.RetryDelay = time.Second
		return nil, e
	}
	l.counts[key]++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			if l.counts[key]--; l.counts[key] <= 0 {
				delete(l.counts, key)
			}
		})
	}, nil
}

package gateway_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/lienthong/lienthong/gateway"
	"github.com/lienthong/lienthong/services/platform"
)

// TestReadsInFlightPerCaller: one caller's reads wait their turn beyond its share, and
// hold back nobody else's (docs/security.md, "Resources"; readgate.go).
func TestReadsInFlightPerCaller(t *testing.T) {
	e := newEnvConfig(t, func(c *gateway.Config) { c.MaxReadsPerCaller = 2 })
	hold := make(chan struct{})
	e.part.fake.mu.Lock()
	e.part.fake.hold = hold
	e.part.fake.mu.Unlock()
	released := false
	defer func() {
		if !released {
			close(hold)
		}
	}()
	issue := func(system, unit string) string {
		tok, err := e.issuer.Issue(platform.Caller{System: system, Role: platform.RoleProvince, Unit: unit}, time.Hour, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	greedy := issue("000.00.00.H53/motcua", "80")
	other := issue("000.00.00.H41/motcua", "40")

	// The greedy caller sends 6 reads at once, then 70 more: 2 run, 64 wait, the rest are refused.
	codes := make(chan int, 76)
	var wg sync.WaitGroup
	send := func(n int) {
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.do(request{method: http.MethodGet, path: "/v1/units/hold", header: map[string]string{"Authorization": "Bearer " + greedy}})
				codes <- r.code
			}()
		}
	}
	send(6)
	waitFor(t, 5*time.Second, "two greedy reads under way", func() (bool, string) {
		e.part.fake.mu.Lock()
		defer e.part.fake.mu.Unlock()
		return e.part.fake.holding == 2, ""
	})
	send(70)
	// Another system's read, and an anonymous one, are answered at once meanwhile.
	for name, h := range map[string]map[string]string{"another system": {"Authorization": "Bearer " + other}, "anonymous": nil} {
		start := time.Now()
		if r := e.do(request{method: http.MethodGet, path: "/v1/units/80", header: h}); r.code != http.StatusOK {
			t.Errorf("%s's read while the greedy caller's wait: %d %s", name, r.code, r.body)
		} else if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s's read took %v", name, d)
		}
	}
	// 76 sent, 2 running, at most 64 waiting: at least 10 refused at once, 429 TOO_MANY_CALLS.
	refused := 0
	for refused < 10 {
		select {
		case c := <-codes:
			if c != http.StatusTooManyRequests {
				t.Fatalf("a greedy read answered %d before any was released, want 429", c)
			}
			refused++
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d greedy reads refused, want at least 10", refused)
		}
	}
	close(hold)
	released = true
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK && c != http.StatusTooManyRequests {
			t.Errorf("a greedy read answered %d", c)
		}
	}
	e.part.fake.mu.Lock()
	defer e.part.fake.mu.Unlock()
	if e.part.fake.maxHolding != 2 {
		t.Errorf("the greedy caller had %d reads in the part at once, want 2", e.part.fake.maxHolding)
	}
}

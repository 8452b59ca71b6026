package dossier

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The live figures of every roll-up stay equal to a count of the open dossiers, as
// dossiers open and close and the clock moves forward and back.
func TestLiveIndexExactAsTimePasses(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 9))
	s := newStats()
	units := []string{"01", "36", "37"}
	statuses := []int32{stAccepted, stAccepted, stSupplement, stFinancial}
	var open []liveEntry
	clock := int64(1_000_000)
	check := func(step int, now int64) {
		t.Helper()
		for i, r := range s.rollups {
			want := make([]liveAgg, len(r.keys))
			for _, e := range open {
				a := &want[r.ids[dimsOf(r.mask.project(e.key))]]
				a.open++
				switch e.status {
				case stSupplement:
					a.supplement++
				case stFinancial:
					a.financial++
				default:
					if e.overdueAt < now {
						a.overdue++
					}
				}
			}
			for id := range r.keys {
				if got := s.liveIdx.agg[i][id]; got != want[id] {
					t.Fatalf("step %d, roll-up %b, %v: %+v, want %+v", step, r.mask, r.keys[id], got, want[id])
				}
			}
		}
	}
	for step := range 4000 {
		switch op := rng.IntN(10); {
		case op < 5 || len(open) == 0:
			e := liveEntry{key: cellKey{channel: int32(1 + rng.IntN(3)), unit: units[rng.IntN(3)], agency: "000.00.01.H26", procedure: "1.000001"},
				status: statuses[rng.IntN(len(statuses))], overdueAt: clock + int64(rng.IntN(2000)) - 1000}
			if rng.IntN(10) == 0 {
				e.overdueAt = math.MaxInt64
			}
			open = append(open, e)
			s.apply(&delta{liveAdd: []liveEntry{e}})
		case op < 8:
			i := rng.IntN(len(open))
			e := open[i]
			open = append(open[:i], open[i+1:]...)
			s.apply(&delta{liveDel: []liveEntry{e}})
		default:
			clock += int64(rng.IntN(600)) - 200 // mostly forward, sometimes back
			s.mu.Lock()
			s.advance(clock)
			s.mu.Unlock()
		}
		if step%50 == 0 {
			s.mu.Lock()
			s.advance(clock)
			s.mu.Unlock()
			check(step, clock)
		}
	}
	if n := s.liveIdx.ahead.h.Len() + s.liveIdx.passed.h.Len(); n > 4*len(open)+2100 {
		t.Errorf("%d instants kept for %d open dossiers: cancelled ones are not dropped", n, len(open))
	}
}

package dossier

import (
	"math/rand/v2"
	"testing"
)

// The running totals per set of dimensions stay equal to the sums of the cells, whatever
// the order in which cells appear and change (late events change old months, new months
// are inserted before existing ones).
func TestSeriesRunningTotals(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	s := newStats()
	units := []string{"01", "36", "37"}
	base := int32(2024 * 12)
	for step := 0; step < 3000; step++ {
		k := cellKey{month: base + int32(rng.IntN(36)), channel: int32(1 + rng.IntN(3)), unit: units[rng.IntN(len(units))], agency: "000.00.01.H01", procedure: "1.000001"}
		d := newDelta()
		c := d.cell(k)
		c[rng.IntN(nCounters)] += int64(1 + rng.IntN(5))
		if rng.IntN(4) == 0 {
			c[cOvEnd] -= 1
		}
		s.apply(d)
	}
	for id, ser := range s.series {
		dk := s.dimKeys[id]
		for i := 1; i < len(ser); i++ {
			if ser[i-1].month >= ser[i].month {
				t.Fatalf("%v: months out of order at %d", dk, i)
			}
		}
		for m := base - 1; m <= base+37; m++ {
			var want counters
			for k, c := range s.cells {
				if dimsOf(k) == dk && k.month <= m {
					want.add(c, 1)
				}
			}
			if got := *cumThrough(ser, m); got != want {
				t.Fatalf("%v through %s: running total %v, cells sum to %v", dk, monthString(m), got, want)
			}
			var before counters
			for k, c := range s.cells {
				if dimsOf(k) == dk && k.month < m {
					before.add(c, 1)
				}
			}
			if got := *cumBefore(ser, m); got != before {
				t.Fatalf("%v before %s: running total %v, cells sum to %v", dk, monthString(m), got, before)
			}
		}
	}
	if len(s.series) != 9 {
		t.Errorf("%d sets of dimensions, want 9 (3 units × 3 channels)", len(s.series))
	}
}

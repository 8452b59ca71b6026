package dossier

import (
	"math/rand/v2"
	"testing"
)

// Every roll-up's running totals stay equal to the sums of the cells it rolls up, whatever
// the order in which cells appear and change (late events change old months, new months
// are inserted before existing ones).
func TestRollupRunningTotals(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	s := newStats()
	cells := map[cellKey]counters{}
	units := []string{"01", "36", "37"}
	agencies := []string{"000.00.01.H26", "000.00.36.H41"}
	base := int32(2024 * 12)
	for step := 0; step < 3000; step++ {
		k := cellKey{month: base + int32(rng.IntN(36)), channel: int32(1 + rng.IntN(3)), unit: units[rng.IntN(len(units))],
			agency: agencies[rng.IntN(len(agencies))], procedure: "1.000001"}
		d := newDelta()
		c := d.cell(k)
		c[rng.IntN(nCounters)] += int64(1 + rng.IntN(5))
		if rng.IntN(4) == 0 {
			c[cOvEnd]--
		}
		s.apply(d)
		v := cells[k]
		v.add(c, 1)
		cells[k] = v
	}
	if n := len(s.base().keys); n != 18 {
		t.Errorf("%d sets of dimensions among the cells, want 18 (3 units × 2 agencies × 3 channels)", n)
	}
	for _, r := range s.rollups {
		for id, ser := range r.series {
			dk := r.keys[id]
			for i := 1; i < len(ser); i++ {
				if ser[i-1].month >= ser[i].month {
					t.Fatalf("mask %b %v: months out of order at %d", r.mask, dk, i)
				}
			}
			for m := base - 1; m <= base+37; m++ {
				var own, through, before counters
				for k, c := range cells {
					if p := r.mask.project(k); dimsOf(p) != dk {
						continue
					}
					switch {
					case k.month == m:
						own.add(&c, 1)
						through.add(&c, 1)
					case k.month < m:
						through.add(&c, 1)
						before.add(&c, 1)
					}
				}
				if got := *cumThrough(ser, m); got != through {
					t.Fatalf("mask %b %v through %s: running total %v, cells sum to %v", r.mask, dk, monthString(m), got, through)
				}
				if got := *cumBefore(ser, m); got != before {
					t.Fatalf("mask %b %v before %s: running total %v, cells sum to %v", r.mask, dk, monthString(m), got, before)
				}
				if got := r.cell(int32(id), m); got != own {
					t.Fatalf("mask %b %v in %s: %v, cells sum to %v", r.mask, dk, monthString(m), got, own)
				}
			}
		}
	}
}

// A query reads the smallest roll-up that keeps what it filters and groups on.
func TestRollupChoice(t *testing.T) {
	s := newStats()
	cases := []struct {
		q    statsQuery
		want dimMask
	}{
		{statsQuery{}, 0},
		{statsQuery{groupBy: "agency"}, keepAgency},
		{statsQuery{groupBy: "field"}, keepProcedure},
		{statsQuery{groupBy: "channel"}, keepChannel},
		{statsQuery{groupBy: "month"}, 0},
		{statsQuery{unit: "36", groupBy: "procedure"}, keepUnit | keepProcedure},
		{statsQuery{unit: "36", groupBy: "unit"}, keepUnit},
		{statsQuery{agency: "000.00.01.H26", groupBy: "procedure"}, keepAll},
		{statsQuery{unit: "36", agency: "000.00.36.H41", procedure: "1.000001", groupBy: "channel"}, keepAll},
	}
	for _, tc := range cases {
		if _, r := s.rollupIndex(tc.q.needs()); r.mask != tc.want {
			t.Errorf("%+v reads roll-up %b, want %b", tc.q, r.mask, tc.want)
		}
	}
}

package dossier

import (
	"slices"
)

// Statistics are answered from roll-ups: the cells summed over some of their dimensions.
// A query needs the dimensions it filters on and the one it groups by; it reads the
// smallest roll-up that keeps them (a national report by agency reads one series per
// agency, a province's report by procedure one per procedure of that province), so its
// cost follows the rows it answers, not the cells stored.
//
// Every roll-up keeps, per set of dimensions, its months in order with each month's own
// counters and a running total up to that month: a period is the running total at its end
// minus the one before its start (two binary searches), whatever its length. A change to a
// cell adds to its month and to the running totals of the later months of each roll-up
// (almost always only the last one or two).

// dimMask says which dimensions a roll-up keeps.
type dimMask uint8

const (
	keepUnit dimMask = 1 << iota
	keepAgency
	keepProcedure
	keepChannel
	keepCommune
	// keepAll is the cells: every dimension but the commune, which is kept apart
	// (communes.go) so that it does not multiply the cells.
	keepAll = keepUnit | keepAgency | keepProcedure | keepChannel
)

// rollupMasks are the roll-ups kept, smallest first; the last keeps every dimension (the
// cells themselves). The pairs with the unit serve the provinces, whose every query is
// filtered on their unit. A province's report by commune reads the commune series
// (communes.go), not these.
var rollupMasks = []dimMask{
	0, keepChannel, keepUnit, keepAgency, keepProcedure,
	keepUnit | keepChannel, keepUnit | keepAgency, keepUnit | keepProcedure,
	keepAll,
}

func (m dimMask) project(k cellKey) cellKey {
	out := cellKey{month: k.month}
	if m&keepUnit != 0 {
		out.unit = k.unit
	}
	if m&keepAgency != 0 {
		out.agency = k.agency
	}
	if m&keepProcedure != 0 {
		out.procedure = k.procedure
	}
	if m&keepChannel != 0 {
		out.channel = k.channel
	}
	if m&keepCommune != 0 {
		out.commune = k.commune
	}
	return out
}

// monthSum is one month of one set of dimensions: the running total up to and including
// that month. The month's own counters are the difference with the month before (integers:
// exact), which halves the memory of the roll-ups.
type monthSum struct {
	month int32
	cum   counters
}

// own is the counters of the i-th month of a series.
func own(ser []monthSum, i int) counters {
	c := ser[i].cum
	if i > 0 {
		c.add(&ser[i-1].cum, -1)
	}
	return c
}

// rollup is the cells summed over the dimensions its mask drops.
type rollup struct {
	mask   dimMask
	ids    map[cellKey]int32 // projected dimensions (month 0) -> dense id
	keys   []cellKey
	series [][]monthSum
}

func newRollup(m dimMask) *rollup { return &rollup{mask: m, ids: map[cellKey]int32{}} }

// id is the dense id of the projected dimensions of k, made if new.
func (r *rollup) id(k cellKey) int32 {
	dk := r.mask.project(k)
	dk.month = 0
	id, ok := r.ids[dk]
	if !ok {
		id = int32(len(r.keys))
		r.ids[dk] = id
		r.keys = append(r.keys, dk)
		r.series = append(r.series, nil)
	}
	return id
}

// add adds v to the cell of set id in month m.
func (r *rollup) add(id int32, m int32, v *counters) {
	ser := r.series[id]
	i := monthIndex(ser, m)
	if i == len(ser) || ser[i].month != m {
		e := monthSum{month: m, cum: *cumBefore(ser, m)}
		ser = slices.Insert(ser, i, e)
		r.series[id] = ser
	}
	for j := i; j < len(ser); j++ {
		ser[j].cum.add(v, 1)
	}
}

// cell is the counters of set id in month m (zero if none).
func (r *rollup) cell(id int32, m int32) counters {
	ser := r.series[id]
	if i := monthIndex(ser, m); i < len(ser) && ser[i].month == m {
		return own(ser, i)
	}
	return counters{}
}

// monthIndex is the index of the first month >= m in a series.
func monthIndex(ser []monthSum, m int32) int {
	lo, hi := 0, len(ser)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if ser[mid].month < m {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// cumBefore is the running total of the months before m; cumThrough of the months up to
// and including m.
func cumBefore(ser []monthSum, m int32) *counters {
	if i := monthIndex(ser, m); i > 0 {
		return &ser[i-1].cum
	}
	return &zeroCounters
}

func cumThrough(ser []monthSum, m int32) *counters { return cumBefore(ser, m+1) }

var zeroCounters counters

// base is the roll-up that keeps every dimension: the cells.
func (s *Stats) base() *rollup { return s.rollups[len(s.rollups)-1] }

// needs is what a query filters and groups on (a report by commune reads the commune
// series instead: Stats.source).
func (q *statsQuery) needs() dimMask {
	var m dimMask
	if q.unit != "" {
		m |= keepUnit
	}
	if q.agency != "" {
		m |= keepAgency
	}
	if q.procedure != "" {
		m |= keepProcedure
	}
	switch q.groupBy {
	case "agency":
		m |= keepAgency
	case "procedure", "field":
		m |= keepProcedure
	case "channel":
		m |= keepChannel
	case "unit":
		m |= keepUnit
	}
	return m
}

package dossier

import (
	"container/heap"
	"math"
)

// The live index answers "now" for open dossiers: how many are open, paused for a
// supplement, waiting for financial obligations, and overdue at this instant. It keeps these
// four counts per set of dimensions of every roll-up (rollup.go), so a query reads one
// entry per row, and it keeps overdue exact as time passes with two heaps of due instants:
// those still ahead of the index's clock and those already passed. Moving the clock (before
// a query, after a commit) moves the instants it crosses from one heap to the other and
// changes the overdue counts of their sets; the clock may also move back (a query for an
// earlier instant), which moves them the other way.
//
// A dossier that closes leaves its instant in a heap; it is cancelled (counted in a map) and
// dropped when it reaches the top, and a heap whose cancelled entries outnumber the live
// ones is rebuilt without them.

// liveAgg is the live figures of one set of dimensions. unaccepted counts the open
// dossiers not yet accepted, supBefore those of them paused for a supplement (also in
// supplement), supOnTime the dossiers paused on a supplement that QĐ 766 2.1 counts on time
// (qd766.go; also in supplement).
type liveAgg struct{ open, supplement, financial, overdue, unaccepted, supBefore, supOnTime int64 }

// add adds d to a.
func (a *liveAgg) add(d liveAgg) {
	a.open += d.open
	a.supplement += d.supplement
	a.financial += d.financial
	a.overdue += d.overdue
	a.unaccepted += d.unaccepted
	a.supBefore += d.supBefore
	a.supOnTime += d.supOnTime
}

// dueItem is the instant an open dossier of set id (among the cells) becomes overdue.
type dueItem struct {
	at int64
	id int32
}

type dueHeap struct {
	items []dueItem
	max   bool // a max-heap (the passed instants), else a min-heap
}

func (h *dueHeap) Len() int { return len(h.items) }
func (h *dueHeap) Less(i, j int) bool {
	if h.max {
		return h.items[i].at > h.items[j].at
	}
	return h.items[i].at < h.items[j].at
}
func (h *dueHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *dueHeap) Push(x any)    { h.items = append(h.items, x.(dueItem)) }
func (h *dueHeap) Pop() any {
	n := len(h.items) - 1
	x := h.items[n]
	h.items = h.items[:n]
	return x
}

// dueSet is a heap with lazy removal. While bulk, pushes only append; settle orders the
// heap once (a start-up load of a million open dossiers costs n, not n log n).
type dueSet struct {
	h         dueHeap
	cancelled map[dueItem]int32
	nCancel   int
	bulk      bool
}

func newDueSet(max bool) *dueSet {
	return &dueSet{h: dueHeap{max: max}, cancelled: map[dueItem]int32{}}
}

func (d *dueSet) push(it dueItem) {
	if d.bulk {
		d.h.items = append(d.h.items, it)
		return
	}
	heap.Push(&d.h, it)
}

// settle ends a bulk load.
func (d *dueSet) settle() {
	d.bulk = false
	heap.Init(&d.h)
}

func (d *dueSet) cancel(it dueItem) {
	d.cancelled[it]++
	d.nCancel++
	if d.nCancel > 1024 && d.nCancel > d.h.Len()/2 {
		d.compact()
	}
}

// top is the first instant still in the set (false when empty).
func (d *dueSet) top() (dueItem, bool) {
	for d.h.Len() > 0 {
		it := d.h.items[0]
		if n := d.cancelled[it]; n > 0 {
			heap.Pop(&d.h)
			d.forget(it, n)
			continue
		}
		return it, true
	}
	return dueItem{}, false
}

func (d *dueSet) forget(it dueItem, n int32) {
	if n == 1 {
		delete(d.cancelled, it)
	} else {
		d.cancelled[it] = n - 1
	}
	d.nCancel--
}

func (d *dueSet) pop() dueItem { return heap.Pop(&d.h).(dueItem) }

// compact drops the cancelled entries at once.
func (d *dueSet) compact() {
	kept := d.h.items[:0]
	for _, it := range d.h.items {
		if n := d.cancelled[it]; n > 0 {
			d.forget(it, n)
			continue
		}
		kept = append(kept, it)
	}
	clear(d.h.items[len(kept):])
	d.h.items = kept
	heap.Init(&d.h)
}

// liveIndex is the live part of Stats (guarded by Stats.mu).
type liveIndex struct {
	agg    [][]liveAgg // per roll-up, per set id
	ahead  *dueSet     // instants at or after clock
	passed *dueSet     // instants before clock: overdue
	clock  int64
}

func newLiveIndex(rollups int) liveIndex {
	return liveIndex{agg: make([][]liveAgg, rollups), ahead: newDueSet(false), passed: newDueSet(true), clock: math.MinInt64}
}

// addLive changes the figures of base set id, and of its place in every roll-up, by d.
func (s *Stats) addLive(id int32, d liveAgg) {
	for i := range s.rollups {
		s.liveIdx.agg[i][s.toRollup[i][id]].add(d)
	}
}

// addComLive changes the live figures of commune series cid by d.
func (s *Stats) addComLive(cid int32, d liveAgg) {
	s.comLive.agg[0][cid].add(d)
}

func (s *Stats) liveInsert(e liveEntry) { s.liveChange(e, 1) }
func (s *Stats) liveRemove(e liveEntry) { s.liveChange(e, -1) }

func (s *Stats) liveChange(e liveEntry, sign int64) {
	s.liveChangeID(s.dimsID(e.key), s.communeID(e.key), e, sign)
}

// liveChangeID is liveChange for an entry whose set of dimensions is id among the cells
// and cid among the commune series.
func (s *Stats) liveChangeID(id, cid int32, e liveEntry, sign int64) {
	s.addLive(id, s.liveIdx.change(id, e, sign))
	s.addComLive(cid, s.comLive.change(cid, e, sign))
}

// change records in the index's due instants the entry e of set id entering (sign 1) or
// leaving (-1) and returns the change of the set's live figures.
func (l *liveIndex) change(id int32, e liveEntry, sign int64) liveAgg {
	d := liveAgg{open: sign}
	switch e.status {
	case stSupplement:
		d.supplement = sign
	case kindSupBefore:
		d.supplement, d.supBefore, d.unaccepted = sign, sign, sign
	case kindSupOnTime:
		d.supplement, d.supOnTime = sign, sign
	case stNew:
		d.unaccepted = sign
	case stFinancial:
		d.financial = sign
	default:
		if e.overdueAt == math.MaxInt64 {
			break // never overdue
		}
		it := dueItem{at: e.overdueAt, id: id}
		passed := e.overdueAt < l.clock
		switch {
		case passed && sign > 0:
			l.passed.push(it)
		case passed:
			l.passed.cancel(it)
		case sign > 0:
			l.ahead.push(it)
		default:
			l.ahead.cancel(it)
		}
		if passed {
			d.overdue = sign
		}
	}
	return d
}

// advance moves the live index's clock, and the commune series', to now (forward or
// back): overdue means due before now. Called with s.mu held for writing.
func (s *Stats) advance(now int64) {
	s.liveIdx.advance(now, s.addLive)
	s.comLive.advance(now, s.addComLive)
}

// advance moves the index's clock to now, changing by add the figures of the sets whose
// due instants it crosses.
func (l *liveIndex) advance(now int64, add func(int32, liveAgg)) {
	for {
		it, ok := l.ahead.top()
		if !ok || it.at >= now {
			break
		}
		l.ahead.pop()
		l.passed.push(it)
		add(it.id, liveAgg{overdue: 1})
	}
	for {
		it, ok := l.passed.top()
		if !ok || it.at < now {
			break
		}
		l.passed.pop()
		l.ahead.push(it)
		add(it.id, liveAgg{overdue: -1})
	}
	l.clock = now
}

// liveLoad adds an open dossier while loading, against the clock of the load's start;
// liveLoaded orders the heaps once at the end.
func (s *Stats) liveLoad(e liveEntry, now int64) {
	s.liveLoadID(s.dimsID(e.key), s.communeID(e.key), e, now)
}

// liveLoadID is liveLoad for an entry whose set of dimensions is id among the cells and
// cid among the commune series.
func (s *Stats) liveLoadID(id, cid int32, e liveEntry, now int64) {
	for _, l := range []*liveIndex{&s.liveIdx, &s.comLive} {
		if l.clock == math.MinInt64 {
			l.clock = now
			l.ahead.bulk, l.passed.bulk = true, true
		}
	}
	s.liveChangeID(id, cid, e, 1)
}

func (s *Stats) liveLoaded() {
	for _, l := range []*liveIndex{&s.liveIdx, &s.comLive} {
		l.ahead.settle()
		l.passed.settle()
	}
}

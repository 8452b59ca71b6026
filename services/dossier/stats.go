package dossier

import (
	"encoding/binary"
	"errors"
	"math"
	"sync"
	"time"

	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/store/v1"
	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	bolt "go.etcd.io/bbolt"
)

// Statistics are kept as counters in cells, one cell per (month, channel, unit, agency,
// procedure), and in a separate series per (month, unit, commune) (communes.go). A dossier contributes to cells as a pure function of its state
// (contributions): when its state changes the difference is applied. Flows (received,
// resolved, withdrawn, ...) count in the month they happen; states that last (overdue,
// paused) count +1 in the month they start and -1 in the month they end, so that the number
// in that state at the end of any month is a prefix sum. "Now" is answered from the live
// index of open dossiers, which knows to the millisecond when each one becomes overdue.
// `lienthong verify` recomputes every cell from the event log and compares.

// Counter indexes of a cell.
const (
	cReceived = iota
	cEarly
	cOnTime
	cLate
	cWithdrawn
	cNotAccepted
	cStopped
	cProcMillis // sum of receipt-to-resolution time of resolved dossiers
	cOvStart    // overdue spans started
	cOvEnd      // overdue spans ended
	cSupStart   // supplement pauses started
	cSupEnd
	cFinStart // financial-obligation waits started
	cFinEnd
	cPaidOnline // resolved with fees paid online
	cElectronic // resolved with an electronic result
	cDigitized  // received with digitised papers
	cRecDirect  // received by channel: direct, online, postal
	cRecOnline
	cRecPostal
	cLateApologized // resolved late with an apology slip (also in cLate)
	// QĐ 766 indicators 2.1 and 2.2 (qd766.go); 0 in cells of files of earlier versions.
	cStopWithin   // stopped on or before the due date (also in cStopped)
	cWdrAcc       // withdrawn after acceptance (also in cWithdrawn)
	cWdrAccWithin // of those, withdrawn on or before the due date
	cSupOkStart   // supplement pauses on time for 2.1 started (first after acceptance, asked by the due date)
	cSupOkEnd
	cSupLateStart // other supplement pauses after acceptance started (late for 2.1)
	cSupLateEnd
	cUnaccStart // spans of dossiers not yet accepted started (receipt to acceptance or end)
	cUnaccEnd
	cAccResolved // resolved dossiers, in the month of their acceptance
	cAccProcWork // their processing working time without supplement waits, ms
	nCounters
)

type counters [nCounters]int64

func (c *counters) add(o *counters, sign int64) {
	for i := range c {
		c[i] += sign * o[i]
	}
}

func (c *counters) zero() bool { return *c == counters{} }

func (c *counters) finished() int64 {
	return c[cEarly] + c[cOnTime] + c[cLate] + c[cWithdrawn] + c[cNotAccepted] + c[cStopped]
}

// cellKey names a cell; month 0 is used for the live index's groups.
type cellKey struct {
	month                   int32 // months since year 0: y*12 + m-1, Vietnam time
	channel                 int32
	unit, agency, procedure string
	commune                 string // commune-level unit; "" when the dossier names none (never in the cells)
}

func monthOf(ms int64) int32 {
	t := time.UnixMilli(ms).In(Vietnam)
	return int32(t.Year()*12 + int(t.Month()) - 1)
}

func monthString(m int32) string {
	return time.Date(int(m/12), time.Month(m%12+1), 1, 0, 0, 0, 0, Vietnam).Format("2006-01")
}

// monthEnd is the first millisecond after month m.
func monthEnd(m int32) int64 {
	return time.Date(int(m/12), time.Month(m%12+1), 1, 0, 0, 0, 0, Vietnam).AddDate(0, 1, 0).UnixMilli()
}

type contribution struct {
	key cellKey
	idx int
	v   int64
}

// contributions is what a dossier in state st adds to the cells. It does not depend on the
// current time.
func contributions(st *storev1.DossierState) []contribution {
	if st == nil || st.GetReceivedAt() == 0 {
		return nil
	}
	dims := cellKey{channel: st.GetChannel(), unit: st.GetUnitCode(), agency: st.GetAgencyCode(), procedure: st.GetProcedureCode(), commune: st.GetCommuneCode()}
	at := func(ms int64) cellKey { k := dims; k.month = monthOf(ms); return k }
	out := make([]contribution, 0, 8)
	out = append(out, contribution{at(st.GetReceivedAt()), cReceived, 1})
	if ch := st.GetChannel(); ch >= 1 && ch <= 3 {
		out = append(out, contribution{at(st.GetReceivedAt()), cRecDirect + int(ch) - 1, 1})
	}
	if st.GetDigitized() {
		out = append(out, contribution{at(st.GetReceivedAt()), cDigitized, 1})
	}
	if fin := st.GetFinishedAt(); fin != 0 {
		k := at(fin)
		switch st.GetFinishStatus() {
		case stResolved:
			idx := cOnTime // no due date: nothing to be late against
			// The state holds every pause's effective due date: no calendar needed.
			switch verdict(st, fin, nil) {
			case dossierv1.Timeliness_TIMELINESS_EARLY:
				idx = cEarly
			case dossierv1.Timeliness_TIMELINESS_LATE:
				idx = cLate
				if st.GetApologyCount() > 0 {
					// Counted late all the same (docs/domain.md, "An apology is not an extension").
					out = append(out, contribution{k, cLateApologized, 1})
				}
			}
			out = append(out, contribution{k, idx, 1}, contribution{k, cProcMillis, fin - st.GetReceivedAt()})
			if st.GetPaidOnline() {
				out = append(out, contribution{k, cPaidOnline, 1})
			}
			if st.GetElectronicResult() {
				out = append(out, contribution{k, cElectronic, 1})
			}
		case stNotAccepted:
			out = append(out, contribution{k, cNotAccepted, 1})
		case stWithdrawn:
			out = append(out, contribution{k, cWithdrawn, 1})
		case stStopped:
			out = append(out, contribution{k, cStopped, 1})
		}
		out = append(out, finishContributions766(st, k, at)...)
	}
	spans := func(start, end int64, si, ei int) {
		out = append(out, contribution{at(start), si, 1})
		if end != 0 {
			out = append(out, contribution{at(end), ei, 1})
		}
	}
	for _, s := range overdueSpans(st) {
		spans(s[0], s[1], cOvStart, cOvEnd)
	}
	for i, p := range st.GetSupplementPauses() {
		spans(p.GetStart(), p.GetEnd(), cSupStart, cSupEnd)
		switch pause766(st, i) {
		case pauseOnTime:
			spans(p.GetStart(), p.GetEnd(), cSupOkStart, cSupOkEnd)
		case pauseLate:
			spans(p.GetStart(), p.GetEnd(), cSupLateStart, cSupLateEnd)
		}
	}
	if from, to, ok := awaitingAcceptance(st); ok {
		spans(from, to, cUnaccStart, cUnaccEnd)
	}
	for _, p := range st.GetFinancialWaits() {
		spans(p.GetStart(), p.GetEnd(), cFinStart, cFinEnd)
	}
	return out
}

// liveEntry is an open dossier in the live index: its group (cellKey without month), its
// kind (liveKind of its status) and when it becomes overdue (MaxInt64 if never).
type liveEntry struct {
	key       cellKey
	status    int32
	overdueAt int64
}

// liveKind is what the live index needs of a stored kind: paused for a supplement (before
// acceptance, on time or late for QĐ 766 2.1: qd766.go), waiting for financial
// obligations, not yet accepted (NEW), or running (stored as ACCEPTED for every other open
// status, so that an event that changes nothing of this, PROCESSING after ACCEPTED say,
// rewrites no open entry). Entries of earlier versions hold the status itself, or ACCEPTED
// for a dossier not yet accepted (counted running until rebuilt).
func liveKind(status int32) int32 {
	switch status {
	case stSupplement, stFinancial, stNew, kindSupBefore, kindSupOnTime:
		return status
	}
	return stAccepted
}

func liveOf(st *storev1.DossierState) (liveEntry, bool) {
	if st == nil || st.GetReceivedAt() == 0 || st.GetFinishedAt() != 0 || st.GetStatus() == stReturned {
		return liveEntry{}, false
	}
	e := liveEntry{
		key:    cellKey{channel: st.GetChannel(), unit: st.GetUnitCode(), agency: st.GetAgencyCode(), procedure: st.GetProcedureCode(), commune: st.GetCommuneCode()},
		status: liveKindOf(st), overdueAt: math.MaxInt64,
	}
	if spans := overdueSpans(st); len(spans) > 0 && spans[len(spans)-1][1] == 0 {
		e.overdueAt = spans[len(spans)-1][0]
	}
	return e, true
}

// Stats holds the cells, their roll-ups (rollup.go), the commune series (communes.go) and
// the live index.
type Stats struct {
	mu      sync.RWMutex
	rollups []*rollup // as rollupMasks; the last is the cells
	// communes is the commune series: cellKey{month, unit, commune} (communes.go), and
	// comLive its live figures (agg[0] per series) and due instants.
	communes *rollup
	comLive  liveIndex
	// toRollup[i][id] is the id, in roll-up i, of the cells' set of dimensions id.
	toRollup [][]int32
	liveIdx  liveIndex
	units    map[string]bool
	procs    map[string]bool
	minMon   int32
}

func newStats() *Stats {
	s := &Stats{units: map[string]bool{}, procs: map[string]bool{}, minMon: math.MaxInt32, liveIdx: newLiveIndex(len(rollupMasks)),
		communes: newRollup(communeMask), comLive: newLiveIndex(1)}
	for _, m := range rollupMasks {
		s.rollups = append(s.rollups, newRollup(m))
		s.toRollup = append(s.toRollup, nil)
	}
	return s
}

// delta is the change of one write transaction: cells (keys without a commune), commune
// series (communeKey) and live entries.
type delta struct {
	cells    map[cellKey]*counters
	communes map[cellKey]*counters
	liveDel  []liveEntry
	liveAdd  []liveEntry
}

func newDelta() *delta {
	return &delta{cells: map[cellKey]*counters{}, communes: map[cellKey]*counters{}}
}

// change records the move of one dossier from old to new state.
func (d *delta) change(old, cur *storev1.DossierState) {
	oldLive, wasOpen := liveOf(old)
	curLive, isOpen := liveOf(cur)
	d.changeFrom(contributions(old), oldLive, wasOpen, cur, curLive, isOpen)
}

// changeFrom records the move of one dossier to state cur from a state that contributed
// before and had the live entry oldLive (if wasOpen); curLive is cur's (if isOpen).
func (d *delta) changeFrom(before []contribution, oldLive liveEntry, wasOpen bool, cur *storev1.DossierState, curLive liveEntry, isOpen bool) {
	for _, c := range before {
		d.cell(c.key)[c.idx] -= c.v
		d.communeCell(c.key)[c.idx] -= c.v
	}
	for _, c := range contributions(cur) {
		d.cell(c.key)[c.idx] += c.v
		d.communeCell(c.key)[c.idx] += c.v
	}
	if wasOpen && isOpen && oldLive == curLive {
		return
	}
	if wasOpen {
		d.liveDel = append(d.liveDel, oldLive)
	}
	if isOpen {
		d.liveAdd = append(d.liveAdd, curLive)
	}
}

// cell is the delta's cell of k, its commune dropped.
func (d *delta) cell(k cellKey) *counters {
	k.commune = ""
	c := d.cells[k]
	if c == nil {
		c = &counters{}
		d.cells[k] = c
	}
	return c
}

// writeCells stores the value every cell the delta changes will have after it. Called by
// the single writer, inside its transaction and without the lock: see apply.
func (s *Stats) writeCells(b *bolt.Bucket, d *delta) error {
	if err := writeSeries(b, s.base(), d.cells); err != nil {
		return err
	}
	return s.writeCommunes(b.Tx().Bucket(bucketCommuneCells), d)
}

// writeSeries stores in b the value each month of r's series that changes will have after
// them: the stored value plus the change, or nothing once that is zero.
func writeSeries(b *bolt.Bucket, r *rollup, changes map[cellKey]*counters) error {
	for k, v := range changes {
		if v.zero() {
			continue
		}
		var cur counters
		if id, ok := r.ids[dimsOf(k)]; ok {
			cur = r.cell(id, k.month)
		}
		cur.add(v, 1)
		if cur.zero() {
			if err := b.Delete(encodeCellKey(k)); err != nil {
				return err
			}
			continue
		}
		if err := b.Put(encodeCellKey(k), encodeCounters(&cur)); err != nil {
			return err
		}
	}
	return nil
}

// eachCell calls fn with every cell of a cells bucket (cells or commune series), decoded.
func eachCell(b *bolt.Bucket, fn func(cellKey, *counters)) error {
	return b.ForEach(func(kb, v []byte) error {
		k, err := decodeCellKey(kb)
		if err != nil {
			return err
		}
		c, err := decodeCounters(v)
		if err != nil {
			return err
		}
		fn(k, &c)
		return nil
	})
}

// apply makes a committed delta visible.
//
// Queries wait while it holds the lock, so it holds it as briefly as it can. The writer is
// the only goroutine that makes sets of dimensions or changes the cells and roll-ups (queries
// only read them, and move the live index's clock), so the writer may read them without
// the lock; it takes the lock to change them. First the sets of dimensions the delta brings
// are made (rare: a new agency, procedure or month), then the change is summed per roll-up
// series and month without the lock (a commit of 4,000 events changes ~900 cells, but far
// fewer series of the coarser roll-ups), and only the sums and the live entries are applied
// under it.
func (s *Stats) apply(d *delta) {
	base := s.base()
	var fresh []cellKey
	for k := range d.cells {
		if _, ok := base.ids[dimsOf(k)]; !ok {
			fresh = append(fresh, k)
		}
	}
	for _, e := range d.liveAdd {
		if _, ok := base.ids[baseDims(e.key)]; !ok {
			fresh = append(fresh, e.key)
		}
	}
	freshCom := s.freshCommunes(d)
	if len(fresh) > 0 || len(freshCom) > 0 {
		s.mu.Lock()
		for _, k := range fresh {
			s.dimsID(k)
		}
		for _, k := range freshCom {
			s.communeID(k)
		}
		s.mu.Unlock()
	}
	comSums := s.communeSums(d)
	sums := make(map[seriesMonth]*counters, 2*len(d.cells))
	minMon := int32(math.MaxInt32)
	for k, v := range d.cells {
		if v.zero() {
			continue
		}
		id := base.ids[dimsOf(k)]
		for i := range s.rollups {
			sm := seriesMonth{rollup: int32(i), id: s.toRollup[i][id], month: k.month}
			c := sums[sm]
			if c == nil {
				c = &counters{}
				sums[sm] = c
			}
			c.add(v, 1)
		}
		minMon = min(minMon, k.month)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for sm, v := range sums {
		if !v.zero() {
			s.rollups[sm.rollup].add(sm.id, sm.month, v)
		}
	}
	for sm, v := range comSums {
		s.communes.add(sm.id, sm.month, v)
	}
	s.minMon = min(s.minMon, minMon)
	for _, e := range d.liveDel {
		s.liveRemove(e)
	}
	for _, e := range d.liveAdd {
		s.liveInsert(e)
	}
}

// seriesMonth names one month of one series of one roll-up.
type seriesMonth struct{ rollup, id, month int32 }

func dimsOf(k cellKey) cellKey {
	k.month = 0
	return k
}

// baseDims is the set of dimensions among the cells of k, which may name a commune.
func baseDims(k cellKey) cellKey {
	k.month, k.commune = 0, ""
	return k
}

// addCell adds v to the cell k and to every roll-up.
func (s *Stats) addCell(k cellKey, v *counters) {
	id := s.dimsID(k)
	for i, r := range s.rollups {
		r.add(s.toRollup[i][id], k.month, v)
	}
	if k.month < s.minMon {
		s.minMon = k.month
	}
}

// dimsID is the id of k's dimensions among the cells, made (with its place in every
// roll-up) if new.
func (s *Stats) dimsID(k cellKey) int32 {
	base := s.base()
	n := len(base.keys)
	id := base.id(k)
	if len(base.keys) > n {
		for i, r := range s.rollups {
			rid := r.id(k)
			s.toRollup[i] = append(s.toRollup[i], rid)
			if int(rid) == len(s.liveIdx.agg[i]) {
				s.liveIdx.agg[i] = append(s.liveIdx.agg[i], liveAgg{})
			}
		}
		s.units[k.unit] = true
		s.procs[k.procedure] = true
	}
	return id
}

// Encoding of cells on disk: key = month(4) channel(1) then unit, agency, procedure each
// length-prefixed, then the commune length-prefixed only when there is one (so the cells of
// files of earlier versions read as cells without a commune); value = the counters as varints.

func encodeCellKey(k cellKey) []byte {
	b := encodeCellKeyPrefix(k)
	if k.commune != "" {
		b = append(b, byte(len(k.commune)))
		b = append(b, k.commune...)
	}
	return b
}

// encodeCellKeyPrefix is a cell key without its commune.
func encodeCellKeyPrefix(k cellKey) []byte {
	b := make([]byte, 0, 5+4+len(k.unit)+len(k.agency)+len(k.procedure)+len(k.commune))
	b = binary.BigEndian.AppendUint32(b, uint32(k.month))
	b = append(b, byte(k.channel))
	for _, s := range []string{k.unit, k.agency, k.procedure} {
		b = append(b, byte(len(s)))
		b = append(b, s...)
	}
	return b
}

var errBadCell = errors.New("malformed statistics cell")

func decodeCellKey(b []byte) (cellKey, error) {
	k, rest, err := decodeCellKeyPrefix(b)
	if err != nil || len(rest) == 0 {
		return k, err
	}
	if k.commune, rest, err = lengthPrefixed(rest); err != nil || len(rest) != 0 {
		return cellKey{}, errBadCell
	}
	return k, nil
}

// decodeCellKeyPrefix reads what encodeCellKeyPrefix wrote and returns the bytes after it.
func decodeCellKeyPrefix(b []byte) (cellKey, []byte, error) {
	if len(b) < 5 {
		return cellKey{}, nil, errBadCell
	}
	k := cellKey{month: int32(binary.BigEndian.Uint32(b)), channel: int32(b[4])}
	b = b[5:]
	var parts [3]string
	for i := range parts {
		var err error
		if parts[i], b, err = lengthPrefixed(b); err != nil {
			return cellKey{}, nil, err
		}
	}
	k.unit, k.agency, k.procedure = parts[0], parts[1], parts[2]
	return k, b, nil
}

func lengthPrefixed(b []byte) (string, []byte, error) {
	if len(b) < 1 || len(b) < 1+int(b[0]) {
		return "", nil, errBadCell
	}
	return string(b[1 : 1+int(b[0])]), b[1+int(b[0]):], nil
}

func encodeCounters(c *counters) []byte {
	b := make([]byte, 0, nCounters*2)
	for _, v := range c {
		b = binary.AppendVarint(b, v)
	}
	return b
}

// decodeCounters reads what encodeCounters wrote; a cell written before counters were added
// ends early and reads the added ones as 0.
func decodeCounters(b []byte) (counters, error) {
	var c counters
	for i := range c {
		if len(b) == 0 && i > cRecPostal {
			break
		}
		v, n := binary.Varint(b)
		if n <= 0 {
			return c, errBadCell
		}
		c[i] = v
		b = b[n:]
	}
	return c, nil
}

// encodeLive and decodeLive store an open dossier's live entry (for a fast start): its
// cell key without the commune, its kind and overdue instant, then its commune
// length-prefixed when it has one (entries of earlier versions end after the instant).
func encodeLive(e liveEntry) []byte {
	b := encodeCellKeyPrefix(e.key)
	b = binary.AppendVarint(b, int64(e.status))
	b = binary.AppendVarint(b, e.overdueAt)
	if e.key.commune != "" {
		b = append(b, byte(len(e.key.commune)))
		b = append(b, e.key.commune...)
	}
	return b
}

// normalizeLive gives an entry's kind as liveOf does (entries written by earlier versions
// hold the status itself).
func normalizeLive(e liveEntry) liveEntry {
	e.status = liveKind(e.status)
	return e
}

func decodeLive(b []byte) (liveEntry, error) {
	k, rest, err := decodeCellKeyPrefix(b)
	if err != nil {
		return liveEntry{}, err
	}
	st, n := binary.Varint(rest)
	if n <= 0 {
		return liveEntry{}, errBadCell
	}
	ov, m := binary.Varint(rest[n:])
	if m <= 0 {
		return liveEntry{}, errBadCell
	}
	if rest = rest[n+m:]; len(rest) != 0 {
		if k.commune, rest, err = lengthPrefixed(rest); err != nil || len(rest) != 0 {
			return liveEntry{}, errBadCell
		}
	}
	return liveEntry{key: k, status: int32(st), overdueAt: ov}, nil
}

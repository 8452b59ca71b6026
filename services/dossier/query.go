package dossier

import (
	"regexp"
	"sort"
	"strconv"
	"time"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"github.com/lienthong/lienthong/services/platform"
)

// statsQuery is a checked GetDossierStats request.
type statsQuery struct {
	fromM, toM   int32 // inclusive months; fromM -1 = from the first data
	groupBy      string
	current      bool // current geography
	unit, agency string
	procedure    string
}

var periodRE = regexp.MustCompile(`^(\d{4})(?:-(?:Q([1-4])|(\d{2})))?$`)

// parsePeriod returns the first and last month of `2026`, `2026-Q3` or `2026-10`.
func parsePeriod(s string) (int32, int32, bool) {
	m := periodRE.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, false
	}
	y, _ := strconv.Atoi(m[1])
	if y < 2000 || y > 2100 {
		return 0, 0, false
	}
	base := int32(y * 12)
	switch {
	case m[2] != "":
		q, _ := strconv.Atoi(m[2])
		return base + int32(q-1)*3, base + int32(q-1)*3 + 2, true
	case m[3] != "":
		mo, _ := strconv.Atoi(m[3])
		if mo < 1 || mo > 12 {
			return 0, 0, false
		}
		return base + int32(mo-1), base + int32(mo-1), true
	}
	return base, base + 11, true
}

var groupings = map[string]bool{"": true, "agency": true, "procedure": true, "field": true, "month": true, "channel": true, "unit": true, "commune": true}

func parseStatsQuery(r *dossierv1.GetDossierStatsRequest, now int64) (statsQuery, error) {
	var v platform.Violations
	q := statsQuery{groupBy: r.GetGroupBy(), unit: r.GetUnit(), agency: r.GetAgency(), procedure: r.GetProcedure(), fromM: -1, toM: monthOf(now)}
	if !groupings[q.groupBy] {
		v.Add("group_by", "must be agency, procedure, field, month, channel, unit or commune, got %q", q.groupBy)
	}
	switch r.GetGeography() {
	case "", "current":
		q.current = true
	case "historical":
	default:
		v.Add("geography", "must be current or historical, got %q", r.GetGeography())
	}
	if r.GetFrom() != "" {
		a, b, ok := parsePeriod(r.GetFrom())
		if !ok {
			v.Add("from", "must be a period like 2026, 2026-Q3 or 2026-10, got %q", r.GetFrom())
		}
		q.fromM, q.toM = a, b
	}
	if r.GetTo() != "" {
		_, b, ok := parsePeriod(r.GetTo())
		if !ok {
			v.Add("to", "must be a period like 2026, 2026-Q3 or 2026-10, got %q", r.GetTo())
		}
		q.toM = b
	}
	if r.GetFrom() != "" && q.toM < q.fromM {
		v.Add("to", "is before from")
	}
	if q.groupBy == "commune" {
		// The commune series keep the unit and the commune only (communes.go).
		if q.agency != "" {
			v.Add("agency", "cannot filter a report grouped by commune: communes are counted by unit only (docs/api.md, Dossier statistics)")
		}
		if q.procedure != "" {
			v.Add("procedure", "cannot filter a report grouped by commune: communes are counted by unit only (docs/api.md, Dossier statistics)")
		}
	}
	return q, v.Err()
}

// geoInfo maps units to today's units and procedures to fields.
type geoInfo interface {
	currentUnit(unit string) string
	field(procedure string) string
}

func channelName(c int32) string { return dossierv1.Channel(c).String() }

// groupKey is the row a set of dimensions belongs to (rows by month are made by
// queryByMonth).
func (q *statsQuery) groupKey(k cellKey, g geoInfo) string {
	switch q.groupBy {
	case "agency":
		return k.agency
	case "procedure":
		return k.procedure
	case "field":
		return g.field(k.procedure)
	case "channel":
		return channelName(k.channel)
	case "unit":
		return q.unitOf(k.unit, g)
	case "commune":
		return k.commune
	}
	return "total"
}

func (q *statsQuery) unitOf(u string, g geoInfo) string {
	if q.current {
		return g.currentUnit(u)
	}
	return u
}

func (q *statsQuery) match(k cellKey, g geoInfo) bool {
	return (q.unit == "" || q.unitOf(k.unit, g) == q.unit) &&
		(q.agency == "" || k.agency == q.agency) &&
		(q.procedure == "" || k.procedure == q.procedure)
}

type rowAcc struct {
	flow, pre, cum counters
	live           *liveAgg
}

// query answers statistics from the cells and the live index.
func (s *Stats) query(q statsQuery, now int64, g geoInfo) *dossierv1.DossierStats {
	// The live index's clock moves to now first, under the write lock (it changes the
	// overdue counts); the answer is then read under the read lock, so that queries run
	// side by side. Should another query move the clock in between, the answer is read at
	// its instant, a few microseconds from now.
	s.mu.Lock()
	s.advance(now)
	s.mu.Unlock()
	s.mu.RLock()
	defer s.mu.RUnlock()
	nowM := monthOf(now)
	fromM := q.fromM
	if fromM < 0 {
		fromM = s.minMon
		if fromM == 0x7fffffff {
			fromM = nowM
		}
	}
	liveEnd := q.toM >= nowM
	out := &dossierv1.DossierStats{From: monthString(fromM), To: monthString(q.toM), GroupBy: q.groupBy, Geography: "historical"}
	if q.current {
		out.Geography = "current"
	}
	if liveEnd {
		out.AsOf = time.UnixMilli(now).In(Vietnam).Format(time.RFC3339)
	} else {
		out.AsOf = time.UnixMilli(monthEnd(q.toM)).In(Vietnam).Format(time.RFC3339)
	}
	if q.groupBy == "month" {
		out.Rows = s.queryByMonth(q, fromM, nowM, now, g)
		return out
	}
	rows := map[string]*rowAcc{}
	get := func(key string) *rowAcc {
		r := rows[key]
		if r == nil {
			r = &rowAcc{}
			rows[key] = r
		}
		return r
	}
	ru, aggs := s.source(&q)
	memo := newMemo(len(ru.keys))
	for d, ser := range ru.series {
		e := memo.get(&q, ru.keys[d], int32(d), g)
		if !e.match {
			continue
		}
		r := get(e.group)
		r.pre.add(cumBefore(ser, fromM), 1)
		r.cum.add(cumThrough(ser, q.toM), 1)
	}
	for _, r := range rows {
		r.flow = r.cum
		r.flow.add(&r.pre, -1)
	}
	if liveEnd {
		eachLive(aggs, ru, memo, &q, g, func(e *memoEntry, a *liveAgg) {
			r := get(e.group)
			if r.live == nil {
				r.live = &liveAgg{}
			}
			r.live.add(*a)
		})
	}
	keys := make([]string, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		r := rows[k]
		row := makeRow(k, &r.flow, &r.pre, &r.cum, r.live, liveEnd)
		if row != nil {
			out.Rows = append(out.Rows, row)
		}
	}
	return out
}

// queryByMonth gives one row per month of the range: the month's flows, what was open when
// it began, and the state at its end (now, for the current month and later).
func (s *Stats) queryByMonth(q statsQuery, fromM, nowM int32, now int64, g geoInfo) []*dossierv1.StatsRow {
	perMonth := map[int32]*counters{}
	var pre counters
	ru, aggs := s.source(&q)
	memo := newMemo(len(ru.keys))
	for d, ser := range ru.series {
		if !memo.get(&q, ru.keys[d], int32(d), g).match {
			continue
		}
		pre.add(cumBefore(ser, fromM), 1)
		for i := monthIndex(ser, fromM); i < len(ser) && ser[i].month <= q.toM; i++ {
			m := ser[i].month
			c := perMonth[m]
			if c == nil {
				c = &counters{}
				perMonth[m] = c
			}
			o := own(ser, i)
			c.add(&o, 1)
		}
	}
	var live *liveAgg
	if q.toM >= nowM {
		live = &liveAgg{}
		eachLive(aggs, ru, memo, &q, g, func(_ *memoEntry, a *liveAgg) { live.add(*a) })
	}
	var rows []*dossierv1.StatsRow
	cum := pre
	// Months that have not begun have no row: nothing has happened in them yet.
	for m := fromM; m <= q.toM && m <= nowM; m++ {
		before := cum
		var flow counters
		if c := perMonth[m]; c != nil {
			flow = *c
		}
		cum.add(&flow, 1)
		var snap *liveAgg
		if m >= nowM {
			snap = live
		}
		if row := makeRow(monthString(m), &flow, &before, &cum, snap, m >= nowM); row != nil {
			rows = append(rows, row)
		}
	}
	return rows
}

// makeRow turns sums into a report row; nil when the row would be all zeros.
func makeRow(key string, flow, pre, cum *counters, live *liveAgg, useLive bool) *dossierv1.StatsRow {
	row := &dossierv1.StatsRow{
		Key:                      key,
		ReceivedTotal:            flow[cReceived],
		ReceivedDirect:           flow[cRecDirect],
		ReceivedOnline:           flow[cRecOnline],
		ReceivedPostal:           flow[cRecPostal],
		CarriedOver:              pre[cReceived] - pre.finished(),
		ResolvedEarly:            flow[cEarly],
		ResolvedOnTime:           flow[cOnTime],
		ResolvedLate:             flow[cLate],
		ResolvedLateApologized:   flow[cLateApologized],
		Withdrawn:                flow[cWithdrawn],
		NotAccepted:              flow[cNotAccepted],
		Stopped:                  flow[cStopped],
		ResolvedPaidOnline:       flow[cPaidOnline],
		ResolvedElectronicResult: flow[cElectronic],
		ReceivedDigitized:        flow[cDigitized],
		StoppedWithinDue:         flow[cStopWithin],
		WithdrawnAfterAcceptance: flow[cWdrAcc],
		AcceptedResolved:         flow[cAccResolved],

		WithdrawnAfterAcceptanceWithinDue: flow[cWdrAccWithin],
	}
	// Open dossiers not yet accepted have no due date: neither within due nor overdue
	// (docs/domain.md, "Verdicts only where they mean something").
	var supBefore int64
	if useLive {
		if live != nil {
			row.InProgressOverdue = live.overdue
			row.PausedSupplement = live.supplement
			row.PausedFinancial = live.financial
			row.AwaitingAcceptance = live.unaccepted
			row.PausedSupplementOnTime = live.supOnTime
			supBefore = live.supBefore
			row.InProgressWithinDue = live.open - live.overdue - live.supplement - live.financial - (live.unaccepted - live.supBefore)
		}
	} else {
		open := cum[cReceived] - cum.finished()
		row.InProgressOverdue = cum[cOvStart] - cum[cOvEnd]
		row.PausedSupplement = cum[cSupStart] - cum[cSupEnd]
		row.PausedFinancial = cum[cFinStart] - cum[cFinEnd]
		row.AwaitingAcceptance = cum[cUnaccStart] - cum[cUnaccEnd]
		row.PausedSupplementOnTime = cum[cSupOkStart] - cum[cSupOkEnd]
		supBefore = row.PausedSupplement - row.PausedSupplementOnTime - (cum[cSupLateStart] - cum[cSupLateEnd])
		row.InProgressWithinDue = open - row.InProgressOverdue - row.PausedSupplement - row.PausedFinancial - (row.AwaitingAcceptance - supBefore)
	}
	row.PausedSupplementLate = row.PausedSupplement - row.PausedSupplementOnTime - supBefore
	resolved := row.ResolvedEarly + row.ResolvedOnTime + row.ResolvedLate
	if den := resolved + row.InProgressWithinDue + row.InProgressOverdue; den > 0 {
		row.OnTimeRate = float64(row.ResolvedEarly+row.ResolvedOnTime+row.InProgressWithinDue) / float64(den)
	}
	// QĐ 766 indicator 2.1 (qd766.go).
	onTime766 := row.ResolvedEarly + row.ResolvedOnTime + row.StoppedWithinDue + row.WithdrawnAfterAcceptanceWithinDue +
		row.InProgressWithinDue + row.PausedSupplementOnTime
	if den := resolved + row.Stopped + row.WithdrawnAfterAcceptance + row.InProgressWithinDue + row.InProgressOverdue +
		row.PausedSupplementOnTime + row.PausedSupplementLate; den > 0 {
		row.Qd766OnTimeRate = float64(onTime766) / float64(den)
	}
	// QĐ 766 indicator 2.2.
	if row.AcceptedResolved > 0 {
		row.AvgProcessingWorkingDays = float64(flow[cAccProcWork]) / float64(row.AcceptedResolved) / float64(workDayLen)
	}
	if row.ReceivedTotal > 0 {
		row.OnlineRate = float64(row.ReceivedOnline) / float64(row.ReceivedTotal)
	}
	if resolved > 0 {
		row.AvgProcessingDays = float64(flow[cProcMillis]) / float64(resolved) / float64(24*time.Hour/time.Millisecond)
	}
	if row.ReceivedTotal == 0 && row.CarriedOver == 0 && resolved == 0 && row.Withdrawn == 0 && row.NotAccepted == 0 &&
		row.Stopped == 0 && row.InProgressOverdue == 0 && row.InProgressWithinDue == 0 && row.PausedSupplement == 0 && row.PausedFinancial == 0 &&
		row.AwaitingAcceptance == 0 && row.AcceptedResolved == 0 {
		return nil
	}
	return row
}

// memo remembers, for one query, whether the cells of each set of dimensions match the
// filters and which row they go to: the catalog look-ups and string work are done once per
// dimensions, not once per cell and month.
type memo []memoEntry

type memoEntry struct {
	done, match bool
	group       string
}

func newMemo(n int) memo { return make(memo, n) }

func (m memo) get(q *statsQuery, k cellKey, dims int32, g geoInfo) *memoEntry {
	e := &m[dims]
	if !e.done {
		e.done = true
		e.match = q.match(k, g)
		if e.match {
			e.group = q.groupKey(k, g)
		}
	}
	return e
}

// rollupIndex is the smallest roll-up that keeps the dimensions a query needs, and its place.
func (s *Stats) rollupIndex(need dimMask) (int, *rollup) {
	for i, r := range s.rollups {
		if r.mask&need == need {
			return i, r
		}
	}
	return len(s.rollups) - 1, s.base()
}

// source is the series a query reads and their live figures: the commune series for a
// report by commune (communes.go), else the smallest roll-up that keeps what it needs.
func (s *Stats) source(q *statsQuery) (*rollup, []liveAgg) {
	if q.groupBy == "commune" {
		return s.communes, s.comLive.agg[0]
	}
	ri, ru := s.rollupIndex(q.needs())
	return ru, s.liveIdx.agg[ri]
}

// eachLive calls f for every set of ru with open dossiers (aggs: their live figures) that
// the query matches, with its memo entry and live figures.
func eachLive(aggs []liveAgg, ru *rollup, memo memo, q *statsQuery, g geoInfo, f func(*memoEntry, *liveAgg)) {
	for rid := range aggs {
		a := &aggs[rid]
		if a.open == 0 {
			continue
		}
		if e := memo.get(q, ru.keys[rid], int32(rid), g); e.match {
			f(e, a)
		}
	}
}

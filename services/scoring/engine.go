package scoring

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/grpc/codes"
)

// value is one indicator's raw value for one unit, or why there is none.
type value struct {
	ok       bool
	v        float64
	why      string // without a value: why; with one: where it came from
	revision int32
	// asOfToday marks figures that are not kept per period (the catalog's): they do not
	// count as data of the period when deciding whether a previous rank exists.
	asOfToday bool
}

// unitResult is one unit's computed score.
type unitResult struct {
	code, name  string
	total       float64 // rounded to the methodology's precision
	exact       float64 // the total before rounding
	components  []*scoringv1.ComponentScore
	indicators  []*scoringv1.IndicatorScore
	withData    int
	periodData  int // indicators with a value of the period itself (not as of today)
	rank        int32
	prevRank    int32
	hasPrevious bool
}

// result is a methodology's scores for a period.
type result struct {
	m          *scoringv1.Methodology
	period     Period
	prevPeriod Period
	units      []*unitResult // by rank, then code
	byCode     map[string]*unitResult
	notes      []string
	computedAt time.Time
	live       bool // uses figures of other parts (cached for liveTTL only)
}

// inputs are the raw values of a period for a set of units.
type inputs struct {
	units  []UnitInfo
	values map[string]map[string]value // unit → indicator id → value
	notes  []string
	live   bool
}

// Engine computes scores and rankings, caching each until the stored data changes (or, for
// methodologies with computed indicators, for liveTTL).
type Engine struct {
	store   *Store
	catalog CatalogSource
	// scopes lists the agencies or communes of a province on a date (Service.scopeEntities).
	scopes      func(ctx context.Context, scope scoringv1.Scope, province, date string) ([]UnitInfo, error)
	dossier     DossierSource
	docs        DocExchangeSource
	connections func(ctx context.Context) (map[string]connCount, error)
	now         func() time.Time
	liveTTL     time.Duration

	mu    sync.Mutex
	cache map[string]*cached
}

type cached struct {
	version uint64
	res     *result
	err     error
	done    chan struct{}
}

// connCount is how many systems of a unit there are and how many are connected.
type connCount struct{ systems, allConnected, dossierConnected int }

// ranking returns the (cached) result of a methodology and period.
func (e *Engine) ranking(ctx context.Context, m *scoringv1.Methodology, p Period) (*result, error) {
	key := m.GetId() + "|" + p.String()
	for {
		e.mu.Lock()
		c := e.cache[key]
		ver := e.store.Version()
		if c != nil {
			select {
			case <-c.done:
				fresh := c.err == nil && c.version == ver && (!c.res.live || e.now().Sub(c.res.computedAt) < e.liveTTL)
				if fresh {
					e.mu.Unlock()
					return c.res, nil
				}
			default: // being computed by another call: wait for it
				e.mu.Unlock()
				select {
				case <-c.done:
					continue
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
		}
		c = &cached{version: ver, done: make(chan struct{})}
		e.cache[key] = c
		e.mu.Unlock()
		// Computed without the caller's deadline being the only bound: other calls wait on it.
		c.res, c.err = e.compute(context.WithoutCancel(ctx), m, p)
		close(c.done)
		return c.res, c.err
	}
}

// invalidate drops every cached ranking (a methodology was added).
func (e *Engine) invalidate() {
	e.mu.Lock()
	clear(e.cache)
	e.mu.Unlock()
}

func (e *Engine) compute(ctx context.Context, m *scoringv1.Methodology, p Period) (*result, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	units, err := e.rankedUnits(ctx, m, p.End().Format(dateLayout))
	if err != nil {
		return nil, &platform.Error{Code: codes.Unavailable, Reason: "CATALOG_UNAVAILABLE",
			Message:   "the catalog part, which says which units were in force, is not reachable",
			MessageVI: "Không kết nối được dịch vụ danh mục để xác định các đơn vị hành chính."}
	}
	res := &result{m: m, period: p, prevPeriod: p.Previous(), computedAt: e.now()}
	in, err := e.inputs(ctx, m, p, units)
	if err != nil {
		return nil, err
	}
	res.live, res.notes = in.live, in.notes
	res.units = score(m, in)
	res.byCode = map[string]*unitResult{}
	for _, u := range res.units {
		res.byCode[u.code] = u
	}
	// The previous period, in this period's geography: units that merged since are rolled
	// up into their successors.
	prev, err := e.inputs(ctx, m, res.prevPeriod, units)
	if err != nil {
		return nil, err
	}
	prevUnits := score(m, prev)
	anyData := slices.ContainsFunc(prevUnits, func(u *unitResult) bool { return u.periodData > 0 })
	if anyData {
		for _, pu := range prevUnits {
			if u := res.byCode[pu.code]; u != nil && pu.periodData > 0 {
				u.prevRank, u.hasPrevious = pu.rank, true
			}
		}
		for _, n := range prev.notes {
			if strings.HasPrefix(n, "rolled up") {
				res.notes = append(res.notes, "previous period "+res.prevPeriod.String()+": "+n)
			}
		}
	} else {
		res.notes = append(res.notes, fmt.Sprintf("no data for the previous period %s: no previous ranks", res.prevPeriod))
	}
	res.live = res.live || prev.live
	return res, nil
}

// inputs gathers the raw values of every indicator of m for the units, in their geography.
func (e *Engine) inputs(ctx context.Context, m *scoringv1.Methodology, p Period, units []UnitInfo) (*inputs, error) {
	in := &inputs{units: units, values: map[string]map[string]value{}}
	inSet := map[string]bool{}
	for _, u := range units {
		inSet[u.Code] = true
		in.values[u.Code] = map[string]value{}
	}
	needs := map[string]bool{}
	for _, c := range m.GetCategories() {
		for _, ind := range c.GetIndicators() {
			if ind.GetSource() == scoringv1.IndicatorSource_INDICATOR_SOURCE_COMPUTED {
				needs[formulas[ind.GetFormula()].part] = true
			}
		}
	}
	if err := e.submitted(ctx, m, p, in, inSet); err != nil {
		return nil, err
	}
	if needs["dossier"] {
		e.dossierValues(ctx, m, p, in, inSet)
	}
	if needs["catalog"] {
		e.catalogValues(ctx, m, in)
	}
	if needs["docexchange"] {
		e.docValues(ctx, m, p, in)
	}
	if needs["procedures"] {
		e.procedureValues(ctx, m, p, in)
	}
	if needs["usage"] {
		e.usageValues(ctx, m, p, in)
	}
	if needs["interconnection"] {
		e.connectionValues(ctx, m, p, in)
	}
	in.live = len(needs) > 0
	return in, nil
}

// submitted fills the submitted values: each unit's latest report; reports of units that
// have since merged are rolled up into their successor (rollUp).
func (e *Engine) submitted(ctx context.Context, m *scoringv1.Methodology, p Period, in *inputs, inSet map[string]bool) error {
	reports, err := e.store.PeriodReports(p.String())
	if err != nil {
		return err
	}
	scope, scopeUnit := scopeOf(m)
	if scope != scoringv1.Scope_SCOPE_PROVINCES {
		return e.scopeSubmitted(m, p, in, inSet, reportsOfScope(reports, scope, scopeUnit))
	}
	reports = reportsOfScope(reports, scope, scopeUnit)
	target := map[string][]string{} // unit of the set → report units that feed it
	var outside []string
	for code := range reports {
		if inSet[code] {
			target[code] = append(target[code], code)
		} else {
			outside = append(outside, code)
		}
	}
	if len(outside) > 0 {
		sort.Strings(outside)
		cur, err := e.catalog.CurrentCodes(ctx, outside)
		if err != nil {
			return &platform.Error{Code: codes.Unavailable, Reason: "CATALOG_UNAVAILABLE",
				Message: "the catalog part is not reachable", MessageVI: "Không kết nối được dịch vụ danh mục."}
		}
		var rolled []string
		for _, code := range outside {
			for _, t := range cur[code] {
				if inSet[t] {
					target[t] = append(target[t], code)
					rolled = append(rolled, code+"→"+t)
				}
			}
		}
		if len(rolled) > 0 {
			in.notes = append(in.notes, "rolled up reports of merged units into their successors (counts summed, shares weighted by their denominators where reported): "+strings.Join(rolled, ", "))
		}
	}
	for _, c := range m.GetCategories() {
		for _, ind := range c.GetIndicators() {
			if ind.GetSource() != scoringv1.IndicatorSource_INDICATOR_SOURCE_SUBMITTED {
				continue
			}
			for _, u := range in.units {
				srcs := target[u.Code]
				sort.Strings(srcs)
				var sum float64
				var n int
				var used []string
				var rev int32
				for _, s := range srcs {
					r := reports[s]
					if x, ok := r.GetValues()[ind.GetId()]; ok {
						sum += x
						n++
						used = append(used, fmt.Sprintf("%s revision %d by %s", s, r.GetRevision(), r.GetSubmittedBy()))
						rev = r.GetRevision()
					}
				}
				switch {
				case n == 0 && len(srcs) == 0:
					in.values[u.Code][ind.GetId()] = value{why: fmt.Sprintf("no metric report of unit %s for %s", u.Code, p)}
				case n == 0:
					in.values[u.Code][ind.GetId()] = value{why: fmt.Sprintf("the metric report for %s does not give %s", p, ind.GetId())}
				case n == 1 && len(srcs) == 1 && srcs[0] == u.Code:
					in.values[u.Code][ind.GetId()] = value{ok: true, v: sum, revision: rev, why: "submitted in report " + used[0]}
				default:
					in.values[u.Code][ind.GetId()], _ = rollUp(ind, srcs, reports)
				}
			}
		}
	}
	return nil
}

// geography is how the dossier part is asked: the units as they were when the period's unit
// set did not change during it, else rolled up into today's units.
func (e *Engine) geography(ctx context.Context, p Period, units []UnitInfo) string {
	start, err := e.catalog.Provinces(ctx, p.Start().Format(dateLayout))
	if err != nil || len(start) != len(units) {
		return "current"
	}
	for i := range start {
		if start[i].Code != units[i].Code {
			return "current"
		}
	}
	return "historical"
}

func (e *Engine) dossierValues(ctx context.Context, m *scoringv1.Methodology, p Period, in *inputs, inSet map[string]bool) {
	geo := e.geography(ctx, p, in.units)
	rows, err := e.dossier.UnitStats(ctx, p.String(), "", geo)
	var why string
	if err != nil {
		why = "no data: " + unavailableReason("dossier", err)
		in.notes = append(in.notes, "dossier figures unavailable: "+unavailableReason("dossier", err))
	}
	eachComputed(m, "dossier", func(ind *scoringv1.Indicator) {
		for _, u := range in.units {
			if err != nil {
				in.values[u.Code][ind.GetId()] = value{why: why}
				continue
			}
			in.values[u.Code][ind.GetId()] = dossierFormula(ind.GetFormula(), rows[u.Code], p, geo)
		}
	})
}

// dossierFormula computes a dossier formula from a unit's statistics row.
func dossierFormula(f string, r *dossierv1.StatsRow, p Period, geo string) value {
	src := fmt.Sprintf("from the dossier part's statistics for %s (%s)", p, geographyNote(geo))
	if r == nil || r.GetReceivedTotal()+r.GetCarriedOver() == 0 {
		return value{why: fmt.Sprintf("no data: no dossiers of this unit in %s", p)}
	}
	resolved := r.GetResolvedEarly() + r.GetResolvedOnTime() + r.GetResolvedLate()
	share := func(num, den int64, what string) value {
		if den == 0 {
			return value{why: "no data: no " + what + " in " + p.String()}
		}
		return value{ok: true, v: float64(num) / float64(den), why: fmt.Sprintf("%d / %d %s %s", num, den, what, src)}
	}
	switch f {
	case "dossier.on_time_rate":
		// QĐ 766 indicator 2.1 (docs/domain.md, "QĐ 766 service-quality index").
		ended := resolved + r.GetStopped() + r.GetWithdrawnAfterAcceptance()
		endedOnTime := r.GetResolvedEarly() + r.GetResolvedOnTime() + r.GetStoppedWithinDue() + r.GetWithdrawnAfterAcceptanceWithinDue()
		supplement := r.GetPausedSupplementOnTime() + r.GetPausedSupplementLate()
		open := r.GetInProgressWithinDue() + r.GetInProgressOverdue()
		den := ended + open + supplement
		if den == 0 {
			return value{why: "no data: no accepted dossiers ended or open in " + p.String()}
		}
		return value{ok: true, v: float64(endedOnTime+r.GetInProgressWithinDue()+r.GetPausedSupplementOnTime()) / float64(den),
			why: fmt.Sprintf("(%d resolved, stopped or withdrawn by the due date + %d open within due + %d waiting on a first supplement asked by the due date) / (%d ended + %d open + %d waiting on a supplement), accepted dossiers only (QĐ 766 2.1) %s",
				endedOnTime, r.GetInProgressWithinDue(), r.GetPausedSupplementOnTime(), ended, open, supplement, src)}
	case "dossier.online_rate":
		return share(r.GetReceivedOnline(), r.GetReceivedTotal(), "dossiers received online of those received")
	case "dossier.digitized_share":
		return share(r.GetReceivedDigitized(), r.GetReceivedTotal(), "received dossiers digitised of those received")
	case "dossier.satisfaction":
		if resolved == 0 {
			return value{why: "no data: no resolved dossiers in " + p.String()}
		}
		return value{ok: true, v: 1 - float64(r.GetResolvedLate())/float64(resolved),
			why: fmt.Sprintf("1 − %d late / %d resolved − 0 complaints (not reported) %s", r.GetResolvedLate(), resolved, src)}
	case "dossier.avg_processing_days":
		// QĐ 766 indicator 2.2 (docs/domain.md, "QĐ 766 service-quality index").
		if r.GetAcceptedResolved() == 0 {
			return value{why: "no data: no dossiers accepted in " + p.String() + " and resolved"}
		}
		return value{ok: true, v: r.GetAvgProcessingWorkingDays(), why: fmt.Sprintf(
			"mean working days from acceptance to resolution, less supplement waits, over %d dossiers accepted in the period and resolved (QĐ 766 2.2) %s",
			r.GetAcceptedResolved(), src)}
	case "dossier.received_total":
		return value{ok: true, v: float64(r.GetReceivedTotal()), why: "dossiers received " + src}
	}
	return value{why: "no data: unknown formula " + f}
}

func eachComputed(m *scoringv1.Methodology, part string, fn func(*scoringv1.Indicator)) {
	for _, c := range m.GetCategories() {
		for _, ind := range c.GetIndicators() {
			if ind.GetSource() == scoringv1.IndicatorSource_INDICATOR_SOURCE_COMPUTED && formulas[ind.GetFormula()].part == part {
				fn(ind)
			}
		}
	}
}

func (e *Engine) catalogValues(ctx context.Context, m *scoringv1.Methodology, in *inputs) {
	type shares struct {
		online, full float64
		ok           bool
		err          error
	}
	got := map[string]shares{}
	for _, u := range in.units {
		o, f, ok, err := e.catalog.ProcedureShares(ctx, u.Code)
		got[u.Code] = shares{o, f, ok, err}
	}
	eachComputed(m, "catalog", func(ind *scoringv1.Indicator) {
		for _, u := range in.units {
			s := got[u.Code]
			switch {
			case s.err != nil:
				in.values[u.Code][ind.GetId()] = value{why: "no data: " + unavailableReason("catalog", s.err)}
			case !s.ok:
				in.values[u.Code][ind.GetId()] = value{why: "no data: the catalog has no active procedures of this unit"}
			case ind.GetFormula() == "catalog.full_online_procedure_share":
				in.values[u.Code][ind.GetId()] = value{ok: true, v: s.full, asOfToday: true, why: "share of the unit's active procedures fully online in the catalog (as of today)"}
			default:
				in.values[u.Code][ind.GetId()] = value{ok: true, v: s.online, asOfToday: true, why: "share of the unit's active procedures fully or partly online in the catalog (as of today)"}
			}
		}
	})
}

// usageValues computes the share of a unit's online services that had an online dossier
// in the period (QĐ 766), from the catalog's online procedures and the dossier part's
// statistics by procedure.
func (e *Engine) usageValues(ctx context.Context, m *scoringv1.Methodology, p Period, in *inputs) {
	geo := e.geography(ctx, p, in.units)
	eachComputed(m, "usage", func(ind *scoringv1.Indicator) {
		for _, u := range in.units {
			codes, err := e.catalog.OnlineProcedures(ctx, u.Code)
			if err != nil {
				in.values[u.Code][ind.GetId()] = value{why: "no data: " + unavailableReason("catalog", err)}
				continue
			}
			if len(codes) == 0 {
				in.values[u.Code][ind.GetId()] = value{why: "no data: the catalog has no procedure of this unit offered online"}
				continue
			}
			online, err := e.dossier.OnlineByProcedure(ctx, u.Code, p.String(), geo)
			if err != nil {
				in.values[u.Code][ind.GetId()] = value{why: "no data: " + unavailableReason("dossier", err)}
				continue
			}
			used := 0
			for _, c := range codes {
				if online[c] > 0 {
					used++
				}
			}
			in.values[u.Code][ind.GetId()] = value{ok: true, v: float64(used) / float64(len(codes)), asOfToday: true,
				why: fmt.Sprintf("%d of the unit's %d procedures offered online received a dossier online in %s (catalog as of today; dossiers in %s geography)", used, len(codes), p, geo)}
		}
	})
}

func (e *Engine) docValues(ctx context.Context, m *scoringv1.Methodology, p Period, in *inputs) {
	eachComputed(m, "docexchange", func(ind *scoringv1.Indicator) {
		for _, u := range in.units {
			st, err := e.docs.DocumentStats(ctx, u.Code, p)
			var v value
			switch {
			case err != nil:
				v = value{why: "no data: " + unavailableReason("document-exchange", err)}
			case ind.GetFormula() == "docexchange.documents_sent":
				v = value{ok: true, v: float64(st.Sent), why: "documents sent, from the document-exchange part"}
			case ind.GetFormula() == "docexchange.electronic_share" && st.HasElectronic:
				v = value{ok: true, v: st.ElectronicShare, why: "from the document-exchange part"}
			case ind.GetFormula() == "docexchange.fully_online_share" && st.HasFully:
				v = value{ok: true, v: st.FullyOnlineShare, why: "from the document-exchange part"}
			default:
				v = value{why: "no data: no documents of this unit in " + p.String()}
			}
			in.values[u.Code][ind.GetId()] = v
		}
	})
}

func (e *Engine) connectionValues(ctx context.Context, m *scoringv1.Methodology, p Period, in *inputs) {
	var counts map[string]connCount
	var err error
	current := p.Contains(e.now().In(vietnam))
	if current {
		counts, err = e.connections(ctx)
	}
	eachComputed(m, "interconnection", func(ind *scoringv1.Indicator) {
		for _, u := range in.units {
			c := counts[u.Code]
			var v value
			switch {
			case !current:
				v = value{why: "no data: the interconnection status is kept as of now only, and " + p.String() + " does not include today"}
			case err != nil:
				v = value{why: "no data: " + unavailableReason("interconnection", err)}
			case c.systems == 0:
				v = value{why: "no data: no system of this unit has sent a heartbeat"}
			case ind.GetFormula() == "interconnection.dossier_push_connected_share":
				v = value{ok: true, v: float64(c.dossierConnected) / float64(c.systems),
					why: fmt.Sprintf("%d of %d systems with the dossier push channel CONNECTED now", c.dossierConnected, c.systems)}
			default:
				v = value{ok: true, v: float64(c.allConnected) / float64(c.systems),
					why: fmt.Sprintf("%d of %d systems with every channel CONNECTED now", c.allConnected, c.systems)}
			}
			in.values[u.Code][ind.GetId()] = v
		}
	})
}

// score normalises, weighs, sums and ranks.
func score(m *scoringv1.Methodology, in *inputs) []*unitResult {
	prec := precisionOf(m)
	res := make([]*unitResult, len(in.units))
	for i, u := range in.units {
		res[i] = &unitResult{code: u.Code, name: u.Name}
	}
	for _, c := range m.GetCategories() {
		comp := make([]float64, len(res))
		for _, ind := range c.GetIndicators() {
			lo, hi, n := math.Inf(1), math.Inf(-1), 0
			for _, u := range in.units {
				if v := in.values[u.Code][ind.GetId()]; v.ok {
					lo, hi, n = math.Min(lo, v.v), math.Max(hi, v.v), n+1
				}
			}
			for i, u := range in.units {
				v := in.values[u.Code][ind.GetId()]
				is := &scoringv1.IndicatorScore{
					Id: ind.GetId(), CategoryId: c.GetId(), Name: ind.GetName(), NameEn: ind.GetNameEn(), Source: ind.GetSource(),
					Formula: ind.GetFormula(), Unit: ind.GetUnit(), Normalization: ind.GetNormalization(), Weight: ind.GetWeight(),
					Revision: v.revision,
				}
				if !v.ok {
					is.Explanation = v.why + "; scores 0"
				} else {
					res[i].withData++
					if !v.asOfToday {
						res[i].periodData++
					}
					is.HasValue, is.RawValue = true, v.v
					norm, how := normalise(ind, v.v, lo, hi, n)
					is.Normalized = norm
					is.Points = norm * ind.GetWeight()
					is.Explanation = fmt.Sprintf("%s %s (%s); %s; × weight %s = %s points",
						fmtNum(v.v), unitWord(ind.GetUnit()), v.why, how, fmtNum(ind.GetWeight()), fmtNum(is.Points))
				}
				comp[i] += is.Points
				res[i].indicators = append(res[i].indicators, is)
			}
		}
		for i := range res {
			res[i].components = append(res[i].components, &scoringv1.ComponentScore{
				Id: c.GetId(), Name: c.GetName(), Max: c.GetWeight(), Score: round(comp[i], prec)})
			res[i].exact += comp[i]
		}
	}
	// The total is the exact sum rounded once (six components of 1/6 make 1, not 1.0002).
	for _, u := range res {
		u.total = round(u.exact, prec)
	}
	// Total ranks, then component ranks.
	scores := make([]float64, len(res))
	for i, u := range res {
		scores[i] = u.total
	}
	for i, r := range competitionRanks(scores) {
		res[i].rank = r
	}
	for ci := range m.GetCategories() {
		for i, u := range res {
			scores[i] = u.components[ci].GetScore()
		}
		for i, r := range competitionRanks(scores) {
			res[i].components[ci].Rank = r
		}
	}
	sort.SliceStable(res, func(i, j int) bool {
		if res[i].rank != res[j].rank {
			return res[i].rank < res[j].rank
		}
		return res[i].code < res[j].code
	})
	return res
}

// competitionRanks ranks scores, highest first: equal scores share a rank and the next
// rank skips (1, 2, 2, 4).
func competitionRanks(scores []float64) []int32 {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	ranks := make([]int32, len(scores))
	for pos, i := range idx {
		if pos > 0 && scores[i] == scores[idx[pos-1]] {
			ranks[i] = ranks[idx[pos-1]]
		} else {
			ranks[i] = int32(pos + 1)
		}
	}
	return ranks
}

// normalise maps a raw value to 0–1 and says how.
func normalise(ind *scoringv1.Indicator, x, lo, hi float64, n int) (float64, string) {
	lower := ind.GetDirection() == scoringv1.Direction_DIRECTION_LOWER_IS_BETTER
	var out float64
	var how string
	switch ind.GetNormalization() {
	case scoringv1.Normalization_NORMALIZATION_MIN_MAX:
		if hi == lo {
			out = 1
			how = fmt.Sprintf("min–max across %d units with a value: all equal, so 1", n)
		} else if lower {
			out = (hi - x) / (hi - lo)
			how = fmt.Sprintf("min–max across %d units with a value, lower is better: (%s − %s) / (%s − %s) = %s", n, fmtNum(hi), fmtNum(x), fmtNum(hi), fmtNum(lo), fmtNum(out))
		} else {
			out = (x - lo) / (hi - lo)
			how = fmt.Sprintf("min–max across %d units with a value: (%s − %s) / (%s − %s) = %s", n, fmtNum(x), fmtNum(lo), fmtNum(hi), fmtNum(lo), fmtNum(out))
		}
	case scoringv1.Normalization_NORMALIZATION_THRESHOLD:
		t := ind.GetThreshold()
		switch {
		case !lower && x >= t:
			out, how = 1, fmt.Sprintf("at or above the threshold %s: full marks", fmtNum(t))
		case !lower:
			out = x / t
			how = fmt.Sprintf("below the threshold %s: %s / %s = %s", fmtNum(t), fmtNum(x), fmtNum(t), fmtNum(out))
		case x <= t:
			out, how = 1, fmt.Sprintf("at or below the threshold %s: full marks", fmtNum(t))
		default:
			out = t / x
			how = fmt.Sprintf("above the threshold %s: %s / %s = %s", fmtNum(t), fmtNum(t), fmtNum(x), fmtNum(out))
		}
	case scoringv1.Normalization_NORMALIZATION_RATIO:
		s := x
		if ind.GetUnit() == scoringv1.MeasureUnit_MEASURE_UNIT_PERCENT {
			s = x / 100
		}
		out = s
		how = fmt.Sprintf("plain ratio %s", fmtNum(s))
		if lower {
			out = 1 - s
			how = fmt.Sprintf("plain ratio, lower is better: 1 − %s = %s", fmtNum(s), fmtNum(out))
		}
	}
	return math.Max(0, math.Min(1, out)), how
}

func unitWord(u scoringv1.MeasureUnit) string {
	switch u {
	case scoringv1.MeasureUnit_MEASURE_UNIT_PERCENT:
		return "%"
	case scoringv1.MeasureUnit_MEASURE_UNIT_RATIO:
		return "(share)"
	case scoringv1.MeasureUnit_MEASURE_UNIT_COUNT:
		return "(count)"
	case scoringv1.MeasureUnit_MEASURE_UNIT_DAYS:
		return "days"
	case scoringv1.MeasureUnit_MEASURE_UNIT_SCORE:
		return "(score 0–1)"
	}
	return ""
}

func round(x float64, prec int) float64 {
	p := math.Pow10(prec)
	return math.Round(x*p) / p
}

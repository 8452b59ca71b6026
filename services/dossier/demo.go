package dossier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"github.com/lienthong/lienthong/services/dossier/simulate"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Demo history (`lienthong up --demo`): dossiers from 2024-01-01 to the first load, filed at
// the agencies of the provinces of the source articles, with the online share rising from
// about 10% (as the articles found) to about 40%, and some agencies often late.
//
// The history is a pure function of the catalog, the number of dossiers and the time of the
// first load (kept in the meta bucket as the plan), so a load that was interrupted can run
// again: what was stored comes back as duplicates.

var (
	bucketMeta     = []byte("meta")        // demo_plan, demo_loaded
	metaDemoPlan   = []byte("demo_plan")   // JSON demoPlan, written before the first event
	metaDemoLoaded = []byte("demo_loaded") // JSON demoPlan, written after the last event
)

// demoSeedUnits are the provinces of the source articles: Hà Nội, Hà Giang, Hưng Yên, Nam
// Định, Bình Thuận.
var demoSeedUnits = []string{"01", "02", "33", "36", "60"}

const (
	demoSystem       = "lienthong/demo"
	demoSeed         = 0x6c69656e74686f6e // "lienthon"
	demoOnlineFirst  = 0.10               // online share in 2024-01 (the articles: about 10%)
	demoOnlineLast   = 0.40               // online share in the month of the first load
	demoLateShare    = 0.20               // share of agencies that are often late
	demoLateOften    = 0.35
	demoLateUsually  = 0.04
	demoInFlight     = 8     // batches queued for the writer at once
	demoLogEvery     = 20000 // dossiers between progress lines
	demoMaxRefusals  = 5     // refusals quoted in the error
	demoCatalogPage  = 1000
	demoCatalogDelay = 5 * time.Second // longest wait between catalog attempts
	// Districts were abolished on this day (2025 reorganisation): procedures carried out at
	// district level, and the districts' committees, get no dossiers from then on.
	demoDistrictsAbolished = "2025-07-01"
)

// demoStart is the first day of the history.
var demoStart = time.Date(2024, 1, 1, 0, 0, 0, 0, Vietnam)

// demoPlan fixes what a load makes, so that running it again makes the same.
type demoPlan struct {
	Dossiers int   `json:"dossiers"`
	Until    int64 `json:"until_ms"` // end of the history, Unix ms
	LoadedAt int64 `json:"loaded_at_ms,omitempty"`
	Events   int64 `json:"events,omitempty"`
}

// demoPair is a procedure at an agency that carries it out.
type demoPair struct {
	procedure, agency, unit string
	days                    int
	from, to                string // procedure validity, YYYY-MM-DD
	district                bool   // carried out at district level, or by a district's committee
	communeLevel            bool   // a commune-level procedure (demo_communes.go)
}

func (p *demoPair) validOn(date string) bool {
	return (p.from == "" || p.from <= date) && (p.to == "" || date <= p.to) &&
		!(p.district && date >= demoDistrictsAbolished)
}

// demoWorld is what the catalog says about the seed provinces.
type demoWorld struct {
	pairs     []demoPair
	agencies  []string        // agencies with at least one pair, sorted
	oftenLate map[string]bool // agency -> often late
	unitTo    map[string]string
	successor map[string]string         // retired unit -> unit it rolled up into
	life      map[string]demoAgencyLife // agencies that closed: until when, and who follows
	// communes are the commune-level units of a province from 2025-07-01, sorted, and
	// committees its commune People's Committees (demo_communes.go).
	communes   map[string][]string
	committees map[string][]demoCommittee
}

// unitOn is the unit in force on date that a seed unit's territory belonged to.
func (w *demoWorld) unitOn(unit, date string) string {
	if to := w.unitTo[unit]; to != "" && date > to {
		if s := w.successor[unit]; s != "" {
			return s
		}
	}
	return unit
}

// pick chooses a procedure at an agency in force on date.
func (w *demoWorld) pick(rng *rand.Rand, date string) *demoPair {
	for range 64 {
		if p := &w.pairs[rng.IntN(len(w.pairs))]; p.validOn(date) || w.atCommune(p, date) {
			return p
		}
	}
	start := rng.IntN(len(w.pairs))
	for i := range w.pairs {
		if p := &w.pairs[(start+i)%len(w.pairs)]; p.validOn(date) || w.atCommune(p, date) {
			return p
		}
	}
	return nil
}

// errDemoStopped ends a load because the part stops.
var errDemoStopped = errors.New("demo loading stopped")

// LoadDemo adds n demo dossiers (2024-01-01 to now) through the normal write path, once:
// later calls return at once. It may run while the part serves. When ctx ends it stops
// early without error; calling it again finishes the load.
func (s *Service) LoadDemo(ctx context.Context, cat catalogv1.CatalogServiceClient, n int) error {
	start := time.Now()
	plan, loaded, err := s.demoPlan(n)
	if err != nil {
		return err
	}
	if loaded {
		s.lg.Info("demo dossiers already loaded")
		return nil
	}
	if plan.Dossiers != n {
		s.lg.Info("demo dossiers: continuing the load begun earlier", zap.Int("dossiers", plan.Dossiers), zap.Int("asked", n))
	}
	w, err := s.demoWorld(ctx, cat)
	if errors.Is(err, errDemoStopped) || ctx.Err() != nil {
		s.lg.Info("demo dossiers: stopped before loading")
		return nil
	}
	if err != nil {
		return fmt.Errorf("demo dossiers: %w", err)
	}
	until := time.UnixMilli(plan.Until).In(Vietnam)
	times, err := s.demoTimes(plan.Dossiers, until)
	if err != nil {
		return fmt.Errorf("demo dossiers: %w", err)
	}
	s.lg.Info("demo dossiers loading", zap.Int("dossiers", plan.Dossiers), zap.Int("pairs", len(w.pairs)),
		zap.Int("agencies", len(w.agencies)), zap.Int("often_late", len(w.oftenLate)), zap.Time("until", until))

	l := &demoLoader{s: s, ctx: platform.WithCaller(ctx, &platform.Caller{System: demoSystem, Role: platform.RoleAdmin}), total: plan.Dossiers, start: start}
	err = l.run(w, times, until)
	l.drain()
	switch {
	case errors.Is(err, errDemoStopped) || (err == nil && ctx.Err() != nil):
		s.lg.Info("demo dossiers: stopped; the next start with --demo continues", zap.Int("dossiers", l.dossiers),
			zap.Int64("events", l.stored), zap.Duration("took", time.Since(start)))
		return nil
	case err != nil:
		return fmt.Errorf("demo dossiers: %w", err)
	}
	plan.LoadedAt, plan.Events = s.now().UnixMilli(), l.stored+l.dups
	v, _ := json.Marshal(plan)
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(metaDemoLoaded, v) }); err != nil {
		return fmt.Errorf("demo dossiers: %w", err)
	}
	took := time.Since(start)
	s.lg.Info("demo dossiers loaded", zap.Int("dossiers", l.dossiers), zap.Int64("events", l.stored),
		zap.Int64("duplicates", l.dups), zap.Duration("took", took.Round(time.Millisecond)),
		zap.Int64("events_per_s", int64(float64(l.stored+l.dups)/took.Seconds())))
	return nil
}

// demoPlan reads the plan of an earlier load or writes a new one; loaded reports that the
// load is complete.
func (s *Service) demoPlan(n int) (plan demoPlan, loaded bool, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if b.Get(metaDemoLoaded) != nil {
			loaded = true
			return nil
		}
		if v := b.Get(metaDemoPlan); v != nil {
			return json.Unmarshal(v, &plan)
		}
		if n <= 0 {
			return fmt.Errorf("demo dossiers: n must be positive, got %d", n)
		}
		plan = demoPlan{Dossiers: n, Until: s.now().Truncate(time.Second).UnixMilli()}
		v, err := json.Marshal(plan)
		if err != nil {
			return err
		}
		return b.Put(metaDemoPlan, v)
	})
	if err != nil {
		err = fmt.Errorf("demo plan: %w", err)
	}
	return plan, loaded, err
}

// demoWorld asks the catalog for the seed provinces' agencies and procedures, waiting for
// the catalog while it does not answer (it may be starting in the same process).
func (s *Service) demoWorld(ctx context.Context, cat catalogv1.CatalogServiceClient) (*demoWorld, error) {
	w := &demoWorld{oftenLate: map[string]bool{}, unitTo: map[string]string{}, successor: map[string]string{}}
	agencyUnit := map[string]string{}
	lives := map[string]*catalogv1.Agency{}
	for _, u := range demoSeedUnits {
		token := ""
		for {
			var resp *catalogv1.ListAgenciesResponse
			err := s.demoCall(ctx, "ListAgencies", func(ctx context.Context) (err error) {
				resp, err = cat.ListAgencies(ctx, &catalogv1.ListAgenciesRequest{Unit: u, PageSize: demoCatalogPage, PageToken: token})
				return err
			})
			if err != nil {
				return nil, err
			}
			for _, a := range resp.GetAgencies() {
				if a.GetUnitCode() == u { // the filter, checked
					agencyUnit[a.GetCode()] = u
					lives[a.GetCode()] = a
				}
			}
			if token = resp.GetNextPageToken(); token == "" {
				break
			}
		}
	}
	token := ""
	for {
		var resp *catalogv1.ListProceduresResponse
		err := s.demoCall(ctx, "ListProcedures", func(ctx context.Context) (err error) {
			resp, err = cat.ListProcedures(ctx, &catalogv1.ListProceduresRequest{PageSize: demoCatalogPage, PageToken: token})
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, p := range resp.GetProcedures() {
			if st := p.GetStatus(); st != catalogv1.ProcedureStatus_PROCEDURE_STATUS_ACTIVE && st != catalogv1.ProcedureStatus_PROCEDURE_STATUS_UNSPECIFIED {
				continue // suspended or abolished: no new dossiers
			}
			for _, a := range p.GetAgencyCodes() {
				u, ok := agencyUnit[a]
				if !ok {
					continue
				}
				w.pairs = append(w.pairs, demoPair{procedure: p.GetCode(), agency: a, unit: u, days: int(p.GetProcessingDays()),
					from: p.GetValidFrom(), to: p.GetValidTo(),
					district:     p.GetImplementingLevel() == catalogv1.ImplementingLevel_IMPLEMENTING_LEVEL_DISTRICT,
					communeLevel: p.GetImplementingLevel() == catalogv1.ImplementingLevel_IMPLEMENTING_LEVEL_COMMUNE})
			}
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	// An agency that carries out district-level procedures is a district's People's
	// Committee: it is gone with the districts, whatever the level of the procedure.
	districtAgency := map[string]bool{}
	for _, p := range w.pairs {
		if p.district {
			districtAgency[p.agency] = true
		}
	}
	for i := range w.pairs {
		w.pairs[i].district = w.pairs[i].district || districtAgency[w.pairs[i].agency]
	}
	if len(w.pairs) == 0 {
		return nil, fmt.Errorf("the catalog has no active procedure at an agency of units %s (was it started with --demo?)", strings.Join(demoSeedUnits, ", "))
	}
	sort.Slice(w.pairs, func(i, j int) bool {
		a, b := &w.pairs[i], &w.pairs[j]
		if a.procedure != b.procedure {
			return a.procedure < b.procedure
		}
		return a.agency < b.agency
	})
	seen := map[string]bool{}
	for _, p := range w.pairs {
		if !seen[p.agency] {
			seen[p.agency] = true
			w.agencies = append(w.agencies, p.agency)
		}
	}
	sort.Strings(w.agencies)
	rng := rand.New(rand.NewPCG(demoSeed, 1))
	late := max(1, int(math.Round(demoLateShare*float64(len(w.agencies)))))
	for _, i := range rng.Perm(len(w.agencies))[:late] {
		w.oftenLate[w.agencies[i]] = true
	}

	// Where each seed unit went: asked once per unit, not per dossier.
	var refs *catalogv1.LookupReferencesResponse
	err := s.demoCall(ctx, "LookupReferences", func(ctx context.Context) (err error) {
		refs, err = cat.LookupReferences(ctx, &catalogv1.LookupReferencesRequest{UnitCodes: demoSeedUnits})
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, r := range refs.GetUnits() {
		code := r.GetUnit().GetCode()
		if to := r.GetUnit().GetValidTo(); to != "" {
			w.unitTo[code] = to
			if cc := r.GetCurrentCodes(); len(cc) > 0 && cc[0] != code {
				w.successor[code] = cc[0]
			}
		}
	}
	for code, to := range w.unitTo {
		if w.successor[code] == "" {
			return nil, fmt.Errorf("unit %s retired on %s and the catalog names no unit it rolled up into", code, to)
		}
	}
	if err := s.demoSuccessors(ctx, cat, w, lives); err != nil {
		return nil, err
	}
	if err := s.demoCommunes(ctx, cat, w); err != nil {
		return nil, err
	}
	return w, nil
}

// demoCall calls the catalog until it answers, backing off while it is unavailable.
func (s *Service) demoCall(ctx context.Context, what string, call func(context.Context) error) error {
	wait := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := call(cctx)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return errDemoStopped
		}
		switch status.Code(err) {
		case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Aborted:
		default:
			return fmt.Errorf("catalog %s: %w", what, err)
		}
		if attempt == 1 || attempt%10 == 0 {
			s.lg.Info("demo dossiers wait for the catalog", zap.String("call", what), zap.Int("attempt", attempt), zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return errDemoStopped
		case <-time.After(wait):
		}
		wait = min(2*wait, demoCatalogDelay)
	}
}

// demoTimes returns n receipt times from demoStart to until, sorted: working days (Monday
// busiest, Friday quietest), office hours 7:30–17:00 with a quiet lunch break.
func (s *Service) demoTimes(n int, until time.Time) ([]time.Time, error) {
	type day struct {
		t   time.Time
		cum float64
	}
	var days []day
	total := 0.0
	for d := demoStart; !d.After(until); d = d.AddDate(0, 0, 1) {
		if !s.cal.IsWorkingDay(d.Add(12 * time.Hour)) {
			continue
		}
		w := 1.0
		switch d.Weekday() {
		case time.Monday:
			w = 1.2
		case time.Tuesday:
			w = 1.05
		case time.Friday:
			w = 0.85
		case time.Saturday, time.Sunday: // a working weekend day (a swapped day)
			w = 0.6
		}
		total += w
		days = append(days, day{d, total})
	}
	if len(days) == 0 || !days[0].t.Add(17*time.Hour).Before(until) {
		return nil, fmt.Errorf("no working day between %s and %s", demoStart.Format(time.DateOnly), until.Format(time.DateOnly))
	}
	// Office hours in minutes after midnight, with the weight of each minute.
	segs := []struct{ from, to, w float64 }{{450, 690, 1.0}, {690, 780, 0.15}, {780, 1020, 0.75}}
	segTotal := 0.0
	for _, g := range segs {
		segTotal += (g.to - g.from) * g.w
	}
	rng := rand.New(rand.NewPCG(demoSeed, 2))
	out := make([]time.Time, 0, n)
	for len(out) < n {
		x := rng.Float64() * total
		i := sort.Search(len(days), func(i int) bool { return days[i].cum > x })
		if i == len(days) {
			i--
		}
		y := rng.Float64() * segTotal
		minute := 0.0
		for _, g := range segs {
			if w := (g.to - g.from) * g.w; y < w {
				minute = g.from + y/g.w
				break
			} else {
				y -= w
			}
		}
		t := days[i].t.Add(time.Duration(minute * float64(time.Minute))).Truncate(time.Second)
		if t.After(until) {
			continue // later today than the load: draw again
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out, nil
}

// demoOnline is the online share of a month: linear from demoOnlineFirst in demoStart's
// month to demoOnlineLast in until's.
func demoOnline(month, last int32) float64 {
	first := monthOf(demoStart.UnixMilli())
	if last <= first {
		return demoOnlineLast
	}
	f := float64(month-first) / float64(last-first)
	return demoOnlineFirst + (demoOnlineLast-demoOnlineFirst)*min(max(f, 0), 1)
}

// demoLoader submits the generated events in batches, several queued at once.
type demoLoader struct {
	s     *Service
	ctx   context.Context // carries the demo's admin caller
	total int
	start time.Time

	inflight []*demoBatch
	dossiers int   // dossiers whose events were all stored
	stored   int64 // events stored
	dups     int64 // events found stored before (an earlier, interrupted load)
	logged   int
	refused  []string
	nRefused int
}

type demoBatch struct {
	events   []*dossierv1.DossierEvent
	dossiers int
	j        *job
	earlier  []bool // event stored by an earlier attempt of this batch
}

func (l *demoLoader) run(w *demoWorld, times []time.Time, until time.Time) error {
	lastMonth := monthOf(until.UnixMilli())
	counters := map[string]int{} // agency + day -> dossiers numbered
	cur := &demoBatch{}
	for i, received := range times {
		if l.ctx.Err() != nil {
			return errDemoStopped
		}
		rng := rand.New(rand.NewPCG(demoSeed, uint64(i)+1000))
		crng := rand.New(rand.NewPCG(demoSeed, uint64(i)+demoCommuneStream))
		date := received.Format(time.DateOnly)
		var pair *demoPair
		var key, agency, commune string
		for range 16 {
			pair = w.pick(rng, date)
			if pair == nil {
				return fmt.Errorf("no procedure in force on %s", date)
			}
			agency = w.agencyOn(pair.agency, date)
			commune = ""
			if c := w.committeeFor(crng, pair, date); c.agency != "" {
				agency, commune = c.agency, c.commune
			}
			key = agency + date
			if counters[key] < 9999 {
				break
			}
		}
		if counters[key] >= 9999 {
			return fmt.Errorf("more than 9999 dossiers a day at %s: ask for fewer", agency)
		}
		counters[key]++
		p := simulate.Typical
		p.Online = demoOnline(monthOf(received.UnixMilli()), lastMonth)
		p.Late = demoLateUsually
		if w.oftenLate[pair.agency] {
			p.Late = demoLateOften
		}
		ref := simulate.Ref{Unit: w.unitOn(pair.unit, date), Agency: agency, Procedure: pair.procedure, ProcessingDays: pair.days}
		evs := simulate.Dossier(rng, simulate.Code(agency, received, counters[key]), ref, received, p, l.s.cal, until)
		if commune == "" {
			commune = w.communeOf(crng, ref.Unit, date)
		}
		if len(evs) > 0 {
			evs[0].CommuneCode = commune // given on the first event only
		}
		if len(cur.events)+len(evs) > MaxBatch {
			if err := l.submit(cur); err != nil {
				return err
			}
			cur = &demoBatch{}
		}
		cur.events = append(cur.events, evs...)
		cur.dossiers++
	}
	if len(cur.events) > 0 {
		if err := l.submit(cur); err != nil {
			return err
		}
	}
	for len(l.inflight) > 0 {
		first := l.inflight[0]
		l.inflight = l.inflight[1:]
		if err := l.settle(first); err != nil {
			return err
		}
	}
	return nil
}

// submit queues a batch and settles the oldest when enough are queued.
func (l *demoLoader) submit(b *demoBatch) error {
	b.earlier = make([]bool, len(b.events))
	b.j = l.s.prepare(l.ctx, b.events)
	l.s.enqueue(l.ctx, b.j)
	l.inflight = append(l.inflight, b)
	for len(l.inflight) >= demoInFlight {
		first := l.inflight[0]
		l.inflight = l.inflight[1:]
		if err := l.settle(first); err != nil {
			return err
		}
	}
	return nil
}

// drain waits for every queued batch, so that nothing of the load is left in the writer.
func (l *demoLoader) drain() {
	for _, b := range l.inflight {
		<-b.j.done
	}
	l.inflight = nil
}

// settle waits for a batch and checks every result. When the catalog could not be asked
// the batch is sent again (what was stored comes back as duplicates); a refusal is an
// error: the generator and the catalog disagree.
func (l *demoLoader) settle(b *demoBatch) error {
	wait := 200 * time.Millisecond
	for {
		<-b.j.done
		if l.ctx.Err() != nil {
			return errDemoStopped
		}
		retry := false
		for _, r := range b.j.results {
			var pe *platform.Error
			if r.err != nil && errors.As(r.err, &pe) {
				switch {
				case pe.Reason == errStopped.Reason:
					return errDemoStopped
				case pe.Reason == errCatalogDown.Reason:
					retry = true
				}
			}
		}
		if !retry {
			break
		}
		for i, r := range b.j.results {
			if r.err == nil && !r.dup {
				b.earlier[i] = true
			}
		}
		l.s.lg.Info("demo dossiers wait for the catalog", zap.Duration("wait", wait))
		select {
		case <-l.ctx.Done():
			return errDemoStopped
		case <-time.After(wait):
		}
		wait = min(2*wait, demoCatalogDelay)
		b.j = l.s.prepare(l.ctx, b.events)
		l.s.enqueue(l.ctx, b.j)
	}
	for i, r := range b.j.results {
		switch {
		case r.err != nil:
			l.nRefused++
			if len(l.refused) < demoMaxRefusals {
				l.refused = append(l.refused, fmt.Sprintf("%s: %v", b.events[i].GetEventId(), r.err))
			}
		case r.dup && !b.earlier[i]:
			l.dups++
		default:
			l.stored++
		}
	}
	if l.nRefused > 0 {
		return fmt.Errorf("%d demo events refused (the generator and the catalog disagree): %s", l.nRefused, strings.Join(l.refused, "; "))
	}
	l.dossiers += b.dossiers
	if l.dossiers-l.logged >= demoLogEvery {
		l.logged = l.dossiers
		el := time.Since(l.start)
		l.s.lg.Info("demo dossiers progress", zap.Int("dossiers", l.dossiers), zap.Int("of", l.total),
			zap.Int64("events", l.stored+l.dups), zap.Duration("elapsed", el.Round(time.Millisecond)),
			zap.Int64("events_per_s", int64(float64(l.stored+l.dups)/el.Seconds())))
	}
	return nil
}

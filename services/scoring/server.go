package scoring

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
	"golang.org/x/text/unicode/norm"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// Part is the part's name (data file, flags, logs).
const Part = "scoring"

// Policy: rankings are public; everything else needs a token.
var Policy = platform.Policy{
	scoringv1.ScoringService_GetRanking_FullMethodName: platform.Public,
}

// Options are what the service needs besides its data file.
type Options struct {
	Catalog     CatalogSource
	Scopes      ScopeSource // nil: Catalog, when it answers agencies and communes too
	Dossier     DossierSource
	Activity    DossierActivitySource // nil: dossier activity unknown
	DocExchange DocExchangeSource     // nil: NoDocExchange
	Thresholds  Thresholds            // zero: DefaultThresholds
	// LiveTTL is how long a ranking that uses other parts' live figures is reused before
	// they are fetched again (default 10 s). Rankings from stored data alone are reused
	// until the data changes.
	LiveTTL time.Duration
	Logger  *zap.Logger
	Now     func() time.Time
}

// Service implements lienthong.scoring.v1.ScoringService.
type Service struct {
	scoringv1.UnimplementedScoringServiceServer
	store      *Store
	catalog    CatalogSource
	scopes     ScopeSource
	engine     *Engine
	activity   DossierActivitySource
	docs       DocExchangeSource
	thresholds Thresholds
	lg         *zap.Logger
	now        func() time.Time

	mu            sync.RWMutex
	builtins      []*scoringv1.Methodology
	methodologies map[string]*scoringv1.Methodology
	reg           registry
}

// Open loads the built-in and stored methodologies and returns the service.
func Open(db *bolt.DB, o Options) (*Service, error) {
	st, err := OpenStore(db)
	if err != nil {
		return nil, err
	}
	builtins, reg, err := loadBuiltins()
	if err != nil {
		return nil, fmt.Errorf("built-in methodologies: %w", err)
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.DocExchange == nil {
		o.DocExchange = NoDocExchange{}
	}
	if o.Thresholds == (Thresholds{}) {
		o.Thresholds = DefaultThresholds
	}
	if o.Thresholds.RefusedShare <= 0 {
		o.Thresholds.RefusedShare = DefaultThresholds.RefusedShare
	}
	if o.LiveTTL <= 0 {
		o.LiveTTL = 10 * time.Second
	}
	if o.Scopes == nil {
		o.Scopes, _ = o.Catalog.(ScopeSource)
	}
	s := &Service{catalog: o.Catalog, scopes: o.Scopes, store: st, activity: o.Activity, docs: o.DocExchange, thresholds: o.Thresholds, lg: o.Logger, now: o.Now,
		builtins: builtins, methodologies: map[string]*scoringv1.Methodology{}, reg: reg}
	for _, m := range builtins {
		s.methodologies[m.GetId()] = m
	}
	stored, err := st.Methodologies()
	if err != nil {
		return nil, err
	}
	for _, m := range stored {
		if m.GetScope() == scoringv1.Scope_SCOPE_UNSPECIFIED { // stored before methodologies had a scope
			m.Scope = scoringv1.Scope_SCOPE_PROVINCES
		}
		s.methodologies[m.GetId()] = m
		reg.add(m)
	}
	s.engine = &Engine{store: st, catalog: o.Catalog, scopes: s.scopeEntities, dossier: o.Dossier, docs: o.DocExchange, connections: s.connections,
		now: o.Now, liveTTL: o.LiveTTL, cache: map[string]*cached{}}
	return s, nil
}

// Register adds the scoring service to a part's server.
func Register(s *platform.Server, svc *Service) {
	scoringv1.RegisterScoringServiceServer(s, svc)
}

func (s *Service) stamp() string { return s.now().In(vietnam).Format(time.RFC3339) }

// ListMethodologies lists every methodology by id.
func (s *Service) ListMethodologies(ctx context.Context, r *scoringv1.ListMethodologiesRequest) (*scoringv1.ListMethodologiesResponse, error) {
	if _, err := platform.RequireRole(ctx, platform.RoleAdmin, platform.RoleMinistry, platform.RoleProvince, platform.RoleAgency); err != nil {
		return nil, err
	}
	size, err := platform.PageSize(r.GetPageSize())
	if err != nil {
		return nil, err
	}
	after, err := platform.DecodePageToken("methodologies", r.GetPageToken())
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	all := make([]*scoringv1.Methodology, 0, len(s.methodologies))
	for _, m := range s.methodologies {
		all = append(all, m)
	}
	s.mu.RUnlock()
	sortMethodologies(all)
	out := &scoringv1.ListMethodologiesResponse{TotalSize: int32(len(all))}
	for _, m := range all {
		if m.GetId() <= after && after != "" {
			continue
		}
		if len(out.Methodologies) == size {
			out.NextPageToken = platform.EncodePageToken("methodologies", out.Methodologies[size-1].GetId())
			break
		}
		out.Methodologies = append(out.Methodologies, m)
	}
	return out, nil
}

func (s *Service) methodology(id string) (*scoringv1.Methodology, error) {
	s.mu.RLock()
	m := s.methodologies[id]
	s.mu.RUnlock()
	if m == nil {
		return nil, platform.NotFound("methodology", id)
	}
	return m, nil
}

// GetMethodology returns one methodology.
func (s *Service) GetMethodology(ctx context.Context, r *scoringv1.GetMethodologyRequest) (*scoringv1.Methodology, error) {
	if _, err := platform.RequireRole(ctx, platform.RoleAdmin, platform.RoleMinistry, platform.RoleProvince, platform.RoleAgency); err != nil {
		return nil, err
	}
	return s.methodology(r.GetId())
}

// CreateMethodology checks and stores a new methodology.
func (s *Service) CreateMethodology(ctx context.Context, r *scoringv1.CreateMethodologyRequest) (*scoringv1.Methodology, error) {
	c, err := platform.RequireRole(ctx, platform.RoleAdmin, platform.RoleMinistry, platform.RoleProvince)
	if err != nil {
		return nil, err
	}
	if r.GetMethodology() == nil {
		return nil, platform.Invalid(platform.FieldViolation{Field: "methodology", Description: "the body must be a methodology"})
	}
	in := proto.Clone(r.GetMethodology()).(*scoringv1.Methodology)
	if err := mayDefineScope(c, in.GetScope(), &in.ScopeUnit, "add methodologies"); err != nil {
		return nil, err
	}
	normaliseText(in)
	s.mu.RLock()
	m, err := checkMethodology(in, s.reg)
	var existing *scoringv1.Methodology
	if err == nil {
		existing = s.methodologies[m.GetId()]
	}
	s.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	if err := s.checkScopeUnitKnown(ctx, m); err != nil {
		return nil, err
	}
	if existing != nil {
		cmp := proto.Clone(existing).(*scoringv1.Methodology)
		cmp.Builtin, cmp.CreatedBy, cmp.CreatedAt = false, "", ""
		if proto.Equal(cmp, m) {
			return existing, nil
		}
		return nil, platform.AlreadyExists("methodology", m.GetId())
	}
	if r.GetValidateOnly() {
		return m, nil
	}
	m.CreatedBy, m.CreatedAt = c.System, s.stamp()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.methodologies[m.GetId()] != nil {
		return nil, platform.AlreadyExists("methodology", m.GetId())
	}
	if err := s.store.AddMethodology(m); err != nil {
		return nil, err
	}
	s.methodologies[m.GetId()] = m
	s.reg.add(m)
	s.engine.invalidate()
	s.lg.Info("methodology added", zap.String("id", m.GetId()), zap.String("system", c.System))
	return m, nil
}

func normaliseText(m *scoringv1.Methodology) {
	m.Name, m.NameEn, m.Description = norm.NFC.String(m.GetName()), norm.NFC.String(m.GetNameEn()), norm.NFC.String(m.GetDescription())
	for _, c := range m.GetCategories() {
		c.Name, c.NameEn = norm.NFC.String(c.GetName()), norm.NFC.String(c.GetNameEn())
		for _, in := range c.GetIndicators() {
			in.Name, in.NameEn, in.Description = norm.NFC.String(in.GetName()), norm.NFC.String(in.GetNameEn()), norm.NFC.String(in.GetDescription())
		}
	}
}

// PutMetricReport stores a new revision of a unit's report.
func (s *Service) PutMetricReport(ctx context.Context, r *scoringv1.PutMetricReportRequest) (*scoringv1.MetricReport, error) {
	c, err := platform.RequireRole(ctx, platform.RoleAdmin, platform.RoleProvince)
	if err != nil {
		return nil, err
	}
	// Who may write is decided before the values are checked: a province token writes the
	// reports of its own unit, and of its own agencies and communes.
	var e entity
	var shape platform.Violations
	if checkEntityRequest(&shape, r.GetUnit(), r.GetAgency()); shape.Err() == nil {
		if e, err = s.entityOf(ctx, r.GetUnit(), r.GetAgency()); err != nil {
			return nil, err
		}
		if _, err := platform.MayWriteUnit(ctx, e.unitForRights()); err != nil {
			return nil, err
		}
	}
	s.mu.RLock()
	p, err := checkReport(r, s.reg)
	s.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	if e.scope == scoringv1.Scope_SCOPE_PROVINCES {
		err = s.checkUnitInPeriod(ctx, r.GetUnit(), p)
	} else {
		err = s.checkEntityInPeriod(ctx, e, p)
	}
	if err != nil {
		return nil, err
	}
	if err := checkPeriodBegun(p, s.now()); err != nil {
		return nil, err
	}
	rep := &scoringv1.MetricReport{UnitCode: r.GetUnit(), Period: p.String(), Values: r.GetValues(), Note: r.GetNote(),
		SubmittedBy: c.System, SubmittedAt: s.stamp(), ScopeUnit: e.province}
	if e.scope == scoringv1.Scope_SCOPE_AGENCIES {
		rep.UnitCode, rep.AgencyCode = e.province, e.code
	}
	out, created, err := s.store.PutReport(rep)
	if err != nil {
		return nil, err
	}
	if created {
		s.lg.Info("metric report stored", zap.String("unit", out.GetUnitCode()), zap.String("agency", out.GetAgencyCode()), zap.String("period", out.GetPeriod()),
			zap.Int32("revision", out.GetRevision()), zap.String("system", c.System))
	}
	return out, nil
}

// checkUnitInPeriod refuses a report of a unit that was not in force at any time of the
// period (Nam Định, 36, cannot report for 2026).
func (s *Service) checkUnitInPeriod(ctx context.Context, unit string, p Period) error {
	for _, d := range []time.Time{p.End(), p.Start()} {
		units, err := s.engine.catalog.Provinces(ctx, d.Format(dateLayout))
		if err != nil {
			return &platform.Error{Code: 14, Reason: "CATALOG_UNAVAILABLE", Message: "the catalog part is not reachable to check the unit",
				MessageVI: "Không kết nối được dịch vụ danh mục để kiểm tra đơn vị."}
		}
		if slices.ContainsFunc(units, func(u UnitInfo) bool { return u.Code == unit }) {
			return nil
		}
	}
	return platform.Invalid(platform.FieldViolation{Field: "unit",
		Description: fmt.Sprintf("unit %s was not a province-level unit in force during %s", unit, p)})
}

func checkUnitPeriod(unit, agency, period string) (Period, error) {
	var v platform.Violations
	checkEntityRequest(&v, unit, agency)
	p, err := ParsePeriod(period)
	if err != nil {
		v.Add("period", "%s", err)
	}
	return p, v.Err()
}

// GetMetricReport returns a report revision.
func (s *Service) GetMetricReport(ctx context.Context, r *scoringv1.GetMetricReportRequest) (*scoringv1.MetricReport, error) {
	p, err := checkUnitPeriod(r.GetUnit(), r.GetAgency(), r.GetPeriod())
	if err != nil {
		return nil, err
	}
	e, err := s.entityOf(ctx, r.GetUnit(), r.GetAgency())
	if err != nil {
		return nil, err
	}
	if _, err := platform.MayReadUnit(ctx, e.unitForRights()); err != nil {
		return nil, err
	}
	if r.GetRevision() < 0 {
		return nil, platform.Invalid(platform.FieldViolation{Field: "revision", Description: "must be 0 (latest) or more"})
	}
	rep, err := s.store.Report(p.String(), e.code, r.GetRevision())
	if err != nil {
		return nil, err
	}
	if rep == nil {
		id := e.code + "/" + p.String()
		if r.GetRevision() > 0 {
			id += "/" + strconv.Itoa(int(r.GetRevision()))
		}
		return nil, platform.NotFound("metric report", id)
	}
	per, err := s.store.Period(periodKey(p.String(), e.scope, e.province))
	if err != nil {
		return nil, err
	}
	rep.PeriodClosed = per.GetClosed()
	return rep, nil
}

// ListMetricReportRevisions lists the revisions, newest first.
func (s *Service) ListMetricReportRevisions(ctx context.Context, r *scoringv1.ListMetricReportRevisionsRequest) (*scoringv1.ListMetricReportRevisionsResponse, error) {
	p, err := checkUnitPeriod(r.GetUnit(), r.GetAgency(), r.GetPeriod())
	if err != nil {
		return nil, err
	}
	e, err := s.entityOf(ctx, r.GetUnit(), r.GetAgency())
	if err != nil {
		return nil, err
	}
	if _, err := platform.MayReadUnit(ctx, e.unitForRights()); err != nil {
		return nil, err
	}
	size, err := platform.PageSize(r.GetPageSize())
	if err != nil {
		return nil, err
	}
	q := "revisions|" + e.code + "|" + p.String()
	after, err := platform.DecodePageToken(q, r.GetPageToken())
	if err != nil {
		return nil, err
	}
	revs, err := s.store.Revisions(p.String(), e.code)
	if err != nil {
		return nil, err
	}
	out := &scoringv1.ListMetricReportRevisionsResponse{TotalSize: int32(len(revs))}
	below := int32(1 << 30)
	if after != "" {
		n, err := strconv.Atoi(after)
		if err != nil {
			return nil, platform.Invalid(platform.FieldViolation{Field: "page_token", Description: "not a token of this list"})
		}
		below = int32(n)
	}
	for _, rev := range revs {
		if rev.GetRevision() >= below {
			continue
		}
		if len(out.Revisions) == size {
			out.NextPageToken = platform.EncodePageToken(q, strconv.Itoa(int(out.Revisions[size-1].GetRevision())))
			break
		}
		out.Revisions = append(out.Revisions, rev)
	}
	return out, nil
}

// CloseReportingPeriod closes a period to revisions.
func (s *Service) CloseReportingPeriod(ctx context.Context, r *scoringv1.CloseReportingPeriodRequest) (*scoringv1.ReportingPeriod, error) {
	c, err := platform.RequireRole(ctx, platform.RoleAdmin, platform.RoleMinistry, platform.RoleProvince)
	if err != nil {
		return nil, err
	}
	scope, unit := r.GetScope(), r.GetScopeUnit()
	if err := mayDefineScope(c, scope, &unit, "close reporting periods"); err != nil {
		return nil, err
	}
	p, scope, err := checkPeriodScope(r.GetPeriod(), scope, unit)
	if err != nil {
		return nil, err
	}
	if err := checkPeriodBegun(p, s.now()); err != nil {
		return nil, err
	}
	out, err := s.store.ClosePeriod(periodKey(p.String(), scope, unit), &scoringv1.ReportingPeriod{Period: p.String(), Closed: true,
		ClosedBy: c.System, ClosedAt: s.stamp(), Scope: scope, ScopeUnit: unit})
	if err != nil {
		return nil, err
	}
	s.lg.Info("reporting period closed", zap.String("period", p.String()), zap.Stringer("scope", scope), zap.String("scope_unit", unit),
		zap.String("system", c.System))
	return out, nil
}

// GetReportingPeriod says whether a period is closed.
func (s *Service) GetReportingPeriod(ctx context.Context, r *scoringv1.GetReportingPeriodRequest) (*scoringv1.ReportingPeriod, error) {
	c, err := platform.RequireRole(ctx, platform.RoleAdmin, platform.RoleMinistry, platform.RoleProvince)
	if err != nil {
		return nil, err
	}
	scope, unit := r.GetScope(), r.GetScopeUnit()
	if c.Role == platform.RoleProvince && unit == "" && (scope == scoringv1.Scope_SCOPE_AGENCIES || scope == scoringv1.Scope_SCOPE_COMMUNES) {
		unit = c.Unit
	}
	p, scope, err := checkPeriodScope(r.GetPeriod(), scope, unit)
	if err != nil {
		return nil, err
	}
	if scope != scoringv1.Scope_SCOPE_PROVINCES {
		if _, err := platform.MayReadUnit(ctx, unit); err != nil {
			return nil, err
		}
	}
	out, err := s.store.Period(periodKey(p.String(), scope, unit))
	if err != nil {
		return nil, err
	}
	out.Period, out.Scope = p.String(), scope
	if scope != scoringv1.Scope_SCOPE_PROVINCES {
		out.ScopeUnit = unit
	}
	return out, nil
}

// rankingFor checks the methodology and period and returns the cached result.
func (s *Service) rankingFor(ctx context.Context, id, period string) (*result, error) {
	var v platform.Violations
	p, perr := ParsePeriod(period)
	if perr != nil {
		v.Add("period", "%s", perr)
	}
	m, err := s.methodology(id)
	if err != nil {
		if verr := v.Err(); verr != nil {
			return nil, verr
		}
		return nil, err
	}
	if perr == nil && !slices.Contains(m.GetPeriodKinds(), p.Kind) {
		v.Add("period", "%s scores periods of kind %v, not %s", m.GetId(), m.GetPeriodKinds(), p.Kind)
	}
	if perr == nil && p.Start().After(s.now().In(vietnam)) {
		v.Add("period", "%s has not begun", p)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.engine.ranking(ctx, m, p)
}

func (r *result) previousPeriod() string {
	return r.prevPeriod.String()
}

func rankChange(u *unitResult) int32 {
	if !u.hasPrevious {
		return 0
	}
	return u.prevRank - u.rank
}

// GetRanking answers every unit of the period by rank.
func (s *Service) GetRanking(ctx context.Context, r *scoringv1.GetRankingRequest) (*scoringv1.Ranking, error) {
	res, err := s.rankingFor(ctx, r.GetMethodology(), r.GetPeriod())
	if err != nil {
		return nil, err
	}
	scope, scopeUnit := scopeOf(res.m)
	out := &scoringv1.Ranking{Methodology: res.m.GetId(), Period: res.period.String(), UnitCount: int32(len(res.units)),
		PreviousPeriod: res.previousPeriod(), ComputedAt: res.computedAt.In(vietnam).Format(time.RFC3339), Notes: res.notes,
		Scope: scope, ScopeUnit: scopeUnit}
	for _, u := range res.units {
		out.Rows = append(out.Rows, &scoringv1.RankingRow{UnitCode: u.code, UnitName: u.name, Score: u.total, Rank: u.rank,
			PreviousRank: u.prevRank, RankChange: rankChange(u), Components: u.components, IndicatorsWithData: int32(u.withData)})
	}
	return out, nil
}

// GetUnitScore explains one unit's score.
func (s *Service) GetUnitScore(ctx context.Context, r *scoringv1.GetUnitScoreRequest) (*scoringv1.UnitScore, error) {
	code, err := s.scoredEntity(ctx, r)
	if err != nil {
		return nil, err
	}
	res, err := s.rankingFor(ctx, r.GetMethodology(), r.GetPeriod())
	if err != nil {
		return nil, err
	}
	scope, scopeUnit := scopeOf(res.m)
	u := res.byCode[code]
	if u == nil {
		return nil, platform.NotFound(scopeWord(scope), code).WithMetadata("reason",
			fmt.Sprintf("not one of the %s %s ranks in force at the end of %s", scopePlural(scope), res.m.GetId(), res.period))
	}
	return &scoringv1.UnitScore{Methodology: res.m.GetId(), Period: res.period.String(), UnitCode: u.code, UnitName: u.name,
		Score: u.total, Rank: u.rank, UnitCount: int32(len(res.units)), PreviousRank: u.prevRank, RankChange: rankChange(u),
		Components: u.components, Indicators: u.indicators, ComputedAt: res.computedAt.In(vietnam).Format(time.RFC3339), Notes: res.notes,
		Scope: scope, ScopeUnit: scopeUnit}, nil
}

// SendHeartbeat records that a system is alive.
func (s *Service) SendHeartbeat(ctx context.Context, r *scoringv1.SendHeartbeatRequest) (*scoringv1.Heartbeat, error) {
	c, err := platform.RequireRole(ctx, platform.RoleAdmin, platform.RoleProvince)
	if err != nil {
		return nil, err
	}
	var v platform.Violations
	if !validSystemID(r.GetSystem()) {
		v.Add("system", "must be an agency code, '/', and a subsystem name in lower case, like 000.00.00.H31/motcua or H26.107/motcua, got %q", r.GetSystem())
	}
	unit := r.GetUnitCode()
	if unit == "" && c.Role == platform.RoleProvince {
		unit = c.Unit
	}
	if !unitCodeRE.MatchString(unit) {
		v.Add("unit_code", "must be a 2-digit province code, got %q", unit)
	}
	var channels []string
	for i, ch := range r.GetChannels() {
		if !slices.Contains(allChannels, ch) {
			v.Add(fmt.Sprintf("channels[%d]", i), "must be DOSSIER_PUSH, DOCUMENT_EXCHANGE or METRIC_REPORTING, got %q", ch)
		} else if !slices.Contains(channels, ch) {
			channels = append(channels, ch)
		}
	}
	if len(r.GetSoftware()) > 200 {
		v.Add("software", "at most 200 bytes")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if _, err := platform.MayWriteUnit(ctx, unit); err != nil {
		return nil, err
	}
	// A system is of an agency of the unit it reports for, whoever sends its heartbeat: a
	// province speaks for the systems of its own agencies only, and an admin cannot file a
	// system under a unit its agency is not of.
	if err := s.agencyOfUnit(ctx, agencyOf(r.GetSystem()), unit); err != nil {
		return nil, err
	}
	if c.Role == platform.RoleProvince {
		hbs, err := s.store.Heartbeats()
		if err != nil {
			return nil, err
		}
		for _, h := range hbs {
			if h.GetSystem() == r.GetSystem() && h.GetUnitCode() != unit {
				return nil, platform.PermissionDenied(
					fmt.Sprintf("system %s belongs to unit %s", r.GetSystem(), h.GetUnitCode()),
					fmt.Sprintf("Hệ thống %s thuộc đơn vị %s.", r.GetSystem(), h.GetUnitCode()))
			}
		}
	}
	h := &scoringv1.Heartbeat{System: r.GetSystem(), UnitCode: unit, Channels: channels, Software: norm.NFC.String(r.GetSoftware()),
		ReceivedAt: s.stamp(), SentBy: c.System}
	if err := s.store.PutHeartbeat(h); err != nil {
		return nil, err
	}
	return h, nil
}

// agencyOfUnit checks that an agency belongs to unit (or to a unit that rolls up to it).
func (s *Service) agencyOfUnit(ctx context.Context, agency, unit string) error {
	if s.catalog == nil {
		return &platform.Error{Code: codes.Unavailable, Reason: "CATALOG_UNAVAILABLE", Message: "the catalog is not connected to this scoring part"}
	}
	au, found, err := s.catalog.AgencyUnit(ctx, agency)
	if err != nil {
		return &platform.Error{Code: codes.Unavailable, Reason: "CATALOG_UNAVAILABLE",
			Message:   "the catalog cannot be reached to check the system's agency; try again shortly",
			MessageVI: "Không kết nối được danh mục để kiểm tra cơ quan của hệ thống; vui lòng thử lại sau."}
	}
	if !found {
		e := platform.Invalid(platform.FieldViolation{Field: "system", Description: fmt.Sprintf("agency %s is not in the catalog", agency)})
		e.Reason = "UNKNOWN_REFERENCE"
		return e
	}
	if au == unit {
		return nil
	}
	if cur, err := s.catalog.CurrentCodes(ctx, []string{au}); err == nil && slices.Contains(cur[au], unit) {
		return nil
	}
	return platform.PermissionDenied(
		fmt.Sprintf("system %s is of agency %s of unit %s, not of unit %s", agency+"/…", agency, au, unit),
		fmt.Sprintf("Hệ thống của cơ quan %s (đơn vị %s) không thuộc đơn vị %s.", agency, au, unit))
}

// GetInterconnectionStatus answers the status of the known systems.
func (s *Service) GetInterconnectionStatus(ctx context.Context, r *scoringv1.GetInterconnectionStatusRequest) (*scoringv1.InterconnectionStatus, error) {
	c, err := platform.RequireRole(ctx, platform.RoleAdmin, platform.RoleMinistry, platform.RoleProvince)
	if err != nil {
		return nil, err
	}
	unit := r.GetUnit()
	if unit != "" && !unitCodeRE.MatchString(unit) {
		return nil, platform.Invalid(platform.FieldViolation{Field: "unit", Description: fmt.Sprintf("must be a 2-digit province code, got %q", unit)})
	}
	if c.Role == platform.RoleProvince {
		if unit == "" {
			unit = c.Unit
		} else if _, err := platform.MayReadUnit(ctx, unit); err != nil {
			return nil, err
		}
	}
	size, err := platform.PageSize(r.GetPageSize())
	if err != nil {
		return nil, err
	}
	q := "systems|" + unit
	after, err := platform.DecodePageToken(q, r.GetPageToken())
	if err != nil {
		return nil, err
	}
	now := s.now()
	all, err := s.statusOf(ctx, now)
	if err != nil {
		return nil, err
	}
	out := &scoringv1.InterconnectionStatus{AsOf: now.In(vietnam).Format(time.RFC3339), Thresholds: s.thresholds.describe()}
	for _, st := range all {
		if (unit != "" && st.GetUnitCode() != unit) || (after != "" && st.GetSystem() <= after) {
			continue
		}
		if len(out.Systems) == size {
			out.NextPageToken = platform.EncodePageToken(q, out.Systems[size-1].GetSystem())
			break
		}
		out.Systems = append(out.Systems, st)
	}
	return out, nil
}

package scoring

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Scoring inside a province (docs/domain.md, "Scoring inside a province"): a methodology
// ranks the provinces (SCOPE_PROVINCES, the default), or the agencies or the communes of one
// province (SCOPE_AGENCIES, SCOPE_COMMUNES, with scope_unit). The ranked entities are those
// of the catalog in force on the period's last day; their metric reports are filed like a
// province's, and each province's scope has its own reporting periods to close.

// ScopeSource answers the entities a methodology of agencies or communes ranks (the catalog
// part; GRPCCatalog implements it).
type ScopeSource interface {
	// Agencies are the agencies of a province in force on a date, by code, without the
	// province's People's Committee or Council (level 1), which does the ranking.
	Agencies(ctx context.Context, province, date string) ([]UnitInfo, error)
	// Communes are the commune-level units of a province in force on a date, by code.
	Communes(ctx context.Context, province, date string) ([]UnitInfo, error)
	// CommuneProvince is the province a commune-level unit belongs to; found is false when
	// the catalog does not know the code as a commune.
	CommuneProvince(ctx context.Context, commune string) (province string, found bool, err error)
}

var communeCodeRE = regexp.MustCompile(`^\d{5}$`)

// scopeOf is a methodology's scope, SCOPE_PROVINCES when unset, and its province.
func scopeOf(m *scoringv1.Methodology) (scoringv1.Scope, string) {
	if m.GetScope() == scoringv1.Scope_SCOPE_UNSPECIFIED {
		return scoringv1.Scope_SCOPE_PROVINCES, ""
	}
	return m.GetScope(), m.GetScopeUnit()
}

// scopeWord names what a scope ranks, in a sentence.
func scopeWord(s scoringv1.Scope) string {
	switch s {
	case scoringv1.Scope_SCOPE_AGENCIES:
		return "agency"
	case scoringv1.Scope_SCOPE_COMMUNES:
		return "commune"
	}
	return "unit"
}

// checkScope checks a methodology's scope: a known scope, a province code exactly for the
// agencies and communes of one province, and only SUBMITTED indicators there (the live
// figures of the other parts are kept per province, not per agency or commune).
func checkScope(v *platform.Violations, m *scoringv1.Methodology) {
	switch m.GetScope() {
	case scoringv1.Scope_SCOPE_UNSPECIFIED, scoringv1.Scope_SCOPE_PROVINCES:
		m.Scope = scoringv1.Scope_SCOPE_PROVINCES
		if m.GetScopeUnit() != "" {
			v.Add("scope_unit", "a methodology of the provinces ranks every province: leave scope_unit empty, or set scope SCOPE_AGENCIES or SCOPE_COMMUNES")
		}
		return
	case scoringv1.Scope_SCOPE_AGENCIES, scoringv1.Scope_SCOPE_COMMUNES:
	default:
		v.Add("scope", "must be SCOPE_PROVINCES, SCOPE_AGENCIES or SCOPE_COMMUNES")
		return
	}
	if !unitCodeRE.MatchString(m.GetScopeUnit()) {
		v.Add("scope_unit", "%s ranks the %s of one province: give its 2-digit code, got %q", m.GetScope(), scopePlural(m.GetScope()), m.GetScopeUnit())
	}
	for ci, c := range m.GetCategories() {
		for ii, in := range c.GetIndicators() {
			if in.GetSource() == scoringv1.IndicatorSource_INDICATOR_SOURCE_COMPUTED || in.GetFormula() != "" {
				v.Add(fmt.Sprintf("categories[%d].indicators[%d].source", ci, ii),
					"%s is computed from figures the other parts keep per province; a methodology of %s has SUBMITTED indicators only", in.GetId(), scopePlural(m.GetScope()))
			}
		}
	}
}

func scopePlural(s scoringv1.Scope) string {
	switch s {
	case scoringv1.Scope_SCOPE_AGENCIES:
		return "agencies"
	case scoringv1.Scope_SCOPE_COMMUNES:
		return "communes"
	}
	return "provinces"
}

// mayDefineScope keeps a province token to methodologies and periods of its own province's
// agencies or communes; admins and ministries may define any scope. An empty scope_unit of a
// province's request is its own unit.
func mayDefineScope(c *platform.Caller, scope scoringv1.Scope, unit *string, what string) error {
	if c.Role != platform.RoleProvince {
		return nil
	}
	if scope != scoringv1.Scope_SCOPE_AGENCIES && scope != scoringv1.Scope_SCOPE_COMMUNES {
		return platform.PermissionDenied(
			fmt.Sprintf("a province token may %s of its own province's agencies or communes only (scope SCOPE_AGENCIES or SCOPE_COMMUNES with scope_unit %s), not of the provinces", what, c.Unit),
			fmt.Sprintf("Mã truy cập của tỉnh chỉ được thao tác với phương pháp, kỳ báo cáo của các cơ quan hoặc xã của tỉnh mình (đơn vị %s), không phải của cấp tỉnh.", c.Unit))
	}
	if *unit == "" {
		*unit = c.Unit
	}
	if *unit != c.Unit {
		return platform.PermissionDenied(
			fmt.Sprintf("a token of unit %s may not %s of the %s of unit %s", c.Unit, what, scopePlural(scope), *unit),
			fmt.Sprintf("Mã truy cập của đơn vị %s không được thao tác với phạm vi của đơn vị %s.", c.Unit, *unit))
	}
	return nil
}

// periodKey is the key a reporting period is closed under: the period for the provinces'
// reports, `period/unit/agencies` or `period/unit/communes` for a province's scope.
func periodKey(period string, scope scoringv1.Scope, unit string) string {
	if scope == scoringv1.Scope_SCOPE_AGENCIES || scope == scoringv1.Scope_SCOPE_COMMUNES {
		return period + "/" + unit + "/" + scopePlural(scope)
	}
	return period
}

// reportScope is the scope a report belongs to.
func reportScope(r *scoringv1.MetricReport) (scoringv1.Scope, string) {
	switch {
	case r.GetAgencyCode() != "":
		return scoringv1.Scope_SCOPE_AGENCIES, r.GetScopeUnit()
	case r.GetScopeUnit() != "":
		return scoringv1.Scope_SCOPE_COMMUNES, r.GetScopeUnit()
	}
	return scoringv1.Scope_SCOPE_PROVINCES, ""
}

// reportEntity is what a report is of, the key it is stored under: the agency's code, or
// the unit's (a province's 2 digits, a commune's 5).
func reportEntity(r *scoringv1.MetricReport) string {
	if r.GetAgencyCode() != "" {
		return r.GetAgencyCode()
	}
	return r.GetUnitCode()
}

// entity is the agency, commune or province a report or score request names.
type entity struct {
	scope    scoringv1.Scope
	code     string // the stored key: agency code or unit code
	province string // for agencies and communes, their province
}

// unitForRights is the province whose token may write and read the entity's data.
func (e entity) unitForRights() string {
	if e.scope == scoringv1.Scope_SCOPE_PROVINCES {
		return e.code
	}
	return e.province
}

// checkEntityRequest checks the shape of `unit` and `agency` of a request: exactly one, the
// unit a province's 2 digits or a commune's 5, the agency an agency code.
func checkEntityRequest(v *platform.Violations, unit, agency string) {
	switch {
	case agency != "" && unit != "":
		v.Add("agency", "give a unit or an agency, not both")
	case agency != "":
		if !platform.IsAgencyCode(agency) {
			v.Add("agency", "must be an agency code like 000.00.05.H31 or H31.01, got %q", agency)
		}
	case !unitCodeRE.MatchString(unit) && !communeCodeRE.MatchString(unit):
		v.Add("unit", "must be a 2-digit province code or a 5-digit commune code, got %q", unit)
	}
}

// entityOf finds what a request names and the province it belongs to (from the catalog for
// an agency or a commune). The request's shape is checked before.
func (s *Service) entityOf(ctx context.Context, unit, agency string) (entity, error) {
	switch {
	case agency != "":
		if s.catalog == nil {
			return entity{}, errNoCatalog
		}
		prov, found, err := s.catalog.AgencyUnit(ctx, agency)
		if err != nil {
			return entity{}, errCatalogDown
		}
		if !found {
			return entity{}, unknownReference("agency", fmt.Sprintf("agency %s is not in the catalog", agency))
		}
		return entity{scope: scoringv1.Scope_SCOPE_AGENCIES, code: agency, province: prov}, nil
	case communeCodeRE.MatchString(unit):
		if s.scopes == nil {
			return entity{}, errNoCatalog
		}
		prov, found, err := s.scopes.CommuneProvince(ctx, unit)
		if err != nil {
			return entity{}, errCatalogDown
		}
		if !found {
			return entity{}, unknownReference("unit", fmt.Sprintf("unit %s is not a commune-level unit of the catalog", unit))
		}
		return entity{scope: scoringv1.Scope_SCOPE_COMMUNES, code: unit, province: prov}, nil
	}
	return entity{scope: scoringv1.Scope_SCOPE_PROVINCES, code: unit}, nil
}

var (
	errNoCatalog = &platform.Error{Code: codes.Unavailable, Reason: "CATALOG_UNAVAILABLE",
		Message:   "the catalog is not connected to this scoring part",
		MessageVI: "Dịch vụ danh mục chưa được kết nối với dịch vụ chấm điểm."}
	errCatalogDown = &platform.Error{Code: codes.Unavailable, Reason: "CATALOG_UNAVAILABLE",
		Message:   "the catalog part is not reachable to check the agency or commune; try again shortly",
		MessageVI: "Không kết nối được dịch vụ danh mục để kiểm tra cơ quan hoặc xã; vui lòng thử lại sau."}
)

func unknownReference(field, msg string) error {
	e := platform.Invalid(platform.FieldViolation{Field: field, Description: msg})
	e.Reason = "UNKNOWN_REFERENCE"
	return e
}

// scopeEntities are the entities a scope of a province ranks on a date.
func (s *Service) scopeEntities(ctx context.Context, scope scoringv1.Scope, province, date string) ([]UnitInfo, error) {
	if s.scopes == nil {
		return nil, errNoCatalog
	}
	if scope == scoringv1.Scope_SCOPE_AGENCIES {
		return s.scopes.Agencies(ctx, province, date)
	}
	return s.scopes.Communes(ctx, province, date)
}

// checkEntityInPeriod refuses a report of an agency or commune that was not one of its
// province's in force on the period's first or last day.
func (s *Service) checkEntityInPeriod(ctx context.Context, e entity, p Period) error {
	for _, d := range []time.Time{p.End(), p.Start()} {
		list, err := s.scopeEntities(ctx, e.scope, e.province, d.Format(dateLayout))
		if err != nil {
			return errCatalogDown
		}
		if slices.ContainsFunc(list, func(u UnitInfo) bool { return u.Code == e.code }) {
			return nil
		}
	}
	field := "unit"
	if e.scope == scoringv1.Scope_SCOPE_AGENCIES {
		field = "agency"
	}
	return platform.Invalid(platform.FieldViolation{Field: field,
		Description: fmt.Sprintf("%s %s was not one of the ranked %s of unit %s in force during %s", scopeWord(e.scope), e.code, scopePlural(e.scope), e.province, p)})
}

// checkScopeUnitKnown refuses a methodology of the agencies or communes of a unit the
// catalog does not know as a province (in force today or retired).
func (s *Service) checkScopeUnitKnown(ctx context.Context, m *scoringv1.Methodology) error {
	scope, unit := scopeOf(m)
	if scope == scoringv1.Scope_SCOPE_PROVINCES {
		return nil
	}
	if s.catalog == nil {
		return errNoCatalog
	}
	cur, err := s.catalog.CurrentCodes(ctx, []string{unit})
	if err != nil {
		return errCatalogDown
	}
	if _, ok := cur[unit]; !ok {
		return unknownReference("scope_unit", fmt.Sprintf("unit %s is not a province-level unit of the catalog", unit))
	}
	return nil
}

// Agencies lists the agencies of a province in force on date, without its level-1 agencies.
func (g GRPCCatalog) Agencies(ctx context.Context, province, date string) ([]UnitInfo, error) {
	var out []UnitInfo
	token := ""
	for {
		resp, err := g.Client.ListAgencies(ctx, &catalogv1.ListAgenciesRequest{Unit: province, PageSize: 1000, PageToken: token})
		if err != nil {
			return nil, err
		}
		for _, a := range resp.GetAgencies() {
			if rankedAgency(a.GetCode(), a.GetValidFrom(), a.GetValidTo(), date) {
				out = append(out, UnitInfo{Code: a.GetCode(), Name: a.GetName()})
			}
		}
		if token = resp.GetNextPageToken(); token == "" {
			return out, nil
		}
	}
}

// rankedAgency says whether an agency is ranked among its province's on date: in force then
// (an empty valid_from is "not recorded", taken as always), and below level 1.
func rankedAgency(code, from, to, date string) bool {
	if (from != "" && from > date) || (to != "" && to < date) {
		return false
	}
	c, err := platform.ParseAgencyCode(code)
	return err == nil && c.Level > 1
}

// Communes lists the commune-level units of a province in force on date.
func (g GRPCCatalog) Communes(ctx context.Context, province, date string) ([]UnitInfo, error) {
	var out []UnitInfo
	token := ""
	for {
		resp, err := g.Client.ListUnits(ctx, &catalogv1.ListUnitsRequest{Level: "commune", ParentCode: province, Date: date, PageSize: 1000, PageToken: token})
		if err != nil {
			return nil, err
		}
		for _, u := range resp.GetUnits() {
			out = append(out, UnitInfo{Code: u.GetCode(), Name: u.GetName()})
		}
		if token = resp.GetNextPageToken(); token == "" {
			return out, nil
		}
	}
}

// CommuneProvince asks the catalog for a commune-level unit's province.
func (g GRPCCatalog) CommuneProvince(ctx context.Context, commune string) (string, bool, error) {
	u, err := g.Client.GetUnit(ctx, &catalogv1.GetUnitRequest{Code: commune})
	if status.Code(err) == codes.NotFound {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	switch u.GetKind() {
	case catalogv1.UnitKind_UNIT_KIND_COMMUNE, catalogv1.UnitKind_UNIT_KIND_WARD, catalogv1.UnitKind_UNIT_KIND_SPECIAL_ZONE:
		return u.GetParentCode(), true, nil
	}
	return "", false, nil
}

// checkPeriodScope checks a period and the scope whose reporting period it names.
func checkPeriodScope(period string, scope scoringv1.Scope, unit string) (Period, scoringv1.Scope, error) {
	var v platform.Violations
	p, err := ParsePeriod(period)
	if err != nil {
		v.Add("period", "%s", err)
	}
	switch scope {
	case scoringv1.Scope_SCOPE_UNSPECIFIED, scoringv1.Scope_SCOPE_PROVINCES:
		scope = scoringv1.Scope_SCOPE_PROVINCES
		if unit != "" {
			v.Add("scope_unit", "the provinces' reporting period has no scope_unit; set scope SCOPE_AGENCIES or SCOPE_COMMUNES for a province's own")
		}
	case scoringv1.Scope_SCOPE_AGENCIES, scoringv1.Scope_SCOPE_COMMUNES:
		if !unitCodeRE.MatchString(unit) {
			v.Add("scope_unit", "give the 2-digit code of the province whose %s report, got %q", scopePlural(scope), unit)
		}
	default:
		v.Add("scope", "must be SCOPE_PROVINCES, SCOPE_AGENCIES or SCOPE_COMMUNES")
	}
	return p, scope, v.Err()
}

// rankedUnits are what a methodology ranks on a date: the provinces, or the agencies or
// communes of its province.
func (e *Engine) rankedUnits(ctx context.Context, m *scoringv1.Methodology, date string) ([]UnitInfo, error) {
	scope, unit := scopeOf(m)
	if scope == scoringv1.Scope_SCOPE_PROVINCES {
		return e.catalog.Provinces(ctx, date)
	}
	if e.scopes == nil {
		return nil, errNoCatalog
	}
	list, err := e.scopes(ctx, scope, unit, date)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(list, func(a, b UnitInfo) int { return strings.Compare(a.Code, b.Code) })
	return list, nil
}

// reportsOfScope keeps the reports of one scope: the provinces', or those of one province's
// agencies or communes.
func reportsOfScope(all map[string]*scoringv1.MetricReport, scope scoringv1.Scope, unit string) map[string]*scoringv1.MetricReport {
	out := make(map[string]*scoringv1.MetricReport, len(all))
	for k, r := range all {
		if s, u := reportScope(r); s == scope && u == unit {
			out[k] = r
		}
	}
	return out
}

// scopeSubmitted fills the submitted values of a methodology of agencies or communes: each
// one's latest report. Nothing rolls up: a report of an agency or commune not in force on
// the period's last day is left out, and a note says so.
func (e *Engine) scopeSubmitted(m *scoringv1.Methodology, p Period, in *inputs, inSet map[string]bool, reports map[string]*scoringv1.MetricReport) error {
	scope, _ := scopeOf(m)
	var outside []string
	for code := range reports {
		if !inSet[code] {
			outside = append(outside, code)
		}
	}
	if len(outside) > 0 {
		sort.Strings(outside)
		in.notes = append(in.notes, fmt.Sprintf("reports of %s not in force on %s are not ranked: %s",
			scopePlural(scope), p.End().Format(dateLayout), strings.Join(outside, ", ")))
	}
	for _, c := range m.GetCategories() {
		for _, ind := range c.GetIndicators() {
			for _, u := range in.units {
				r := reports[u.Code]
				x, ok := r.GetValues()[ind.GetId()]
				switch {
				case r == nil:
					in.values[u.Code][ind.GetId()] = value{why: fmt.Sprintf("no metric report of %s %s for %s", scopeWord(scope), u.Code, p)}
				case !ok:
					in.values[u.Code][ind.GetId()] = value{why: fmt.Sprintf("the metric report for %s does not give %s", p, ind.GetId())}
				default:
					in.values[u.Code][ind.GetId()] = value{ok: true, v: x, revision: r.GetRevision(),
						why: fmt.Sprintf("submitted in report %s revision %d by %s", u.Code, r.GetRevision(), r.GetSubmittedBy())}
				}
			}
		}
	}
	return nil
}

// scoredEntity checks what a score request names against its methodology's scope (a
// province, an agency or a commune) and whether the caller may read it: admins and
// ministries every score, a province those of its own unit, agencies and communes.
func (s *Service) scoredEntity(ctx context.Context, r *scoringv1.GetUnitScoreRequest) (string, error) {
	var v platform.Violations
	checkEntityRequest(&v, r.GetUnit(), r.GetAgency())
	if err := v.Err(); err != nil {
		return "", err
	}
	m, err := s.methodology(r.GetMethodology())
	if err != nil {
		return "", err
	}
	scope, scopeUnit := scopeOf(m)
	code, field, want := r.GetUnit(), "unit", scoringv1.Scope_SCOPE_PROVINCES
	switch {
	case r.GetAgency() != "":
		code, field, want = r.GetAgency(), "agency", scoringv1.Scope_SCOPE_AGENCIES
	case communeCodeRE.MatchString(r.GetUnit()):
		want = scoringv1.Scope_SCOPE_COMMUNES
	}
	if scope != want {
		return "", platform.Invalid(platform.FieldViolation{Field: field,
			Description: fmt.Sprintf("%s ranks %s, not a %s; ask for one of them", m.GetId(), describeScope(m), scopeWord(want))})
	}
	rights := code
	if scope != scoringv1.Scope_SCOPE_PROVINCES {
		rights = scopeUnit
	}
	if _, err := platform.MayReadUnit(ctx, rights); err != nil {
		return "", err
	}
	return code, nil
}

// describeScope says what a methodology ranks, in words.
func describeScope(m *scoringv1.Methodology) string {
	scope, unit := scopeOf(m)
	if scope == scoringv1.Scope_SCOPE_PROVINCES {
		return "the provinces"
	}
	return fmt.Sprintf("the %s of unit %s", scopePlural(scope), unit)
}

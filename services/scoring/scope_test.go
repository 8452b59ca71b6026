package scoring

import (
	"context"
	"encoding/csv"
	"os"
	"strings"
	"testing"

	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Scoring inside a province (docs/domain.md, "Scoring inside a province"): provinces score
// their own departments and district People's Committees (the Hà Giang article: quarterly,
// for emulation awards), under a methodology of SCOPE_AGENCIES or SCOPE_COMMUNES.

// scopeAgency is an agency of the fake catalog with its life.
type scopeAgency struct{ code, name, from, to string }

// fakeScopes answers agencies and communes per province.
type fakeScopes struct {
	agencies map[string][]scopeAgency
	communes map[string][]UnitInfo
}

func (f *fakeScopes) Agencies(_ context.Context, province, date string) ([]UnitInfo, error) {
	var out []UnitInfo
	for _, a := range f.agencies[province] {
		if rankedAgency(a.code, a.from, a.to, date) {
			out = append(out, UnitInfo{Code: a.code, Name: a.name})
		}
	}
	return out, nil
}

func (f *fakeScopes) Communes(_ context.Context, province, _ string) ([]UnitInfo, error) {
	return f.communes[province], nil
}

func (f *fakeScopes) CommuneProvince(_ context.Context, commune string) (string, bool, error) {
	for p, list := range f.communes {
		for _, u := range list {
			if u.Code == commune {
				return p, true, nil
			}
		}
	}
	return "", false, nil
}

// newScopeFixture is a fixture whose catalog also answers the agencies and communes of a
// province.
func newScopeFixture(t *testing.T, scopes *fakeScopes) *fixture {
	t.Helper()
	f := newFixture(t)
	f.svc.scopes = scopes
	return f
}

var hagiang = as(platform.RoleProvince, "02", "000.00.00.H22/motcua")

// testAgencies: Hà Giang's People's Committee (level 1, never ranked), four departments, and
// a department closed before 2015-Q1 ended.
func testAgencies() *fakeScopes {
	return &fakeScopes{
		agencies: map[string][]scopeAgency{"02": {
			{code: "000.00.00.H22", name: "UBND tỉnh Hà Giang"},
			{code: "000.00.02.H22", name: "Sở Tư pháp"},
			{code: "000.00.12.H22", name: "Sở Thông tin và Truyền thông"},
			{code: "000.00.15.H22", name: "Sở Nội vụ"},
			{code: "000.00.05.H22", name: "Sở Giao thông vận tải", from: "2010-01-01"},
			{code: "000.00.20.H22", name: "Ban đã giải thể", to: "2015-02-15"},
		}},
		communes: map[string][]UnitInfo{"08": {{Code: "02200", Name: "Phường Hà Giang 1"}, {Code: "02215", Name: "Xã Đồng Văn"}}},
	}
}

// agencyMethodology is a quarterly methodology of points over two submitted indicators.
const agencyMethodology = `{"id":"HG-TEST","name":"Xếp hạng ứng dụng CNTT các sở","period_kinds":["PERIOD_KIND_QUARTER"],
 "scale":"SCALE_POINTS","scope":"SCOPE_AGENCIES","scope_unit":"02",
 "categories":[{"id":"internal","name":"Nội bộ","weight":100,"indicators":[
   {"id":"official_email_use_pct","weight":60,"normalization":"NORMALIZATION_RATIO"},
   {"id":"edoc_processed_electronically_pct","weight":40,"normalization":"NORMALIZATION_RATIO"}]}]}`

func fieldsOf(err error) []string {
	var out []string
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, fv := range br.GetFieldViolations() {
				out = append(out, fv.GetField())
			}
		}
	}
	return out
}

func TestScopeValidation(t *testing.T) {
	f := newScopeFixture(t, testAgencies())
	mk := func(edit func(m *scoringv1.Methodology)) *scoringv1.Methodology {
		m := parseMethodology(t, agencyMethodology)
		edit(m)
		return m
	}
	cases := []struct {
		name  string
		m     *scoringv1.Methodology
		field string
	}{
		{"agencies without a province", mk(func(m *scoringv1.Methodology) { m.ScopeUnit = "" }), "scope_unit"},
		{"communes of a commune code", mk(func(m *scoringv1.Methodology) { m.Scope, m.ScopeUnit = scoringv1.Scope_SCOPE_COMMUNES, "02200" }), "scope_unit"},
		{"provinces with a province", mk(func(m *scoringv1.Methodology) { m.Scope = scoringv1.Scope_SCOPE_PROVINCES }), "scope_unit"},
		{"unknown scope", mk(func(m *scoringv1.Methodology) { m.Scope = 7 }), "scope"},
		{"computed indicator of agencies", mk(func(m *scoringv1.Methodology) {
			m.Categories[0].Indicators[1] = &scoringv1.Indicator{Id: "on_time", Name: "Đúng hạn", Unit: scoringv1.MeasureUnit_MEASURE_UNIT_RATIO,
				Source: scoringv1.IndicatorSource_INDICATOR_SOURCE_COMPUTED, Formula: "dossier.on_time_rate", Weight: 40,
				Normalization: scoringv1.Normalization_NORMALIZATION_RATIO}
		}), "categories[0].indicators[1].source"},
		{"province unknown to the catalog", mk(func(m *scoringv1.Methodology) { m.ScopeUnit = "99" }), "scope_unit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.svc.CreateMethodology(admin, &scoringv1.CreateMethodologyRequest{Methodology: c.m})
			if status.Code(err) != codes.InvalidArgument || !strings.Contains(strings.Join(fieldsOf(err), " "), c.field) {
				t.Fatalf("got %v (fields %v), want INVALID_ARGUMENT on %s", err, fieldsOf(err), c.field)
			}
		})
	}
	// A national methodology says SCOPE_PROVINCES; the built-ins too.
	ict, err := f.svc.GetMethodology(admin, &scoringv1.GetMethodologyRequest{Id: "ICT-2018"})
	if err != nil || ict.GetScope() != scoringv1.Scope_SCOPE_PROVINCES || ict.GetScopeUnit() != "" {
		t.Fatalf("ICT-2018 scope %v %q, %v", ict.GetScope(), ict.GetScopeUnit(), err)
	}
	// Requests naming what they score: one of unit and agency, of the methodology's scope.
	if _, err := f.svc.PutMetricReport(hagiang, &scoringv1.PutMetricReportRequest{Unit: "02", Agency: "000.00.02.H22", Period: "2015-Q1",
		Values: map[string]float64{"official_email_use_pct": 50}}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("unit and agency: got %v, want INVALID_ARGUMENT", err)
	}
	if _, err := f.svc.PutMetricReport(hagiang, &scoringv1.PutMetricReportRequest{Unit: "021", Period: "2015-Q1",
		Values: map[string]float64{"official_email_use_pct": 50}}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("3-digit unit: got %v, want INVALID_ARGUMENT", err)
	}
	if _, err := f.svc.CreateMethodology(admin, &scoringv1.CreateMethodologyRequest{Methodology: parseMethodology(t, agencyMethodology)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.GetUnitScore(admin, &scoringv1.GetUnitScoreRequest{Agency: "000.00.02.H22", Methodology: "ICT-2018", Period: "2018"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("agency under a methodology of provinces: got %v, want INVALID_ARGUMENT", err)
	}
	if _, err := f.svc.GetUnitScore(admin, &scoringv1.GetUnitScoreRequest{Unit: "02", Methodology: "HG-TEST", Period: "2015-Q1"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("province under a methodology of agencies: got %v, want INVALID_ARGUMENT", err)
	}
}

func TestProvinceScopeRights(t *testing.T) {
	f := newScopeFixture(t, testAgencies())
	m := parseMethodology(t, agencyMethodology)
	m.ScopeUnit = "" // a province's own, by default
	got, err := f.svc.CreateMethodology(hagiang, &scoringv1.CreateMethodologyRequest{Methodology: m})
	if err != nil {
		t.Fatalf("Hà Giang's own methodology: %v", err)
	}
	if got.GetScope() != scoringv1.Scope_SCOPE_AGENCIES || got.GetScopeUnit() != "02" || got.GetCreatedBy() != "000.00.00.H22/motcua" {
		t.Fatalf("stored %v %q by %q", got.GetScope(), got.GetScopeUnit(), got.GetCreatedBy())
	}
	other := parseMethodology(t, agencyMethodology)
	other.Id, other.ScopeUnit = "ND-TEST", "36"
	national := parseMethodology(t, agencyMethodology)
	national.Id, national.Scope, national.ScopeUnit = "NAT-Q", scoringv1.Scope_SCOPE_PROVINCES, ""
	for name, c := range map[string]struct {
		ctx context.Context
		m   *scoringv1.Methodology
	}{
		"Hà Giang, of Nam Định's agencies": {hagiang, other},
		"Hà Giang, of the provinces":       {hagiang, national},
		"Nam Định, of Hà Giang's agencies": {namdinh, parseMethodology(t, agencyMethodology)},
	} {
		if _, err := f.svc.CreateMethodology(c.ctx, &scoringv1.CreateMethodologyRequest{Methodology: c.m}); status.Code(err) != codes.PermissionDenied {
			t.Errorf("%s: got %v, want PERMISSION_DENIED", name, err)
		}
	}
	// A ministry's national methodology: Hà Giang cannot add it, even as it stands.
	if _, err := f.svc.CreateMethodology(ministry, &scoringv1.CreateMethodologyRequest{Methodology: national}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreateMethodology(hagiang, &scoringv1.CreateMethodologyRequest{Methodology: national}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("Hà Giang re-adding the ministry's NAT-Q: got %v, want PERMISSION_DENIED", err)
	}

	// Reports of agencies: their province's token (or an admin) writes; another province or
	// a ministry may not; an agency not in force during the period is refused.
	put := func(ctx context.Context, agency string, v float64) error {
		_, err := f.svc.PutMetricReport(ctx, &scoringv1.PutMetricReportRequest{Agency: agency, Period: "2015-Q1",
			Values: map[string]float64{"official_email_use_pct": v}})
		return err
	}
	if err := put(hagiang, "000.00.02.H22", 70); err != nil {
		t.Fatal(err)
	}
	if err := put(namdinh, "000.00.02.H22", 99); status.Code(err) != codes.PermissionDenied {
		t.Errorf("Nam Định writing Hà Giang's agency: got %v, want PERMISSION_DENIED", err)
	}
	if err := put(ministry, "000.00.02.H22", 99); status.Code(err) != codes.PermissionDenied {
		t.Errorf("ministry writing an agency's report: got %v, want PERMISSION_DENIED", err)
	}
	if err := put(hagiang, "000.00.00.H22", 99); status.Code(err) != codes.InvalidArgument {
		t.Errorf("the People's Committee itself (not ranked): got %v, want INVALID_ARGUMENT", err)
	}
	if err := put(hagiang, "000.00.20.H22", 99); err != nil {
		t.Errorf("an agency in force on the period's first day: %v", err)
	}
	if _, err := f.svc.GetMetricReport(namdinh, &scoringv1.GetMetricReportRequest{Agency: "000.00.02.H22", Period: "2015-Q1"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("Nam Định reading Hà Giang's agency: got %v, want PERMISSION_DENIED", err)
	}
	rep, err := f.svc.GetMetricReport(ministry, &scoringv1.GetMetricReportRequest{Agency: "000.00.02.H22", Period: "2015-Q1"})
	if err != nil || rep.GetAgencyCode() != "000.00.02.H22" || rep.GetUnitCode() != "02" || rep.GetScopeUnit() != "02" || rep.GetValues()["official_email_use_pct"] != 70 {
		t.Fatalf("ministry reading the agency's report: %v %v", rep, err)
	}

	// Periods: Hà Giang closes its own agencies' 2015-Q1, not the provinces' nor Nam Định's.
	closeAs := func(ctx context.Context, scope scoringv1.Scope, unit string) error {
		_, err := f.svc.CloseReportingPeriod(ctx, &scoringv1.CloseReportingPeriodRequest{Period: "2015-Q1", Scope: scope, ScopeUnit: unit})
		return err
	}
	if err := closeAs(hagiang, scoringv1.Scope_SCOPE_UNSPECIFIED, ""); status.Code(err) != codes.PermissionDenied {
		t.Errorf("Hà Giang closing the provinces' period: got %v, want PERMISSION_DENIED", err)
	}
	if err := closeAs(hagiang, scoringv1.Scope_SCOPE_AGENCIES, "36"); status.Code(err) != codes.PermissionDenied {
		t.Errorf("Hà Giang closing Nam Định's: got %v, want PERMISSION_DENIED", err)
	}
	if err := closeAs(namdinh, scoringv1.Scope_SCOPE_AGENCIES, "02"); status.Code(err) != codes.PermissionDenied {
		t.Errorf("Nam Định closing Hà Giang's: got %v, want PERMISSION_DENIED", err)
	}
	if err := closeAs(hagiang, scoringv1.Scope_SCOPE_AGENCIES, ""); err != nil {
		t.Fatalf("Hà Giang closing its agencies' 2015-Q1: %v", err)
	}
	if err := put(hagiang, "000.00.02.H22", 75); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("revision after its scope closed: got %v, want FAILED_PRECONDITION", err)
	}
	// The provinces' 2015-Q1 stays open: Hà Giang still reports for itself.
	if _, err := f.svc.PutMetricReport(hagiang, &scoringv1.PutMetricReportRequest{Unit: "02", Period: "2015-Q1",
		Values: map[string]float64{"official_email_use_pct": 40}}); err != nil {
		t.Errorf("the province's own report after its agencies' period closed: %v", err)
	}
	own, err := f.svc.GetReportingPeriod(hagiang, &scoringv1.GetReportingPeriodRequest{Period: "2015-Q1", Scope: scoringv1.Scope_SCOPE_AGENCIES})
	if err != nil || !own.GetClosed() || own.GetClosedBy() != "000.00.00.H22/motcua" || own.GetScopeUnit() != "02" || own.GetPeriod() != "2015-Q1" {
		t.Errorf("Hà Giang's agencies' period: %v %v", own, err)
	}
	nat, err := f.svc.GetReportingPeriod(hagiang, &scoringv1.GetReportingPeriodRequest{Period: "2015-Q1"})
	if err != nil || nat.GetClosed() || nat.GetScope() != scoringv1.Scope_SCOPE_PROVINCES {
		t.Errorf("the provinces' period: %v %v", nat, err)
	}
	if _, err := f.svc.GetReportingPeriod(namdinh, &scoringv1.GetReportingPeriodRequest{Period: "2015-Q1", Scope: scoringv1.Scope_SCOPE_AGENCIES, ScopeUnit: "02"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("Nam Định reading Hà Giang's agencies' period: got %v, want PERMISSION_DENIED", err)
	}
	// The ministry's national ranking of 2015-Q1 reads Hà Giang's own report, not its agencies'.
	us, err := f.svc.GetUnitScore(ministry, &scoringv1.GetUnitScoreRequest{Unit: "02", Methodology: "NAT-Q", Period: "2015-Q1"})
	if err != nil {
		t.Fatal(err)
	}
	if in := us.GetIndicators()[0]; in.GetRawValue() != 40 || !strings.Contains(in.GetExplanation(), "report 02 revision 1") {
		t.Errorf("national score of 02: %v (%s)", in.GetRawValue(), in.GetExplanation())
	}
}

func TestAgencyRankingWithTies(t *testing.T) {
	f := newScopeFixture(t, testAgencies())
	if _, err := f.svc.CreateMethodology(hagiang, &scoringv1.CreateMethodologyRequest{Methodology: parseMethodology(t, agencyMethodology)}); err != nil {
		t.Fatal(err)
	}
	for agency, v := range map[string][2]float64{
		"000.00.02.H22": {80, 50}, // 48 + 20 = 68
		"000.00.15.H22": {80, 50}, // the same: tied
		"000.00.12.H22": {90, 95}, // 54 + 38 = 92
		"000.00.20.H22": {100, 100},
	} {
		if _, err := f.svc.PutMetricReport(hagiang, &scoringv1.PutMetricReportRequest{Agency: agency, Period: "2015-Q1",
			Values: map[string]float64{"official_email_use_pct": v[0], "edoc_processed_electronically_pct": v[1]}}); err != nil {
			t.Fatal(agency, err)
		}
	}
	r, err := f.svc.GetRanking(anon, &scoringv1.GetRankingRequest{Methodology: "HG-TEST", Period: "2015-Q1"})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		code  string
		score float64
		rank  int32
	}
	var got []row
	for _, x := range r.GetRows() {
		got = append(got, row{x.GetUnitCode(), x.GetScore(), x.GetRank()})
	}
	// The People's Committee is not ranked; the department closed on 2015-02-15 is not either
	// (its report is noted); the one without a report scores 0.
	want := []row{{"000.00.12.H22", 92, 1}, {"000.00.02.H22", 68, 2}, {"000.00.15.H22", 68, 2}, {"000.00.05.H22", 0, 4}}
	if len(got) != len(want) || r.GetUnitCount() != 4 {
		t.Fatalf("rows %v (unit_count %d), want %v", got, r.GetUnitCount(), want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: got %v, want %v", i, got[i], want[i])
		}
	}
	if r.GetScope() != scoringv1.Scope_SCOPE_AGENCIES || r.GetScopeUnit() != "02" || r.GetRows()[0].GetUnitName() != "Sở Thông tin và Truyền thông" {
		t.Errorf("scope %v %q, name %q", r.GetScope(), r.GetScopeUnit(), r.GetRows()[0].GetUnitName())
	}
	if !strings.Contains(strings.Join(r.GetNotes(), "; "), "reports of agencies not in force on 2015-03-31 are not ranked: 000.00.20.H22") {
		t.Errorf("notes %q", r.GetNotes())
	}
	us, err := f.svc.GetUnitScore(hagiang, &scoringv1.GetUnitScoreRequest{Agency: "000.00.05.H22", Methodology: "HG-TEST", Period: "2015-Q1"})
	if err != nil {
		t.Fatal(err)
	}
	if us.GetRank() != 4 || us.GetUnitCount() != 4 || !strings.Contains(us.GetIndicators()[0].GetExplanation(), "no metric report of agency 000.00.05.H22 for 2015-Q1") {
		t.Errorf("score of the agency without a report: rank %d of %d, %q", us.GetRank(), us.GetUnitCount(), us.GetIndicators()[0].GetExplanation())
	}
	if _, err := f.svc.GetUnitScore(namdinh, &scoringv1.GetUnitScoreRequest{Agency: "000.00.05.H22", Methodology: "HG-TEST", Period: "2015-Q1"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("Nam Định reading the score of Hà Giang's agency: got %v, want PERMISSION_DENIED", err)
	}
	if _, err := f.svc.GetUnitScore(admin, &scoringv1.GetUnitScoreRequest{Agency: "000.00.20.H22", Methodology: "HG-TEST", Period: "2015-Q1"}); status.Code(err) != codes.NotFound {
		t.Errorf("score of the closed department: got %v, want NOT_FOUND", err)
	}
}

func TestCommuneRanking(t *testing.T) {
	f := newScopeFixture(t, testAgencies())
	m := parseMethodology(t, agencyMethodology)
	m.Id, m.Scope, m.ScopeUnit = "TQ-XA", scoringv1.Scope_SCOPE_COMMUNES, "08"
	tuyenquang := as(platform.RoleProvince, "08", "000.00.00.H60/motcua")
	if _, err := f.svc.CreateMethodology(tuyenquang, &scoringv1.CreateMethodologyRequest{Methodology: m}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.PutMetricReport(tuyenquang, &scoringv1.PutMetricReportRequest{Unit: "02215", Period: "2026-Q1",
		Values: map[string]float64{"official_email_use_pct": 50, "edoc_processed_electronically_pct": 50}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.PutMetricReport(hagiang, &scoringv1.PutMetricReportRequest{Unit: "02200", Period: "2026-Q1",
		Values: map[string]float64{"official_email_use_pct": 99}}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("another province's token writing a commune of 08: got %v, want PERMISSION_DENIED", err)
	}
	if _, err := f.svc.PutMetricReport(tuyenquang, &scoringv1.PutMetricReportRequest{Unit: "99999", Period: "2026-Q1",
		Values: map[string]float64{"official_email_use_pct": 99}}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("a commune the catalog does not know: got %v, want INVALID_ARGUMENT", err)
	}
	r, err := f.svc.GetRanking(anon, &scoringv1.GetRankingRequest{Methodology: "TQ-XA", Period: "2026-Q1"})
	if err != nil {
		t.Fatal(err)
	}
	if r.GetUnitCount() != 2 || r.GetRows()[0].GetUnitCode() != "02215" || r.GetRows()[0].GetScore() != 50 || r.GetRows()[1].GetScore() != 0 {
		t.Fatalf("commune ranking: %v", r.GetRows())
	}
	us, err := f.svc.GetUnitScore(tuyenquang, &scoringv1.GetUnitScoreRequest{Unit: "02215", Methodology: "TQ-XA", Period: "2026-Q1"})
	if err != nil || us.GetRank() != 1 || us.GetScope() != scoringv1.Scope_SCOPE_COMMUNES {
		t.Fatalf("commune score: %v %v", us, err)
	}
}

// demoCatalogAgencies reads the catalog's demo agencies of a level-1 code, all in force.
func demoCatalogAgencies(t *testing.T, province, level1 string) *fakeScopes {
	t.Helper()
	file, err := os.Open("../catalog/demo/agencies.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	recs, err := csv.NewReader(file).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	fs := &fakeScopes{agencies: map[string][]scopeAgency{}}
	for _, r := range recs[1:] {
		if strings.HasSuffix(r[0], "."+level1) && r[2] == province {
			fs.agencies[province] = append(fs.agencies[province], scopeAgency{code: r[0], name: r[1]})
		}
	}
	return fs
}

// The Hà Giang article: quarterly scoring of each department and district for emulation
// awards. The demo ranks the catalog's agencies of Hà Giang (02) for 2015-Q1 from synthetic
// values, and leaves the article's province-wide figures on 02's own report.
func TestDemoHaGiangAgencies(t *testing.T) {
	scopes := demoCatalogAgencies(t, "02", "H22")
	f := newScopeFixture(t, scopes)
	if err := f.svc.LoadDemo(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.LoadDemo(context.Background()); err != nil { // again: nothing new
		t.Fatal(err)
	}
	m, err := f.svc.GetMethodology(hagiang, &scoringv1.GetMethodologyRequest{Id: DemoProvinceMethodology})
	if err != nil {
		t.Fatal(err)
	}
	if m.GetScope() != scoringv1.Scope_SCOPE_AGENCIES || m.GetScopeUnit() != "02" || !strings.Contains(m.GetDescription(), "SYNTHETIC") {
		t.Errorf("demo methodology: scope %v %q, description %q", m.GetScope(), m.GetScopeUnit(), m.GetDescription())
	}
	// Every agency of the demo values is one of the catalog's demo agencies of Hà Giang.
	known := map[string]bool{}
	for _, a := range scopes.agencies["02"] {
		known[a.code] = true
	}
	reports, err := demoProvinceReports(f.svc.reg, "02")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reports {
		if !known[r.GetAgencyCode()] {
			t.Errorf("demo report of %s, not an agency of Hà Giang in services/catalog/demo/agencies.csv", r.GetAgencyCode())
		}
		if !strings.HasPrefix(r.GetNote(), "SYNTHETIC") {
			t.Errorf("report of %s not marked synthetic: %q", r.GetAgencyCode(), r.GetNote())
		}
	}
	revs, err := f.svc.ListMetricReportRevisions(ministry, &scoringv1.ListMetricReportRevisionsRequest{Agency: "000.12.00.H22", Period: "2015-Q1"})
	if err != nil || revs.GetTotalSize() != 1 {
		t.Fatalf("revisions of a demo agency report after two loads: %v %v", revs, err)
	}

	r, err := f.svc.GetRanking(anon, &scoringv1.GetRankingRequest{Methodology: DemoProvinceMethodology, Period: "2015-Q1"})
	if err != nil {
		t.Fatal(err)
	}
	if r.GetUnitCount() != 26 {
		t.Fatalf("ranked %d agencies, want the catalog's 16 provincial departments and offices and 10 district committees", r.GetUnitCount())
	}
	rows := r.GetRows()
	if rows[0].GetUnitCode() != "000.12.00.H22" || rows[0].GetScore() != 97.25 || rows[0].GetRank() != 1 {
		t.Errorf("first: %s %v rank %d, want the Department of Information and Communications, 97.25", rows[0].GetUnitCode(), rows[0].GetScore(), rows[0].GetRank())
	}
	var tied []string
	for _, x := range rows {
		if x.GetRank() == 4 {
			tied = append(tied, x.GetUnitCode())
			if x.GetScore() != 73.25 {
				t.Errorf("%s at rank 4 scores %v, want 73.25", x.GetUnitCode(), x.GetScore())
			}
		}
	}
	if strings.Join(tied, " ") != "000.02.00.H22 000.15.00.H22" || rows[5].GetRank() != 6 {
		t.Errorf("rank 4 shared by %v, then rank %d; want Justice and Home Affairs, then 6", tied, rows[5].GetRank())
	}
	last := rows[len(rows)-1]
	if last.GetUnitCode() != "000.16.00.H22" || last.GetScore() != 0 || last.GetRank() != 26 || last.GetIndicatorsWithData() != 0 {
		t.Errorf("last: %v", last)
	}
	// The article's own figures stay on the province's report.
	own, err := f.svc.GetMetricReport(ministry, &scoringv1.GetMetricReportRequest{Unit: "02", Period: "2015-Q1"})
	if err != nil || own.GetValues()["official_mailboxes"] != 7392 || own.GetValues()["bts_stations"] != 930 || own.GetAgencyCode() != "" {
		t.Errorf("Hà Giang's own 2015-Q1 report: %v %v", own, err)
	}
}

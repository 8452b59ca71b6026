package scoring

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestCompetitionRanks(t *testing.T) {
	tests := []struct {
		name   string
		scores []float64
		want   []int32
	}{
		{"distinct", []float64{0.5, 0.9, 0.7}, []int32{3, 1, 2}},
		{"tie skips the next rank", []float64{0.9, 0.633, 0.633, 0.1}, []int32{1, 2, 2, 4}},
		{"tie at the top", []float64{1, 1, 1, 0}, []int32{1, 1, 1, 4}},
		{"all zero", []float64{0, 0}, []int32{1, 1}},
		{"none", nil, []int32{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := competitionRanks(tt.scores)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNormalise(t *testing.T) {
	ind := func(n scoringv1.Normalization, d scoringv1.Direction, u scoringv1.MeasureUnit, th float64) *scoringv1.Indicator {
		return &scoringv1.Indicator{Normalization: n, Direction: d, Unit: u, Threshold: th}
	}
	hi, lo := scoringv1.Direction_DIRECTION_HIGHER_IS_BETTER, scoringv1.Direction_DIRECTION_LOWER_IS_BETTER
	mm, th, ra := scoringv1.Normalization_NORMALIZATION_MIN_MAX, scoringv1.Normalization_NORMALIZATION_THRESHOLD, scoringv1.Normalization_NORMALIZATION_RATIO
	r, p := scoringv1.MeasureUnit_MEASURE_UNIT_RATIO, scoringv1.MeasureUnit_MEASURE_UNIT_PERCENT
	tests := []struct {
		name        string
		ind         *scoringv1.Indicator
		x, min, max float64
		want        float64
	}{
		{"min-max", ind(mm, hi, p, 0), 60, 20, 100, 0.5},
		{"min-max lower is better", ind(mm, lo, scoringv1.MeasureUnit_MEASURE_UNIT_DAYS, 0), 5, 4, 8, 0.75},
		{"min-max all equal", ind(mm, hi, p, 0), 7, 7, 7, 1},
		{"threshold below", ind(th, hi, r, 0.5), 0.1, 0, 0, 0.2},
		{"threshold reached", ind(th, hi, r, 0.8), 0.95, 0, 0, 1},
		{"threshold lower is better", ind(th, lo, r, 0.1), 0.2, 0, 0, 0.5},
		{"ratio of a percentage", ind(ra, hi, p, 0), 89, 0, 0, 0.89},
		{"ratio lower is better", ind(ra, lo, r, 0), 0.25, 0, 0, 0.75},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, how := normalise(tt.ind, tt.x, tt.min, tt.max, 3)
			if round(got, 9) != tt.want || how == "" {
				t.Errorf("got %v (%q), want %v", got, how, tt.want)
			}
		})
	}
}

// row makes dossier statistics: received, online, resolved on time, late.
func row(unit string, received, online, onTime, late int64) *dossierv1.StatsRow {
	den := onTime + late
	return &dossierv1.StatsRow{Key: unit, ReceivedTotal: received, ReceivedOnline: online, ResolvedOnTime: onTime, ResolvedLate: late,
		OnTimeRate: float64(onTime) / float64(den), AvgProcessingDays: 3, ReceivedDigitized: received / 2, ResolvedElectronicResult: onTime,
		Qd766OnTimeRate: float64(onTime) / float64(den), AcceptedResolved: den, AvgProcessingWorkingDays: 3}
}

func rankOf(r *scoringv1.Ranking, unit string) *scoringv1.RankingRow {
	for _, row := range r.GetRows() {
		if row.GetUnitCode() == unit {
			return row
		}
	}
	return nil
}

func TestRankingsUnitsInForceAndExplained(t *testing.T) {
	f := newFixture(t)
	f.dossier.rows["2024|historical"] = map[string]*dossierv1.StatsRow{"36": row("36", 100, 40, 90, 10), "33": row("33", 100, 10, 80, 20), "40": row("40", 100, 10, 80, 20)}
	f.dossier.rows["2026|historical"] = map[string]*dossierv1.StatsRow{"37": row("37", 50, 30, 45, 5)}
	f.catalog.online["36"] = []string{"1.000001", "1.000002", "1.000003", "1.000004"}
	f.dossier.byProc = map[string]map[string]int64{"36|2024|historical": {"1.000001": 3, "1.000002": 0, "1.000005": 7}}
	r24, err := f.svc.GetRanking(anon, &scoringv1.GetRankingRequest{Methodology: "QD766-2022", Period: "2024"})
	if err != nil {
		t.Fatal(err)
	}
	if r24.GetUnitCount() != 63 || len(r24.GetRows()) != 63 {
		t.Fatalf("2024: %d units, %d rows; want 63", r24.GetUnitCount(), len(r24.GetRows()))
	}
	nd, hy, na := rankOf(r24, "36"), rankOf(r24, "33"), rankOf(r24, "40")
	if nd.GetRank() != 1 || hy.GetRank() != 2 || na.GetRank() != 2 || rankOf(r24, "01").GetRank() != 4 {
		t.Errorf("2024 ranks: 36 %d, 33 %d, 40 %d, 01 %d; want 1, 2, 2 (tie), 4", nd.GetRank(), hy.GetRank(), na.GetRank(), rankOf(r24, "01").GetRank())
	}
	if hy.GetScore() != na.GetScore() {
		t.Errorf("equal data, different scores: %v %v", hy.GetScore(), na.GetScore())
	}
	r26, err := f.svc.GetRanking(anon, &scoringv1.GetRankingRequest{Methodology: "QD766-2022", Period: "2026"})
	if err != nil {
		t.Fatal(err)
	}
	if r26.GetUnitCount() != 34 || rankOf(r26, "36") != nil || rankOf(r26, "37").GetRank() != 1 {
		t.Fatalf("2026: %d units, Nam Định %v, Ninh Bình %v", r26.GetUnitCount(), rankOf(r26, "36"), rankOf(r26, "37"))
	}
	// The breakdown explains every indicator.
	sc, err := f.svc.GetUnitScore(namdinh, &scoringv1.GetUnitScoreRequest{Unit: "36", Methodology: "QD766-2022", Period: "2024"})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*scoringv1.IndicatorScore{}
	var sum float64
	for _, in := range sc.GetIndicators() {
		byID[in.GetId()] = in
		sum += in.GetPoints()
		if in.GetExplanation() == "" {
			t.Errorf("%s has no explanation", in.GetId())
		}
	}
	if len(byID) != 11 {
		t.Fatalf("%d indicators, want 11", len(byID))
	}
	ot := byID["on_time_rate"]
	if !ot.GetHasValue() || ot.GetRawValue() != 0.9 || round(ot.GetPoints(), 6) != 12.6 || ot.GetFormula() != "dossier.on_time_rate" || !strings.Contains(ot.GetExplanation(), "90 resolved, stopped or withdrawn by the due date") {
		t.Errorf("on_time_rate: %v", ot)
	}
	od := byID["online_dossier_share"]
	if od.GetRawValue() != 0.4 || od.GetNormalized() != 0.8 || round(od.GetPoints(), 6) != 4.8 || !strings.Contains(od.GetExplanation(), "below the threshold 0.5") {
		t.Errorf("online_dossier_share (40%% online, threshold 50%%, 6 points): %v", od)
	}
	// Online services that had a dossier: 1.000001 of the four offered online (1.000005 is
	// not offered online by the catalog, 1.000002 had none).
	us := byID["online_services_used_share"]
	if !us.GetHasValue() || us.GetRawValue() != 0.25 || round(us.GetPoints(), 6) != 1.25 || !strings.Contains(us.GetExplanation(), "1 of the unit's 4 procedures offered online") {
		t.Errorf("online_services_used_share: %v", us)
	}
	sc33, err := f.svc.GetUnitScore(ministry, &scoringv1.GetUnitScoreRequest{Unit: "33", Methodology: "QD766-2022", Period: "2024"})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range sc33.GetIndicators() {
		if in.GetId() == "online_services_used_share" && (in.GetHasValue() || !strings.Contains(in.GetExplanation(), "no procedure of this unit offered online")) {
			t.Errorf("a unit with no procedure online: %v", in)
		}
	}
	pub := byID["procedures_published_pct"]
	if pub.GetHasValue() || !strings.Contains(pub.GetExplanation(), "no metric report of unit 36 for 2024") {
		t.Errorf("procedures_published_pct: %v", pub)
	}
	dx := byID["dossier_sync_connected_share"]
	if dx.GetHasValue() || !strings.Contains(dx.GetExplanation(), "does not include today") {
		t.Errorf("dossier_sync_connected_share in 2024: %v", dx)
	}
	// The total is the sum of the components, each rounded to 2 decimals.
	if d := sum - sc.GetScore(); d > 0.005*6 || d < -0.005*6 {
		t.Errorf("points add up to %v, score %v", sum, sc.GetScore())
	}
	// Scope, unknowns, period kinds.
	if _, err := f.svc.GetUnitScore(hungyen, &scoringv1.GetUnitScoreRequest{Unit: "36", Methodology: "QD766-2022", Period: "2024"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("another province's score: %v", err)
	}
	if _, err := f.svc.GetUnitScore(ministry, &scoringv1.GetUnitScoreRequest{Unit: "36", Methodology: "QD766-2022", Period: "2026"}); status.Code(err) != codes.NotFound {
		t.Errorf("Nam Định in 2026: %v", err)
	}
	if _, err := f.svc.GetRanking(anon, &scoringv1.GetRankingRequest{Methodology: "ICT-2018", Period: "2018-Q1"}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("ICT-2018 by quarter: %v", err)
	}
	if _, err := f.svc.GetRanking(anon, &scoringv1.GetRankingRequest{Methodology: "QD766-2022", Period: "2027"}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("a period that has not begun: %v", err)
	}
	if _, err := f.svc.GetRanking(anon, &scoringv1.GetRankingRequest{Methodology: "NOPE", Period: "2018"}); status.Code(err) != codes.NotFound {
		t.Errorf("unknown methodology: %v", err)
	}
}

func TestPreviousRankOfMergedUnits(t *testing.T) {
	f := newFixture(t)
	submit := func(unit, period string, v float64) {
		t.Helper()
		if _, err := f.svc.PutMetricReport(admin, &scoringv1.PutMetricReportRequest{Unit: unit, Period: period, Values: map[string]float64{"ict_policy_score": v}}); err != nil {
			t.Fatal(err)
		}
	}
	for u, v := range map[string]float64{"01": 0.9, "35": 0.2, "36": 0.4, "37": 0.3, "33": 0.5, "34": 0.7} {
		submit(u, "2024", v)
	}
	for u, v := range map[string]float64{"01": 0.5, "37": 0.8, "33": 0.6} {
		submit(u, "2025", v)
	}
	r, err := f.svc.GetRanking(anon, &scoringv1.GetRankingRequest{Methodology: "ICT-2018", Period: "2025"})
	if err != nil {
		t.Fatal(err)
	}
	if r.GetUnitCount() != 34 || r.GetPreviousPeriod() != "2024" {
		t.Fatalf("2025: %d units, previous %s", r.GetUnitCount(), r.GetPreviousPeriod())
	}
	// 2024 rolled up: 01 0.9, Hưng Yên (33+34) 0.6, Ninh Bình (35+36+37) 0.3.
	for unit, want := range map[string][3]int32{"37": {1, 3, 2}, "33": {2, 2, 0}, "01": {3, 1, -2}} {
		row := rankOf(r, unit)
		if got := [3]int32{row.GetRank(), row.GetPreviousRank(), row.GetRankChange()}; got != want {
			t.Errorf("%s: rank, previous, change = %v; want %v", unit, got, want)
		}
	}
	if rankOf(r, "04").GetPreviousRank() != 0 || rankOf(r, "04").GetRankChange() != 0 {
		t.Errorf("a unit without data has a previous rank: %v", rankOf(r, "04"))
	}
	if !strings.Contains(strings.Join(r.GetNotes(), " "), "36→37") {
		t.Errorf("notes do not say what was rolled up: %v", r.GetNotes())
	}
	// A new report shows at once (the cached ranking is dropped).
	submit("01", "2025", 0.95)
	r, err = f.svc.GetRanking(anon, &scoringv1.GetRankingRequest{Methodology: "ICT-2018", Period: "2025"})
	if err != nil {
		t.Fatal(err)
	}
	if rankOf(r, "01").GetRank() != 1 {
		t.Errorf("after a new report, 01 is %d; want 1", rankOf(r, "01").GetRank())
	}
}

func TestLiveFiguresRefreshAndOutages(t *testing.T) {
	f := newFixture(t)
	f.dossier.rows["2026|historical"] = map[string]*dossierv1.StatsRow{"37": row("37", 50, 30, 45, 5)}
	get := func() *scoringv1.Ranking {
		t.Helper()
		r, err := f.svc.GetRanking(anon, &scoringv1.GetRankingRequest{Methodology: "QD766-2022", Period: "2026"})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	first := rankOf(get(), "01").GetScore()
	f.dossier.mu.Lock()
	f.dossier.rows["2026|historical"]["01"] = row("01", 100, 100, 100, 0)
	f.dossier.mu.Unlock()
	if got := rankOf(get(), "01").GetScore(); got != first {
		t.Errorf("within the live TTL the ranking changed: %v → %v", first, got)
	}
	f.clock.advance(11 * time.Second)
	if got := rankOf(get(), "01"); got.GetScore() <= first || got.GetRank() != 1 {
		t.Errorf("after the live TTL: %v", got)
	}
	// The dossier part down: its indicators have no value, and say why.
	f.dossier.mu.Lock()
	f.dossier.err = &UnavailableError{Reason: "the dossier service is not reachable"}
	f.dossier.mu.Unlock()
	f.clock.advance(11 * time.Second)
	sc, err := f.svc.GetUnitScore(ministry, &scoringv1.GetUnitScoreRequest{Unit: "37", Methodology: "QD766-2022", Period: "2026"})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range sc.GetIndicators() {
		if strings.HasPrefix(in.GetFormula(), "dossier.") && (in.GetHasValue() || !strings.Contains(in.GetExplanation(), "dossier service is not reachable")) {
			t.Errorf("%s with the dossier part down: %v", in.GetId(), in)
		}
	}
	// The catalog down: no ranking at all (which units?).
	f.catalog.down = true
	f.clock.advance(11 * time.Second)
	if _, err := f.svc.GetRanking(anon, &scoringv1.GetRankingRequest{Methodology: "QD766-2022", Period: "2026"}); status.Code(err) != codes.Unavailable {
		t.Errorf("catalog down: got %v, want UNAVAILABLE", err)
	}
}

func TestDocumentExchangeFiguresUnavailable(t *testing.T) {
	f := newFixture(t)
	if _, err := f.svc.CreateMethodology(admin, &scoringv1.CreateMethodologyRequest{Methodology: parseMethodology(t, goodMethodology)}); err != nil {
		t.Fatal(err)
	}
	sc, err := f.svc.GetUnitScore(admin, &scoringv1.GetUnitScoreRequest{Unit: "33", Methodology: "ONLINE-2026", Period: "2026"})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range sc.GetIndicators() {
		if in.GetId() == "docs_online" && (in.GetHasValue() || in.GetPoints() != 0 || !strings.Contains(in.GetExplanation(), "document-exchange service is not reachable")) {
			t.Errorf("docexchange indicator: %v", in)
		}
	}
	// The adapter never gives a number.
	if _, err := (NoDocExchange{}).DocumentStats(context.Background(), "33", Period{}); err == nil {
		t.Error("NoDocExchange gave document stats")
	}
}

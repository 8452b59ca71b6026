package scoring

import (
	"math"
	"strings"
	"testing"

	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
	"google.golang.org/protobuf/proto"
)

// TestBuiltinSharesRollUpWeighted: Thái Bình (34) merged into Hưng Yên (33) on 1 July 2025
// (NQ 202/2025/QH15; docs/domain.md, "Merged provinces: rolling figures up"). Their 2025
// reports roll up into 33, and the built-in methodologies' submitted shares are weighted by
// the counts they name as denominators, not averaged; a rate per 100 officials is weighted
// by the officials, not summed; without a denominator the plain mean, said so.
func TestBuiltinSharesRollUpWeighted(t *testing.T) {
	f := newFixture(t)
	put := func(unit string, v map[string]float64) {
		t.Helper()
		if _, err := f.svc.PutMetricReport(admin, &scoringv1.PutMetricReportRequest{Unit: unit, Period: "2025", Values: v}); err != nil {
			t.Fatal(err)
		}
	}
	put("33", map[string]float64{
		"online_dossier_pct": 10, "dossiers_received": 900_000,
		"ict_computers_per_100_officials": 80, "ict_officials": 3_000,
		"ict_it_staff_pct":         40, // ict_agencies not reported by 33
		"procedures_published_pct": 90, "procedures_total": 1_800,
		"online_services_level3": 800,
	})
	put("34", map[string]float64{
		"online_dossier_pct": 60, "dossiers_received": 100_000,
		"ict_computers_per_100_officials": 120, "ict_officials": 1_000,
		"ict_it_staff_pct": 80, "ict_agencies": 40,
		"procedures_published_pct": 50, "procedures_total": 200,
		"online_services_level3": 700,
	})
	indicators := func(m string) map[string]*scoringv1.IndicatorScore {
		t.Helper()
		sc, err := f.svc.GetUnitScore(hungyen, &scoringv1.GetUnitScoreRequest{Unit: "33", Methodology: m, Period: "2025"})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]*scoringv1.IndicatorScore{}
		for _, in := range sc.GetIndicators() {
			out[in.GetId()] = in
		}
		return out
	}
	ict, qd := indicators("ICT-2018"), indicators("QD766-2022")
	for _, tc := range []struct {
		ind  *scoringv1.IndicatorScore
		want float64
		why  string
	}{
		// (10 × 900,000 + 60 × 100,000) / 1,000,000 = 15; the mean would be 35.
		{ict["online_dossier_pct"], 15, "weighted by dossiers_received"},
		// (80 × 3,000 + 120 × 1,000) / 4,000 = 90 computers per 100 officials; the sum 200.
		{ict["ict_computers_per_100_officials"], 90, "weighted by ict_officials"},
		// QĐ 766: (90 × 1,800 + 50 × 200) / 2,000 = 86; the mean would be 70.
		{qd["procedures_published_pct"], 86, "weighted by procedures_total"},
		// 33 gave no ict_agencies: the mean, and the explanation says it is not weighted.
		{ict["ict_it_staff_pct"], 60, "not weighted: no ict_agencies reported by 33"},
		// A count is summed.
		{ict["online_services_level3"], 1_500, "sum of 2 submitted counts"},
	} {
		if tc.ind == nil {
			t.Fatal("an indicator is missing from the score")
		}
		if !tc.ind.GetHasValue() || math.Abs(tc.ind.GetRawValue()-tc.want) > 1e-9 || !strings.Contains(tc.ind.GetExplanation(), tc.why) {
			t.Errorf("%s = %v (%q); want %v with %q", tc.ind.GetId(), tc.ind.GetRawValue(), tc.ind.GetExplanation(), tc.want, tc.why)
		}
	}
}

// TestBuiltinDenominatorsAreReportedCounts: every share of the built-in methodologies that
// reports carry names a denominator a report can carry (a SUBMITTED COUNT indicator), and a
// new methodology may only name such a one; an indicator referred to by id takes the
// denominator of its definition.
func TestBuiltinDenominatorsAreReportedCounts(t *testing.T) {
	builtins, reg, err := loadBuiltins()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range builtins {
		for _, c := range m.GetCategories() {
			for _, in := range c.GetIndicators() {
				share := in.GetUnit() == scoringv1.MeasureUnit_MEASURE_UNIT_PERCENT || in.GetUnit() == scoringv1.MeasureUnit_MEASURE_UNIT_RATIO ||
					strings.Contains(in.GetId(), "_per_")
				if in.GetSource() != scoringv1.IndicatorSource_INDICATOR_SOURCE_SUBMITTED || !share {
					continue
				}
				d := reg[in.GetDenominator()]
				if d == nil || d.GetUnit() != scoringv1.MeasureUnit_MEASURE_UNIT_COUNT || d.GetSource() != scoringv1.IndicatorSource_INDICATOR_SOURCE_SUBMITTED {
					t.Errorf("%s %s: denominator %q is not a submitted count", m.GetId(), in.GetId(), in.GetDenominator())
				}
			}
		}
	}
	base := &scoringv1.Methodology{Id: "DEN-TEST", Name: "Thử", PeriodKinds: []scoringv1.PeriodKind{scoringv1.PeriodKind_PERIOD_KIND_YEAR},
		Scale: scoringv1.Scale_SCALE_INDEX, Categories: []*scoringv1.Category{{Id: "c", Name: "C", Weight: 1, Indicators: []*scoringv1.Indicator{
			{Id: "online_dossier_pct", Weight: 1, Normalization: scoringv1.Normalization_NORMALIZATION_MIN_MAX}}}}}
	got, err := checkMethodology(base, reg)
	if err != nil {
		t.Fatal(err)
	}
	if d := got.GetCategories()[0].GetIndicators()[0].GetDenominator(); d != "dossiers_received" {
		t.Errorf("a reference by id has denominator %q; want dossiers_received", d)
	}
	for den, want := range map[string]string{
		"no_such_count":      "unknown indicator",
		"ict_policy_score":   "a denominator is a SUBMITTED COUNT indicator",
		"online_dossier_pct": "its own denominator",
	} {
		m := proto.Clone(base).(*scoringv1.Methodology)
		m.GetCategories()[0].GetIndicators()[0].Denominator = den
		if _, err := checkMethodology(m, reg); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("denominator %s: got %v; want an error with %q", den, err, want)
		}
	}
}

package scoring

import (
	"math"
	"strings"
	"testing"

	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
)

// TestRollUpMergedProvinces: Nam Định (36) and Hà Nam (35) merged into Ninh Bình (37) on
// 1 July 2025 (NQ 202/2025/QH15; docs/domain.md, "Merged provinces: rolling figures up").
// Their reports roll up into 37: counts are summed and shares weighted by their
// denominators; the plain mean only when a denominator is missing, and said so.
func TestRollUpMergedProvinces(t *testing.T) {
	rep := func(_ string, v map[string]float64) *scoringv1.MetricReport {
		return &scoringv1.MetricReport{Revision: 1, SubmittedBy: "000.00.00.H00/x", Values: v}
	}
	reports := map[string]*scoringv1.MetricReport{
		"35": rep("35", map[string]float64{"online_pct": 10, "received": 100_000, "score": 0.2}),
		"36": rep("36", map[string]float64{"online_pct": 40, "received": 300_000, "score": 0.4}),
		"37": rep("37", map[string]float64{"online_pct": 70, "received": 100_000, "score": 0.3}),
	}
	srcs := []string{"35", "36", "37"}
	pct := &scoringv1.Indicator{Id: "online_pct", Unit: scoringv1.MeasureUnit_MEASURE_UNIT_PERCENT, Denominator: "received"}
	count := &scoringv1.Indicator{Id: "received", Unit: scoringv1.MeasureUnit_MEASURE_UNIT_COUNT}
	score := &scoringv1.Indicator{Id: "score", Unit: scoringv1.MeasureUnit_MEASURE_UNIT_SCORE}
	tests := []struct {
		name    string
		ind     *scoringv1.Indicator
		reports map[string]*scoringv1.MetricReport
		want    float64
		why     string
	}{
		// (10×100k + 40×300k + 70×100k) / 500k = 40.
		{"share weighted by its denominator", pct, reports, 40, "weighted by received"},
		{"count summed", count, reports, 500_000, "sum of 3 submitted counts"},
		{"score without denominator: mean", score, reports, 0.3, "names no denominator"},
	}
	// A skewed case: the mean (40) and the weighted value differ.
	skew := map[string]*scoringv1.MetricReport{
		"35": rep("35", map[string]float64{"online_pct": 10, "received": 800_000}),
		"36": rep("36", map[string]float64{"online_pct": 40, "received": 100_000}),
		"37": rep("37", map[string]float64{"online_pct": 70, "received": 100_000}),
	}
	tests = append(tests, struct {
		name    string
		ind     *scoringv1.Indicator
		reports map[string]*scoringv1.MetricReport
		want    float64
		why     string
	}{"weighted differs from the mean", pct, skew, 19, "weighted by received"})
	missing := map[string]*scoringv1.MetricReport{
		"35": rep("35", map[string]float64{"online_pct": 10, "received": 800_000}),
		"36": rep("36", map[string]float64{"online_pct": 40}),
		"37": rep("37", map[string]float64{"online_pct": 70, "received": 100_000}),
	}
	tests = append(tests, struct {
		name    string
		ind     *scoringv1.Indicator
		reports map[string]*scoringv1.MetricReport
		want    float64
		why     string
	}{"a report without the denominator: mean", pct, missing, 40, "no received reported by 36"})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, ok := rollUp(tc.ind, srcs, tc.reports)
			if !ok || !v.ok || math.Abs(v.v-tc.want) > 1e-9 || !strings.Contains(v.why, tc.why) {
				t.Errorf("got %v %q, want %v with %q", v.v, v.why, tc.want, tc.why)
			}
		})
	}
}

package scoring

import (
	"fmt"
	"strings"

	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
)

// rollUp combines the values that reports of several units (the predecessors of a merged
// unit) give for one indicator (docs/domain.md, "Merged provinces: rolling figures up"):
// counts are summed; a share whose denominator (another submitted count) every report gives
// is weighted by it; anything else is the plain mean, and the explanation says why.
func rollUp(ind *scoringv1.Indicator, srcs []string, reports map[string]*scoringv1.MetricReport) (value, bool) {
	var sum, weighted, weights float64
	var n int
	var used, missingDen []string
	den := ind.GetDenominator()
	for _, s := range srcs {
		r := reports[s]
		x, ok := r.GetValues()[ind.GetId()]
		if !ok {
			continue
		}
		sum += x
		n++
		used = append(used, fmt.Sprintf("%s revision %d by %s", s, r.GetRevision(), r.GetSubmittedBy()))
		if d, ok := r.GetValues()[den]; ok && den != "" {
			weighted += x * d
			weights += d
		} else {
			missingDen = append(missingDen, s)
		}
	}
	if n == 0 {
		return value{}, false
	}
	from := strings.Join(used, "; ")
	switch unit := ind.GetUnit(); {
	case unit == scoringv1.MeasureUnit_MEASURE_UNIT_COUNT:
		return value{ok: true, v: sum, why: fmt.Sprintf("sum of %d submitted counts rolled up (%s)", n, from)}, true
	case den != "" && len(missingDen) == 0 && weights > 0 &&
		(unit == scoringv1.MeasureUnit_MEASURE_UNIT_PERCENT || unit == scoringv1.MeasureUnit_MEASURE_UNIT_RATIO):
		return value{ok: true, v: weighted / weights,
			why: fmt.Sprintf("mean of %d submitted values rolled up, weighted by %s (%s)", n, den, from)}, true
	case den == "":
		return value{ok: true, v: sum / float64(n),
			why: fmt.Sprintf("plain mean of %d submitted values rolled up: the indicator names no denominator (%s)", n, from)}, true
	default:
		return value{ok: true, v: sum / float64(n),
			why: fmt.Sprintf("plain mean of %d submitted values rolled up: no %s reported by %s (%s)", n, den, strings.Join(missingDen, ", "), from)}, true
	}
}

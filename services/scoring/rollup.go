package scoring

import (
	"fmt"
	"strings"

	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
)

// rollUp combines the values that reports of several units (the predecessors of a merged
// unit) give for one indicator (docs/domain.md, "Merged provinces: rolling figures up"):
// an indicator that names a denominator (another submitted count) is a share or rate of it
// and, when every report gives that count, is weighted by it (Σ value × denominator /
// Σ denominator), whatever its unit: a rate per 100 officials counted as a COUNT is such a
// rate, not a count to add up; other counts are summed; anything else is the plain mean, and
// the explanation says which and why.
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
	case den != "" && len(missingDen) == 0 && weights > 0:
		return value{ok: true, v: weighted / weights,
			why: fmt.Sprintf("mean of %d submitted values rolled up, weighted by %s (%s)", n, den, from)}, true
	case den == "" && unit == scoringv1.MeasureUnit_MEASURE_UNIT_COUNT:
		return value{ok: true, v: sum, why: fmt.Sprintf("sum of %d submitted counts rolled up (%s)", n, from)}, true
	case den == "":
		return value{ok: true, v: sum / float64(n),
			why: fmt.Sprintf("plain mean of %d submitted values rolled up: the indicator names no denominator (%s)", n, from)}, true
	case len(missingDen) == 0: // every denominator reported, all 0: nothing to weigh by
		return value{ok: true, v: sum / float64(n),
			why: fmt.Sprintf("plain mean of %d submitted values rolled up, not weighted: %s is 0 in every report (%s)", n, den, from)}, true
	default:
		return value{ok: true, v: sum / float64(n),
			why: fmt.Sprintf("plain mean of %d submitted values rolled up, not weighted: no %s reported by %s (%s)", n, den, strings.Join(missingDen, ", "), from)}, true
	}
}

// geographyNote says how a figure computed from the dossiers themselves treats units that
// merged: in current geography their dossiers are counted in their successor, so a share is
// the pooled numerator over the pooled denominator, weighted by construction, never a mean.
func geographyNote(geo string) string {
	if geo == "current" {
		return "current geography: dossiers of units merged since are counted in their successor, so the share is of their pooled dossiers, not a mean of theirs"
	}
	return geo + " geography"
}

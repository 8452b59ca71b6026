package scoring

import (
	"math"
	"regexp"
	"sort"

	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
	"github.com/lienthong/lienthong/services/platform"
	"golang.org/x/text/unicode/norm"
)

// Limits of a metric report.
const (
	maxReportValues = 500
	maxNoteBytes    = 2000
)

var unitCodeRE = regexp.MustCompile(`^\d{2}$`)

// checkReport checks a submitted report against the indicator definitions: every value must
// be a known SUBMITTED indicator, finite, in its unit's range and the indicator's bounds, and
// a whole number for counts. Every problem is listed.
func checkReport(r *scoringv1.PutMetricReportRequest, reg registry) (Period, error) {
	var v platform.Violations
	checkEntityRequest(&v, r.GetUnit(), r.GetAgency())
	p, err := ParsePeriod(r.GetPeriod())
	if err != nil {
		v.Add("period", "%s", err)
	}
	if len(r.GetValues()) == 0 {
		v.Add("values", "give at least one indicator value")
	}
	if len(r.GetValues()) > maxReportValues {
		v.Add("values", "at most %d values", maxReportValues)
	}
	if len(r.GetNote()) > maxNoteBytes {
		v.Add("note", "at most %d bytes", maxNoteBytes)
	}
	ids := make([]string, 0, len(r.GetValues()))
	for id := range r.GetValues() {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		x := r.GetValues()[id]
		f := "values." + id
		def, ok := reg[id]
		switch {
		case !ok:
			v.Add(f, "unknown indicator: a report carries the SUBMITTED indicators of a methodology (GET /v1/methodologies) or those legacy portals report (listed in the README)")
			continue
		case def.GetSource() != scoringv1.IndicatorSource_INDICATOR_SOURCE_SUBMITTED:
			v.Add(f, "%s is computed from live data (%s) and cannot be submitted", id, def.GetFormula())
			continue
		case math.IsNaN(x) || math.IsInf(x, 0):
			v.Add(f, "must be a finite number")
			continue
		}
		lo, hi := unitRange(def.GetUnit())
		if def.Min != nil {
			lo = def.GetMin()
		}
		if def.Max != nil {
			hi = def.GetMax()
		}
		if x < lo || x > hi {
			v.Add(f, "%s is out of range: %s must lie in %s–%s (%s)", fmtNum(x), id, fmtNum(lo), fmtNum(hi), def.GetUnit())
		} else if def.GetUnit() == scoringv1.MeasureUnit_MEASURE_UNIT_COUNT && x != math.Trunc(x) {
			v.Add(f, "%s counts and must be a whole number, got %s", id, fmtNum(x))
		}
	}
	if err := v.Err(); err != nil {
		return Period{}, err
	}
	r.Note = norm.NFC.String(r.GetNote())
	return p, nil
}

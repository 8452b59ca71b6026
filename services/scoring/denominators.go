package scoring

import (
	"fmt"

	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
	"github.com/lienthong/lienthong/services/platform"
)

// checkDenominators checks the denominators a methodology's indicators name (docs/domain.md,
// "Merged provinces: rolling figures up"): only a SUBMITTED indicator names one, and it is
// the id of a SUBMITTED COUNT indicator defined in the methodology itself or known already
// (the registry of reported indicators, the built-in and stored methodologies), so that a
// report can carry it. An indicator referred to by id alone takes the denominator of its
// definition (checkIndicator).
func checkDenominators(v *platform.Violations, m *scoringv1.Methodology, reg registry) {
	own := map[string]*scoringv1.Indicator{}
	for _, c := range m.GetCategories() {
		for _, in := range c.GetIndicators() {
			own[in.GetId()] = in
		}
	}
	for ci, c := range m.GetCategories() {
		for ii, in := range c.GetIndicators() {
			den := in.GetDenominator()
			if den == "" {
				continue
			}
			f := fmt.Sprintf("categories[%d].indicators[%d].denominator", ci, ii)
			d := own[den]
			if d == nil {
				d = reg[den]
			}
			switch {
			case in.GetSource() != scoringv1.IndicatorSource_INDICATOR_SOURCE_SUBMITTED:
				v.Add(f, "only a SUBMITTED indicator names a denominator: a computed one is computed from the counts themselves")
			case den == in.GetId():
				v.Add(f, "an indicator cannot be its own denominator")
			case d == nil:
				v.Add(f, "unknown indicator %q: name a SUBMITTED COUNT indicator of this methodology or of the registry (GET /v1/methodologies)", den)
			case d.GetSource() != scoringv1.IndicatorSource_INDICATOR_SOURCE_SUBMITTED || d.GetUnit() != scoringv1.MeasureUnit_MEASURE_UNIT_COUNT:
				v.Add(f, "%s is %s %s; a denominator is a SUBMITTED COUNT indicator", den, d.GetSource(), d.GetUnit())
			}
		}
	}
}

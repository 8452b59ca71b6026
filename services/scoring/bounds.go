package scoring

import (
	"fmt"
	"time"

	"github.com/lienthong/lienthong/services/platform"
)

// The bounds of what a caller sends the scoring part (docs/security.md lists them with the
// rest). Years of a period: minYear–maxYear (period.go). Values of a report: the range of
// their unit (unitRange), narrowed by the indicator's own min and max.

const (
	// maxCount is the largest count a report may carry: what one province counts in a
	// period (dossiers, documents, systems, officials) is millions at most. A thousand
	// times more still adds up exactly in float64 over every province and period (2^53 is
	// about 9·10^15), where a value like 1e300 would make the sums infinite and every
	// score NaN.
	maxCount = 1e9
	// maxDays is the longest duration in days a report may carry (ten years): a mean
	// processing time, a delay; anything longer is a slip, not a measurement.
	maxDays = 3653
)

// checkPeriodBegun refuses a period that has not begun: nothing can be reported for it,
// and closing it would shut it before any report (a slip of 2062 for 2026 would close a
// period no one can reopen).
func checkPeriodBegun(p Period, now time.Time) error {
	if p.Start().After(now.In(vietnam)) {
		return platform.Invalid(platform.FieldViolation{Field: "period", Description: fmt.Sprintf("%s has not begun", p)})
	}
	return nil
}

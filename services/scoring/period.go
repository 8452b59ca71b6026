package scoring

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
)

// Period is a checked reporting period: a year `2018`, a quarter `2026-Q3` or a month
// `2026-10` (docs/api.md, "Conventions").
type Period struct {
	Kind  scoringv1.PeriodKind
	Year  int
	Index int // quarter 1–4 or month 1–12; 0 for a year
}

var periodRE = regexp.MustCompile(`^(\d{4})(?:-(?:Q([1-4])|(\d{2})))?$`)

// Years a period may fall in: the first provincial e-government indicators (2010) to 2100.
const (
	minYear = 2000
	maxYear = 2100
)

// ParsePeriod checks a period string.
func ParsePeriod(s string) (Period, error) {
	m := periodRE.FindStringSubmatch(s)
	if m == nil {
		return Period{}, fmt.Errorf("must be a period like 2018, 2026-Q3 or 2026-10, got %q", s)
	}
	y, _ := strconv.Atoi(m[1])
	if y < minYear || y > maxYear {
		return Period{}, fmt.Errorf("year must be between %d and %d, got %d", minYear, maxYear, y)
	}
	switch {
	case m[2] != "":
		q, _ := strconv.Atoi(m[2])
		return Period{Kind: scoringv1.PeriodKind_PERIOD_KIND_QUARTER, Year: y, Index: q}, nil
	case m[3] != "":
		mo, _ := strconv.Atoi(m[3])
		if mo < 1 || mo > 12 {
			return Period{}, fmt.Errorf("month must be 01–12, got %q", s)
		}
		return Period{Kind: scoringv1.PeriodKind_PERIOD_KIND_MONTH, Year: y, Index: mo}, nil
	}
	return Period{Kind: scoringv1.PeriodKind_PERIOD_KIND_YEAR, Year: y}, nil
}

// String is the canonical form.
func (p Period) String() string {
	switch p.Kind {
	case scoringv1.PeriodKind_PERIOD_KIND_QUARTER:
		return fmt.Sprintf("%04d-Q%d", p.Year, p.Index)
	case scoringv1.PeriodKind_PERIOD_KIND_MONTH:
		return fmt.Sprintf("%04d-%02d", p.Year, p.Index)
	}
	return fmt.Sprintf("%04d", p.Year)
}

// firstMonth and lastMonth are 1-based months of the period's year.
func (p Period) months() (int, int) {
	switch p.Kind {
	case scoringv1.PeriodKind_PERIOD_KIND_QUARTER:
		return (p.Index-1)*3 + 1, (p.Index-1)*3 + 3
	case scoringv1.PeriodKind_PERIOD_KIND_MONTH:
		return p.Index, p.Index
	}
	return 1, 12
}

// Start is the period's first day.
func (p Period) Start() time.Time {
	a, _ := p.months()
	return time.Date(p.Year, time.Month(a), 1, 0, 0, 0, 0, time.UTC)
}

// End is the period's last day.
func (p Period) End() time.Time {
	_, b := p.months()
	return time.Date(p.Year, time.Month(b)+1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
}

// Previous is the period of the same kind just before.
func (p Period) Previous() Period {
	switch p.Kind {
	case scoringv1.PeriodKind_PERIOD_KIND_QUARTER:
		if p.Index == 1 {
			return Period{Kind: p.Kind, Year: p.Year - 1, Index: 4}
		}
		return Period{Kind: p.Kind, Year: p.Year, Index: p.Index - 1}
	case scoringv1.PeriodKind_PERIOD_KIND_MONTH:
		if p.Index == 1 {
			return Period{Kind: p.Kind, Year: p.Year - 1, Index: 12}
		}
		return Period{Kind: p.Kind, Year: p.Year, Index: p.Index - 1}
	}
	return Period{Kind: p.Kind, Year: p.Year - 1}
}

// Contains says whether a day (in Vietnam time) falls in the period.
func (p Period) Contains(t time.Time) bool {
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return !d.Before(p.Start()) && !d.After(p.End())
}

const dateLayout = "2006-01-02"

var vietnam = time.FixedZone("ICT", 7*3600)

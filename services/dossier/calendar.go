package dossier

import (
	"bytes"
	"cmp"
	_ "embed" // data/holidays.csv
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// Vietnam is Vietnam's time zone: UTC+7 all year, no daylight saving time.
var Vietnam = time.FixedZone("ICT", calOffset)

const (
	calOffset    = 7 * 3600 // seconds east of UTC of Vietnam time
	calSecPerDay = 24 * 3600
	calDueHour   = 17 // a due date is the end of its working day, 17:00 Vietnam time
	// calMaxDays caps n in AddWorkingDays so that the day arithmetic stays in range
	// (a billion working days is about 3.8 million years; no processing time is that long).
	calMaxDays = 1_000_000_000
)

// Calendar is the working-day calendar: weekends and public holidays off, compensatory
// working days on.
//
// A Calendar is immutable once made and safe for concurrent use. The zero Calendar, and a
// nil *Calendar, have weekends only.
type Calendar struct {
	// flips are the days, as calDay numbers in ascending order, whose status differs
	// from the weekend rule: holidays on a weekday and workdays on a Saturday or Sunday.
	// A holiday listed on a weekend, or a workday on a weekday, changes nothing and is
	// not kept here.
	flips []int64
	// cum[i] is the change in the number of working days made by flips[:i]: -1 for each
	// holiday, +1 for each workday. len(cum) == len(flips)+1 (nil when flips is empty).
	cum         []int
	first, last int // years of the first and last row of the file; 0, 0 if none
}

// ParseCalendar reads a holiday file: CSV with header `date,kind,name`; date YYYY-MM-DD;
// kind `holiday` (a day off, even if a weekday) or `workday` (a working day, even if a
// Saturday or Sunday); name free text (Vietnamese). Blank lines and lines starting with #
// are ignored. Duplicate dates, bad dates, unknown kinds are errors naming the line.
//
// The header's names and the kind are matched ignoring case and surrounding spaces, and a
// UTF-8 byte order mark at the start is skipped. Every row must have exactly the three
// fields (quote a name holding a comma). A file with the header and no rows is an empty
// calendar: weekends only.
func ParseCalendar(r io.Reader) (*Calendar, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("holidays: %w", err)
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comment = '#'
	cr.FieldsPerRecord = -1 // checked here, to name the line in our own words
	cr.ReuseRecord = true

	c := &Calendar{}
	seen := make(map[int64]int) // day -> line of its first row
	header := false
	type flip struct {
		day   int64
		delta int
	}
	var flips []flip
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("holidays line %d: %v", pe.Line, pe.Err)
			}
			return nil, fmt.Errorf("holidays: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a line of spaces only counts as blank
		}
		if !header {
			if len(rec) != 3 || !calFieldIs(rec[0], "date") || !calFieldIs(rec[1], "kind") || !calFieldIs(rec[2], "name") {
				return nil, fmt.Errorf("holidays line %d: want the header date,kind,name, got %q", line, strings.Join(rec, ","))
			}
			header = true
			continue
		}
		if len(rec) != 3 {
			return nil, fmt.Errorf("holidays line %d: want 3 fields date,kind,name, got %d", line, len(rec))
		}
		ds := strings.TrimSpace(rec[0])
		t, err := time.Parse(time.DateOnly, ds)
		if err != nil {
			return nil, fmt.Errorf("holidays line %d: bad date %q: want YYYY-MM-DD", line, ds)
		}
		var holiday bool
		switch kind := strings.TrimSpace(rec[1]); {
		case strings.EqualFold(kind, "holiday"):
			holiday = true
		case strings.EqualFold(kind, "workday"):
		default:
			return nil, fmt.Errorf("holidays line %d: unknown kind %q: want holiday or workday", line, kind)
		}
		d := calDayOf(t.Unix() + calOffset) // t is midnight UTC of the date: its day number
		if prev, ok := seen[d]; ok {
			return nil, fmt.Errorf("holidays line %d: duplicate date %s (first on line %d)", line, ds, prev)
		}
		seen[d] = line
		if y := t.Year(); len(seen) == 1 {
			c.first, c.last = y, y
		} else {
			c.first, c.last = min(c.first, y), max(c.last, y)
		}
		switch weekend := calWeekend(d); {
		case holiday && !weekend:
			flips = append(flips, flip{d, -1})
		case !holiday && weekend:
			flips = append(flips, flip{d, +1})
		}
	}
	if !header {
		return nil, errors.New("holidays: empty file: want the header date,kind,name")
	}
	if len(flips) > 0 {
		slices.SortFunc(flips, func(a, b flip) int { return cmp.Compare(a.day, b.day) })
		c.flips = make([]int64, len(flips))
		c.cum = make([]int, len(flips)+1)
		for i, f := range flips {
			c.flips[i] = f.day
			c.cum[i+1] = c.cum[i] + f.delta
		}
	}
	return c, nil
}

func calFieldIs(field, name string) bool {
	return strings.EqualFold(strings.TrimSpace(field), name)
}

//go:embed data/holidays.csv
var calHolidaysCSV []byte

var calDefault = sync.OnceValue(func() *Calendar {
	c, err := ParseCalendar(bytes.NewReader(calHolidaysCSV))
	if err != nil {
		// The embedded file is checked by the tests: this is a build that should not exist.
		panic("dossier: embedded data/holidays.csv: " + err.Error())
	}
	return c
})

// DefaultCalendar is the calendar of the embedded data/holidays.csv.
//
// It is parsed on the first call and shared afterwards. The embedded file is checked by
// this package's tests, so DefaultCalendar panics only if a broken file was built in; it
// is the one function of the calendar that may panic (ParseCalendar returns errors).
func DefaultCalendar() *Calendar { return calDefault() }

// IsWorkingDay reports whether the calendar day of t in Vietnam time is a working day.
func (c *Calendar) IsWorkingDay(t time.Time) bool {
	return c.working(calDay(t))
}

// AddWorkingDays returns the end of the n-th working day after the day of `from` (Vietnam
// time): 17:00 +07:00 of that day. n <= 0 returns 17:00 of from's own day. The day of
// `from` itself never counts (acceptance on a Friday with n=1 is due Monday, if Monday is a
// working day).
//
// It allocates nothing and takes time in the number of weeks and listed days it passes,
// not in n days: whole weeks without a holiday or workday are skipped at once. n above a
// billion is taken as a billion.
func (c *Calendar) AddWorkingDays(from time.Time, n int) time.Time {
	d := calDay(from)
	if n <= 0 {
		return calEnd(d)
	}
	n = min(n, calMaxDays)
	flips := c.flipDays()
	i := calAfter(flips, d) // invariant: flips[i:] are the flipped days after d
	for {
		if n > 5 {
			// Skip w whole weeks (d, d+7w] holding no flipped day: 5 working days each.
			// Leave at least one working day to count, so the result is found by days.
			w := int64((n - 1) / 5)
			if i < len(flips) {
				w = min(w, (flips[i]-1-d)/7)
			}
			if w > 0 {
				d += 7 * w
				n -= int(5 * w)
				continue
			}
		}
		d++
		working := !calWeekend(d)
		if i < len(flips) && flips[i] == d {
			working = !working
			i++
		}
		if working {
			if n--; n == 0 {
				return calEnd(d)
			}
		}
	}
}

// WorkingDaysBetween counts working days d with day(from) < d <= day(to), Vietnam time; 0
// when to is not after from.
func (c *Calendar) WorkingDaysBetween(from, to time.Time) int {
	a, b := calDay(from), calDay(to)
	if b <= a {
		return 0
	}
	n := calWeekdays(a, b)
	if c != nil && len(c.flips) > 0 {
		n += int64(c.cum[calAfter(c.flips, b)] - c.cum[calAfter(c.flips, a)])
	}
	return int(n)
}

// Covers reports the first and last year the file lists holidays for; dates outside are
// computed with weekends only. It is (0, 0) for a calendar without rows.
func (c *Calendar) Covers() (first, last int) {
	if c == nil {
		return 0, 0
	}
	return c.first, c.last
}

func (c *Calendar) flipDays() []int64 {
	if c == nil {
		return nil
	}
	return c.flips
}

// working reports whether day d (a calDay number) is a working day.
func (c *Calendar) working(d int64) bool {
	w := !calWeekend(d)
	flips := c.flipDays()
	if i := calAfter(flips, d-1); i < len(flips) && flips[i] == d {
		w = !w
	}
	return w
}

// calDay numbers the calendar day of t in Vietnam time: days since 1970-01-01 (day 0, a
// Thursday) in Vietnam time. Plain arithmetic: Vietnam has a fixed offset.
func calDay(t time.Time) int64 { return calDayOf(t.Unix() + calOffset) }

// calDayOf is the day holding s seconds after the epoch of the local clock (floor division).
func calDayOf(s int64) int64 {
	d := s / calSecPerDay
	if s%calSecPerDay < 0 {
		d--
	}
	return d
}

// calEnd is 17:00 Vietnam time of day d.
func calEnd(d int64) time.Time {
	return time.Unix(d*calSecPerDay-calOffset+calDueHour*3600, 0).In(Vietnam)
}

// calWeekend reports whether day d is a Saturday or Sunday.
func calWeekend(d int64) bool {
	wd := (d + 4) % 7 // day 0 is a Thursday; 0 is Sunday as in time.Weekday
	if wd < 0 {
		wd += 7
	}
	return wd == int64(time.Sunday) || wd == int64(time.Saturday)
}

// calWeekdays counts the days Monday to Friday in (a, b], a < b.
func calWeekdays(a, b int64) int64 {
	full := (b - a) / 7
	n := 5 * full
	for d := a + 7*full + 1; d <= b; d++ {
		if !calWeekend(d) {
			n++
		}
	}
	return n
}

// calAfter is the index of the first element of sorted days greater than d (len(days) if
// none). Written out rather than sort.Search so that the hot path surely allocates nothing.
func calAfter(days []int64, d int64) int {
	lo, hi := 0, len(days)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if days[m] <= d {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

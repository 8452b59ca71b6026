package dossier

import (
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// calAt is y-m-d at hh:mm Vietnam time.
func calAt(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, Vietnam)
}

// calDue is the due time of day y-m-d: 17:00 Vietnam time.
func calDue(y int, m time.Month, d int) time.Time { return calAt(y, m, d, 17, 0) }

func calMustParse(t testing.TB, s string) *Calendar {
	t.Helper()
	c, err := ParseCalendar(strings.NewReader(s))
	if err != nil {
		t.Fatalf("ParseCalendar: %v", err)
	}
	return c
}

func calFmt(t time.Time) string { return t.Format("Mon 2006-01-02 15:04:05 -07:00") }

// calNaiveAdd is AddWorkingDays done the slow, obvious way: step one calendar day at a
// time with the time package and ask IsWorkingDay. It checks the week skipping of the real
// one.
func calNaiveAdd(c *Calendar, from time.Time, n int) time.Time {
	y, m, d := from.In(Vietnam).Date()
	for k := 1; n > 0; k++ {
		day := time.Date(y, m, d+k, 12, 0, 0, 0, Vietnam)
		if c.IsWorkingDay(day) {
			if n--; n == 0 {
				return time.Date(y, m, d+k, 17, 0, 0, 0, Vietnam)
			}
		}
	}
	return time.Date(y, m, d, 17, 0, 0, 0, Vietnam)
}

func TestCalendarIsWorkingDay(t *testing.T) {
	c := DefaultCalendar()
	tests := []struct {
		name string
		t    time.Time
		want bool
	}{
		{"plain Monday", calAt(2025, 3, 10, 9, 0), true},
		{"plain Friday", calAt(2025, 3, 14, 9, 0), true},
		{"Saturday off", calAt(2025, 3, 8, 9, 0), false},
		{"Sunday off", calAt(2025, 3, 9, 9, 0), false},
		{"Quốc khánh 2/9/2025 Tuesday off", calAt(2025, 9, 2, 9, 0), false},
		{"Tết Ất Tỵ mùng 1 Wednesday off", calAt(2025, 1, 29, 9, 0), false},
		{"Tết Dương lịch 2024 Monday off", calAt(2024, 1, 1, 9, 0), false},
		{"swapped Monday 29/4/2024 off", calAt(2024, 4, 29, 9, 0), false},
		{"compensatory Saturday 4/5/2024 on", calAt(2024, 5, 4, 9, 0), true},
		{"compensatory Saturday 26/4/2025 on", calAt(2025, 4, 26, 9, 0), true},
		{"compensatory Saturday 10/1/2026 on", calAt(2026, 1, 10, 9, 0), true},
		{"Sunday next to a workday Saturday still off", calAt(2025, 4, 27, 9, 0), false},
		{"Giỗ Tổ 2026 on Sunday, Monday 27/4 off", calAt(2026, 4, 27, 9, 0), false},
		{"first second of a holiday", calAt(2025, 9, 2, 0, 0), false},
		{"last minute before a holiday", calAt(2025, 8, 29, 23, 59), true},
		// 2025-04-25T17:30Z is Saturday 26 Apr 00:30 in Vietnam: the workday, though it is
		// still Friday in UTC.
		{"UTC Friday evening is Vietnam's workday Saturday", time.Date(2025, 4, 25, 17, 30, 0, 0, time.UTC), true},
		// 2025-01-24T17:30Z is Saturday 25 Jan 00:30 in Vietnam.
		{"UTC Friday evening is Vietnam's Saturday", time.Date(2025, 1, 24, 17, 30, 0, 0, time.UTC), false},
		{"UTC Tuesday 16:59 is Vietnam's 23:59 of Quốc khánh", time.Date(2025, 9, 2, 16, 59, 0, 0, time.UTC), false},
		{"UTC Tuesday 17:00 is Vietnam's Wednesday", time.Date(2025, 9, 2, 17, 0, 0, 0, time.UTC), true},
		{"Tết Dương lịch 2027 (dự kiến) Friday off", calAt(2027, 1, 1, 9, 0), false},
		{"2023: 1/5 Monday off", calAt(2023, 5, 1, 9, 0), false},
		{"2019: Tết 4–8/2 off (Công văn 6519/VPCP-KGVX)", calAt(2019, 2, 8, 9, 0), false},
		{"2015: make-up Saturday 14/2 on", calAt(2015, 2, 14, 9, 0), true},
		{"2014: make-up Saturday 27/12 on", calAt(2014, 12, 27, 9, 0), true},
		{"2013 outside coverage: 30/4 Tuesday on", calAt(2013, 4, 30, 9, 0), true},
		{"2028 outside coverage: 1/5 Monday on", calAt(2028, 5, 1, 9, 0), true},
		{"far past weekday", calAt(1900, 1, 1, 9, 0), true},    // a Monday
		{"far past weekend", calAt(1899, 12, 31, 9, 0), false}, // a Sunday
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.IsWorkingDay(tt.t); got != tt.want {
				t.Errorf("IsWorkingDay(%s) = %v, want %v", calFmt(tt.t), got, tt.want)
			}
		})
	}
}

func TestCalendarAddWorkingDays(t *testing.T) {
	c := DefaultCalendar()
	tests := []struct {
		name string
		from time.Time
		n    int
		want time.Time
	}{
		{"Friday n=1 is due Monday", calAt(2025, 3, 7, 10, 0), 1, calDue(2025, 3, 10)},
		{"Monday n=5 is due next Monday", calAt(2025, 3, 10, 10, 0), 5, calDue(2025, 3, 17)},
		{"acceptance on Saturday n=1", calAt(2025, 3, 8, 10, 0), 1, calDue(2025, 3, 10)},
		// Tết Ất Tỵ 2025, acceptance Thursday 23 Jan, n=3: Fri 24 Jan is the 1st working
		// day; Sat 25 Jan to Sun 2 Feb are all off (weekend 25–26, Tết 27–31 Jan, weekend
		// 1–2 Feb); Mon 3 Feb is the 2nd; Tue 4 Feb the 3rd.
		{"across Tết 2025 n=3", calAt(2025, 1, 23, 10, 0), 3, calDue(2025, 2, 4)},
		{"across Tết 2025 n=1 stays before Tết", calAt(2025, 1, 23, 10, 0), 1, calDue(2025, 1, 24)},
		{"from the Friday before Tết 2025 n=1 jumps 9 days", calAt(2025, 1, 24, 10, 0), 1, calDue(2025, 2, 3)},
		// Tết Giáp Thìn 2024: Thu 8 to Wed 14 Feb off.
		{"across Tết 2024 n=1", calAt(2024, 2, 7, 10, 0), 1, calDue(2024, 2, 15)},
		// 30/4–1/5 2024: Mon 29 Apr swapped off, Tue 30 Apr and Wed 1 May off, Sat 4 May
		// worked instead.
		{"30/4 2024 n=1 skips the swapped Monday", calAt(2024, 4, 26, 10, 0), 1, calDue(2024, 5, 2)},
		{"30/4 2024 n=3 lands on the workday Saturday", calAt(2024, 4, 26, 10, 0), 3, calDue(2024, 5, 4)},
		{"30/4 2024 n=4", calAt(2024, 4, 26, 10, 0), 4, calDue(2024, 5, 6)},
		// 30/4–1/5 2025: Sat 26 Apr worked, Wed 30 Apr to Sun 4 May off.
		{"30/4 2025 n=1 is the workday Saturday", calAt(2025, 4, 25, 10, 0), 1, calDue(2025, 4, 26)},
		{"30/4 2025 n=3", calAt(2025, 4, 25, 10, 0), 3, calDue(2025, 4, 29)},
		{"30/4 2025 n=4 skips 30/4–4/5", calAt(2025, 4, 25, 10, 0), 4, calDue(2025, 5, 5)},
		{"acceptance on a holiday", calAt(2025, 4, 30, 10, 0), 1, calDue(2025, 5, 5)},
		// Tết Dương lịch 2026: Thu 1 and Fri 2 Jan off, Sat 10 Jan worked.
		{"Tết Dương lịch 2026 n=1", calAt(2025, 12, 31, 10, 0), 1, calDue(2026, 1, 5)},
		{"Tết Dương lịch 2026 n=6 is the workday Saturday", calAt(2025, 12, 31, 10, 0), 6, calDue(2026, 1, 10)},
		// Quốc khánh 2026: Sat 22 Aug worked, Sat 29 Aug to Wed 2 Sep off.
		{"Quốc khánh 2026 n=1 is the workday Saturday", calAt(2026, 8, 21, 10, 0), 1, calDue(2026, 8, 22)},
		{"Quốc khánh 2026 n=1 skips 29/8–2/9", calAt(2026, 8, 28, 10, 0), 1, calDue(2026, 9, 3)},
		{"n=0 is 17:00 the same day", calAt(2025, 3, 7, 10, 0), 0, calDue(2025, 3, 7)},
		{"n=0 on a holiday is still that day", calAt(2025, 1, 29, 10, 0), 0, calDue(2025, 1, 29)},
		{"n=0 after 17:00 is 17:00 the same day", calAt(2025, 3, 7, 20, 0), 0, calDue(2025, 3, 7)},
		{"n<0 is like n=0", calAt(2025, 3, 7, 10, 0), -3, calDue(2025, 3, 7)},
		{"acceptance at 23:59 Vietnam time", calAt(2025, 3, 6, 23, 59), 1, calDue(2025, 3, 7)},
		// 2025-01-23T18:30:00Z is Friday 24 Jan 01:30 in Vietnam: the day of acceptance is
		// the 24th, so the 1st working day after it is Mon 3 Feb, after Tết (in UTC it would
		// still be Thursday and give Friday 24 Jan).
		{"UTC late evening is the next day in Vietnam", time.Date(2025, 1, 23, 18, 30, 0, 0, time.UTC), 1, calDue(2025, 2, 3)},
		{"UTC 16:59:59 is still the same day in Vietnam", time.Date(2025, 1, 23, 16, 59, 59, 0, time.UTC), 1, calDue(2025, 1, 24)},
		{"other zone input", time.Date(2025, 3, 7, 5, 0, 0, 0, time.FixedZone("CET", 3600)), 1, calDue(2025, 3, 10)},
		{"into 2024 from outside coverage", calAt(2023, 12, 29, 10, 0), 1, calDue(2024, 1, 2)},
		{"into 2027: Tết Dương lịch (dự kiến)", calAt(2026, 12, 31, 10, 0), 1, calDue(2027, 1, 4)},
		{"2027: 30/4 and 3/5 off (dự kiến)", calAt(2027, 4, 29, 10, 0), 1, calDue(2027, 5, 4)},
		{"out of coverage 2028: 1/5 is not known", calAt(2028, 4, 28, 10, 0), 1, calDue(2028, 5, 1)},
		// 2025 has 250 working days (261 weekdays less 11 holidays).
		{"a year of working days", calAt(2024, 12, 31, 10, 0), 250, calDue(2025, 12, 31)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.AddWorkingDays(tt.from, tt.n)
			if !got.Equal(tt.want) {
				t.Errorf("AddWorkingDays(%s, %d) = %s, want %s", calFmt(tt.from), tt.n, calFmt(got), calFmt(tt.want))
			}
		})
	}
}

func TestCalendarAddWorkingDaysIs1700ICT(t *testing.T) {
	c := DefaultCalendar()
	froms := []struct {
		name string
		t    time.Time
	}{
		{"Vietnam time", calAt(2025, 6, 4, 8, 30)},
		{"UTC", time.Date(2025, 6, 4, 20, 0, 0, 0, time.UTC)},
		{"with nanoseconds", time.Date(2025, 6, 4, 1, 2, 3, 456789, time.UTC)},
		{"a far-west zone", time.Date(2025, 6, 4, 1, 0, 0, 0, time.FixedZone("X", -11*3600))},
		{"before 1970", calAt(1965, 6, 4, 3, 0)},
	}
	for _, f := range froms {
		for _, n := range []int{0, 1, 7, 40} {
			got := c.AddWorkingDays(f.t, n)
			name, off := got.Zone()
			if got.Hour() != 17 || got.Minute() != 0 || got.Second() != 0 || got.Nanosecond() != 0 || off != 7*3600 || name != "ICT" {
				t.Errorf("%s n=%d: AddWorkingDays(%s) = %s (zone %s%+d), want 17:00:00 +07:00 ICT",
					f.name, n, calFmt(f.t), got.Format(time.RFC3339Nano), name, off)
			}
			if got.Location() != Vietnam {
				t.Errorf("%s n=%d: location %v, want Vietnam", f.name, n, got.Location())
			}
		}
	}
}

func TestCalendarWorkingDaysBetween(t *testing.T) {
	c := DefaultCalendar()
	tests := []struct {
		name     string
		from, to time.Time
		want     int
	}{
		{"to before from", calAt(2025, 3, 14, 9, 0), calAt(2025, 3, 10, 9, 0), 0},
		{"same instant", calAt(2025, 3, 10, 9, 0), calAt(2025, 3, 10, 9, 0), 0},
		{"same day, later hour", calAt(2025, 3, 10, 9, 0), calAt(2025, 3, 10, 23, 0), 0},
		{"Friday to Monday", calAt(2025, 3, 7, 16, 0), calAt(2025, 3, 10, 8, 0), 1},
		{"to on a weekend", calAt(2025, 3, 7, 16, 0), calAt(2025, 3, 9, 8, 0), 0},
		{"across Tết 2025", calAt(2025, 1, 23, 10, 0), calAt(2025, 2, 4, 17, 0), 3},
		{"counts the workday Saturday", calAt(2025, 4, 25, 10, 0), calAt(2025, 4, 26, 10, 0), 1},
		{"30/4 2024 week", calAt(2024, 4, 26, 10, 0), calAt(2024, 5, 6, 10, 0), 4},
		{"UTC from that is already the next day", time.Date(2025, 1, 23, 18, 30, 0, 0, time.UTC), calAt(2025, 1, 24, 9, 0), 0},
		{"year 2024", calAt(2023, 12, 31, 9, 0), calAt(2024, 12, 31, 9, 0), 262 - 11},
		{"year 2025", calAt(2024, 12, 31, 9, 0), calAt(2025, 12, 31, 9, 0), 261 - 11},
		{"year 2026", calAt(2025, 12, 31, 9, 0), calAt(2026, 12, 31, 9, 0), 261 - 11},
		{"year 2027 (dự kiến)", calAt(2026, 12, 31, 9, 0), calAt(2027, 12, 31, 9, 0), 261 - 11},
		{"year 2028, weekends only", calAt(2027, 12, 31, 9, 0), calAt(2028, 12, 31, 9, 0), 260},
		// 10 holidays a year 2015–2020 (Bộ luật Lao động 2012), 11 in 2021–2027 (2019), the
		// 2014 make-up Saturday and the 2015 swapped Friday cancelling out.
		{"2000 to 2040", calAt(2000, 1, 1, 9, 0), calAt(2040, 1, 1, 9, 0), 10435 - 6*10 - 7*11},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.WorkingDaysBetween(tt.from, tt.to); got != tt.want {
				t.Errorf("WorkingDaysBetween(%s, %s) = %d, want %d", calFmt(tt.from), calFmt(tt.to), got, tt.want)
			}
		})
	}
}

// TestCalendarInverse: for every day of 2024–2026 (at several times of day, and one day
// on either side) and n in 1..30, AddWorkingDays lands on a working day with exactly n
// working days counted by WorkingDaysBetween, the day before it holds n-1, and the slow
// day-by-day computation agrees.
func TestCalendarInverse(t *testing.T) {
	c := DefaultCalendar()
	clocks := []struct{ h, m, s int }{{0, 0, 0}, {16, 59, 59}, {23, 59, 59}}
	start := time.Date(2023, 12, 31, 0, 0, 0, 0, Vietnam)
	end := time.Date(2027, 1, 1, 0, 0, 0, 0, Vietnam)
	checked := 0
	for day, k := start, 0; !day.After(end); day, k = day.AddDate(0, 0, 1), k+1 {
		cl := clocks[k%len(clocks)]
		from := time.Date(day.Year(), day.Month(), day.Day(), cl.h, cl.m, cl.s, 0, Vietnam)
		if k%2 == 1 {
			from = from.UTC() // the same instant given in UTC
		}
		for n := 1; n <= 30; n++ {
			due := c.AddWorkingDays(from, n)
			if got := c.WorkingDaysBetween(from, due); got != n {
				t.Fatalf("WorkingDaysBetween(%s, AddWorkingDays(_, %d) = %s) = %d, want %d", calFmt(from), n, calFmt(due), got, n)
			}
			if !c.IsWorkingDay(due) {
				t.Fatalf("AddWorkingDays(%s, %d) = %s, not a working day", calFmt(from), n, calFmt(due))
			}
			if got := c.WorkingDaysBetween(from, due.AddDate(0, 0, -1)); got != n-1 {
				t.Fatalf("WorkingDaysBetween(%s, day before %s) = %d, want %d", calFmt(from), calFmt(due), got, n-1)
			}
			if want := calNaiveAdd(c, from, n); !due.Equal(want) {
				t.Fatalf("AddWorkingDays(%s, %d) = %s, want %s (day by day)", calFmt(from), n, calFmt(due), calFmt(want))
			}
			checked++
		}
	}
	if checked < 3*365*30 {
		t.Errorf("checked only %d pairs", checked)
	}
}

// TestCalendarLongSpans checks the week skipping over long spans against the day-by-day
// computation, in and out of the covered years and on a calendar with a lone workday.
func TestCalendarLongSpans(t *testing.T) {
	lone := calMustParse(t, "date,kind,name\n2030-06-15,workday,Saturday\n2030-06-19,holiday,Wednesday\n")
	cals := []struct {
		name string
		c    *Calendar
	}{{"default", DefaultCalendar()}, {"nil", nil}, {"lone rows in 2030", lone}}
	froms := []time.Time{
		calAt(2023, 11, 3, 9, 0), calAt(2024, 1, 6, 9, 0), calAt(2025, 12, 28, 9, 0),
		calAt(2030, 5, 1, 9, 0), calAt(2030, 6, 14, 9, 0), calAt(1969, 12, 31, 23, 0),
	}
	for _, cc := range cals {
		for _, from := range froms {
			for _, n := range []int{1, 5, 6, 10, 11, 29, 64, 100, 251, 365, 700} {
				got, want := cc.c.AddWorkingDays(from, n), calNaiveAdd(cc.c, from, n)
				if !got.Equal(want) {
					t.Errorf("%s: AddWorkingDays(%s, %d) = %s, want %s", cc.name, calFmt(from), n, calFmt(got), calFmt(want))
				}
				if b := cc.c.WorkingDaysBetween(from, got); b != n {
					t.Errorf("%s: WorkingDaysBetween(%s, %s) = %d, want %d", cc.name, calFmt(from), calFmt(got), b, n)
				}
			}
		}
	}
}

func TestCalendarAddWorkingDaysAllocatesNothing(t *testing.T) {
	c := DefaultCalendar()
	from := calAt(2025, 1, 20, 9, 30)
	var sink time.Time
	for _, n := range []int{1, 15, 365} {
		if allocs := testing.AllocsPerRun(200, func() { sink = c.AddWorkingDays(from, n) }); allocs != 0 {
			t.Errorf("AddWorkingDays(_, %d): %v allocations per call, want 0", n, allocs)
		}
	}
	if allocs := testing.AllocsPerRun(200, func() { _ = c.WorkingDaysBetween(from, sink) }); allocs != 0 {
		t.Errorf("WorkingDaysBetween: %v allocations per call, want 0", allocs)
	}
	_ = sink
}

// TestCalendarDefaultDays checks the embedded file day by day against the official
// schedules written out here, with time.Weekday for the weekends.
func TestCalendarDefaultDays(t *testing.T) {
	off := map[string]bool{} // weekdays off
	for _, d := range []string{
		// 2024
		"2024-01-01", "2024-02-08", "2024-02-09", "2024-02-12", "2024-02-13", "2024-02-14",
		"2024-04-18", "2024-04-29", "2024-04-30", "2024-05-01", "2024-09-02", "2024-09-03",
		// 2025
		"2025-01-01", "2025-01-27", "2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31",
		"2025-04-07", "2025-04-30", "2025-05-01", "2025-05-02", "2025-09-01", "2025-09-02",
		// 2026
		"2026-01-01", "2026-01-02", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19",
		"2026-02-20", "2026-04-27", "2026-04-30", "2026-05-01", "2026-08-31", "2026-09-01",
		"2026-09-02",
	} {
		off[d] = true
	}
	on := map[string]bool{"2024-05-04": true, "2025-04-26": true, "2026-01-10": true, "2026-08-22": true} // weekends worked
	c := DefaultCalendar()
	for day := calAt(2023, 12, 1, 12, 0); day.Year() < 2027; day = day.AddDate(0, 0, 1) {
		key := day.Format(time.DateOnly)
		wd := day.Weekday()
		want := wd != time.Saturday && wd != time.Sunday
		if off[key] {
			if !want {
				t.Errorf("%s: listed off here but is a weekend", key)
			}
			want = false
		}
		if on[key] {
			if want {
				t.Errorf("%s: listed as a worked weekend here but is a weekday", key)
			}
			want = true
		}
		if got := c.IsWorkingDay(day); got != want {
			t.Errorf("IsWorkingDay(%s %s) = %v, want %v", wd, key, got, want)
		}
	}
}

func TestCalendarDefault(t *testing.T) {
	c := DefaultCalendar()
	if c != DefaultCalendar() {
		t.Errorf("DefaultCalendar() returned a new calendar on the second call")
	}
	// 2014 holds only the make-up Saturday 27/12/2014 of Tết Dương lịch 2015.
	if first, last := c.Covers(); first != 2014 || last != 2027 {
		t.Errorf("Covers() = (%d, %d), want (2014, 2027)", first, last)
	}
	// Each year of the file takes exactly the 11 days of Điều 112 off the weekdays: the
	// swaps (a weekday off, a Saturday worked) cancel out.
	for _, y := range []int{2024, 2025, 2026} {
		weekdays := 0
		for d := calAt(y, 1, 1, 12, 0); d.Year() == y; d = d.AddDate(0, 0, 1) {
			if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
				weekdays++
			}
		}
		got := c.WorkingDaysBetween(calAt(y-1, 12, 31, 12, 0), calAt(y, 12, 31, 12, 0))
		if want := weekdays - 11; got != want {
			t.Errorf("%d: %d working days, want %d (%d weekdays less 11 holidays)", y, got, want, weekdays)
		}
	}
}

// TestCalendarDataFile checks the text of the embedded file: valid UTF-8 in NFC (no
// combining marks: Vietnamese precomposed), the header comment, and names on every row.
func TestCalendarDataFile(t *testing.T) {
	text := string(calHolidaysCSV)
	if !utf8.ValidString(text) {
		t.Fatalf("data/holidays.csv is not valid UTF-8")
	}
	for i, line := range strings.Split(text, "\n") {
		for _, r := range line {
			if unicode.Is(unicode.Mn, r) {
				t.Errorf("line %d: combining mark %U: write the names in NFC: %q", i+1, r, line)
				break
			}
		}
		if line == "" || strings.HasPrefix(line, "#") || line == "date,kind,name" {
			continue
		}
		if f := strings.Split(line, ","); len(f) != 3 || strings.TrimSpace(f[2]) == "" {
			t.Errorf("line %d: want date,kind,name with a name: %q", i+1, line)
		}
	}
	for _, want := range []string{"Điều 112", "[practice]: replace with the official notice of each year via --holidays FILE", "(dự kiến)"} {
		if !strings.Contains(text, want) {
			t.Errorf("data/holidays.csv: header comment lacks %q", want)
		}
	}
}

func TestCalendarParse(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		first, last int
		days        map[time.Time]bool // want IsWorkingDay
	}{
		{
			name:  "comments, blank lines, BOM, CRLF, quotes, case and spaces",
			in:    "\uFEFF# holidays\r\n\r\n Date , KIND ,name\r\n# 2030\r\n   \r\n2030-01-01, Holiday ,\"Tết Dương lịch, 2030\"\r\n2030-01-05,workday,Saturday\r\n",
			first: 2030, last: 2030,
			days: map[time.Time]bool{
				calAt(2030, 1, 1, 9, 0): false, // Tuesday, holiday
				calAt(2030, 1, 2, 9, 0): true,
				calAt(2030, 1, 5, 9, 0): true,  // Saturday, workday
				calAt(2030, 1, 6, 9, 0): false, // Sunday
			},
		},
		{
			name:  "redundant rows change nothing but count for Covers",
			in:    "date,kind,name\n2028-01-01,holiday,Saturday off anyway\n2031-03-05,workday,Wednesday on anyway\n",
			first: 2028, last: 2031,
			days: map[time.Time]bool{
				calAt(2028, 1, 1, 9, 0): false,
				calAt(2031, 3, 5, 9, 0): true,
			},
		},
		{
			name:  "header only: weekends only",
			in:    "date,kind,name\n",
			first: 0, last: 0,
			days: map[time.Time]bool{
				calAt(2025, 1, 1, 9, 0): true,
				calAt(2025, 1, 4, 9, 0): false,
			},
		},
		{
			name:  "rows out of order",
			in:    "date,kind,name\n2026-05-01,holiday,b\n2024-01-01,holiday,a\n2025-01-01,holiday,c\n",
			first: 2024, last: 2026,
			days: map[time.Time]bool{
				calAt(2024, 1, 1, 9, 0): false,
				calAt(2025, 1, 1, 9, 0): false,
				calAt(2026, 5, 1, 9, 0): false,
				calAt(2026, 5, 4, 9, 0): true,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCalendar(strings.NewReader(tt.in))
			if err != nil {
				t.Fatalf("ParseCalendar: %v", err)
			}
			if first, last := c.Covers(); first != tt.first || last != tt.last {
				t.Errorf("Covers() = (%d, %d), want (%d, %d)", first, last, tt.first, tt.last)
			}
			for day, want := range tt.days {
				if got := c.IsWorkingDay(day); got != want {
					t.Errorf("IsWorkingDay(%s) = %v, want %v", calFmt(day), got, want)
				}
			}
		})
	}
}

func TestCalendarParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // substrings of the error
	}{
		{"bad date", "date,kind,name\n2025-01-01,holiday,a\n2025-13-01,holiday,b\n", []string{"line 3", "bad date", "2025-13-01"}},
		{"bad date after comments and blank lines", "# x\n\ndate,kind,name\n# y\n\n2025-02-30,holiday,b\n", []string{"line 6", "bad date"}},
		{"date in another format", "date,kind,name\n01/01/2025,holiday,a\n", []string{"line 2", "bad date"}},
		{"empty date", "date,kind,name\n,holiday,a\n", []string{"line 2", "bad date"}},
		{"unknown kind", "date,kind,name\n2025-01-01,holiday,a\n2025-01-02,vacation,b\n", []string{"line 3", "unknown kind", "vacation"}},
		{"empty kind", "date,kind,name\n2025-01-02,,b\n", []string{"line 2", "unknown kind"}},
		{"duplicate date", "date,kind,name\n2025-01-01,holiday,a\n2025-01-02,holiday,b\n2025-01-01,workday,c\n", []string{"line 4", "duplicate date", "2025-01-01", "line 2"}},
		{"too few fields", "date,kind,name\n2025-01-01,holiday\n", []string{"line 2", "3 fields"}},
		{"too many fields", "date,kind,name\n2025-01-01,holiday,a,b\n", []string{"line 2", "3 fields"}},
		{"missing header", "2025-01-01,holiday,a\n", []string{"line 1", "header"}},
		{"wrong header", "# c\nday,kind,name\n", []string{"line 2", "header"}},
		{"empty file", "", []string{"header"}},
		{"comments only", "# nothing\n\n", []string{"header"}},
		{"broken quote", "date,kind,name\n2025-01-01,holiday,\"a\n", []string{"line 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCalendar(strings.NewReader(tt.in))
			if err == nil {
				t.Fatalf("ParseCalendar = %+v, nil error; want an error with %q", c, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestCalendarNilAndZero(t *testing.T) {
	for _, cc := range []struct {
		name string
		c    *Calendar
	}{{"nil", nil}, {"zero", &Calendar{}}} {
		t.Run(cc.name, func(t *testing.T) {
			if got := cc.c.IsWorkingDay(calAt(2025, 1, 1, 9, 0)); !got {
				t.Errorf("IsWorkingDay(1/1/2025) = false, want true (weekends only)")
			}
			if got, want := cc.c.AddWorkingDays(calAt(2025, 1, 23, 9, 0), 3), calDue(2025, 1, 28); !got.Equal(want) {
				t.Errorf("AddWorkingDays = %s, want %s", calFmt(got), calFmt(want))
			}
			if got := cc.c.WorkingDaysBetween(calAt(2025, 1, 23, 9, 0), calAt(2025, 1, 30, 9, 0)); got != 5 {
				t.Errorf("WorkingDaysBetween = %d, want 5", got)
			}
			if first, last := cc.c.Covers(); first != 0 || last != 0 {
				t.Errorf("Covers() = (%d, %d), want (0, 0)", first, last)
			}
		})
	}
}

func FuzzParseCalendar(f *testing.F) {
	f.Add(string(calHolidaysCSV), int64(1737657000), uint8(40))
	f.Add("date,kind,name\n2025-01-01,holiday,a\n2025-01-04,workday,b\n", int64(1735689600), uint8(10))
	f.Add("date,kind,name\n2025-01-01,holiday,a\n2025-01-01,holiday,b\n", int64(0), uint8(3))
	f.Add("# c\n\ndate,kind,name\n0000-01-01,workday,\"x,y\"\n9999-12-31,holiday,z\n", int64(-62135596800), uint8(7))
	f.Add("date,kind,name\n2025-01-06,holiday,a\n2025-01-07,holiday,a\n2025-01-08,holiday,a\n2025-01-09,holiday,a\n2025-01-10,holiday,a\n", int64(1736000000), uint8(12))
	f.Add("date,kind,name\n2025-13-01,vacation\n\"", int64(1), uint8(1))
	f.Fuzz(func(t *testing.T, data string, sec int64, n uint8) {
		c, err := ParseCalendar(strings.NewReader(data))
		if err != nil {
			if c != nil {
				t.Fatalf("ParseCalendar returned a calendar with error %v", err)
			}
			return
		}
		if first, last := c.Covers(); first > last {
			t.Fatalf("Covers() = (%d, %d): first after last", first, last)
		}
		from := time.Unix(sec%(1<<40), 0) // years about -32000 to 36000
		prev := c.AddWorkingDays(from, 0)
		for k := 1; k <= int(n%64); k++ {
			next := c.AddWorkingDays(from, k)
			if !next.After(prev) {
				t.Fatalf("AddWorkingDays(%s, %d) = %s, not after n=%d: %s", calFmt(from), k, calFmt(next), k-1, calFmt(prev))
			}
			if !c.IsWorkingDay(next) {
				t.Fatalf("AddWorkingDays(%s, %d) = %s, not a working day", calFmt(from), k, calFmt(next))
			}
			if got := c.WorkingDaysBetween(from, next); got != k {
				t.Fatalf("WorkingDaysBetween(%s, %s) = %d, want %d", calFmt(from), calFmt(next), got, k)
			}
			prev = next
		}
	})
}

func BenchmarkCalendarAddWorkingDays(b *testing.B) {
	c := DefaultCalendar()
	from := calAt(2025, 1, 20, 9, 30)
	for _, n := range []int{15, 365} {
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				_ = c.AddWorkingDays(from.Add(time.Duration(i%1000)*time.Hour), n)
			}
		})
	}
}

package dossier

import (
	"bytes"
	"encoding/csv"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// calRow is a row of data/holidays.csv with its name.
type calRow struct {
	day     int64
	holiday bool
	name    string
	line    int
}

func calRows(t *testing.T, data []byte) []calRow {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(data))
	r.Comment = '#'
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("data/holidays.csv: %v", err)
	}
	var rows []calRow
	for i, rec := range recs[1:] {
		d, err := time.Parse(time.DateOnly, rec[0])
		if err != nil {
			t.Fatalf("data/holidays.csv row %d: %v", i+1, err)
		}
		rows = append(rows, calRow{day: calDayOf(d.Unix()), holiday: rec[1] == "holiday", name: rec[2], line: i + 1})
	}
	return rows
}

// TestStatutoryHolidays: 10 days a year under Bộ luật Lao động 2012 Điều 115 (to 2020), 11
// under Bộ luật Lao động 2019 Điều 112 (from 2021, Quốc khánh 2 days); none known before 2014.
func TestStatutoryHolidays(t *testing.T) {
	if _, ok := StatutoryHolidays(2013); ok {
		t.Errorf("StatutoryHolidays(2013): ok, want false (Labour Code 1994 not modelled)")
	}
	for y := 2014; y <= 2040; y++ {
		hs, ok := StatutoryHolidays(y)
		want := 10
		if y >= 2021 {
			want = 11
		}
		if !ok || len(hs) != want {
			t.Errorf("StatutoryHolidays(%d) = %d days, %v; want %d", y, len(hs), ok, want)
			continue
		}
		tet := 0
		for _, h := range hs {
			if strings.HasPrefix(h.Name, "Tết Nguyên đán") {
				tet++
				l := SolarToLunar(h.Date)
				// The last day of the previous lunar year, mùng 1 to mùng 3, and mùng 4 or
				// the day before the last.
				if !(l.Month == 1 && l.Year == y && l.Day <= 4) && !(l.Month == 12 && l.Year == y-1) {
					t.Errorf("%d: %s on %s is lunar %+v, not in Tết", y, h.Name, h.Date.Format(time.DateOnly), l)
				}
			}
		}
		if tet != 5 {
			t.Errorf("%d: %d days of Tết, want 5", y, tet)
		}
	}
}

// TestHolidaysCSVFollowsLabourCode checks every year 2015–2027 of data/holidays.csv against
// the Labour Code computed with the lunar calendar: the days off on weekdays are exactly the
// statutory holidays, each on its day or, when it falls on a Saturday or Sunday, on the next
// free weekday (HolidayDraft), plus the swapped days the year's announcement made
// ("Hoán đổi ...", each paid back by a worked Saturday "Làm bù ..."). Every statutory day
// is off in DefaultCalendar whatever the swaps. Sources per year: docs/domain.md.
func TestHolidaysCSVFollowsLabourCode(t *testing.T) {
	checkCalendarFollowsLabourCode(t, calHolidaysCSV)
}

func checkCalendarFollowsLabourCode(t *testing.T, data []byte) {
	rows := calRows(t, data)
	cal, err := ParseCalendar(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("ParseCalendar: %v", err)
	}
	byYear := map[int][]calRow{}
	swaps, makeups := 0, 0
	for _, r := range rows {
		y := calMidnight(r.day).Year()
		byYear[y] = append(byYear[y], r)
		switch {
		case !r.holiday:
			makeups++
			if !strings.HasPrefix(r.name, "Làm bù") || !calWeekend(r.day) {
				t.Errorf("line %d: workday %s %q: want a Saturday or Sunday named Làm bù ...", r.line, lunarDate(t, r.day), r.name)
			}
		case strings.HasPrefix(r.name, "Hoán đổi"):
			swaps++
		}
	}
	if swaps != makeups {
		t.Errorf("%d swapped days off (Hoán đổi) but %d make-up Saturdays (Làm bù)", swaps, makeups)
	}
	for y := 2015; y <= 2027; y++ {
		draft, _ := HolidayDraft(y)
		want := map[int64]string{}
		for _, r := range draft {
			want[calDay(r.Date)] = r.Name
		}
		got := map[int64]string{}
		for _, r := range byYear[y] {
			if r.holiday && !strings.HasPrefix(r.name, "Hoán đổi") && !calWeekend(r.day) {
				got[r.day] = r.name
			}
		}
		for d, name := range want {
			if _, ok := got[d]; !ok {
				t.Errorf("%d: %s %q (Labour Code) is not a holiday row", y, lunarDate(t, d), name)
			}
		}
		for d, name := range got {
			if _, ok := want[d]; !ok {
				t.Errorf("%d: holiday row %s %q is neither a statutory holiday, a day made up for one, nor a swap (Hoán đổi)", y, lunarDate(t, d), name)
			}
		}
		hs, _ := StatutoryHolidays(y)
		for _, h := range hs {
			off := !cal.IsWorkingDay(h.Date)
			if !h.Alt.IsZero() {
				off = off || !cal.IsWorkingDay(h.Alt)
			}
			if !off {
				t.Errorf("%d: %s %q is a working day", y, h.Date.Format(time.DateOnly), h.Name)
			}
		}
		estimated := 0
		for _, r := range byYear[y] {
			if strings.HasSuffix(r.name, "(dự kiến)") {
				estimated++
			}
		}
		if y <= 2026 && estimated != 0 || y == 2027 && estimated != len(byYear[y]) {
			t.Errorf("%d: %d of %d rows marked (dự kiến); want none before 2027, all in 2027 (not announced)", y, estimated, len(byYear[y]))
		}
	}
}

// TestHolidaysCSVLunarNames: the lunar dates in the rows' names are those of the Vietnamese
// calendar: "(mùng N)", "(N tháng Chạp)", "Giỗ Tổ Hùng Vương (10/3 âm lịch)" and the year's
// name (can chi) after "Tết Nguyên đán".
func TestHolidaysCSVLunarNames(t *testing.T) {
	checkLunarNames(t, calHolidaysCSV)
}

var (
	calMungRe  = regexp.MustCompile(`\(mùng (\d+)\)`)
	calChapRe  = regexp.MustCompile(`\((\d+) tháng Chạp\)`)
	calTetYrRe = regexp.MustCompile(`^Tết Nguyên đán (\S+ \S+)`)
)

func checkLunarNames(t *testing.T, data []byte) {
	for _, r := range calRows(t, data) {
		l := lunarOfDay(r.day, lunarTZ)
		if m := calMungRe.FindStringSubmatch(r.name); m != nil {
			if n, _ := strconv.Atoi(m[1]); l.Month != 1 || l.Leap || l.Day != n {
				t.Errorf("line %d: %s %q is lunar %d/%d", r.line, lunarDate(t, r.day), r.name, l.Day, l.Month)
			}
		}
		if m := calChapRe.FindStringSubmatch(r.name); m != nil {
			if n, _ := strconv.Atoi(m[1]); l.Month != 12 || l.Day != n {
				t.Errorf("line %d: %s %q is lunar %d/%d", r.line, lunarDate(t, r.day), r.name, l.Day, l.Month)
			}
		}
		if strings.HasPrefix(r.name, "Giỗ Tổ Hùng Vương (10/3 âm lịch)") && (l.Month != 3 || l.Day != 10 || l.Leap) {
			t.Errorf("line %d: %s %q is lunar %d/%d", r.line, lunarDate(t, r.day), r.name, l.Day, l.Month)
		}
		if m := calTetYrRe.FindStringSubmatch(r.name); m != nil {
			ly := l.Year
			if l.Month == 12 {
				ly++ // the days before Tết carry the name of the year they lead into
			}
			if want := LunarYearName(ly); m[1] != want {
				t.Errorf("line %d: %s %q: the lunar year is %s", r.line, lunarDate(t, r.day), r.name, want)
			}
		}
	}
}

// TestHolidaysCSVNetDays: each year takes exactly its statutory number of days off the
// weekdays (10 to 2020, 11 from 2021), the swaps cancelling out within the year except the
// two that cross a New Year (27/12/2014 for 2/1/2015; 31/12/2018 for 5/1/2019).
func TestHolidaysCSVNetDays(t *testing.T) {
	c := DefaultCalendar()
	cross := map[int]int{2015: 1, 2018: 1, 2019: -1}
	for y := 2015; y <= 2027; y++ {
		weekdays := 0
		for d := calAt(y, 1, 1, 12, 0); d.Year() == y; d = d.AddDate(0, 0, 1) {
			if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
				weekdays++
			}
		}
		n := 10
		if y >= 2021 {
			n = 11
		}
		got := c.WorkingDaysBetween(calAt(y-1, 12, 31, 12, 0), calAt(y, 12, 31, 12, 0))
		if want := weekdays - n - cross[y]; got != want {
			t.Errorf("%d: %d working days, want %d (%d weekdays less %d holidays less %d swapped across the year)", y, got, want, weekdays, n, cross[y])
		}
	}
}

// TestHolidayDraft2027: the estimate for 2027 (Tết Đinh Mùi on Saturday 6/2/2027): Tết
// off Thursday 4 to Wednesday 10 February, Giỗ Tổ Friday 16/4, 1/5 (Saturday) made up on
// Monday 3/5, Quốc khánh 2–3/9.
func TestHolidayDraft2027(t *testing.T) {
	rows, ok := HolidayDraft(2027)
	if !ok {
		t.Fatal("HolidayDraft(2027): not ok")
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.Date.Format("01-02"))
	}
	want := "01-01 02-04 02-05 02-08 02-09 02-10 04-16 04-30 05-03 09-02 09-03"
	if g := strings.Join(got, " "); g != want {
		t.Errorf("HolidayDraft(2027) = %s, want %s", g, want)
	}
	if _, ok := HolidayDraft(2013); ok {
		t.Errorf("HolidayDraft(2013): ok, want false")
	}
}

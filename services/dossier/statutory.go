package dossier

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The public holidays the Labour Code fixes, computed for a year with the lunar calendar of
// lunar.go: what data/holidays.csv must hold, less the days each year's announcement swaps
// (docs/domain.md, "Working days and public holidays").
//
//   - Bộ luật Lao động 2012, Điều 115 (in force 1 May 2013 to 31 December 2020): 10 days:
//     Tết Dương lịch 1/1, Tết Âm lịch 5 days, Giỗ Tổ Hùng Vương 10/3 âm lịch, Ngày Chiến
//     thắng 30/4, Ngày Quốc tế lao động 1/5, Quốc khánh 2/9.
//   - Bộ luật Lao động 2019, Điều 112 (from 1 January 2021): 11 days: the same, with Quốc
//     khánh 2 days, 2/9 and the day before or after.
//   - Both, khoản 3: a holiday that falls on the weekly day off is made up on the next
//     working day (for civil servants, whose weekly days off are Saturday and Sunday).
//
// Which five days make Tết, and which day goes with 2/9, the Prime Minister decides each
// year; the law fixes the last day of the lunar year (giao thừa) and mùng 1 to mùng 3 in
// every choice made since 2014.

// StatutoryHoliday is a public holiday of the Labour Code in one year.
type StatutoryHoliday struct {
	Date time.Time // midnight, Vietnam time
	// Alt is zero, or the other day the year's announcement may choose instead of Date
	// (the fifth day of Tết: mùng 4 or the day before the last day of the lunar year; the
	// day next to 2/9: 1/9 or 3/9).
	Alt  time.Time
	Name string // Vietnamese, as in data/holidays.csv
}

// statutoryFirstYear is the first year StatutoryHolidays knows: the first whole year of the
// Labour Code 2012 (Tết 2013 still fell under the code of 1994, with 4 days).
const statutoryFirstYear = 2014

// lunarStems and lunarBranches name a lunar year (can chi): 4 CE was Giáp Tý.
var (
	lunarStems    = [10]string{"Giáp", "Ất", "Bính", "Đinh", "Mậu", "Kỷ", "Canh", "Tân", "Nhâm", "Quý"}
	lunarBranches = [12]string{"Tý", "Sửu", "Dần", "Mão", "Thìn", "Tỵ", "Ngọ", "Mùi", "Thân", "Dậu", "Tuất", "Hợi"}
)

// LunarYearName is the Vietnamese name (can chi) of lunar year y: 2024 is Giáp Thìn.
func LunarYearName(y int) string {
	return lunarStems[((y-4)%10+10)%10] + " " + lunarBranches[((y-4)%12+12)%12]
}

// lunarDayName names a day of Tết: "mùng 1" to "mùng 10" in the first month, "29 tháng
// Chạp" in the twelfth.
func lunarDayName(l LunarDate) string {
	if l.Month == 1 && !l.Leap && l.Day <= 10 {
		return fmt.Sprintf("mùng %d", l.Day)
	}
	if l.Month == 12 {
		return fmt.Sprintf("%d tháng Chạp", l.Day)
	}
	return fmt.Sprintf("%d/%d âm lịch", l.Day, l.Month)
}

// StatutoryHolidays lists the public holidays of Gregorian year y under the Labour Code in
// force that year, in date order; false for a year before 2014 (earlier codes are not
// modelled).
func StatutoryHolidays(y int) ([]StatutoryHoliday, bool) {
	if y < statutoryFirstYear {
		return nil, false
	}
	day := calMidnight
	solar := func(m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, Vietnam) }
	var hs []StatutoryHoliday
	add := func(t, alt time.Time, name string) {
		hs = append(hs, StatutoryHoliday{Date: t, Alt: alt, Name: name})
	}

	add(solar(time.January, 1), time.Time{}, "Tết Dương lịch")

	tet, _ := lunarDayOf(LunarDate{Year: y, Month: 1, Day: 1}, lunarTZ)
	tetName := "Tết Nguyên đán " + LunarYearName(y)
	for d := tet - 2; d <= tet+3; d++ {
		l := lunarOfDay(d, lunarTZ)
		name := tetName + " (" + lunarDayName(l) + ")"
		switch {
		case d == tet-2: // the fifth day, before the last day of the year or mùng 4
			continue
		case d == tet+3:
			add(day(d), day(tet-2), name)
		default: // the last day of the lunar year, mùng 1 to mùng 3
			add(day(d), time.Time{}, name)
		}
	}

	gioTo, _ := lunarDayOf(LunarDate{Year: y, Month: 3, Day: 10}, lunarTZ)
	add(day(gioTo), time.Time{}, "Giỗ Tổ Hùng Vương (10/3 âm lịch)")
	add(solar(time.April, 30), time.Time{}, "Ngày Chiến thắng")
	add(solar(time.May, 1), time.Time{}, "Ngày Quốc tế lao động")
	add(solar(time.September, 2), time.Time{}, "Quốc khánh")
	if y >= 2021 {
		add(solar(time.September, 3), solar(time.September, 1), "Quốc khánh (ngày liền kề)")
	}
	slices.SortStableFunc(hs, func(a, b StatutoryHoliday) int { return a.Date.Compare(b.Date) })
	return hs, true
}

// HolidayRow is a row of a holiday file (ParseCalendar).
type HolidayRow struct {
	Date    time.Time // midnight, Vietnam time
	Holiday bool      // kind holiday; false for workday
	Name    string
}

// HolidayDraft is the rows of data/holidays.csv that year y has when its announcement swaps
// no day (hoán đổi): each holiday of StatutoryHolidays that falls on a weekday, and for each
// that falls on a Saturday or Sunday a day off on the next weekday not already off (khoản 3).
// It is what a year's rows are checked against, and the estimate (dự kiến) written for a
// year not yet announced. False for a year before 2014.
//
// Where the law leaves a choice, the draft takes the one of the announcements of 2015–2026,
// which it reproduces for every one of those years: Tết is the two last days of the lunar
// year and mùng 1 to mùng 3 (in 2016, 2019, 2022 and 2026 the announcement named the last
// day and mùng 1 to mùng 4 instead, the same weekdays off); the day next to 2/9 is 3/9 when
// 2/9 is a Monday, Thursday or Sunday, 1/9 otherwise.
func HolidayDraft(y int) ([]HolidayRow, bool) {
	hs, ok := StatutoryHolidays(y)
	if !ok {
		return nil, false
	}
	type dayOff struct {
		d    int64
		name string
	}
	var offs []dayOff
	for _, h := range hs {
		d := calDay(h.Date)
		if !h.Alt.IsZero() {
			if h.Date.Month() == time.September {
				switch time.Date(y, time.September, 2, 12, 0, 0, 0, Vietnam).Weekday() {
				case time.Monday, time.Thursday, time.Sunday:
				default:
					d = calDay(h.Alt)
				}
			} else {
				d = calDay(h.Alt)
				h.Name = "Tết Nguyên đán " + LunarYearName(y) + " (" + lunarDayName(lunarOfDay(d, lunarTZ)) + ")"
			}
		}
		offs = append(offs, dayOff{d, h.Name})
	}
	slices.SortFunc(offs, func(a, b dayOff) int { return cmp.Compare(a.d, b.d) })
	taken := make(map[int64]bool, len(offs))
	for _, o := range offs {
		taken[o.d] = true
	}
	var rows []HolidayRow
	for _, o := range offs {
		if !calWeekend(o.d) {
			rows = append(rows, HolidayRow{Date: calMidnight(o.d), Holiday: true, Name: o.name})
			continue
		}
		c := o.d + 1
		for calWeekend(c) || taken[c] {
			c++
		}
		taken[c] = true
		// "Nghỉ bù Giỗ Tổ Hùng Vương 10/3 âm lịch (trùng Chủ nhật 26/4)": no comma, so that
		// the row needs no quotes.
		name := strings.Replace(strings.TrimSuffix(o.name, ")"), " (", " ", 1)
		rows = append(rows, HolidayRow{
			Date:    calMidnight(c),
			Holiday: true,
			Name:    "Nghỉ bù " + name + " (trùng " + calWeekdayVI(o.d) + " " + calMidnight(o.d).Format("2/1") + ")",
		})
	}
	slices.SortStableFunc(rows, func(a, b HolidayRow) int { return a.Date.Compare(b.Date) })
	return rows, true
}

// calMidnight is 00:00 Vietnam time of day d.
func calMidnight(d int64) time.Time { return time.Unix(d*calSecPerDay-calOffset, 0).In(Vietnam) }

// calWeekdayVI is the Vietnamese name of day d's weekday.
func calWeekdayVI(d int64) string {
	names := [7]string{"Chủ nhật", "thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy"}
	wd := (d + 4) % 7
	if wd < 0 {
		wd += 7
	}
	return names[wd]
}

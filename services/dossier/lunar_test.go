package dossier

import (
	"testing"
	"time"
)

func lunarDate(t testing.TB, day int64) string {
	t.Helper()
	return calMidnight(day).Format(time.DateOnly)
}

// TestLunarTet: the first day of the lunar year (Tết Nguyên đán) in Vietnam for the years of
// the data and the years where the calendar computed for UTC+8 (China) differs: Vietnam's
// Tết of 1985 was 21 January (China: 20 February), of 2007 17 February (China: 18
// February), of 2030 2 February (China: 3 February). Source: the Vietnamese calendar of Hồ
// Ngọc Đức's "Âm lịch Việt Nam" (docs/domain.md, "Working days and public holidays"), and
// the announcements of each year's Tết holiday for 2015–2026.
func TestLunarTet(t *testing.T) {
	tests := []struct {
		year       int
		vn, cn     string
		announced  bool // the date is in a published holiday announcement (see docs/domain.md)
		divergence bool
	}{
		{1985, "1985-01-21", "1985-02-20", false, true},
		{2007, "2007-02-17", "2007-02-18", false, true},
		{2015, "2015-02-19", "2015-02-19", true, false},
		{2016, "2016-02-08", "2016-02-08", true, false},
		{2017, "2017-01-28", "2017-01-28", true, false},
		{2018, "2018-02-16", "2018-02-16", true, false},
		{2019, "2019-02-05", "2019-02-05", true, false},
		{2020, "2020-01-25", "2020-01-25", true, false},
		{2021, "2021-02-12", "2021-02-12", true, false},
		{2022, "2022-02-01", "2022-02-01", true, false},
		{2023, "2023-01-22", "2023-01-22", true, false},
		{2024, "2024-02-10", "2024-02-10", true, false},
		{2025, "2025-01-29", "2025-01-29", true, false},
		{2026, "2026-02-17", "2026-02-17", true, false},
		{2027, "2027-02-06", "2027-02-06", false, false},
		{2030, "2030-02-02", "2030-02-03", false, true},
	}
	for _, tt := range tests {
		vn, ok := LunarToSolar(LunarDate{Year: tt.year, Month: 1, Day: 1})
		if !ok || vn.Format(time.DateOnly) != tt.vn {
			t.Errorf("LunarToSolar(1/1/%d) = %s, %v; want %s", tt.year, vn.Format(time.DateOnly), ok, tt.vn)
		}
		if h, m, s := vn.Clock(); h != 0 || m != 0 || s != 0 || vn.Location() != Vietnam {
			t.Errorf("LunarToSolar(1/1/%d) = %s, want midnight Vietnam time", tt.year, vn)
		}
		if got := SolarToLunar(vn); got != (LunarDate{Year: tt.year, Month: 1, Day: 1}) {
			t.Errorf("SolarToLunar(%s) = %+v, want 1/1/%d", tt.vn, got, tt.year)
		}
		cn, ok := lunarDayOf(LunarDate{Year: tt.year, Month: 1, Day: 1}, 8)
		if !ok || lunarDate(t, cn) != tt.cn {
			t.Errorf("Tết %d computed for UTC+8 = %s, want %s", tt.year, lunarDate(t, cn), tt.cn)
		}
	}
}

// TestLunarGioTo: Giỗ Tổ Hùng Vương, 10/3 âm lịch, on the Gregorian days of the holiday
// announcements (2019: Sunday 14/4, made up on Monday 15/4; 2023: Saturday 29/4; 2026:
// Sunday 26/4, made up on Monday 27/4).
func TestLunarGioTo(t *testing.T) {
	want := map[int]string{
		2015: "2015-04-28", 2016: "2016-04-16", 2017: "2017-04-06", 2018: "2018-04-25",
		2019: "2019-04-14", 2020: "2020-04-02", 2021: "2021-04-21", 2022: "2022-04-10",
		2023: "2023-04-29", 2024: "2024-04-18", 2025: "2025-04-07", 2026: "2026-04-26",
		2027: "2027-04-16",
	}
	for y := 2015; y <= 2027; y++ {
		got, ok := LunarToSolar(LunarDate{Year: y, Month: 3, Day: 10})
		if !ok || got.Format(time.DateOnly) != want[y] {
			t.Errorf("10/3 âm lịch %d = %s, %v; want %s", y, got.Format(time.DateOnly), ok, want[y])
		}
	}
}

// TestLunarLeapMonths: the leap months (tháng nhuận) of the Vietnamese calendar in the
// years around the data: 2012 month 4, 2014 month 9, 2017 month 6, 2020 month 4, 2023
// month 2, 2025 month 6, 2028 month 5; the other years have none.
func TestLunarLeapMonths(t *testing.T) {
	leap := map[int]int{2012: 4, 2014: 9, 2017: 6, 2020: 4, 2023: 2, 2025: 6, 2028: 5}
	for y := 2010; y <= 2030; y++ {
		found := 0
		for m := 1; m <= 12; m++ {
			if _, ok := LunarToSolar(LunarDate{Year: y, Month: m, Day: 1, Leap: true}); ok {
				if found != 0 {
					t.Errorf("%d: two leap months, %d and %d", y, found, m)
				}
				found = m
			}
		}
		if found != leap[y] {
			t.Errorf("%d: leap month %d, want %d (0: none)", y, found, leap[y])
		}
	}
	// The leap month repeats the number of the month before it: 2023's leap 2nd month
	// began on 22 March, a month after the 2nd (20 February).
	if got, _ := LunarToSolar(LunarDate{Year: 2023, Month: 2, Day: 1, Leap: true}); got.Format(time.DateOnly) != "2023-03-22" {
		t.Errorf("1/2 nhuận 2023 = %s, want 2023-03-22", got.Format(time.DateOnly))
	}
	if got := SolarToLunar(calAt(2023, 3, 22, 12, 0)); got != (LunarDate{2023, 2, 1, true}) {
		t.Errorf("SolarToLunar(2023-03-22) = %+v, want 1/2 nhuận 2023", got)
	}
}

// TestLunarRoundTrip: every day of 1990–2040 has a lunar date that maps back to it; days
// follow each other within a month; months have 29 or 30 days; lunar years follow each
// other with months 1 to 12 (one of them doubled in a leap year).
func TestLunarRoundTrip(t *testing.T) {
	start := calDay(calAt(1990, 1, 1, 12, 0))
	end := calDay(calAt(2040, 12, 31, 12, 0))
	prev := lunarOfDay(start-1, lunarTZ)
	for d := start; d <= end; d++ {
		l := lunarOfDay(d, lunarTZ)
		back, ok := lunarDayOf(l, lunarTZ)
		if !ok || back != d {
			t.Fatalf("%s: lunar %+v maps back to %s, %v", lunarDate(t, d), l, lunarDate(t, back), ok)
		}
		if l.Day == 1 {
			if prev.Day != 29 && prev.Day != 30 {
				t.Fatalf("%s: month before %+v ended on day %d", lunarDate(t, d), l, prev.Day)
			}
			var next LunarDate
			switch {
			case l.Leap:
				next = LunarDate{prev.Year, prev.Month, 1, true}
			case prev.Month == 12:
				next = LunarDate{prev.Year + 1, 1, 1, false}
			default:
				next = LunarDate{prev.Year, prev.Month + 1, 1, false}
			}
			if l != next {
				t.Fatalf("%s: %+v after %+v, want %+v", lunarDate(t, d), l, prev, next)
			}
		} else if l != (LunarDate{prev.Year, prev.Month, prev.Day + 1, prev.Leap}) {
			t.Fatalf("%s: %+v after %+v", lunarDate(t, d), l, prev)
		}
		prev = l
	}
}

func TestLunarToSolarInvalid(t *testing.T) {
	for _, l := range []LunarDate{
		{2024, 0, 1, false},
		{2024, 13, 1, false},
		{2024, 1, 0, false},
		{2024, 1, 31, false},
		{2024, 4, 1, true},    // 2024 has no leap month
		{2023, 3, 1, true},    // 2023's leap month is the 2nd
		{2024, 12, 30, true},  // no leap 12th
		{2025, 12, 30, false}, // the 12th month of Ất Tỵ has 29 days (Tết Bính Ngọ is 17/2/2026)
	} {
		if got, ok := LunarToSolar(l); ok {
			t.Errorf("LunarToSolar(%+v) = %s, true; want false", l, got)
		}
	}
	// The 12th month of Quý Mão has 30 days, that of Giáp Thìn 29: 2024-02-09 and
	// 2025-01-28 are the last days of their lunar years (giao thừa).
	if got, ok := LunarToSolar(LunarDate{2023, 12, 30, false}); !ok || got.Format(time.DateOnly) != "2024-02-09" {
		t.Errorf("LunarToSolar(30/12/2023) = %s, %v; want 2024-02-09", got.Format(time.DateOnly), ok)
	}
	if got, ok := LunarToSolar(LunarDate{2024, 12, 30, false}); ok {
		t.Errorf("LunarToSolar(30/12/2024) = %s, true; want false", got.Format(time.DateOnly))
	}
	if got, ok := LunarToSolar(LunarDate{2024, 12, 29, false}); !ok || got.Format(time.DateOnly) != "2025-01-28" {
		t.Errorf("LunarToSolar(29/12/2024) = %s, %v; want 2025-01-28", got.Format(time.DateOnly), ok)
	}
}

func TestLunarYearName(t *testing.T) {
	for y, want := range map[int]string{
		2015: "Ất Mùi", 2018: "Mậu Tuất", 2019: "Kỷ Hợi", 2024: "Giáp Thìn",
		2025: "Ất Tỵ", 2026: "Bính Ngọ", 2027: "Đinh Mùi", 1984: "Giáp Tý",
	} {
		if got := LunarYearName(y); got != want {
			t.Errorf("LunarYearName(%d) = %q, want %q", y, got, want)
		}
	}
}

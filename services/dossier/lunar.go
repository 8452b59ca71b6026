package dossier

import (
	"math"
	"time"
)

// The Vietnamese lunisolar calendar (âm lịch), computed for Vietnam's time zone UTC+7.
//
// The rules (docs/domain.md, "Working days and public holidays"), as published by Hồ Ngọc
// Đức ("Âm lịch Việt Nam") and used for the calendars printed in Vietnam since 1968:
//
//   - a lunar month begins on the civil day, in UTC+7, that holds the instant of a new moon;
//   - month 11 is the month holding the winter solstice (the Sun at longitude 270°);
//   - a lunar year with 13 months between two months 11 has a leap month: the first month
//     after month 11 during which the Sun enters no new 30° sector of longitude (no major
//     solar term, trung khí); it takes the number of the month before it.
//
// The new moon instants are the truncated series of Meeus (Astronomical Formulae for
// Calculators), the Sun's longitude the low-precision formula of Meeus (Astronomical
// Algorithms, ch. 25): the precision of the published algorithm, good to minutes for the
// years this service handles. The time zone matters: computed for UTC+8 (the Chinese
// calendar) the same rules give another Tết in some years (1985, 2007, 2030), because a
// new moon just after 23:00 in Vietnam falls on the next day in China.

// LunarDate is a date of the Vietnamese lunar calendar. Year is the Gregorian year in which
// the lunar year begins (Tết Giáp Thìn, 1/1 of lunar 2024, is 2024-02-10).
type LunarDate struct {
	Year, Month, Day int
	Leap             bool // the leap month (tháng nhuận) repeating Month
}

const (
	lunarTZ = 7.0 // hours east of UTC the Vietnamese calendar is computed for
	// lunarEpochJD is the Julian Date of the new moon of 1900-01-01, number 0 of
	// lunarNewMoonJD; lunarSynodic the mean synodic month in days.
	lunarEpochJD = 2415021.076998695
	lunarSynodic = 29.530588853
	// lunarJDNOfDay0 is the Julian Day Number of 1970-01-01, day 0 of calDay.
	lunarJDNOfDay0 = 2440588
)

// SolarToLunar is the lunar date of the day of t in Vietnam time.
func SolarToLunar(t time.Time) LunarDate { return lunarOfDay(calDay(t), lunarTZ) }

// LunarToSolar is midnight, Vietnam time, of the Gregorian day of lunar date l; false if l
// does not exist (a leap month the year lacks, day 30 of a 29-day month, a month outside
// 1..12, a day outside 1..30).
func LunarToSolar(l LunarDate) (time.Time, bool) {
	d, ok := lunarDayOf(l, lunarTZ)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(d*calSecPerDay-calOffset, 0).In(Vietnam), true
}

// lunarNewMoonJD is the Julian Date (UT) of new moon number k counted from the new moon of
// 1900-01-01 (k may be negative).
func lunarNewMoonJD(k int) float64 {
	const rad = math.Pi / 180
	kf := float64(k)
	t := kf / 1236.85 // Julian centuries from 1900-01-01
	t2, t3 := t*t, t*t*t
	mean := 2415020.75933 + 29.53058868*kf + 0.0001178*t2 - 0.000000155*t3 +
		0.00033*math.Sin((166.56+132.87*t-0.009173*t2)*rad)
	sun := (359.2242 + 29.10535608*kf - 0.0000333*t2 - 0.00000347*t3) * rad   // Sun's mean anomaly
	moon := (306.0253 + 385.81691806*kf + 0.0107306*t2 + 0.00001236*t3) * rad // Moon's mean anomaly
	lat := (21.2964 + 390.67050646*kf - 0.0016528*t2 - 0.00000239*t3) * rad   // Moon's argument of latitude
	corr := (0.1734-0.000393*t)*math.Sin(sun) + 0.0021*math.Sin(2*sun) -
		0.4068*math.Sin(moon) + 0.0161*math.Sin(2*moon) - 0.0004*math.Sin(3*moon) +
		0.0104*math.Sin(2*lat) - 0.0051*math.Sin(sun+moon) - 0.0074*math.Sin(sun-moon) +
		0.0004*math.Sin(2*lat+sun) - 0.0004*math.Sin(2*lat-sun) -
		0.0006*math.Sin(2*lat+moon) + 0.0010*math.Sin(2*lat-moon) + 0.0005*math.Sin(2*moon+sun)
	// ΔT, dynamical time less universal time, in days.
	var deltaT float64
	if t < -11 {
		deltaT = 0.001 + 0.000839*t + 0.0002261*t2 - 0.00000845*t3 - 0.000000081*t*t3
	} else {
		deltaT = -0.000278 + 0.000265*t + 0.000262*t2
	}
	return mean + corr - deltaT
}

// lunarNewMoonDay is the civil day (a calDay number) in zone tz (hours east of UTC) that
// holds new moon number k.
func lunarNewMoonDay(k int, tz float64) int64 {
	// A Julian Date starts at noon UT: JD + 0.5 + tz/24 counts days from local midnight.
	return int64(math.Floor(lunarNewMoonJD(k)+0.5+tz/24)) - lunarJDNOfDay0
}

// lunarSunSector is the 30° sector (0..11) of the Sun's apparent longitude at the start
// (local midnight in zone tz) of day d; sector 9 begins at the winter solstice.
func lunarSunSector(d int64, tz float64) int {
	const rad = math.Pi / 180
	jd := float64(d+lunarJDNOfDay0) - 0.5 - tz/24
	t := (jd - 2451545.0) / 36525 // Julian centuries from J2000.0
	t2 := t * t
	m := (357.52910 + 35999.05030*t - 0.0001559*t2 - 0.00000048*t*t2) * rad // mean anomaly
	l0 := 280.46645 + 36000.76983*t + 0.0003032*t2                          // mean longitude
	c := (1.914600-0.004817*t-0.000014*t2)*math.Sin(m) +
		(0.019993-0.000101*t)*math.Sin(2*m) + 0.000290*math.Sin(3*m) // equation of centre
	l := math.Mod(l0+c, 360)
	if l < 0 {
		l += 360
	}
	return int(l / 30)
}

// lunarMonthIndex is the number k of the last new moon whose day, in zone tz, is on or
// before day d.
func lunarMonthIndex(d int64, tz float64) int {
	k := int(math.Floor((float64(d+lunarJDNOfDay0) - lunarEpochJD) / lunarSynodic))
	for lunarNewMoonDay(k, tz) > d {
		k--
	}
	for lunarNewMoonDay(k+1, tz) <= d {
		k++
	}
	return k
}

// lunarMonth11 is the new moon number that starts month 11 of lunar year y: the month
// holding the winter solstice of Gregorian year y.
func lunarMonth11(y int, tz float64) int {
	dec31 := calDayOf(time.Date(y, time.December, 31, 0, 0, 0, 0, time.UTC).Unix())
	k := lunarMonthIndex(dec31, tz)
	// The solstice (about 21–22 December) is before 31 December: if the Sun had already
	// passed 270° when the month holding 31 December began, the solstice is in the month
	// before.
	if lunarSunSector(lunarNewMoonDay(k, tz), tz) >= 9 {
		k--
	}
	return k
}

// lunarSpan is the months from month 11 of lunar year y-1 (included) to month 11 of lunar
// year y (excluded): their new moon numbers [a, b) and the number of the leap month among
// them (0 if none).
type lunarSpan struct {
	a, b int
	leap int // new moon number of the leap month; 0 when b-a == 12
}

func lunarSpanOf(y int, tz float64) lunarSpan {
	s := lunarSpan{a: lunarMonth11(y-1, tz), b: lunarMonth11(y, tz)}
	if s.b-s.a > 12 {
		// The leap month is the first month after month 11 that the Sun leaves in the
		// sector it entered it in.
		for k := s.a + 1; k < s.b; k++ {
			if lunarSunSector(lunarNewMoonDay(k, tz), tz) == lunarSunSector(lunarNewMoonDay(k+1, tz), tz) {
				s.leap = k
				break
			}
		}
		if s.leap == 0 { // not reached for the years this service handles
			s.leap = s.a + 1
		}
	}
	return s
}

// label numbers month k of the span: its month number 1..12, whether it is the leap month,
// and whether it belongs to lunar year y-1 (months 11 and 12 before Tết).
func (s lunarSpan) label(k int) (month int, leap, prevYear bool) {
	i := k - s.a // 0 is month 11
	if s.leap != 0 && k >= s.leap {
		i--
		leap = k == s.leap
	}
	month = (i+10)%12 + 1
	// Months 11 and 12 (and a leap 11 or 12) open the span: with at most one leap month
	// among 13, the span ends with month 10, so no later month is numbered 11 or 12.
	return month, leap, month >= 11
}

// lunarOfDay is the lunar date of day d in zone tz.
func lunarOfDay(d int64, tz float64) LunarDate {
	gy, _, _ := time.Unix(d*calSecPerDay, 0).UTC().Date()
	k := lunarMonthIndex(d, tz)
	y := gy
	if k >= lunarMonth11(gy, tz) {
		y = gy + 1 // after month 11 of lunar gy: in the span ending at month 11 of gy+1
	}
	s := lunarSpanOf(y, tz)
	month, leap, prev := s.label(k)
	ly := y
	if prev {
		ly = y - 1
	}
	return LunarDate{Year: ly, Month: month, Day: int(d-lunarNewMoonDay(k, tz)) + 1, Leap: leap}
}

// lunarDayOf is the day (a calDay number) of lunar date l in zone tz.
func lunarDayOf(l LunarDate, tz float64) (int64, bool) {
	if l.Month < 1 || l.Month > 12 || l.Day < 1 || l.Day > 30 {
		return 0, false
	}
	y := l.Year
	if l.Month >= 11 {
		y++ // months 11 and 12 of lunar year Y are in the span ending at month 11 of Y+1
	}
	s := lunarSpanOf(y, tz)
	for k := s.a; k < s.b; k++ {
		if month, leap, _ := s.label(k); month != l.Month || leap != l.Leap {
			continue
		}
		start, next := lunarNewMoonDay(k, tz), lunarNewMoonDay(k+1, tz)
		if int64(l.Day) > next-start {
			return 0, false
		}
		return start + int64(l.Day) - 1, true
	}
	return 0, false
}

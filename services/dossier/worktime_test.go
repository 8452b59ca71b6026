package dossier

import (
	"testing"
	"time"
)

// TestWorkingTime: a pause counts only the working hours (08:00–17:00) of working days
// (NĐ 61/2018/NĐ-CP and TT 01/2018/TT-VPCP: the time of a supplement is not counted in a
// processing time counted in working days; docs/domain.md), and a moved due date never
// falls on a day off.
func TestWorkingTime(t *testing.T) {
	cal := DefaultCalendar()
	at := func(s string) int64 {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, Vietnam)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMilli()
	}
	h := int64(time.Hour / time.Millisecond)
	for _, tc := range []struct {
		name     string
		from, to string
		want     int64
	}{
		{"Friday morning to Sunday: less than a working day", "2026-10-23 09:00", "2026-10-25 12:00", 8 * h},
		{"a whole weekend", "2026-10-24 00:00", "2026-10-26 08:00", 0},
		{"Friday 10:00 to Monday 10:00", "2026-11-20 10:00", "2026-11-23 10:00", 9 * h},
		{"over Quốc khánh 2026 (31/8 to 2/9 off)", "2026-08-28 17:00", "2026-09-03 08:00", 0},
		{"a working week", "2026-11-02 08:00", "2026-11-07 08:00", 45 * h},
	} {
		if got := cal.WorkingMillisBetween(at(tc.from), at(tc.to)); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, time.Duration(got)*time.Millisecond, time.Duration(tc.want)*time.Millisecond)
		}
	}
	for _, tc := range []struct {
		name string
		from string
		w    int64
		want string
	}{
		{"a due Friday 17:00 moved by 2 h: Monday 10:00", "2026-10-23 17:00", 2 * h, "2026-10-26 10:00"},
		{"moved by a whole day: the next working day's end", "2026-10-23 17:00", 9 * h, "2026-10-26 17:00"},
		{"across Quốc khánh: Thursday 3/9", "2026-08-28 17:00", 1 * h, "2026-09-03 09:00"},
		{"within the day", "2026-10-22 09:00", 3 * h, "2026-10-22 12:00"},
		{"nothing to move: unchanged, even on a Saturday", "2026-10-24 17:00", 0, "2026-10-24 17:00"},
	} {
		got := time.UnixMilli(cal.AddWorkingMillis(at(tc.from), tc.w)).In(Vietnam)
		if got.Format("2006-01-02 15:04") != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got.Format("2006-01-02 15:04"), tc.want)
		}
		if tc.w > 0 && !cal.IsWorkingDay(got) {
			t.Errorf("%s: %s is a day off", tc.name, got)
		}
	}
}

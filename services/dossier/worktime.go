package dossier

// Working time: the part of a pause that counts, and moving a due date by it
// (docs/domain.md, "Timeliness: due dates, pauses, apologies, verdicts").
//
// A processing time is counted in working days, so the time a dossier waits for a
// supplement moves its due date by the working time that passed during the wait, not by
// its clock length. Within a working day the working hours are taken as 08:00–17:00
// Vietnam time (nine hours, the lunch break not taken out; a due date is 17:00, the end of
// its day): a whole working day of pause moves the due date by one working day, a pause
// from Friday 10:00 to Monday 08:00 by seven hours.

const (
	workDayStart = 8 * 3600 * 1000           // 08:00, ms after midnight Vietnam time
	workDayEnd   = calDueHour * 3600 * 1000  // 17:00
	workDayLen   = workDayEnd - workDayStart // ms of working time in a working day
	msPerDay     = calSecPerDay * 1000
	msOffset     = calOffset * 1000
)

// msDay is the calDay number of a time in Unix ms, and msMidnight the Unix ms of the start
// of that day in Vietnam.
func msDay(ms int64) int64 {
	s := ms + msOffset
	d := s / msPerDay
	if s%msPerDay < 0 {
		d--
	}
	return d
}

func msMidnight(d int64) int64 { return d*msPerDay - msOffset }

// workingOverlap is the working time of day d (a working day) within [a, b).
func workingOverlap(d, a, b int64) int64 {
	from, to := msMidnight(d)+workDayStart, msMidnight(d)+workDayEnd
	from, to = max(from, a), min(to, b)
	if to <= from {
		return 0
	}
	return to - from
}

// WorkingMillisBetween is the working time, in ms, between a and b (Unix ms): the parts of
// [a, b) that fall in the working hours of working days. 0 when b is not after a.
func (c *Calendar) WorkingMillisBetween(a, b int64) int64 {
	if b <= a {
		return 0
	}
	da, db := msDay(a), msDay(b)
	if da == db {
		if c.working(da) {
			return workingOverlap(da, a, b)
		}
		return 0
	}
	var w int64
	if c.working(da) {
		w += workingOverlap(da, a, b)
	}
	if c.working(db) {
		w += workingOverlap(db, a, b)
	}
	if db-da > 1 { // whole days strictly between
		n := c.WorkingDaysBetween(calEnd(da), calEnd(db-1))
		w += int64(n) * workDayLen
	}
	return w
}

// AddWorkingMillis is the time reached by going w ms of working time forward from t (Unix
// ms): counting only the working hours of working days. It never lands on a day off: w > 0
// ends within the working hours of a working day (at 17:00 when it uses a day up). w <= 0
// returns t unchanged.
func (c *Calendar) AddWorkingMillis(t, w int64) int64 {
	if w <= 0 {
		return t
	}
	d := msDay(t)
	if c.working(d) {
		from := max(t, msMidnight(d)+workDayStart)
		if avail := msMidnight(d) + workDayEnd - from; avail > 0 {
			if w <= avail {
				return from + w
			}
			w -= avail
		}
	}
	// w > 0 is left to spend on the working days after d.
	n, r := w/workDayLen, w%workDayLen
	if r == 0 {
		return c.AddWorkingDays(calEnd(d), int(n)).UnixMilli() // 17:00 of the n-th
	}
	day := msDay(c.AddWorkingDays(calEnd(d), int(n)+1).UnixMilli())
	return msMidnight(day) + workDayStart + r
}

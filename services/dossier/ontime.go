package dossier

import (
	"time"

	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/store/v1"
	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
)

// The on-time rules (CONTRACT §7, DOMAIN.md):
//   - the due date is the one the one-stop software sends (NgayHenTra), or else the
//     procedure's processing time in working days from acceptance on the calendar;
//   - time spent in SUPPLEMENT_REQUESTED moves the due date back by as long (the effective
//     due date); a second supplement request makes the dossier late;
//   - rescheduling (an apology slip) moves the due date and records the reason;
//   - a dossier that reaches RESOLVED (or another final status) on a calendar day before
//     its effective due date is EARLY, on that day ON_TIME, after it LATE (days in Vietnam
//     time); an open dossier past its effective due date is OVERDUE.

// applyEvent moves a dossier's state by one accepted event (already checked against the
// transitions, the order and the caller). seq is the event's place in the feed; days the
// procedure's processing days (0 if unknown). It is used both when an event arrives and
// when the log is replayed, so it must depend on nothing else.
func applyEvent(st *storev1.DossierState, ev *dossierv1.DossierEvent, at, due int64, seq int64, days uint32, cal *Calendar) {
	status := int32(ev.GetStatus())
	first := st.GetReceivedAt() == 0
	if first {
		st.Code = ev.GetDossierCode()
		st.UnitCode, st.AgencyCode, st.ProcedureCode = ev.GetUnitCode(), ev.GetAgencyCode(), ev.GetProcedureCode()
		st.Channel = int32(ev.GetChannel())
		st.ReceivedAt = at
		st.ProcessingDays = days
	}
	prev := st.GetStatus()
	// Leaving a pause closes it.
	if prev == stSupplement && status != stSupplement {
		closeOpen(st.SupplementPauses, at)
	}
	if prev == stFinancial && status != stFinancial {
		closeOpen(st.FinancialWaits, at)
	}
	switch status {
	case stAccepted:
		if st.AcceptedAt == 0 {
			st.AcceptedAt = at
		}
	case stSupplement:
		st.SupplementCount++
		st.SupplementPauses = append(st.SupplementPauses, &storev1.Interval{Start: at})
	case stFinancial:
		st.FinancialWaits = append(st.FinancialWaits, &storev1.Interval{Start: at})
	case stReturned:
		st.ReturnedAt = at
	}
	if isFinishing(status) && st.FinishedAt == 0 {
		st.FinishedAt, st.FinishStatus = at, status
	}
	if days > 0 && st.ProcessingDays == 0 {
		st.ProcessingDays = days
	}
	switch {
	case due != 0 && (st.DueAt == 0 || ev.GetRescheduled()):
		if st.DueAt != 0 && due != st.DueAt {
			st.RescheduleReasons = append(st.RescheduleReasons, ev.GetRescheduleReason())
		}
		st.DueAt, st.DueSource = due, "source"
	case st.DueAt == 0 && st.AcceptedAt != 0 && st.ProcessingDays > 0:
		st.DueAt = cal.AddWorkingDays(time.UnixMilli(st.AcceptedAt), int(st.ProcessingDays)).UnixMilli()
		st.DueSource = "calendar"
	}
	if ev.GetApplicantKind() != 0 {
		st.ApplicantKind = int32(ev.GetApplicantKind())
	}
	st.PaidOnline = st.PaidOnline || ev.GetPaidOnline()
	st.Digitized = st.Digitized || ev.GetDigitized()
	st.ElectronicResult = st.ElectronicResult || ev.GetElectronicResult()
	st.Status = status
	st.LastEventAt = at
	st.EventSeqs = append(st.EventSeqs, seq)
}

func closeOpen(list []*storev1.Interval, at int64) {
	if n := len(list); n > 0 && list[n-1].GetEnd() == 0 {
		list[n-1].End = at
	}
}

// pausedMillis is the time spent in supplement pauses up to now (an open pause counts up
// to now).
func pausedMillis(st *storev1.DossierState, now int64) int64 {
	var total int64
	for _, p := range st.GetSupplementPauses() {
		end := p.GetEnd()
		if end == 0 {
			end = now
		}
		if end > p.GetStart() {
			total += end - p.GetStart()
		}
	}
	return total
}

// effectiveDue is the due date moved back by supplement pauses, as of now; 0 without a due
// date.
func effectiveDue(st *storev1.DossierState, now int64) int64 {
	if st.GetDueAt() == 0 {
		return 0
	}
	end := now
	if st.GetFinishedAt() != 0 {
		end = st.GetFinishedAt()
	}
	return st.GetDueAt() + pausedMillis(st, end)
}

// day is the calendar day of a time in Vietnam, as a comparable number.
func day(ms int64) int {
	y, m, d := time.UnixMilli(ms).In(Vietnam).Date()
	return y*10000 + int(m)*100 + d
}

// verdict is the on-time verdict as of now.
func verdict(st *storev1.DossierState, now int64) dossierv1.Timeliness {
	due := effectiveDue(st, now)
	if st.GetFinishedAt() != 0 {
		switch {
		case due == 0:
			return dossierv1.Timeliness_TIMELINESS_UNSPECIFIED
		case st.GetSupplementCount() >= 2:
			return dossierv1.Timeliness_TIMELINESS_LATE
		case day(st.GetFinishedAt()) < day(due):
			return dossierv1.Timeliness_TIMELINESS_EARLY
		case day(st.GetFinishedAt()) == day(due):
			return dossierv1.Timeliness_TIMELINESS_ON_TIME
		default:
			return dossierv1.Timeliness_TIMELINESS_LATE
		}
	}
	if due != 0 && st.GetStatus() != stSupplement && now > due {
		return dossierv1.Timeliness_TIMELINESS_OVERDUE
	}
	return dossierv1.Timeliness_TIMELINESS_IN_PROGRESS
}

// overdueSpans are the times an open, unpaused dossier spent past its effective due date:
// [start, end) pairs, end 0 while still overdue now. Pauses of both kinds are excluded (a
// paused dossier is reported as paused); during a supplement pause the due date moves back
// by the pause. They do not depend on the current time: an open span that starts in the
// future simply has not begun.
func overdueSpans(st *storev1.DossierState) [][2]int64 {
	if st.GetDueAt() == 0 {
		return nil
	}
	start := st.GetAcceptedAt()
	if start == 0 {
		start = st.GetReceivedAt()
	}
	end := st.GetFinishedAt() // 0 = open
	// Pauses of both kinds, in time order (they cannot overlap: one status at a time).
	pauses := mergePauses(st.GetSupplementPauses(), st.GetFinancialWaits())
	var spans [][2]int64
	shift := int64(0) // supplement time before the current segment
	segStart := start
	emit := func(a, b int64) { // b == 0: open
		due := st.GetDueAt() + shift
		from := a
		if due > from {
			from = due
		}
		if b == 0 || from < b {
			spans = append(spans, [2]int64{from, b})
		}
	}
	for _, p := range pauses {
		if p.end != 0 && end != 0 && p.start >= end {
			break
		}
		emit(segStart, p.start)
		if p.end == 0 {
			return spans // paused now
		}
		if p.supplement {
			shift += p.end - p.start
		}
		segStart = p.end
	}
	emit(segStart, end)
	return spans
}

type pause struct {
	start, end int64
	supplement bool
}

func mergePauses(sup, fin []*storev1.Interval) []pause {
	out := make([]pause, 0, len(sup)+len(fin))
	for _, p := range sup {
		out = append(out, pause{p.GetStart(), p.GetEnd(), true})
	}
	for _, p := range fin {
		out = append(out, pause{p.GetStart(), p.GetEnd(), false})
	}
	// Insertion sort: a dossier has a handful of pauses.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].start < out[j-1].start; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

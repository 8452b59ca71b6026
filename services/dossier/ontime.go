package dossier

import (
	"time"

	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/store/v1"
	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
)

// The on-time rules (docs/domain.md, "Timeliness: due dates, pauses, apologies, verdicts"):
//   - the due date is the one the one-stop software sends (NgayHenTra), or else the
//     procedure's processing time in working days from acceptance on the calendar;
//   - a supplement pause after acceptance moves the due date forward by the working time
//     that passed during it (worktime.go), never onto a day off (the effective due date); a
//     second supplement request after acceptance makes the dossier late;
//   - an apology slip (due_change APOLOGY, or rescheduled) records a new appointment date
//     but does not move the due date: a late dossier stays late; only an extension
//     (due_change EXTENSION, before the due date passed) moves it;
//   - a dossier that reaches RESOLVED (or is stopped) on a calendar day before its
//     effective due date is EARLY, on that day ON_TIME, after it LATE (days in Vietnam
//     time); an open dossier past its effective due date is OVERDUE; a dossier never
//     accepted, or withdrawn, has no verdict.

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
		st.CommuneCode = ev.GetCommuneCode()
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
		if status == stResolved { // QĐ 766 indicator 2.2 (qd766.go)
			st.ProcessingWorkingMillis = processingWorkingMillis(st, cal)
		}
	}
	if days > 0 && st.ProcessingDays == 0 {
		st.ProcessingDays = days
	}
	switch {
	case due != 0 && st.DueAt == 0:
		st.DueAt, st.DueSource = due, "source"
	case due != 0 && due != st.DueAt && due != st.ApologyDueAt && dueChange(ev) == dossierv1.DueChange_DUE_CHANGE_EXTENSION:
		st.RescheduleReasons = append(st.RescheduleReasons, ev.GetRescheduleReason())
		st.DueAt, st.DueSource = due, "source"
	case due != 0 && due != st.DueAt && due != st.ApologyDueAt && dueChange(ev) == dossierv1.DueChange_DUE_CHANGE_APOLOGY:
		// An apology records the new appointment; the verdict keeps the due date.
		st.RescheduleReasons = append(st.RescheduleReasons, ev.GetRescheduleReason())
		st.ApologyDueAt = due
		st.ApologyCount++
	case st.DueAt == 0 && st.AcceptedAt != 0 && st.ProcessingDays > 0:
		st.DueAt = cal.AddWorkingDays(time.UnixMilli(st.AcceptedAt), int(st.ProcessingDays)).UnixMilli()
		st.DueSource = "calendar"
	}
	setPauseDues(st, cal)
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

// dueChange is what a new due date on ev is: none unless the event says it moves the due
// date (due_change, or rescheduled, which alone means an apology as it always did).
func dueChange(ev *dossierv1.DossierEvent) dossierv1.DueChange {
	if c := ev.GetDueChange(); c != dossierv1.DueChange_DUE_CHANGE_UNSPECIFIED {
		return c
	}
	if ev.GetRescheduled() {
		return dossierv1.DueChange_DUE_CHANGE_APOLOGY
	}
	return dossierv1.DueChange_DUE_CHANGE_UNSPECIFIED
}

// setPauseDues stores in every ended supplement pause the effective due date after it: the
// due date moved by the working time of the pauses so far (after acceptance). Kept in the
// state so that statistics, which see only the state, need no calendar.
func setPauseDues(st *storev1.DossierState, cal *Calendar) {
	var worked int64
	for _, p := range st.SupplementPauses {
		if p.GetEnd() == 0 {
			break
		}
		if st.DueAt == 0 || st.AcceptedAt == 0 {
			p.DueAfter = 0
			continue
		}
		worked += cal.WorkingMillisBetween(max(p.GetStart(), st.AcceptedAt), p.GetEnd())
		p.DueAfter = cal.AddWorkingMillis(st.DueAt, worked)
	}
}

func closeOpen(list []*storev1.Interval, at int64) {
	if n := len(list); n > 0 && list[n-1].GetEnd() == 0 {
		list[n-1].End = at
	}
}

// effectiveDue is the due date moved forward by the working time (worktime.go) of the
// supplement pauses after acceptance, as of now (an open pause counts up to now); 0 without
// a due date or before acceptance: a dossier never accepted has no due date. A supplement
// asked for before acceptance (1 → 5) moves nothing: the processing time starts at
// acceptance (docs/domain.md, "A pause stops the working-day clock, not the calendar").
// Once a pause moved it, it never falls on a day off. cal is needed only for an open pause
// (and for states stored by earlier versions); nil counts weekends only.
func effectiveDue(st *storev1.DossierState, now int64, cal *Calendar) int64 {
	if st.GetDueAt() == 0 || st.GetAcceptedAt() == 0 {
		return 0
	}
	due, worked := st.GetDueAt(), int64(0)
	for _, p := range st.GetSupplementPauses() {
		end := p.GetEnd()
		if end == 0 {
			end = now
			if f := st.GetFinishedAt(); f != 0 {
				end = f
			}
		}
		worked += cal.WorkingMillisBetween(max(p.GetStart(), st.GetAcceptedAt()), end)
		if p.GetEnd() != 0 && p.GetDueAfter() != 0 {
			due, worked = p.GetDueAfter(), 0
		}
	}
	return cal.AddWorkingMillis(due, worked)
}

// supplementsAfterAcceptance counts the supplement requests made once the dossier was
// accepted (a request at the desk before acceptance is part of receiving it).
func supplementsAfterAcceptance(st *storev1.DossierState) int {
	n := 0
	for _, p := range st.GetSupplementPauses() {
		if st.GetAcceptedAt() != 0 && p.GetStart() >= st.GetAcceptedAt() {
			n++
		}
	}
	return n
}

// day is the calendar day of a time in Vietnam, as a comparable number.
func day(ms int64) int {
	y, m, d := time.UnixMilli(ms).In(Vietnam).Date()
	return y*10000 + int(m)*100 + d
}

// verdict is the on-time verdict as of now (docs/domain.md, "Verdicts only where they mean
// something"): a dossier never accepted has none (UNSPECIFIED, not IN_PROGRESS), nor has a
// withdrawn one (7, or 7 then 8); an apology's new date does not count
// (docs/domain.md, "An apology is not an extension").
func verdict(st *storev1.DossierState, now int64, cal *Calendar) dossierv1.Timeliness {
	if st.GetAcceptedAt() == 0 || st.GetFinishStatus() == stWithdrawn {
		return dossierv1.Timeliness_TIMELINESS_UNSPECIFIED
	}
	due := effectiveDue(st, now, cal)
	if st.GetFinishedAt() != 0 {
		switch {
		case due == 0:
			return dossierv1.Timeliness_TIMELINESS_UNSPECIFIED
		case supplementsAfterAcceptance(st) >= 2:
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
	if st.GetDueAt() == 0 || st.GetAcceptedAt() == 0 || st.GetFinishStatus() == stWithdrawn {
		return nil
	}
	start := st.GetAcceptedAt()
	end := st.GetFinishedAt() // 0 = open
	// Pauses of both kinds, in time order (they cannot overlap: one status at a time).
	pauses := mergePauses(st.GetSupplementPauses(), st.GetFinancialWaits())
	var spans [][2]int64
	due := st.GetDueAt() // the effective due date of the current segment
	var worked int64     // supplement working time not yet in due (states of earlier versions)
	segStart := start
	emit := func(a, b int64) { // b == 0: open
		due := (*Calendar)(nil).AddWorkingMillis(due, worked)
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
		if p.end != 0 && p.end <= start {
			continue // asked for before acceptance
		}
		emit(segStart, max(p.start, start))
		if p.end == 0 {
			return spans // paused now
		}
		if p.supplement {
			if p.dueAfter != 0 {
				due, worked = p.dueAfter, 0
			} else {
				worked += (*Calendar)(nil).WorkingMillisBetween(max(p.start, start), p.end)
			}
		}
		segStart = p.end
	}
	emit(segStart, end)
	return spans
}

type pause struct {
	start, end, dueAfter int64
	supplement           bool
}

func mergePauses(sup, fin []*storev1.Interval) []pause {
	out := make([]pause, 0, len(sup)+len(fin))
	for _, p := range sup {
		out = append(out, pause{p.GetStart(), p.GetEnd(), p.GetDueAfter(), true})
	}
	for _, p := range fin {
		out = append(out, pause{p.GetStart(), p.GetEnd(), 0, false})
	}
	// Insertion sort: a dossier has a handful of pauses.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].start < out[j-1].start; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

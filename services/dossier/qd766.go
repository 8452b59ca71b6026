package dossier

import (
	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/store/v1"
)

// What the statistics count for QĐ 766 indicators 2.1 (on time) and 2.2 (average
// processing time), as the portal's formula description defines them (docs/domain.md,
// "QĐ 766 service-quality index"):
//
//   - 2.1 counts only accepted dossiers, each once: those whose processing ended in the
//     period (resolved, stopped, or withdrawn by the applicant after acceptance) and those
//     still open at its end. A dossier ends on time when it ends on or before its due
//     date, the same day rule as the verdicts (ontime.go), and a second supplement request
//     after acceptance makes it late. A withdrawn dossier keeps no verdict of its own
//     (UNSPECIFIED) but counts here by the day it was withdrawn. A dossier waiting for a
//     supplement ends at the request: on time when it is the first request after
//     acceptance and was made by the due date. An open dossier ends at the period's end:
//     within due or overdue. A dossier waiting for a financial obligation is left out
//     (chosen, as on_time_rate does).
//   - 2.2 averages, over the dossiers resolved (9) whose processing began (acceptance) in
//     the period, the time from acceptance to resolution less the supplement waits, in
//     working days (worktime.go: nine working hours a day).

// Live kinds beyond the statuses (liveKind): a supplement asked for before acceptance, and
// the first supplement after acceptance asked for by the due date. A dossier not yet
// accepted and not paused has the kind NEW (stNew).
const (
	kindSupBefore = 51
	kindSupOnTime = 52
)

// The 2.1 class of a supplement pause.
const (
	pauseBefore = iota // asked for before acceptance: not counted
	pauseOnTime
	pauseLate
)

// pause766 is the 2.1 class of the i-th supplement pause of st.
func pause766(st *storev1.DossierState, i int) int {
	pauses := st.GetSupplementPauses()
	acc := st.GetAcceptedAt()
	p := pauses[i]
	if acc == 0 || p.GetStart() < acc {
		return pauseBefore
	}
	for _, q := range pauses[:i] {
		if q.GetStart() >= acc {
			return pauseLate // a second request after acceptance
		}
	}
	// The first request after acceptance: the due date is not moved yet.
	if due := st.GetDueAt(); due != 0 && day(p.GetStart()) > day(due) {
		return pauseLate
	}
	return pauseOnTime
}

// liveKindOf is the live index's kind of an open dossier.
func liveKindOf(st *storev1.DossierState) int32 {
	switch st.GetStatus() {
	case stSupplement:
		if n := len(st.GetSupplementPauses()); n > 0 {
			switch pause766(st, n-1) {
			case pauseBefore:
				return kindSupBefore
			case pauseOnTime:
				return kindSupOnTime
			}
		}
		return stSupplement
	case stFinancial:
		return stFinancial
	}
	if st.GetAcceptedAt() == 0 {
		return stNew
	}
	return stAccepted
}

// awaitingAcceptance is the span during which a dossier was received but not yet
// accepted: from receipt to acceptance, or to its end if it ended unaccepted (refused,
// withdrawn); to 0 while still open. ok is false for a dossier accepted on receipt.
func awaitingAcceptance(st *storev1.DossierState) (from, to int64, ok bool) {
	rec, acc := st.GetReceivedAt(), st.GetAcceptedAt()
	switch {
	case acc == rec:
		return 0, 0, false
	case acc != 0:
		return rec, acc, true
	}
	return rec, st.GetFinishedAt(), true
}

// endedWithinDue says whether an accepted dossier that ended (finished_at) did so on or
// before its effective due date, as the verdicts count it (ontime.go), whatever the status
// that ended it: a second supplement request after acceptance makes it late; without a
// due date nothing is late.
func endedWithinDue(st *storev1.DossierState) bool {
	due := effectiveDue(st, st.GetFinishedAt(), nil)
	switch {
	case due == 0:
		return true
	case supplementsAfterAcceptance(st) >= 2:
		return false
	}
	return day(st.GetFinishedAt()) <= day(due)
}

// finishContributions766 is what a finished dossier adds for 2.1 and 2.2; k is the cell of
// the month it finished, at makes the cell of another month.
func finishContributions766(st *storev1.DossierState, k cellKey, at func(int64) cellKey) []contribution {
	acc := st.GetAcceptedAt()
	if acc == 0 {
		return nil
	}
	var out []contribution
	switch st.GetFinishStatus() {
	case stResolved:
		a := at(acc)
		out = append(out, contribution{a, cAccResolved, 1}, contribution{a, cAccProcWork, st.GetProcessingWorkingMillis()})
	case stStopped:
		if endedWithinDue(st) {
			out = append(out, contribution{k, cStopWithin, 1})
		}
	case stWithdrawn:
		out = append(out, contribution{k, cWdrAcc, 1})
		if endedWithinDue(st) {
			out = append(out, contribution{k, cWdrAccWithin, 1})
		}
	}
	return out
}

// processingWorkingMillis is a resolved dossier's processing time for 2.2: the working time
// from acceptance to resolution, less that of the supplement waits after acceptance.
func processingWorkingMillis(st *storev1.DossierState, cal *Calendar) int64 {
	acc, fin := st.GetAcceptedAt(), st.GetFinishedAt()
	if acc == 0 || fin <= acc {
		return 0
	}
	w := cal.WorkingMillisBetween(acc, fin)
	for _, p := range st.GetSupplementPauses() {
		end := p.GetEnd()
		if end == 0 || end > fin {
			end = fin
		}
		w -= cal.WorkingMillisBetween(max(p.GetStart(), acc), end)
	}
	return max(w, 0)
}

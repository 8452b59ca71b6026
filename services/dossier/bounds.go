package dossier

import (
	"time"

	"github.com/lienthong/lienthong/services/platform"
)

// The bounds of the times an event carries (docs/security.md lists them with the rest).
// occurred_at: not more than maxFutureSkew after the server's clock, not before
// earliestAccepted (validate.go). due_at: see maxDueAfterReceipt and checkDue.

// maxDueAfterReceipt is how far after a dossier's receipt its due date may lie. The longest
// processing time the catalog accepts is 365 working days (services/catalog/procedures.go,
// maxProcedureDays), about a year and a half with weekends and holidays; an apology that
// reschedules adds weeks, not years. Five years is far beyond any real due date and catches
// the typing slips (2062 for 2026) that would keep a dossier "in progress" for decades and
// weigh on every on-time rate until then.
const maxDueAfterReceipt = 5 // years

// checkDue checks a due date against the receipt of the dossier it belongs to (receivedAt,
// Unix ms: the first event's occurred_at). Both are compared as calendar days in Vietnam
// time, as verdicts are (README "Dossier rules"): a due date of the receipt's own day is
// fine even at an earlier hour (a date-only due_at is 17:00; a dossier received at 17:30 to
// be returned the same day is not a contradiction).
func checkDue(v *platform.Violations, due, receivedAt int64) {
	if due == 0 || receivedAt == 0 {
		return
	}
	dueDay, recvDay := vnDay(due), vnDay(receivedAt)
	switch {
	case dueDay.Before(recvDay):
		v.Add("due_at", "is before the dossier's receipt on %s", recvDay.Format(time.DateOnly))
	case dueDay.After(recvDay.AddDate(maxDueAfterReceipt, 0, 0)):
		v.Add("due_at", "is more than %d years after the dossier's receipt on %s", maxDueAfterReceipt, recvDay.Format(time.DateOnly))
	}
}

// vnDay is the calendar day (midnight, Vietnam time) of a Unix ms time.
func vnDay(ms int64) time.Time {
	y, m, d := time.UnixMilli(ms).In(Vietnam).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, Vietnam)
}

package dossier

import (
	"fmt"

	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/store/v1"
	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"github.com/lienthong/lienthong/services/platform"
)

// A new due date on an event (docs/domain.md, "An apology is not an extension"): an apology
// slip (phiếu xin lỗi và hẹn lại ngày trả kết quả) records the new appointment without
// moving the due date the verdict uses; an extension moves it, and only while the dossier
// is not yet late. `rescheduled` without due_change is an apology, as it always was.

// checkDueChange checks an event's due-date change fields on their own.
func checkDueChange(v *platform.Violations, ev *dossierv1.DossierEvent) {
	if _, ok := dossierv1.DueChange_name[int32(ev.DueChange)]; !ok {
		v.Add("due_change", "must be DUE_CHANGE_APOLOGY (1) or DUE_CHANGE_EXTENSION (2)")
	}
	if (ev.Rescheduled || ev.DueChange != dossierv1.DueChange_DUE_CHANGE_UNSPECIFIED) && (ev.RescheduleReason == "" || ev.DueAt == "") {
		v.Add("reschedule_reason", "rescheduling needs the new due_at and the apology's (or extension's) reason")
	}
}

// judgeDueChange refuses a due date that differs from the dossier's without saying what it
// is, and an extension granted once the dossier is late.
func (s *Service) judgeDueChange(c *checked, st *storev1.DossierState) error {
	ev := c.ev
	if c.due == 0 || st.GetDueAt() == 0 || c.due == st.GetDueAt() || c.due == st.GetApologyDueAt() {
		return nil
	}
	switch dueChange(ev) {
	case dossierv1.DueChange_DUE_CHANGE_UNSPECIFIED:
		return refuse("DUE_DATE_CHANGED",
			fmt.Sprintf("dossier %s is due %s; a new due date needs due_change (APOLOGY or EXTENSION) or rescheduled, and a reason", st.GetCode(), fmtMillis(st.GetDueAt())),
			"Muốn đổi ngày hẹn trả phải có phiếu xin lỗi và hẹn lại (hoặc gia hạn) kèm lý do.")
	case dossierv1.DueChange_DUE_CHANGE_EXTENSION:
		if due := effectiveDue(st, c.at, s.cal); due != 0 && c.at > due {
			return refuse("EXTENSION_AFTER_DUE",
				fmt.Sprintf("dossier %s was due %s: an extension is granted before the due date; a late dossier gets an apology (due_change DUE_CHANGE_APOLOGY)", st.GetCode(), fmtMillis(due)),
				"Hồ sơ đã quá hạn: không gia hạn được, phải gửi phiếu xin lỗi và hẹn lại ngày trả kết quả.")
		}
	}
	return nil
}

package dossier

import (
	"testing"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"google.golang.org/grpc/codes"
)

// TestApologyIsNotAnExtension: a late dossier's apology slip with a new appointment date
// (phiếu xin lỗi và hẹn lại ngày trả kết quả, NĐ 61/2018/NĐ-CP art. 19 as amended by NĐ
// 107/2021/NĐ-CP; the slip's form in TT 01/2018/TT-VPCP) never makes it on time: resolved
// by the new date it is still LATE, counted in resolved_late and in
// resolved_late_apologized; open after its due date it is OVERDUE. Only an extension sent
// before the due date passed moves the due date, and one sent after is refused.
func TestApologyIsNotAnExtension(t *testing.T) {
	f := newFixture(t)
	admin := f.admin()
	const reason = "Chờ ý kiến của cơ quan phối hợp"
	accept := func(c string) {
		// Thu 22/10 + 5 working days: Thu 29/10 17:00.
		f.mustCreate(admin, mkFirst(c+"/1", c, sAccepted, vn(2026, 10, 22, 8, 0), "33", agency33a, procLand, chDirect))
	}
	move := func(id, c, at, due string, change dossierv1.DueChange) *dossierv1.DossierEvent {
		ev := mkEv(id, c, sProcessing, at)
		ev.DueAt, ev.DueChange, ev.RescheduleReason = due, change, reason
		return ev
	}

	apologized := dcode(agency33a, "261022", 800)
	accept(apologized)
	f.mustCreate(admin,
		move(apologized+"/2", apologized, vn(2026, 10, 30, 8, 0), "2026-11-05", dossierv1.DueChange_DUE_CHANGE_APOLOGY))
	if d := f.dossier(apologized); d.GetTimeliness() != tOverdue || d.GetEffectiveDueAt() != "2026-10-29T17:00:00+07:00" {
		t.Errorf("open after the apology: %v effective %s, want OVERDUE against 2026-10-29T17:00:00+07:00", d.GetTimeliness(), d.GetEffectiveDueAt())
	}
	// Later events may carry the apology's date as due_at (the one-stop software's
	// NgayHenTra now): no change, no refusal.
	later := mkEv(apologized+"/3", apologized, sResolved, vn(2026, 11, 4, 10, 0))
	later.DueAt = "2026-11-05"
	f.mustCreate(admin, later)
	d := f.dossier(apologized)
	if d.GetTimeliness() != tLate || d.GetApologyCount() != 1 || d.GetApologyDueAt() != "2026-11-05T17:00:00+07:00" {
		t.Errorf("resolved before the apology's date: %v, apologies %d (%s); want LATE, 1, 2026-11-05T17:00:00+07:00", d.GetTimeliness(), d.GetApologyCount(), d.GetApologyDueAt())
	}
	row := totalRow(t, f.stats(&dossierv1.GetDossierStatsRequest{From: "2026-11"}))
	if row.GetResolvedLate() != 1 || row.GetResolvedLateApologized() != 1 || row.GetResolvedOnTime()+row.GetResolvedEarly() != 0 {
		t.Errorf("November: %v, want resolved late 1 of which apologized 1", row)
	}

	extended := dcode(agency33a, "261022", 801)
	accept(extended)
	f.mustCreate(admin,
		move(extended+"/2", extended, vn(2026, 10, 28, 8, 0), "2026-11-05", dossierv1.DueChange_DUE_CHANGE_EXTENSION),
		mkEv(extended+"/3", extended, sResolved, vn(2026, 11, 4, 10, 0)))
	if d := f.dossier(extended); d.GetTimeliness() != tEarly || d.GetDueAt() != "2026-11-05T17:00:00+07:00" || d.GetApologyCount() != 0 {
		t.Errorf("extended before due: %v due %s apologies %d, want EARLY against 2026-11-05T17:00:00+07:00, 0", d.GetTimeliness(), d.GetDueAt(), d.GetApologyCount())
	}

	tooLate := dcode(agency33a, "261022", 802)
	accept(tooLate)
	seq := f.lastSeq()
	_, err := f.create(admin, move(tooLate+"/2", tooLate, vn(2026, 10, 30, 8, 0), "2026-11-05", dossierv1.DueChange_DUE_CHANGE_EXTENSION))
	wantStatus(t, err, codes.FailedPrecondition, "EXTENSION_AFTER_DUE")
	f.wantNothingAfter(t, seq)

	noReason := mkEv(tooLate+"/3", tooLate, sProcessing, vn(2026, 10, 30, 9, 0))
	noReason.DueAt, noReason.DueChange = "2026-11-05", dossierv1.DueChange_DUE_CHANGE_APOLOGY
	_, err = f.create(admin, noReason)
	wantStatus(t, err, codes.InvalidArgument, "")
	unknown := mkEv(tooLate+"/4", tooLate, sProcessing, vn(2026, 10, 30, 9, 0))
	unknown.DueAt, unknown.DueChange, unknown.RescheduleReason = "2026-11-05", dossierv1.DueChange(9), reason
	_, err = f.create(admin, unknown)
	wantStatus(t, err, codes.InvalidArgument, "")
}

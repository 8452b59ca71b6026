package scoring

import (
	"math"
	"strings"
	"testing"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
)

// TestQD766ProgressFormulas: the QD766-2022 methodology's on-time rate and average
// processing time follow indicators 2.1 and 2.2 of the portal's formula description ("Mô tả
// công thức tính chỉ số 766"; docs/domain.md, "QĐ 766 service-quality index"): 2.1 counts
// accepted dossiers stopped or withdrawn by the applicant as ended (on time by their due
// date) and dossiers waiting on a supplement (on time only for a first request made by the
// due date); 2.2 is the mean working time without supplement waits of the dossiers
// accepted in the period and resolved, not calendar days from receipt.
func TestQD766ProgressFormulas(t *testing.T) {
	p, err := ParsePeriod("2026-Q4")
	if err != nil {
		t.Fatal(err)
	}
	r := &dossierv1.StatsRow{Key: "33", ReceivedTotal: 40,
		ResolvedEarly: 10, ResolvedOnTime: 5, ResolvedLate: 5, // 20 resolved, 15 on time
		Stopped: 4, StoppedWithinDue: 3,
		Withdrawn: 6, WithdrawnAfterAcceptance: 4, WithdrawnAfterAcceptanceWithinDue: 1, // 2 withdrawn before acceptance: out
		InProgressWithinDue: 6, InProgressOverdue: 2,
		PausedSupplement: 7, PausedSupplementOnTime: 3, PausedSupplementLate: 2, // 2 asked before acceptance: out
		PausedFinancial: 3, AwaitingAcceptance: 5, // out
		OnTimeRate: 21.0 / 28, AvgProcessingDays: 9.5,
		AcceptedResolved: 16, AvgProcessingWorkingDays: 4.25}

	// (15 + 3 + 1 + 6 + 3) / (20 + 4 + 4 + 6 + 2 + 3 + 2) = 28 / 41.
	v := dossierFormula("dossier.on_time_rate", r, p, "current")
	if !v.ok || math.Abs(v.v-28.0/41) > 1e-12 {
		t.Errorf("on_time_rate: got %v (%s), want 28/41", v.v, v.why)
	}
	if !strings.Contains(v.why, "/ (28 ended + 8 open + 5 waiting on a supplement)") || !strings.Contains(v.why, "QĐ 766 2.1") {
		t.Errorf("on_time_rate explanation: %s", v.why)
	}
	v = dossierFormula("dossier.avg_processing_days", r, p, "current")
	if !v.ok || v.v != 4.25 || !strings.Contains(v.why, "over 16 dossiers accepted in the period and resolved") {
		t.Errorf("avg_processing_days: got %v (%s), want 4.25 working days over 16", v.v, v.why)
	}

	// No dossier accepted in the period was resolved: no value, whatever the calendar mean.
	r.AcceptedResolved, r.AvgProcessingWorkingDays = 0, 0
	if v := dossierFormula("dossier.avg_processing_days", r, p, "current"); v.ok {
		t.Errorf("avg_processing_days without accepted and resolved dossiers: %v (%s)", v.v, v.why)
	}
}

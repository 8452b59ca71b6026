package dossier

import (
	"fmt"
	"testing"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"google.golang.org/grpc/codes"
)

// TestSupplementBeforeAcceptance: a supplement asked for at the desk before acceptance
// (1 → 5, the one-stop desk's own supplement state in deployed systems, docs/domain.md
// "Dossier statuses and transitions") ends in acceptance (2), refusal (3) or withdrawal
// (7), never in processing (4), stop (8) or resolution (9). The wait before acceptance does
// not move the due date: the processing time starts at acceptance; and it is not the
// second supplement request that makes a dossier late.
func TestSupplementBeforeAcceptance(t *testing.T) {
	f := newFixture(t)
	admin := f.admin()
	for i, to := range []dossierv1.DossierStatus{sAccepted, sNotAccepted, sWithdrawn, sProcessing, sStopped, sResolved} {
		t.Run(fmt.Sprintf("1→5→%d", to), func(t *testing.T) {
			c := dcode(agency33a, "261102", 700+i)
			f.mustCreate(admin,
				mkFirst(c+"/1", c, sNew, vn(2026, 11, 2, 8, 0), "33", agency33a, procLand, chOnline),
				mkEv(c+"/2", c, sSupplement, vn(2026, 11, 2, 9, 0)))
			_, err := f.create(admin, mkEv(c+"/3", c, to, vn(2026, 11, 4, 9, 0)))
			if to == sProcessing || to == sStopped || to == sResolved {
				wantStatus(t, err, codes.FailedPrecondition, "TRANSITION_NOT_ALLOWED")
				return
			}
			if err != nil {
				t.Fatalf("5 → %v before acceptance: %v", to, err)
			}
			if d := f.dossier(c); to != sAccepted && d.GetTimeliness() != tUnspecified {
				t.Errorf("after %v: timeliness %v, want UNSPECIFIED (never accepted or withdrawn)", to, d.GetTimeliness())
			}
		})
	}
	t.Run("accepted after the supplement: due from acceptance, one request after it counts once", func(t *testing.T) {
		c := dcode(agency33a, "261102", 720)
		f.mustCreate(admin,
			mkFirst(c+"/1", c, sNew, vn(2026, 11, 2, 8, 0), "33", agency33a, procLand, chOnline),
			mkEv(c+"/2", c, sSupplement, vn(2026, 11, 2, 9, 0)),
			// Accepted Wed 4/11: + 5 working days = Wed 11/11 17:00.
			mkEv(c+"/3", c, sAccepted, vn(2026, 11, 4, 9, 0)),
			mkEv(c+"/4", c, sSupplement, vn(2026, 11, 5, 9, 0)),
			mkEv(c+"/5", c, sProcessing, vn(2026, 11, 5, 10, 0)),
			mkEv(c+"/6", c, sResolved, vn(2026, 11, 11, 16, 0)))
		d := f.dossier(c)
		// One working hour paused after acceptance: Wed 11/11 17:00 + 1 h = Thu 12/11 09:00.
		if d.GetDueAt() != "2026-11-11T17:00:00+07:00" || d.GetEffectiveDueAt() != "2026-11-12T09:00:00+07:00" {
			t.Errorf("due %s effective %s, want 2026-11-11T17:00:00+07:00 and 2026-11-12T09:00:00+07:00", d.GetDueAt(), d.GetEffectiveDueAt())
		}
		if d.GetTimeliness() != tEarly || d.GetSupplementCount() != 2 {
			t.Errorf("timeliness %v supplements %d, want EARLY (one request after acceptance) and 2", d.GetTimeliness(), d.GetSupplementCount())
		}
	})
}

// TestWithdrawalThenStop: a withdrawal request (7) followed by the stop (8), as one-stop
// systems record it (docs/domain.md "Dossier statuses and transitions"), counts once, as
// withdrawn, in the month of the request, and gets no verdict.
func TestWithdrawalThenStop(t *testing.T) {
	f := newFixture(t)
	admin := f.admin()
	c := dcode(agency33a, "261102", 730)
	f.mustCreate(admin,
		mkFirst(c+"/1", c, sAccepted, vn(2026, 10, 20, 8, 0), "33", agency33a, procLand, chDirect),
		mkEv(c+"/2", c, sWithdrawn, vn(2026, 10, 30, 9, 0)),
		mkEv(c+"/3", c, sStopped, vn(2026, 11, 2, 9, 0)))
	d := f.dossier(c)
	if d.GetStatus() != sStopped || d.GetFinishedAt() != vn(2026, 10, 30, 9, 0) || d.GetTimeliness() != tUnspecified {
		t.Errorf("got status %v finished %s timeliness %v, want STOPPED, the withdrawal's time, UNSPECIFIED", d.GetStatus(), d.GetFinishedAt(), d.GetTimeliness())
	}
	oct := totalRow(t, f.stats(&dossierv1.GetDossierStatsRequest{From: "2026-10", Agency: agency33a}))
	nov := totalRow(t, f.stats(&dossierv1.GetDossierStatsRequest{From: "2026-11", Agency: agency33a}))
	if oct.GetWithdrawn() != 1 || oct.GetResolvedLate() != 0 || nov.GetStopped() != 0 || nov.GetWithdrawn() != 0 {
		t.Errorf("October %v, November %v: want withdrawn 1 in October only, no stop, no verdict", oct, nov)
	}
	_, err := f.create(admin, mkEv(c+"/4", c, sProcessing, vn(2026, 11, 2, 10, 0)))
	wantStatus(t, err, codes.FailedPrecondition, "TRANSITION_NOT_ALLOWED")
}

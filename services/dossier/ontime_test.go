package dossier

import (
	"fmt"
	"slices"
	"testing"
	"time"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
)

const (
	tEarly       = dossierv1.Timeliness_TIMELINESS_EARLY
	tOnTime      = dossierv1.Timeliness_TIMELINESS_ON_TIME
	tLate        = dossierv1.Timeliness_TIMELINESS_LATE
	tInProgress  = dossierv1.Timeliness_TIMELINESS_IN_PROGRESS
	tOverdue     = dossierv1.Timeliness_TIMELINESS_OVERDUE
	tUnspecified = dossierv1.Timeliness_TIMELINESS_UNSPECIFIED
)

// stats asks GetDossierStats as admin.
func (f *fixture) stats(r *dossierv1.GetDossierStatsRequest) *dossierv1.DossierStats {
	f.t.Helper()
	st, err := f.client.GetDossierStats(f.admin(), r)
	if err != nil {
		f.t.Fatalf("GetDossierStats %v: %v", r, err)
	}
	return st
}

// totalRow is the single row of an ungrouped answer (an empty row if there is none).
func totalRow(t *testing.T, st *dossierv1.DossierStats) *dossierv1.StatsRow {
	t.Helper()
	switch len(st.GetRows()) {
	case 0:
		return &dossierv1.StatsRow{}
	case 1:
		return st.GetRows()[0]
	}
	t.Fatalf("got %d rows, want one: %v", len(st.GetRows()), st.GetRows())
	return nil
}

// overdueCodes lists the codes ListDossiers answers with overdue=true.
func (f *fixture) overdueCodes() []string {
	f.t.Helper()
	resp, err := f.client.ListDossiers(f.admin(), &dossierv1.ListDossiersRequest{Overdue: true})
	if err != nil {
		f.t.Fatalf("ListDossiers overdue: %v", err)
	}
	var out []string
	for _, d := range resp.GetDossiers() {
		if d.GetTimeliness() != tOverdue {
			f.t.Errorf("ListDossiers overdue=true gave %s with %v", d.GetCode(), d.GetTimeliness())
		}
		out = append(out, d.GetCode())
	}
	return out
}

// TestDueDateFromCalendar: without due_at the due date is the procedure's processing days
// in working days from acceptance, at 17:00.
func TestDueDateFromCalendar(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name     string
		accepted time.Time
		proc     string
		want     string
	}{
		// Thu 22/10 + 5 working days: Fri 23, Mon 26, Tue 27, Wed 28, Thu 29.
		{"Thursday + 5", time.Date(2026, 10, 22, 9, 0, 0, 0, Vietnam), procLand, "2026-10-29T17:00:00+07:00"},
		// Fri 16/10 + 10: Mon 19 … Fri 23 (5), Mon 26 … Fri 30 (10).
		{"Friday + 10", time.Date(2026, 10, 16, 16, 30, 0, 0, Vietnam), procCivil, "2026-10-30T17:00:00+07:00"},
		// Tue 25/8 + 5: Wed 26, Thu 27, Fri 28, Sat 22/8 is before; Mon 31/8, Tue 1/9 and
		// Wed 2/9 are holidays (Quốc khánh): Thu 3/9 (4), Fri 4/9 (5).
		{"across Quốc khánh", time.Date(2026, 8, 25, 9, 0, 0, 0, Vietnam), procLand, "2026-09-04T17:00:00+07:00"},
		// Accepted on a Saturday evening (23:30 = Sunday 16:30 UTC... still Saturday in
		// Vietnam): Mon 26 (1) … Fri 30 (5).
		{"Saturday night", time.Date(2026, 10, 24, 23, 30, 0, 0, Vietnam), procLand, "2026-10-30T17:00:00+07:00"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dcode(agency33a, "261001", i+1)
			f.mustCreate(f.admin(), mkFirst(c+"/1", c, sAccepted, tc.accepted.Format(time.RFC3339), "33", agency33a, tc.proc, chDirect))
			days := map[string]int{procLand: 5, procCivil: 10}[tc.proc]
			if cal := DefaultCalendar().AddWorkingDays(tc.accepted, days).Format(time.RFC3339); cal != tc.want {
				t.Fatalf("hand-computed %s disagrees with the calendar's %s", tc.want, cal)
			}
			d := f.dossier(c)
			if d.GetDueAt() != tc.want || d.GetEffectiveDueAt() != tc.want || d.GetDueSource() != "calendar" {
				t.Errorf("due: got %s (effective %s, %s), want %s (calendar)", d.GetDueAt(), d.GetEffectiveDueAt(), d.GetDueSource(), tc.want)
			}
		})
	}

	t.Run("NEW then ACCEPTED counts from acceptance", func(t *testing.T) {
		c := dcode(agency33a, "261001", 90)
		f.mustCreate(f.admin(),
			mkFirst(c+"/1", c, sNew, vn(2026, 10, 20, 9, 0), "33", agency33a, procLand, chOnline),
			mkEv(c+"/2", c, sAccepted, vn(2026, 10, 22, 9, 0)))
		d := f.dossier(c)
		if d.GetDueAt() != "2026-10-29T17:00:00+07:00" || d.GetReceivedAt() != "2026-10-20T09:00:00+07:00" || d.GetAcceptedAt() != "2026-10-22T09:00:00+07:00" {
			t.Errorf("got received %s accepted %s due %s", d.GetReceivedAt(), d.GetAcceptedAt(), d.GetDueAt())
		}
	})
}

// TestVerdicts: finished on a day before the effective due date is EARLY, on that day
// ON_TIME, after it LATE; supplement pauses move the effective due date back by their
// length; a second supplement request makes the dossier late.
func TestVerdicts(t *testing.T) {
	f := newFixture(t)
	admin := f.admin()
	type step struct {
		st dossierv1.DossierStatus
		at string
	}
	// Every dossier is accepted Thu 22/10 09:00 on procedure 1.000001 (5 days): due Thu
	// 29/10 17:00.
	tests := []struct {
		name       string
		steps      []step
		want       dossierv1.Timeliness
		wantEffDue string
		wantSupp   int32
	}{
		{"resolved the day before due", []step{{sProcessing, vn(2026, 10, 23, 8, 0)}, {sResolved, vn(2026, 10, 28, 16, 0)}}, tEarly, "2026-10-29T17:00:00+07:00", 0},
		{"resolved on the due day, morning", []step{{sResolved, vn(2026, 10, 29, 8, 0)}}, tOnTime, "2026-10-29T17:00:00+07:00", 0},
		{"resolved at the due instant", []step{{sResolved, vn(2026, 10, 29, 17, 0)}}, tOnTime, "2026-10-29T17:00:00+07:00", 0},
		{"resolved on the due day, evening", []step{{sResolved, vn(2026, 10, 29, 21, 0)}}, tOnTime, "2026-10-29T17:00:00+07:00", 0},
		{"resolved the day after due", []step{{sResolved, vn(2026, 10, 30, 8, 0)}}, tLate, "2026-10-29T17:00:00+07:00", 0},
		{"resolved a week late, result returned", []step{{sResolved, vn(2026, 11, 5, 8, 0)}, {sReturned, vn(2026, 11, 6, 8, 0)}}, tLate, "2026-10-29T17:00:00+07:00", 0},
		// A withdrawn dossier gets no verdict (docs/domain.md, "Verdicts only where they
		// mean something").
		{"withdrawn after due: no verdict", []step{{sWithdrawn, vn(2026, 10, 30, 8, 0)}}, tUnspecified, "2026-10-29T17:00:00+07:00", 0},
		{"financial obligation does not move the due date", []step{
			{sFinancial, vn(2026, 10, 23, 9, 0)}, {sProcessing, vn(2026, 10, 27, 9, 0)}, {sResolved, vn(2026, 10, 30, 8, 0)}}, tLate, "2026-10-29T17:00:00+07:00", 0},
		// A 30-hour pause (Fri 23/10 09:00 to Sat 24/10 15:00) holds 8 working hours (Fri
		// 09:00–17:00; Saturday is off): the due date moves from Thu 29/10 17:00 to Fri 30/10
		// 16:00, not by 30 clock hours (NĐ 61/2018 and TT 01/2018: the time of a supplement
		// is not counted in a processing time counted in working days; docs/domain.md).
		{"30 h pause, resolved on the moved due day", []step{
			{sSupplement, vn(2026, 10, 23, 9, 0)}, {sProcessing, vn(2026, 10, 24, 15, 0)}, {sResolved, vn(2026, 10, 30, 20, 0)}}, tOnTime, "2026-10-30T16:00:00+07:00", 1},
		{"30 h pause, resolved on the original due day", []step{
			{sSupplement, vn(2026, 10, 23, 9, 0)}, {sProcessing, vn(2026, 10, 24, 15, 0)}, {sResolved, vn(2026, 10, 29, 10, 0)}}, tEarly, "2026-10-30T16:00:00+07:00", 1},
		{"30 h pause, resolved the day after the moved due day", []step{
			{sSupplement, vn(2026, 10, 23, 9, 0)}, {sProcessing, vn(2026, 10, 24, 15, 0)}, {sResolved, vn(2026, 10, 31, 8, 0)}}, tLate, "2026-10-30T16:00:00+07:00", 1},
		// Two pauses of 1 working hour each (Thu 29/10 17:00 + 2 h = Fri 30/10 10:00): the
		// second request makes it late even resolved the next morning.
		{"second supplement request", []step{
			{sSupplement, vn(2026, 10, 22, 10, 0)}, {sProcessing, vn(2026, 10, 22, 11, 0)},
			{sSupplement, vn(2026, 10, 22, 12, 0)}, {sProcessing, vn(2026, 10, 22, 13, 0)},
			{sResolved, vn(2026, 10, 23, 9, 0)}}, tLate, "2026-10-30T10:00:00+07:00", 2},
		// Wed 28/10 09:00 to Fri 30/10 09:00 holds 8 + 9 + 1 = 18 working hours, two working
		// days: Thu 29/10 17:00 moves to Mon 2/11 17:00, not to Saturday 31/10 as 48 clock
		// hours would (an effective due date never falls on a day off).
		{"stopped while paused: the pause ends there", []step{
			{sSupplement, vn(2026, 10, 28, 9, 0)}, {sStopped, vn(2026, 10, 30, 9, 0)}}, tEarly, "2026-11-02T17:00:00+07:00", 1},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dcode(agency33a, "261022", 200+i)
			evs := []*dossierv1.DossierEvent{mkFirst(c+"/0", c, sAccepted, vn(2026, 10, 22, 9, 0), "33", agency33a, procLand, chDirect)}
			for k, s := range tc.steps {
				evs = append(evs, mkEv(fmt.Sprintf("%s/%d", c, k+1), c, s.st, s.at))
			}
			f.mustCreate(admin, evs...)
			d := f.dossier(c)
			if d.GetTimeliness() != tc.want {
				t.Errorf("timeliness: got %v, want %v", d.GetTimeliness(), tc.want)
			}
			if d.GetDueAt() != "2026-10-29T17:00:00+07:00" || d.GetEffectiveDueAt() != tc.wantEffDue {
				t.Errorf("due: got %s effective %s, want 2026-10-29T17:00:00+07:00 effective %s", d.GetDueAt(), d.GetEffectiveDueAt(), tc.wantEffDue)
			}
			if d.GetSupplementCount() != tc.wantSupp || len(d.GetPauses()) != int(tc.wantSupp) {
				t.Errorf("supplements: got %d (%d pauses), want %d", d.GetSupplementCount(), len(d.GetPauses()), tc.wantSupp)
			}
			var finish string
			for _, s := range tc.steps {
				if s.st == sResolved || s.st == sWithdrawn || s.st == sStopped || s.st == sNotAccepted {
					finish = s.at
					break
				}
			}
			if d.GetFinishedAt() != finish {
				t.Errorf("finished_at: got %s, want %s", d.GetFinishedAt(), finish)
			}
			tr, err := f.client.TrackDossier(t.Context(), &dossierv1.TrackDossierRequest{Code: c})
			if err != nil || tr.GetTimeliness() != tc.want || tr.GetEffectiveDueAt() != tc.wantEffDue {
				t.Errorf("track: got %v, %v; want %v effective %s", tr, err, tc.want, tc.wantEffDue)
			}
		})
	}

	t.Run("pauses are listed", func(t *testing.T) {
		d := f.dossier(dcode(agency33a, "261022", 200+8)) // the first 30 h pause case
		want := []*dossierv1.Pause{{StartedAt: "2026-10-23T09:00:00+07:00", EndedAt: "2026-10-24T15:00:00+07:00"}}
		if len(d.GetPauses()) != 1 || d.GetPauses()[0].GetStartedAt() != want[0].StartedAt || d.GetPauses()[0].GetEndedAt() != want[0].EndedAt {
			t.Errorf("pauses: got %v, want %v", d.GetPauses(), want)
		}
	})
}

// TestOverdueAsTheClockMoves: an open dossier becomes OVERDUE once the clock passes its
// effective due date, in GetDossier, ListDossiers(overdue) and the statistics alike; a
// dossier paused for a supplement is never overdue while paused.
func TestOverdueAsTheClockMoves(t *testing.T) {
	f := newFixture(t)
	admin := f.admin()
	open := dcode(agency33a, "261119", 1)
	paused := dcode(agency33a, "261116", 1)
	done := dcode(agency33b, "261119", 2)
	f.mustCreate(admin,
		// Thu 19/11 + 5: Fri 20, Mon 23, Tue 24, Wed 25, Thu 26/11 17:00.
		mkFirst("ov-1", open, sAccepted, vn(2026, 11, 19, 8, 0), "33", agency33a, procLand, chDirect),
		mkEv("ov-2", open, sProcessing, vn(2026, 11, 19, 9, 0)),
		// Mon 16/11 + 5: Mon 23/11 17:00; paused since Fri 20/11 10:00.
		mkFirst("pa-1", paused, sAccepted, vn(2026, 11, 16, 9, 0), "33", agency33a, procLand, chOnline),
		mkEv("pa-2", paused, sSupplement, vn(2026, 11, 20, 10, 0)),
		// Resolved early: never overdue.
		mkFirst("dn-1", done, sAccepted, vn(2026, 11, 19, 8, 0), "33", agency33b, procLand, chPostal),
		mkEv("dn-2", done, sResolved, vn(2026, 11, 20, 8, 0)),
	)
	nov := &dossierv1.GetDossierStatsRequest{From: "2026-11"}
	type want struct {
		open, paused       dossierv1.Timeliness
		pausedEffDue       string
		overdueList        []string
		within, overdue, s int64
	}
	check := func(t *testing.T, w want) {
		t.Helper()
		if got := f.dossier(open).GetTimeliness(); got != w.open {
			t.Errorf("open dossier: got %v, want %v", got, w.open)
		}
		pd := f.dossier(paused)
		if pd.GetTimeliness() != w.paused || pd.GetEffectiveDueAt() != w.pausedEffDue {
			t.Errorf("paused dossier: got %v effective %s, want %v effective %s", pd.GetTimeliness(), pd.GetEffectiveDueAt(), w.paused, w.pausedEffDue)
		}
		if got := f.overdueCodes(); !slices.Equal(got, w.overdueList) {
			t.Errorf("ListDossiers overdue: got %v, want %v", got, w.overdueList)
		}
		row := totalRow(t, f.stats(nov))
		if row.GetInProgressWithinDue() != w.within || row.GetInProgressOverdue() != w.overdue || row.GetPausedSupplement() != w.s {
			t.Errorf("statistics: got within %d overdue %d paused %d, want %d %d %d",
				row.GetInProgressWithinDue(), row.GetInProgressOverdue(), row.GetPausedSupplement(), w.within, w.overdue, w.s)
		}
	}

	// Now Mon 23/11 10:00: the paused dossier's due date (Mon 23/11 17:00) has moved by
	// the working time paused so far, Fri 10:00–17:00 and Mon 08:00–10:00, nine hours: one
	// working day, to Tue 24/11 17:00 (the weekend does not count).
	t.Run("Mon 23/11 10:00", func(t *testing.T) {
		check(t, want{tInProgress, tInProgress, "2026-11-24T17:00:00+07:00", nil, 1, 0, 1})
	})
	t.Run("Mon 23/11 12:00: the pause keeps moving the due date", func(t *testing.T) {
		f.clock.Set(time.Date(2026, 11, 23, 12, 0, 0, 0, Vietnam))
		check(t, want{tInProgress, tInProgress, "2026-11-25T10:00:00+07:00", nil, 1, 0, 1})
	})
	// 7 + 4 × 9 working hours: four days and 7 h after Mon 23/11 17:00.
	t.Run("Thu 26/11 17:00, the due instant: not yet past", func(t *testing.T) {
		f.clock.Set(time.Date(2026, 11, 26, 17, 0, 0, 0, Vietnam))
		check(t, want{tInProgress, tInProgress, "2026-11-30T15:00:00+07:00", nil, 1, 0, 1})
	})
	t.Run("Thu 26/11 17:00:01: overdue", func(t *testing.T) {
		f.clock.Set(time.Date(2026, 11, 26, 17, 0, 1, 0, Vietnam))
		check(t, want{tOverdue, tInProgress, "2026-11-30T15:00:00+07:00", []string{open}, 0, 1, 1})
	})
	t.Run("Tue 1/12: November's end-of-month snapshot and December's live figures", func(t *testing.T) {
		f.clock.Set(time.Date(2026, 12, 1, 9, 0, 0, 0, Vietnam))
		check(t, want{tOverdue, tInProgress, "2026-12-02T16:00:00+07:00", []string{open}, 0, 1, 1})
		dec := totalRow(t, f.stats(&dossierv1.GetDossierStatsRequest{From: "2026-12"}))
		if dec.GetCarriedOver() != 2 || dec.GetReceivedTotal() != 0 || dec.GetInProgressOverdue() != 1 || dec.GetPausedSupplement() != 1 {
			t.Errorf("December: got %v, want carried over 2, overdue 1, paused 1", dec)
		}
	})
	t.Run("resolved late: no longer overdue", func(t *testing.T) {
		f.mustCreate(admin, mkEv("ov-3", open, sResolved, vn(2026, 12, 1, 8, 30)))
		if got := f.dossier(open).GetTimeliness(); got != tLate {
			t.Errorf("open dossier resolved: got %v, want LATE", got)
		}
		if got := f.overdueCodes(); len(got) != 0 {
			t.Errorf("ListDossiers overdue: got %v, want none", got)
		}
		// November still ended with it overdue (a snapshot of the end of November).
		row := totalRow(t, f.stats(nov))
		if row.GetInProgressOverdue() != 1 || row.GetPausedSupplement() != 1 || row.GetResolvedEarly() != 1 {
			t.Errorf("November: got %v, want overdue 1, paused 1, resolved early 1", row)
		}
		dec := totalRow(t, f.stats(&dossierv1.GetDossierStatsRequest{From: "2026-12"}))
		if dec.GetResolvedLate() != 1 || dec.GetInProgressOverdue() != 0 || dec.GetPausedSupplement() != 1 {
			t.Errorf("December: got %v, want resolved late 1, overdue 0, paused 1", dec)
		}
	})
}

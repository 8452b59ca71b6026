package dossier

import (
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
)

// The hand-made set. The clock is Mon 23/11/2026 10:00. Due dates are 5 (1.000001) or 10
// (1.000002) working days after acceptance at 17:00; October and November 2026 have no
// holidays. "h" below is the receipt-to-resolution time in hours.
//
//	D0  09-28 dir  A1 P1  acc Mon 28/9 08:00, due Mon 5/10;  resolved Fri 2/10 10:00: EARLY (98 h)
//	D1  10-05 onl  A1 P1  acc Mon 5/10 09:00, due_at 12/10;  resolved Fri 9/10 15:00: EARLY (102 h),
//	                      paid online, electronic result; returned Mon 12/10
//	D2  10-06 dir  A1 P1  new Tue 6/10 08:00 (digitised), acc 09:00, due Tue 13/10;
//	                      resolved Tue 13/10 16:00: ON_TIME (176 h)
//	D3  10-07 post A2 P1  acc Wed 7/10 10:00, due Wed 14/10; resolved Fri 16/10 10:00: LATE (216 h)
//	D4  10-08 dir  A1 P1  new Thu 8/10 08:00, withdrawn 09:00
//	D5  10-08 onl  A2 P2  new Thu 8/10 10:00, not accepted 11:00
//	D6  10-09 dir  A1 P2  acc Fri 9/10 08:00, due Fri 23/10; stopped Tue 20/10
//	D7  10-15 onl  A1 P1  acc Thu 15/10 08:00, due Thu 22/10; supplement asked Mon 19/10 (open)
//	D11 10-26 onl  A1 P1  acc Mon 26/10 09:00, due Mon 2/11; resolved Wed 4/11 10:00: LATE (217 h)
//	D12 11-03 dir  A2 P1  acc Tue 3/11 08:00, due Tue 10/11; supplement 4/11 08:00 to 5/11 08:00
//	                      (24 h: effective due Wed 11/11 17:00); resolved Wed 11/11 09:00: ON_TIME (193 h)
//	D9  11-09 onl  A1 P1  acc Mon 9/11 08:00, due Mon 16/11; processing (open, overdue now)
//	D8  11-16 dir  A2 P2  acc Mon 16/11 08:00, due Mon 30/11; financial obligation Wed 18/11 (open)
//	D10 11-19 post A2 P1  acc Thu 19/11 08:00, due Thu 26/11 (open, within due)
//	E1  2024 unit 36, A6, P2, dir: acc Mon 4/3/2024 08:00, due Mon 18/3; resolved Fri 15/3 10:00: EARLY (266 h)
//	E2  2024 unit 37, A7, P1, onl: acc Tue 5/3/2024 08:00, due Tue 12/3; resolved Wed 13/3 09:00: LATE (193 h)
//
// A1 = 000.01.00.H31, A2 = 000.02.00.H31 (unit 33), A6 = 000.01.00.H40, A7 = 000.01.00.H42;
// P1 = 1.000001 (5 days), P2 = 1.000002 (10 days).
func loadStatsSet(f *fixture) {
	f.t.Helper()
	type e = *dossierv1.DossierEvent
	d0, d1, d2 := dcode(agency33a, "260928", 1), dcode(agency33a, "261005", 1), dcode(agency33a, "261006", 1)
	d3, d4, d5 := dcode(agency33b, "261007", 1), dcode(agency33a, "261008", 1), dcode(agency33b, "261008", 2)
	d6, d7, d11 := dcode(agency33a, "261009", 1), dcode(agency33a, "261015", 1), dcode(agency33a, "261026", 1)
	d12, d9, d8 := dcode(agency33b, "261103", 1), dcode(agency33a, "261109", 1), dcode(agency33b, "261116", 1)
	d10, e1, e2 := dcode(agency33b, "261119", 1), dcode(agency36, "240304", 1), dcode(agency37, "240305", 1)

	d1acc := mkFirst("d1-1", d1, sAccepted, vn(2026, 10, 5, 9, 0), "33", agency33a, procLand, chOnline)
	d1acc.DueAt = "2026-10-12"
	d1res := mkEv("d1-2", d1, sResolved, vn(2026, 10, 9, 15, 0))
	d1res.PaidOnline, d1res.ElectronicResult = true, true
	d2new := mkFirst("d2-1", d2, sNew, vn(2026, 10, 6, 8, 0), "33", agency33a, procLand, chDirect)
	d2new.Digitized = true

	f.mustBatch(f.admin(), []e{
		mkFirst("d0-1", d0, sAccepted, vn(2026, 9, 28, 8, 0), "33", agency33a, procLand, chDirect),
		mkEv("d0-2", d0, sResolved, vn(2026, 10, 2, 10, 0)),
		d1acc, d1res,
		mkEv("d1-3", d1, sReturned, vn(2026, 10, 12, 9, 0)),
		d2new,
		mkEv("d2-2", d2, sAccepted, vn(2026, 10, 6, 9, 0)),
		mkEv("d2-3", d2, sProcessing, vn(2026, 10, 7, 8, 0)),
		mkEv("d2-4", d2, sResolved, vn(2026, 10, 13, 16, 0)),
		mkFirst("d3-1", d3, sAccepted, vn(2026, 10, 7, 10, 0), "33", agency33b, procLand, chPostal),
		mkEv("d3-2", d3, sProcessing, vn(2026, 10, 8, 8, 0)),
		mkEv("d3-3", d3, sResolved, vn(2026, 10, 16, 10, 0)),
		mkFirst("d4-1", d4, sNew, vn(2026, 10, 8, 8, 0), "33", agency33a, procLand, chDirect),
		mkEv("d4-2", d4, sWithdrawn, vn(2026, 10, 8, 9, 0)),
		mkFirst("d5-1", d5, sNew, vn(2026, 10, 8, 10, 0), "33", agency33b, procCivil, chOnline),
		mkEv("d5-2", d5, sNotAccepted, vn(2026, 10, 8, 11, 0)),
		mkFirst("d6-1", d6, sAccepted, vn(2026, 10, 9, 8, 0), "33", agency33a, procCivil, chDirect),
		mkEv("d6-2", d6, sStopped, vn(2026, 10, 20, 9, 0)),
		mkFirst("d7-1", d7, sAccepted, vn(2026, 10, 15, 8, 0), "33", agency33a, procLand, chOnline),
		mkEv("d7-2", d7, sSupplement, vn(2026, 10, 19, 9, 0)),
		mkFirst("d11-1", d11, sAccepted, vn(2026, 10, 26, 9, 0), "33", agency33a, procLand, chOnline),
		mkEv("d11-2", d11, sProcessing, vn(2026, 10, 27, 8, 0)),
		mkEv("d11-3", d11, sResolved, vn(2026, 11, 4, 10, 0)),
		mkFirst("d12-1", d12, sAccepted, vn(2026, 11, 3, 8, 0), "33", agency33b, procLand, chDirect),
		mkEv("d12-2", d12, sSupplement, vn(2026, 11, 4, 8, 0)),
		mkEv("d12-3", d12, sProcessing, vn(2026, 11, 5, 8, 0)),
		mkEv("d12-4", d12, sResolved, vn(2026, 11, 11, 9, 0)),
		mkFirst("d9-1", d9, sAccepted, vn(2026, 11, 9, 8, 0), "33", agency33a, procLand, chOnline),
		mkEv("d9-2", d9, sProcessing, vn(2026, 11, 10, 8, 0)),
		mkFirst("d8-1", d8, sAccepted, vn(2026, 11, 16, 8, 0), "33", agency33b, procCivil, chDirect),
		mkEv("d8-2", d8, sFinancial, vn(2026, 11, 18, 10, 0)),
		mkFirst("d10-1", d10, sAccepted, vn(2026, 11, 19, 8, 0), "33", agency33b, procLand, chPostal),
		mkFirst("e1-1", e1, sAccepted, vn(2024, 3, 4, 8, 0), "36", agency36, procCivil, chDirect),
		mkEv("e1-2", e1, sResolved, vn(2024, 3, 15, 10, 0)),
		mkFirst("e2-1", e2, sAccepted, vn(2024, 3, 5, 8, 0), "37", agency37, procLand, chOnline),
		mkEv("e2-2", e2, sResolved, vn(2024, 3, 13, 9, 0)),
	}...)
}

// hours is h hours in days (avg_processing_days is in calendar days).
func hours(h float64) float64 { return h / 24 }

// wd is h working hours in working days of nine hours (avg_processing_working_days, QĐ 766
// indicator 2.2: acceptance to resolution, 08:00–17:00 of working days, less supplement
// waits). Per resolved dossier of the set: D0 38 h (accepted in September), D1 42, D2 52,
// D3 63, D11 64 (accepted in October), D12 55 − 9 of supplement = 46 (November), E1 83, E2 55.
func wd(h float64) float64 { return h / 9 }

var statsCmp = []cmp.Option{protocmp.Transform(), cmpopts.EquateApprox(0, 1e-9)}

func wantStats(t *testing.T, f *fixture, req *dossierv1.GetDossierStatsRequest, want *dossierv1.DossierStats) {
	t.Helper()
	got := f.stats(req)
	if diff := cmp.Diff(want, got, statsCmp...); diff != "" {
		t.Errorf("GetDossierStats(%v) mismatch (-want +got):\n%s", req, diff)
	}
}

// Rows of the set, by hand.
var (
	// September: D0 received; at the end of September D0 is open within due.
	// D0, accepted in September, was resolved (in October): 2.2 counts it in September.
	rowSep = &dossierv1.StatsRow{Key: "2026-09", ReceivedTotal: 1, ReceivedDirect: 1, InProgressWithinDue: 1,
		OnTimeRate:      1.0 / 1, // (0+0+1)/(0+1+0)
		Qd766OnTimeRate: 1, AcceptedResolved: 1, AvgProcessingWorkingDays: wd(38)}
	// October: received D1 D5 D7 D11 online, D2 D4 D6 direct, D3 postal; D0 carried over;
	// resolved D0 D1 early, D2 on time, D3 late; D4 withdrawn, D5 not accepted, D6
	// stopped. At the end of October D7 is paused (supplement), D11 open within due
	// (due 2/11); D3's overdue span began and ended in October.
	rowOct = &dossierv1.StatsRow{ReceivedTotal: 8, ReceivedOnline: 4, ReceivedDirect: 3, ReceivedPostal: 1,
		CarriedOver: 1, ResolvedEarly: 2, ResolvedOnTime: 1, ResolvedLate: 1,
		InProgressWithinDue: 1, PausedSupplement: 1, Withdrawn: 1, NotAccepted: 1, Stopped: 1,
		OnTimeRate:         4.0 / 5,                             // (2+1+1)/(2+1+1+1+0)
		OnlineRate:         4.0 / 8,                             // 4 online of 8
		AvgProcessingDays:  hours((98 + 102 + 176 + 216) / 4.0), // 148 h
		ResolvedPaidOnline: 1, ResolvedElectronicResult: 1, ReceivedDigitized: 1,
		// QĐ 766 2.1: D6 stopped by its due date (23/10) and D7 waits on its first
		// supplement, asked on 19/10 before its due date (22/10): both on time; D4 was
		// withdrawn before acceptance and is not counted. (2+1+1+1+1)/(4+1+1+1) = 6/7.
		StoppedWithinDue: 1, PausedSupplementOnTime: 1, Qd766OnTimeRate: 6.0 / 7,
		// 2.2: D1 D2 D3 D11 accepted in October and resolved (D11 in November).
		AcceptedResolved: 4, AvgProcessingWorkingDays: wd((42 + 52 + 63 + 64) / 4.0)}
	// November, now: received D9 online, D8 D12 direct, D10 postal; D7 and D11 carried
	// over; resolved D12 on time, D11 late; open now: D7 paused, D8 financial, D9
	// overdue (due 16/11), D10 within due (26/11).
	rowNov = &dossierv1.StatsRow{ReceivedTotal: 4, ReceivedOnline: 1, ReceivedDirect: 2, ReceivedPostal: 1,
		CarriedOver: 2, ResolvedOnTime: 1, ResolvedLate: 1,
		InProgressWithinDue: 1, InProgressOverdue: 1, PausedSupplement: 1, PausedFinancial: 1,
		OnTimeRate:        2.0 / 4,                  // (0+1+1)/(0+1+1+1+1)
		OnlineRate:        1.0 / 4,                  // 1 online of 4
		AvgProcessingDays: hours((217 + 193) / 2.0), // 205 h
		// 2.1: (1 on time + 1 within due + D7 on time) / (2 + 1 + 1 + 1); D8 (financial) left out.
		PausedSupplementOnTime: 1, Qd766OnTimeRate: 3.0 / 5,
		AcceptedResolved: 1, AvgProcessingWorkingDays: wd(46)} // D12
)

// keyed is a copy of a row with a key.
func keyed(key string, r *dossierv1.StatsRow) *dossierv1.StatsRow {
	out := proto.Clone(r).(*dossierv1.StatsRow)
	out.Key = key
	return out
}

func TestStatsExact(t *testing.T) {
	f := newFixture(t)
	loadStatsSet(f)

	t.Run("verdicts of the set", func(t *testing.T) {
		want := map[string]dossierv1.Timeliness{
			dcode(agency33a, "260928", 1): tEarly, dcode(agency33a, "261005", 1): tEarly, dcode(agency33a, "261006", 1): tOnTime,
			dcode(agency33b, "261007", 1): tLate, dcode(agency33a, "261015", 1): tInProgress, dcode(agency33a, "261026", 1): tLate,
			dcode(agency33b, "261103", 1): tOnTime, dcode(agency33a, "261109", 1): tOverdue, dcode(agency33b, "261116", 1): tInProgress,
			dcode(agency33b, "261119", 1): tInProgress, dcode(agency36, "240304", 1): tEarly, dcode(agency37, "240305", 1): tLate,
		}
		for c, w := range want {
			if got := f.dossier(c).GetTimeliness(); got != w {
				t.Errorf("%s: got %v, want %v", c, got, w)
			}
		}
		if got := f.dossier(dcode(agency33b, "261103", 1)).GetEffectiveDueAt(); got != "2026-11-11T17:00:00+07:00" {
			t.Errorf("D12 effective due: got %s, want 2026-11-11T17:00:00+07:00", got)
		}
	})

	t.Run("October, no grouping", func(t *testing.T) {
		wantStats(t, f, &dossierv1.GetDossierStatsRequest{From: "2026-10"}, &dossierv1.DossierStats{
			From: "2026-10", To: "2026-10", Geography: "current", AsOf: "2026-11-01T00:00:00+07:00",
			Rows: []*dossierv1.StatsRow{keyed("total", rowOct)}})
	})
	t.Run("November, no grouping", func(t *testing.T) {
		wantStats(t, f, &dossierv1.GetDossierStatsRequest{From: "2026-11"}, &dossierv1.DossierStats{
			From: "2026-11", To: "2026-11", Geography: "current", AsOf: "2026-11-23T10:00:00+07:00",
			Rows: []*dossierv1.StatsRow{keyed("total", rowNov)}})
	})
	t.Run("October by channel", func(t *testing.T) {
		wantStats(t, f, &dossierv1.GetDossierStatsRequest{From: "2026-10", GroupBy: "channel"}, &dossierv1.DossierStats{
			From: "2026-10", To: "2026-10", Geography: "current", GroupBy: "channel", AsOf: "2026-11-01T00:00:00+07:00",
			Rows: []*dossierv1.StatsRow{
				// D2 D4 D6 received; D0 carried over; D0 early, D2 on time; D4 withdrawn,
				// D6 stopped; nothing direct open at the end of October.
				{Key: "CHANNEL_DIRECT", ReceivedTotal: 3, ReceivedDirect: 3, CarriedOver: 1, ResolvedEarly: 1, ResolvedOnTime: 1,
					Withdrawn: 1, Stopped: 1, OnTimeRate: 2.0 / 2, AvgProcessingDays: hours((98 + 176) / 2.0), ReceivedDigitized: 1,
					StoppedWithinDue: 1, Qd766OnTimeRate: 3.0 / 3, AcceptedResolved: 1, AvgProcessingWorkingDays: wd(52)},
				// D1 D5 D7 D11 received; D1 early; D5 not accepted; D7 paused, D11 within due.
				{Key: "CHANNEL_ONLINE", ReceivedTotal: 4, ReceivedOnline: 4, ResolvedEarly: 1, NotAccepted: 1,
					InProgressWithinDue: 1, PausedSupplement: 1, OnTimeRate: 2.0 / 2, OnlineRate: 1,
					AvgProcessingDays: hours(102), ResolvedPaidOnline: 1, ResolvedElectronicResult: 1,
					PausedSupplementOnTime: 1, Qd766OnTimeRate: 3.0 / 3, AcceptedResolved: 2, AvgProcessingWorkingDays: wd((42 + 64) / 2.0)},
				// D3 received and resolved late.
				{Key: "CHANNEL_POSTAL", ReceivedTotal: 1, ReceivedPostal: 1, ResolvedLate: 1, OnTimeRate: 0, AvgProcessingDays: hours(216),
					AcceptedResolved: 1, AvgProcessingWorkingDays: wd(63)},
			}})
	})
	t.Run("November by agency", func(t *testing.T) {
		wantStats(t, f, &dossierv1.GetDossierStatsRequest{From: "2026-11", GroupBy: "agency"}, &dossierv1.DossierStats{
			From: "2026-11", To: "2026-11", Geography: "current", GroupBy: "agency", AsOf: "2026-11-23T10:00:00+07:00",
			Rows: []*dossierv1.StatsRow{
				// A1: D9 received; D7 and D11 carried over; D11 late; D7 paused, D9 overdue.
				{Key: agency33a, ReceivedTotal: 1, ReceivedOnline: 1, CarriedOver: 2, ResolvedLate: 1,
					InProgressOverdue: 1, PausedSupplement: 1, OnTimeRate: 0.0 / 2, OnlineRate: 1, AvgProcessingDays: hours(217),
					PausedSupplementOnTime: 1, Qd766OnTimeRate: 1.0 / 3},
				// A2: D8 D12 direct, D10 postal; D12 on time; D8 financial, D10 within due.
				{Key: agency33b, ReceivedTotal: 3, ReceivedDirect: 2, ReceivedPostal: 1, ResolvedOnTime: 1,
					InProgressWithinDue: 1, PausedFinancial: 1, OnTimeRate: 2.0 / 2, AvgProcessingDays: hours(193),
					Qd766OnTimeRate: 2.0 / 2, AcceptedResolved: 1, AvgProcessingWorkingDays: wd(46)},
			}})
	})
	t.Run("by month, September to November", func(t *testing.T) {
		wantStats(t, f, &dossierv1.GetDossierStatsRequest{From: "2026-09", To: "2026-11", GroupBy: "month"}, &dossierv1.DossierStats{
			From: "2026-09", To: "2026-11", Geography: "current", GroupBy: "month", AsOf: "2026-11-23T10:00:00+07:00",
			Rows: []*dossierv1.StatsRow{rowSep, keyed("2026-10", rowOct), keyed("2026-11", rowNov)}})
	})
	t.Run("October and November together", func(t *testing.T) {
		// Flows of both months; D0 carried over; the snapshot is now.
		wantStats(t, f, &dossierv1.GetDossierStatsRequest{From: "2026-10", To: "2026-11"}, &dossierv1.DossierStats{
			From: "2026-10", To: "2026-11", Geography: "current", AsOf: "2026-11-23T10:00:00+07:00",
			Rows: []*dossierv1.StatsRow{{Key: "total", ReceivedTotal: 12, ReceivedOnline: 5, ReceivedDirect: 5, ReceivedPostal: 2,
				CarriedOver: 1, ResolvedEarly: 2, ResolvedOnTime: 2, ResolvedLate: 2,
				InProgressWithinDue: 1, InProgressOverdue: 1, PausedSupplement: 1, PausedFinancial: 1,
				Withdrawn: 1, NotAccepted: 1, Stopped: 1,
				OnTimeRate:         5.0 / 8, // (2+2+1)/(6+1+1)
				OnlineRate:         5.0 / 12,
				AvgProcessingDays:  hours((98 + 102 + 176 + 216 + 217 + 193) / 6.0),
				ResolvedPaidOnline: 1, ResolvedElectronicResult: 1, ReceivedDigitized: 1,
				StoppedWithinDue: 1, PausedSupplementOnTime: 1, Qd766OnTimeRate: 7.0 / 10, // (2+2+1+1+1)/(6+1+1+1+1)
				AcceptedResolved: 5, AvgProcessingWorkingDays: wd((42 + 52 + 63 + 64 + 46) / 5.0)}}})
	})
	t.Run("by field", func(t *testing.T) {
		// October: P2 (Hộ tịch) is D5 (not accepted) and D6 (stopped); the rest is P1.
		got := f.stats(&dossierv1.GetDossierStatsRequest{From: "2026-10", GroupBy: "field"})
		if len(got.GetRows()) != 2 || got.GetRows()[0].GetKey() != "Hộ tịch" || got.GetRows()[1].GetKey() != "Đất đai" {
			t.Fatalf("fields: got %v", got.GetRows())
		}
		if r := got.GetRows()[0]; r.GetReceivedTotal() != 2 || r.GetNotAccepted() != 1 || r.GetStopped() != 1 {
			t.Errorf("Hộ tịch: got %v", r)
		}
		if r := got.GetRows()[1]; r.GetReceivedTotal() != 6 || r.GetCarriedOver() != 1 || r.GetResolvedEarly() != 2 {
			t.Errorf("Đất đai: got %v", r)
		}
	})

	// 2024: E1 of unit 36 (merged into 37 on 1/7/2025) and E2 of 37.
	e1 := &dossierv1.StatsRow{ReceivedTotal: 1, ReceivedDirect: 1, ResolvedEarly: 1, OnTimeRate: 1, AvgProcessingDays: hours(266),
		Qd766OnTimeRate: 1, AcceptedResolved: 1, AvgProcessingWorkingDays: wd(83)}
	e2 := &dossierv1.StatsRow{ReceivedTotal: 1, ReceivedOnline: 1, ResolvedLate: 1, OnTimeRate: 0, OnlineRate: 1, AvgProcessingDays: hours(193),
		AcceptedResolved: 1, AvgProcessingWorkingDays: wd(55)}
	both := &dossierv1.StatsRow{ReceivedTotal: 2, ReceivedDirect: 1, ReceivedOnline: 1, ResolvedEarly: 1, ResolvedLate: 1,
		OnTimeRate: 1.0 / 2, OnlineRate: 1.0 / 2, AvgProcessingDays: hours((266 + 193) / 2.0),
		Qd766OnTimeRate: 1.0 / 2, AcceptedResolved: 2, AvgProcessingWorkingDays: wd((83 + 55) / 2.0)}
	march := func(geo, groupBy, unit string, rows ...*dossierv1.StatsRow) {
		t.Helper()
		g := geo
		if g == "" {
			g = "current"
		}
		wantStats(t, f, &dossierv1.GetDossierStatsRequest{From: "2024-03", GroupBy: groupBy, Geography: geo, Unit: unit}, &dossierv1.DossierStats{
			From: "2024-03", To: "2024-03", Geography: g, GroupBy: groupBy, AsOf: "2024-04-01T00:00:00+07:00", Rows: rows})
	}
	t.Run("2024 by unit, current geography", func(t *testing.T) { march("current", "unit", "", keyed("37", both)) })
	t.Run("2024 by unit, default geography is current", func(t *testing.T) { march("", "unit", "", keyed("37", both)) })
	t.Run("2024 by unit, historical geography", func(t *testing.T) { march("historical", "unit", "", keyed("36", e1), keyed("37", e2)) })
	t.Run("2024 unit 37, current", func(t *testing.T) { march("current", "", "37", keyed("total", both)) })
	t.Run("2024 unit 37, historical", func(t *testing.T) { march("historical", "", "37", keyed("total", e2)) })
	t.Run("2024 unit 36, historical", func(t *testing.T) { march("historical", "", "36", keyed("total", e1)) })
	t.Run("2024 unit 36, current: no longer a unit", func(t *testing.T) { march("current", "", "36") })
	t.Run("2024 as a province 37 token", func(t *testing.T) {
		got, err := f.client.GetDossierStats(f.province("37"), &dossierv1.GetDossierStatsRequest{From: "2024-03", GroupBy: "unit"})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]*dossierv1.StatsRow{keyed("37", both)}, got.GetRows(), statsCmp...); diff != "" {
			t.Errorf("province 37 (-want +got):\n%s", diff)
		}
	})

	t.Run("bad requests", func(t *testing.T) {
		for _, r := range []*dossierv1.GetDossierStatsRequest{
			{GroupBy: "week"}, {Geography: "future"}, {From: "2026-13"}, {From: "26-10"}, {From: "2026-11", To: "2026-10"}, {To: "2026-Q5"},
		} {
			_, err := f.client.GetDossierStats(f.admin(), r)
			wantStatus(t, err, codes.InvalidArgument, "INVALID_ARGUMENT")
		}
	})
}

// TestStatsQueriesDuringIngest asks for statistics while several senders store whole
// dossiers (received and resolved in one batch): every answer must show whole commits
// (each dossier received is resolved too) and never go back, and the last one counts every
// dossier. With -race it also checks that the writer's unlocked reads of the roll-ups
// (Stats.apply, writeCells) never meet a query's change.
func TestStatsQueriesDuringIngest(t *testing.T) {
	f := newFixture(t)
	const senders, batches, perBatch = 6, 20, 25
	// Received in October, resolved in November: the two counts are in different cells.
	req := &dossierv1.GetDossierStatsRequest{From: "2026-10", To: "2026-11"}
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				var evs []*dossierv1.DossierEvent
				for i := range perBatch {
					code := dcode(agency33a, "261030", (s*batches+b)*perBatch+i)
					id := fmt.Sprintf("q-%d-%d-%d", s, b, i)
					evs = append(evs,
						mkFirst(id+"a", code, sAccepted, vn(2026, 10, 30, 8, 0), "33", agency33a, procLand, chDirect),
						mkEv(id+"b", code, sResolved, vn(2026, 11, 2+i%12, 9, 0)))
				}
				resp, err := f.client.BatchCreateDossierEvents(f.admin(), &dossierv1.BatchCreateDossierEventsRequest{Events: evs})
				if err != nil {
					t.Errorf("batch: %v", err)
					return
				}
				for _, r := range resp.GetResults() {
					if r.GetError() != nil {
						t.Errorf("event %s refused: %v", r.GetEventId(), r.GetError())
						return
					}
				}
			}
		}()
	}
	done := make(chan struct{})
	var qwg sync.WaitGroup
	for range 2 {
		qwg.Add(1)
		go func() {
			defer qwg.Done()
			last := int64(-1)
			for {
				select {
				case <-done:
					return
				default:
				}
				st, err := f.client.GetDossierStats(f.admin(), req)
				if err != nil {
					t.Errorf("GetDossierStats: %v", err)
					return
				}
				var row *dossierv1.StatsRow
				if len(st.GetRows()) == 1 {
					row = st.GetRows()[0]
				} else {
					row = &dossierv1.StatsRow{}
				}
				resolved := row.GetResolvedEarly() + row.GetResolvedOnTime() + row.GetResolvedLate()
				if row.GetReceivedTotal() != resolved || row.GetInProgressWithinDue()+row.GetInProgressOverdue() != 0 {
					t.Errorf("a commit seen in part: received %d, resolved %d, in progress %d+%d", row.GetReceivedTotal(), resolved,
						row.GetInProgressWithinDue(), row.GetInProgressOverdue())
					return
				}
				if row.GetReceivedTotal() < last {
					t.Errorf("received went back from %d to %d", last, row.GetReceivedTotal())
					return
				}
				last = row.GetReceivedTotal()
			}
		}()
	}
	wg.Wait()
	close(done)
	qwg.Wait()
	if got, want := totalRow(t, f.stats(req)).GetReceivedTotal(), int64(senders*batches*perBatch); got != want {
		t.Errorf("received %d dossiers in the end, want %d", got, want)
	}
}

package dossier

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	bolt "go.etcd.io/bbolt"
)

// The QĐ 766 set. Source: the national portal's "Mô tả công thức tính chỉ số 766",
// indicators 2.1 and 2.2, as docs/domain.md ("QĐ 766 service-quality index") quotes them:
// 2.1 counts accepted dossiers whose processing ended in the period ("Từ chối, Dừng xử lý,
// Đã xử lý xong, Đã trả kết quả, Công dân yêu cầu rút hồ sơ - chỉ tính các hồ sơ đã được
// tiếp nhận") or that are still open at its end; one waiting for a supplement ends at the
// request, except that more than one request counts late ("Yêu cầu bổ sung hồ sơ hơn 01
// lần thì tính quá hạn"); 2.2 averages the processing time, less the supplement waits, of
// the dossiers resolved whose processing began in the period. Procedure 1.000001: 5 working
// days; the clock is Mon 23/11/2026 10:00; no holidays in October and November 2026.
//
//	N0  new Thu 29/10 08:00, accepted Tue 3/11 08:00 (due Tue 10/11): open, overdue now
//	P0  acc Mon 26/10 08:00 (due Mon 2/11); supplement Fri 30/10 08:00 to Tue 3/11 08:00 (18
//	    working hours: due Wed 4/11); resolved Wed 4/11 10:00: ON_TIME; 65 − 18 = 47 h
//	W1  acc Mon 2/11 08:00 (due Mon 9/11); withdrawn Wed 4/11 09:00: by the due date
//	W2  acc Mon 2/11 08:00; withdrawn Wed 11/11 09:00: after it
//	W3  new Mon 2/11 08:00; withdrawn 09:00, before acceptance: not counted
//	S1  acc Mon 2/11 08:00; stopped Thu 12/11 09:00: after the due date
//	R1  acc Mon 2/11 08:00; resolved Fri 6/11 10:00: EARLY; 38 h
//	R2  acc Mon 2/11 08:00; supplement Fri 6/11 14:00 to Mon 9/11 11:00 (6 working hours);
//	    resolved Wed 11/11 17:00: LATE (due Tue 10/11 14:00); 72 − 6 = 66 h
//	P1  acc Mon 2/11 08:00; supplement asked Tue 10/11 09:00, after the due date (open)
//	P4  acc Tue 3/11 08:00 (due Tue 10/11); supplement asked Wed 4/11 08:00 (open): on time
//	P2  acc Mon 16/11 08:00 (due Mon 23/11); supplement Tue 17/11 08:00 to Wed 18/11 08:00,
//	    asked again Thu 19/11 08:00 (open): a second request, late
//	P3  new Mon 16/11 08:00; supplement asked 09:00 before acceptance (open): not counted
//	N1  new Tue 17/11 08:00 (open, never accepted): not within due
//	A1  acc Thu 19/11 08:00 (due Thu 26/11): open within due
func loadQD766Set(f *fixture) map[string]string {
	f.t.Helper()
	c := map[string]string{}
	for i, n := range []string{"N0", "P0", "W1", "W2", "W3", "S1", "R1", "R2", "P1", "P4", "P2", "P3", "N1", "A1"} {
		c[n] = dcode(agency33a, "261026", i+1)
	}
	first := func(id, n string, st dossierv1.DossierStatus, at string) *dossierv1.DossierEvent {
		return mkFirst(id, c[n], st, at, "33", agency33a, procLand, chOnline)
	}
	oct := func(day, hh int) string { return vn(2026, 10, day, hh, 0) }
	nov := func(day, hh int) string { return vn(2026, 11, day, hh, 0) }
	f.mustBatch(f.admin(), []*dossierv1.DossierEvent{
		first("n0-1", "N0", sNew, oct(29, 8)), mkEv("n0-2", c["N0"], sAccepted, nov(3, 8)),
		first("p0-1", "P0", sAccepted, oct(26, 8)), mkEv("p0-2", c["P0"], sSupplement, oct(30, 8)),
		mkEv("p0-3", c["P0"], sProcessing, nov(3, 8)), mkEv("p0-4", c["P0"], sResolved, nov(4, 10)),
		first("w1-1", "W1", sAccepted, nov(2, 8)), mkEv("w1-2", c["W1"], sWithdrawn, nov(4, 9)),
		first("w2-1", "W2", sAccepted, nov(2, 8)), mkEv("w2-2", c["W2"], sWithdrawn, nov(11, 9)),
		first("w3-1", "W3", sNew, nov(2, 8)), mkEv("w3-2", c["W3"], sWithdrawn, nov(2, 9)),
		first("s1-1", "S1", sAccepted, nov(2, 8)), mkEv("s1-2", c["S1"], sStopped, nov(12, 9)),
		first("r1-1", "R1", sAccepted, nov(2, 8)), mkEv("r1-2", c["R1"], sResolved, nov(6, 10)),
		first("r2-1", "R2", sAccepted, nov(2, 8)), mkEv("r2-2", c["R2"], sSupplement, nov(6, 14)),
		mkEv("r2-3", c["R2"], sProcessing, nov(9, 11)), mkEv("r2-4", c["R2"], sResolved, nov(11, 17)),
		first("p1-1", "P1", sAccepted, nov(2, 8)), mkEv("p1-2", c["P1"], sSupplement, nov(10, 9)),
		first("p4-1", "P4", sAccepted, nov(3, 8)), mkEv("p4-2", c["P4"], sSupplement, nov(4, 8)),
		first("p2-1", "P2", sAccepted, nov(16, 8)), mkEv("p2-2", c["P2"], sSupplement, nov(17, 8)),
		mkEv("p2-3", c["P2"], sProcessing, nov(18, 8)), mkEv("p2-4", c["P2"], sSupplement, nov(19, 8)),
		first("p3-1", "P3", sNew, nov(16, 8)), mkEv("p3-2", c["P3"], sSupplement, nov(16, 9)),
		first("n1-1", "N1", sNew, nov(17, 8)),
		first("a1-1", "A1", sAccepted, nov(19, 8)),
	}...)
	return c
}

// TestQD766OnTimeAndProcessingTime checks indicators 2.1 and 2.2 (source above) and that
// open dossiers never accepted are not within due (docs/domain.md, "Verdicts only where
// they mean something"), at a past month's end (from the cells) and now (from the live
// index).
func TestQD766OnTimeAndProcessingTime(t *testing.T) {
	f := newFixture(t)
	c := loadQD766Set(f)

	// A withdrawn dossier keeps no verdict of its own, though 2.1 counts it.
	for _, n := range []string{"W1", "W2", "W3"} {
		if got := f.dossier(c[n]).GetTimeliness(); got != dossierv1.Timeliness_TIMELINESS_UNSPECIFIED {
			t.Errorf("%s: timeliness %v, want UNSPECIFIED", n, got)
		}
	}
	for n, w := range map[string]dossierv1.Timeliness{"P0": tOnTime, "R1": tEarly, "R2": tLate, "S1": tLate, "N0": tOverdue, "N1": dossierv1.Timeliness_TIMELINESS_UNSPECIFIED} {
		if got := f.dossier(c[n]).GetTimeliness(); got != w {
			t.Errorf("%s: timeliness %v, want %v", n, got, w)
		}
	}

	// October, at its end: N0 awaits acceptance (not within due), P0 waits on a first
	// supplement asked by its due date (on time for 2.1). 2.2: P0, accepted in October
	// and resolved in November, 47 working hours.
	oct := &dossierv1.StatsRow{Key: "total", ReceivedTotal: 2, ReceivedOnline: 2, OnlineRate: 1,
		PausedSupplement: 1, PausedSupplementOnTime: 1, AwaitingAcceptance: 1,
		Qd766OnTimeRate: 1.0 / 1, AcceptedResolved: 1, AvgProcessingWorkingDays: wd(47)}
	wantStats(t, f, &dossierv1.GetDossierStatsRequest{From: "2026-10"}, &dossierv1.DossierStats{
		From: "2026-10", To: "2026-10", Geography: "current", AsOf: "2026-11-01T00:00:00+07:00", Rows: []*dossierv1.StatsRow{oct}})

	// November, now. 2.1: (R1 + P0 + W1 + A1 + P4) / (R1 R2 P0 + S1 + W1 W2 + A1 + N0 + P4
	// + P1 P2) = 5 / 11. The on-time rate of README "Dossier statistics periods":
	// (1 + 1 + 1) / (3 + 1 + 1) = 3/5. 2.2: R1 and R2, (38 + 66) / 2 working hours.
	nov := &dossierv1.StatsRow{Key: "total", ReceivedTotal: 12, ReceivedOnline: 12, OnlineRate: 1, CarriedOver: 2,
		ResolvedEarly: 1, ResolvedOnTime: 1, ResolvedLate: 1, Withdrawn: 3, Stopped: 1,
		InProgressWithinDue: 1, InProgressOverdue: 1, PausedSupplement: 4,
		OnTimeRate:                        3.0 / 5,
		AvgProcessingDays:                 hours((218 + 98 + 225) / 3.0), // P0 R1 R2, receipt to resolution
		WithdrawnAfterAcceptance:          2,
		WithdrawnAfterAcceptanceWithinDue: 1,
		PausedSupplementOnTime:            1, PausedSupplementLate: 2, AwaitingAcceptance: 2,
		Qd766OnTimeRate: 5.0 / 11, AcceptedResolved: 2, AvgProcessingWorkingDays: wd((38 + 66) / 2.0)}
	wantStats(t, f, &dossierv1.GetDossierStatsRequest{From: "2026-11"}, &dossierv1.DossierStats{
		From: "2026-11", To: "2026-11", Geography: "current", AsOf: "2026-11-23T10:00:00+07:00", Rows: []*dossierv1.StatsRow{nov}})

	// The same by month: the cells and the live index agree.
	got := f.stats(&dossierv1.GetDossierStatsRequest{From: "2026-10", To: "2026-11", GroupBy: "month"})
	if len(got.GetRows()) != 2 {
		t.Fatalf("by month: %v", got.GetRows())
	}
	if diff := cmp.Diff([]*dossierv1.StatsRow{keyed("2026-10", oct), keyed("2026-11", nov)}, got.GetRows(), statsCmp...); diff != "" {
		t.Errorf("by month (-want +got):\n%s", diff)
	}

	// The live index made back from a snapshot (livesnap.go) has the same figures.
	a, b := liveTotal(f.svc.stats), snapshotRoundTrip(t, f.db, f.svc.stats)
	if a != b {
		t.Errorf("live index after a snapshot: %+v, want %+v", b, a)
	}
	if a.unaccepted != 2 || a.supBefore != 1 || a.supOnTime != 1 || a.supplement != 4 {
		t.Errorf("live index: %+v", a)
	}

	// Verify recomputes the same cells and live entries from the events.
	rep, err := Verify(f.db, DefaultCalendar())
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v %v", err, rep)
	}
}

// liveTotal is the live figures of all open dossiers (the roll-up without dimensions).
func liveTotal(s *Stats) liveAgg {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out liveAgg
	for _, a := range s.liveIdx.agg[0] {
		out.open += a.open
		out.supplement += a.supplement
		out.financial += a.financial
		out.overdue += a.overdue
		out.unaccepted += a.unaccepted
		out.supBefore += a.supBefore
		out.supOnTime += a.supOnTime
	}
	return out
}

// snapshotRoundTrip writes the live index as the snapshot does and loads it into new Stats.
func snapshotRoundTrip(t *testing.T, db *bolt.DB, s *Stats) liveAgg {
	t.Helper()
	var seq int64
	var sum [32]byte
	if err := db.View(func(tx *bolt.Tx) error { seq, sum = lastEvent(tx); return nil }); err != nil {
		t.Fatal(err)
	}
	body := append([]byte(liveSnapMagic), make([]byte, 8)...)
	for i := range 8 {
		body[len(liveSnapMagic)+i] = byte(uint64(seq) >> (56 - 8*i))
	}
	body = append(body, sum[:]...)
	body, _, err := s.appendLive(body)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.RLock()
	clock := s.liveIdx.clock
	s.mu.RUnlock()
	fresh := newStats()
	if _, err := parseLiveSnapshot(bytes.NewReader(body), seq, sum, func(_ int, e liveEntry) {
		fresh.liveLoad(normalizeLive(e), clock)
	}); err != nil {
		t.Fatal(err)
	}
	fresh.liveLoaded()
	return liveTotal(fresh)
}

package dossier

import (
	"context"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// demoFakeCatalog answers what LoadDemo and the dossier part ask, from a few agencies and
// procedures of units 33 and 36 (retired on 2025-06-30 into 37) and 37. Pages hold two
// entries, so that paging is used.
type demoFakeCatalog struct {
	catalogv1.CatalogServiceClient // the rest: not called

	calls       atomic.Int64
	unavailable atomic.Int64 // answer UNAVAILABLE to this many listing calls first
}

var demoFakeUnits = map[string]*catalogv1.UnitReference{
	"33": {Unit: &catalogv1.Unit{Code: "33", Name: "Hưng Yên", ValidFrom: "2008-08-01"}, CurrentCodes: []string{"33"}},
	"36": {Unit: &catalogv1.Unit{Code: "36", Name: "Nam Định", ValidFrom: "2008-08-01", ValidTo: "2025-06-30", Successors: []string{"37"}}, CurrentCodes: []string{"37"}},
	"37": {Unit: &catalogv1.Unit{Code: "37", Name: "Ninh Bình", ValidFrom: "2008-08-01", Predecessors: []string{"36"}}, CurrentCodes: []string{"37"}},
	// Commune-level units from 2025-07-01 (demo_communes.go).
	communePhoHien: {Unit: &catalogv1.Unit{Code: communePhoHien, Name: "Phố Hiến", Kind: catalogv1.UnitKind_UNIT_KIND_WARD, ParentCode: "33", ValidFrom: "2025-07-01"}, CurrentCodes: []string{communePhoHien}},
	communeTanHung: {Unit: &catalogv1.Unit{Code: communeTanHung, Name: "Tân Hưng", Kind: catalogv1.UnitKind_UNIT_KIND_COMMUNE, ParentCode: "33", ValidFrom: "2025-07-01"}, CurrentCodes: []string{communeTanHung}},
	communePhuLy:   {Unit: &catalogv1.Unit{Code: communePhuLy, Name: "Phủ Lý", Kind: catalogv1.UnitKind_UNIT_KIND_WARD, ParentCode: "37", ValidFrom: "2025-07-01"}, CurrentCodes: []string{communePhuLy}},
}

// demoFakeCommittee is the commune People's Committee of Phố Hiến, the only one of the fake
// catalog: after 2025-07-01 Hưng Yên's commune-level procedure is received there.
const demoFakeCommittee = "H31.901"

var demoFakeAgencies = []*catalogv1.Agency{
	{Code: "000.00.00.H31", Name: "Ủy ban nhân dân tỉnh Hưng Yên", UnitCode: "33"},
	{Code: "000.00.00.H40", Name: "Ủy ban nhân dân tỉnh Nam Định", UnitCode: "36", ValidTo: "2025-06-30", SuccessorCode: "000.00.00.H42"},
	{Code: "000.00.00.H42", Name: "Ủy ban nhân dân tỉnh Ninh Bình", UnitCode: "37"},
	{Code: "000.00.01.H31", Name: "Ủy ban nhân dân thành phố Hưng Yên", UnitCode: "33"},
	{Code: "000.00.01.H40", Name: "Ủy ban nhân dân thành phố Nam Định", UnitCode: "36", ValidTo: "2025-06-30", SuccessorCode: "000.00.00.H42"},
	{Code: "000.02.00.H31", Name: "Sở Tư pháp tỉnh Hưng Yên", UnitCode: "33"},
	{Code: "000.02.00.H40", Name: "Sở Tư pháp tỉnh Nam Định", UnitCode: "36", ValidTo: "2025-06-30", SuccessorCode: "000.00.00.H42"},
	{Code: "000.02.00.H42", Name: "Sở Tư pháp tỉnh Ninh Bình", UnitCode: "37"},
	{Code: "000.03.00.H31", Name: "Sở Kế hoạch và Đầu tư tỉnh Hưng Yên", UnitCode: "33"},
	{Code: "000.03.00.H40", Name: "Sở Kế hoạch và Đầu tư tỉnh Nam Định", UnitCode: "36", ValidTo: "2025-06-30", SuccessorCode: "000.00.00.H42"},
	{Code: demoFakeCommittee, Name: "Ủy ban nhân dân phường Phố Hiến", UnitCode: communePhoHien, ValidFrom: "2025-07-01", Kind: catalogv1.AgencyKind_AGENCY_KIND_COMMUNE_PEOPLES_COMMITTEE},
}

var demoFakeProcedures = []*catalogv1.Procedure{
	{Code: "1.000001", Name: "Cấp phiếu lý lịch tư pháp", Field: "Lý lịch tư pháp", ProcessingDays: 10, Status: catalogv1.ProcedureStatus_PROCEDURE_STATUS_ACTIVE,
		ImplementingLevel: catalogv1.ImplementingLevel_IMPLEMENTING_LEVEL_PROVINCE, AgencyCodes: []string{"000.02.00.H31", "000.02.00.H40", "000.02.00.H42"}, ValidFrom: "2019-01-01"},
	{Code: "1.000002", Name: "Đăng ký thành lập doanh nghiệp", Field: "Thành lập doanh nghiệp", ProcessingDays: 3, Status: catalogv1.ProcedureStatus_PROCEDURE_STATUS_ACTIVE,
		ImplementingLevel: catalogv1.ImplementingLevel_IMPLEMENTING_LEVEL_PROVINCE, AgencyCodes: []string{"000.03.00.H31", "000.03.00.H40"}, ValidFrom: "2021-01-04"},
	{Code: "1.000003", Name: "Giải quyết khiếu nại lần đầu", Field: "Khiếu nại", ProcessingDays: 30, Status: catalogv1.ProcedureStatus_PROCEDURE_STATUS_ACTIVE,
		ImplementingLevel: catalogv1.ImplementingLevel_IMPLEMENTING_LEVEL_PROVINCE, AgencyCodes: []string{"000.00.00.H31", "000.00.00.H40", "000.00.00.H42"}},
	{Code: "1.000004", Name: "Cấp giấy phép xây dựng nhà ở riêng lẻ", Field: "Xây dựng", ProcessingDays: 15, Status: catalogv1.ProcedureStatus_PROCEDURE_STATUS_ACTIVE,
		ImplementingLevel: catalogv1.ImplementingLevel_IMPLEMENTING_LEVEL_DISTRICT, AgencyCodes: []string{"000.00.01.H31", "000.00.01.H40"}},
	{Code: "1.000005", Name: "Đăng ký hộ kinh doanh", Field: "Thành lập hộ kinh doanh", ProcessingDays: 3, Status: catalogv1.ProcedureStatus_PROCEDURE_STATUS_ACTIVE,
		ImplementingLevel: catalogv1.ImplementingLevel_IMPLEMENTING_LEVEL_PROVINCE, AgencyCodes: []string{"000.03.00.H31", "000.02.00.H40"}, ValidFrom: "2025-01-01"},
	{Code: "2.000006", Name: "Cấp giấy phép karaoke", Field: "Văn hóa", ProcessingDays: 5, Status: catalogv1.ProcedureStatus_PROCEDURE_STATUS_ABOLISHED,
		ImplementingLevel: catalogv1.ImplementingLevel_IMPLEMENTING_LEVEL_PROVINCE, AgencyCodes: []string{"000.02.00.H31", "000.02.00.H40"}},
	{Code: "2.000007", Name: "Cấp bản sao trích lục hộ tịch", Field: "Hộ tịch", ProcessingDays: 1, Status: catalogv1.ProcedureStatus_PROCEDURE_STATUS_ACTIVE,
		ImplementingLevel: catalogv1.ImplementingLevel_IMPLEMENTING_LEVEL_COMMUNE, AgencyCodes: []string{"000.00.01.H31", "000.00.01.H40"}},
}

func (f *demoFakeCatalog) listing() error {
	f.calls.Add(1)
	if f.unavailable.Load() > 0 && f.unavailable.Add(-1) >= 0 {
		return status.Error(codes.Unavailable, "catalog starting")
	}
	return nil
}

func demoPage(token string, n int) (from, to int, next string) {
	from, _ = strconv.Atoi(token)
	to = min(from+2, n)
	if to < n {
		next = strconv.Itoa(to)
	}
	return from, to, next
}

func (f *demoFakeCatalog) ListProcedures(_ context.Context, r *catalogv1.ListProceduresRequest, _ ...grpc.CallOption) (*catalogv1.ListProceduresResponse, error) {
	if err := f.listing(); err != nil {
		return nil, err
	}
	if r.GetUnit() != "" || r.GetAgency() != "" || r.GetQ() != "" || r.GetField() != "" || r.GetOnlineLevel() != 0 {
		return nil, status.Error(codes.Unimplemented, "filters not faked")
	}
	from, to, next := demoPage(r.GetPageToken(), len(demoFakeProcedures))
	return &catalogv1.ListProceduresResponse{Procedures: demoFakeProcedures[from:to], NextPageToken: next, TotalSize: int32(len(demoFakeProcedures))}, nil
}

func (f *demoFakeCatalog) ListAgencies(_ context.Context, r *catalogv1.ListAgenciesRequest, _ ...grpc.CallOption) (*catalogv1.ListAgenciesResponse, error) {
	if err := f.listing(); err != nil {
		return nil, err
	}
	var match []*catalogv1.Agency
	for _, a := range demoFakeAgencies {
		if (r.GetUnit() == "" || a.GetUnitCode() == r.GetUnit()) && (r.GetKind() == 0 || a.GetKind() == r.GetKind()) {
			match = append(match, a)
		}
	}
	from, to, next := demoPage(r.GetPageToken(), len(match))
	return &catalogv1.ListAgenciesResponse{Agencies: match[from:to], NextPageToken: next, TotalSize: int32(len(match))}, nil
}

func (f *demoFakeCatalog) ListUnits(_ context.Context, r *catalogv1.ListUnitsRequest, _ ...grpc.CallOption) (*catalogv1.ListUnitsResponse, error) {
	if err := f.listing(); err != nil {
		return nil, err
	}
	if r.GetLevel() != "commune" {
		return nil, status.Error(codes.Unimplemented, "only communes faked")
	}
	var match []*catalogv1.Unit
	for _, code := range slices.Sorted(maps.Keys(demoFakeUnits)) {
		if u := demoFakeUnits[code].GetUnit(); len(code) == 5 && (r.GetParentCode() == "" || u.GetParentCode() == r.GetParentCode()) {
			match = append(match, u)
		}
	}
	from, to, next := demoPage(r.GetPageToken(), len(match))
	return &catalogv1.ListUnitsResponse{Units: match[from:to], NextPageToken: next, TotalSize: int32(len(match))}, nil
}

func (f *demoFakeCatalog) GetAgency(_ context.Context, r *catalogv1.GetAgencyRequest, _ ...grpc.CallOption) (*catalogv1.Agency, error) {
	f.calls.Add(1)
	for _, a := range demoFakeAgencies {
		if a.GetCode() == r.GetCode() {
			return a, nil
		}
	}
	return nil, status.Error(codes.NotFound, "no agency "+r.GetCode())
}

func (f *demoFakeCatalog) LookupReferences(_ context.Context, r *catalogv1.LookupReferencesRequest, _ ...grpc.CallOption) (*catalogv1.LookupReferencesResponse, error) {
	f.calls.Add(1)
	out := &catalogv1.LookupReferencesResponse{}
	for _, c := range r.GetProcedureCodes() {
		found := false
		for _, p := range demoFakeProcedures {
			if p.GetCode() == c {
				out.Procedures, found = append(out.Procedures, p), true
			}
		}
		if !found {
			out.MissingProcedures = append(out.MissingProcedures, c)
		}
	}
	for _, c := range r.GetAgencyCodes() {
		found := false
		for _, a := range demoFakeAgencies {
			if a.GetCode() == c {
				out.Agencies, found = append(out.Agencies, a), true
			}
		}
		if !found {
			out.MissingAgencies = append(out.MissingAgencies, c)
		}
	}
	for _, c := range r.GetUnitCodes() {
		if u, ok := demoFakeUnits[c]; ok {
			out.Units = append(out.Units, u)
		} else {
			out.MissingUnits = append(out.MissingUnits, c)
		}
	}
	return out, nil
}

// demoNow is the clock of the demo tests: a fixed day, so that the history is the same
// whenever the test runs.
var demoNow = time.Date(2026, 10, 15, 10, 30, 0, 0, Vietnam)

func demoOpen(t *testing.T, path string, cat *demoFakeCatalog, now func() time.Time) (*bolt.DB, *Service) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if now == nil {
		now = func() time.Time { return demoNow }
	}
	s, err := Open(db, Options{Catalog: cat, Calendar: DefaultCalendar(), Now: now})
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		db.Close()
	})
	return db, s
}

var demoAdmin = platform.WithCaller(context.Background(), &platform.Caller{System: "test/admin", Role: platform.RoleAdmin})

func demoStats(t *testing.T, s *Service, r *dossierv1.GetDossierStatsRequest) map[string]*dossierv1.StatsRow {
	t.Helper()
	st, err := s.GetDossierStats(demoAdmin, r)
	if err != nil {
		t.Fatalf("stats %v: %v", r, err)
	}
	out := map[string]*dossierv1.StatsRow{}
	for _, row := range st.GetRows() {
		out[row.GetKey()] = row
	}
	return out
}

func demoTotal(t *testing.T, s *Service) int64 {
	t.Helper()
	return demoStats(t, s, &dossierv1.GetDossierStatsRequest{})["total"].GetReceivedTotal()
}

func demoVerify(t *testing.T, db *bolt.DB) *VerifyReport {
	t.Helper()
	rep, err := Verify(db, DefaultCalendar())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("verify: %d differences: %v", len(rep.Differences)+rep.MoreDiffered, rep.Differences)
	}
	return rep
}

func TestDemoLoad(t *testing.T) {
	const n = 2000
	cat := &demoFakeCatalog{}
	cat.unavailable.Store(3) // the catalog is still starting: LoadDemo waits for it
	db, s := demoOpen(t, filepath.Join(t.TempDir(), "dossier.db"), cat, nil)
	ctx := context.Background()
	if err := s.LoadDemo(ctx, cat, n); err != nil {
		t.Fatal(err)
	}
	if got := demoTotal(t, s); got != n {
		t.Fatalf("received_total = %d, want %d", got, n)
	}

	// The online share rises from about 10% to about 40%.
	first := demoStats(t, s, &dossierv1.GetDossierStatsRequest{From: "2024-01", To: "2024-03"})["total"]
	last := demoStats(t, s, &dossierv1.GetDossierStatsRequest{From: "2026-08", To: "2026-10"})["total"]
	t.Logf("online 2024-01..03: %.3f of %d; 2026-08..10: %.3f of %d", first.GetOnlineRate(), first.GetReceivedTotal(), last.GetOnlineRate(), last.GetReceivedTotal())
	if r := first.GetOnlineRate(); r < 0.05 || r > 0.18 {
		t.Errorf("online rate 2024-01..03 = %.3f, want 0.05–0.18", r)
	}
	if r := last.GetOnlineRate(); r < 0.30 || r > 0.50 {
		t.Errorf("online rate 2026-08..10 = %.3f, want 0.30–0.50", r)
	}

	// The agencies that are often late rank below the others.
	w, err := s.demoWorld(ctx, cat)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.agencies) != 8 || len(w.oftenLate) != 2 {
		t.Fatalf("agencies %v, often late %v: want 8 agencies of units 33 and 36, 2 often late", w.agencies, w.oftenLate)
	}
	rows := demoStats(t, s, &dossierv1.GetDossierStatsRequest{GroupBy: "agency"})
	worstUsual, bestLate := 1.0, 0.0
	for _, a := range w.agencies {
		row := rows[a]
		if row.GetReceivedTotal() == 0 {
			t.Errorf("agency %s has no dossiers", a)
			continue
		}
		t.Logf("agency %s often late %v: %d dossiers, on time %.3f", a, w.oftenLate[a], row.GetReceivedTotal(), row.GetOnTimeRate())
		if w.oftenLate[a] {
			bestLate = max(bestLate, row.GetOnTimeRate())
		} else {
			worstUsual = min(worstUsual, row.GetOnTimeRate())
		}
	}
	if bestLate >= worstUsual {
		t.Errorf("best on-time rate of the often-late agencies %.3f >= worst of the others %.3f", bestLate, worstUsual)
	}
	// Nam Định's agencies (H40) closed with their province on 2025-06-30 (docs/domain.md,
	// Agencies): its dossiers are then at Ninh Bình's agency of the same rank (Sở Tư pháp,
	// 000.02.00.H42), or at the successor the catalog names (its People's Committee,
	// 000.00.00.H42, for Sở Kế hoạch và Đầu tư, which Ninh Bình no longer has).
	before := demoStats(t, s, &dossierv1.GetDossierStatsRequest{From: "2024-01", To: "2025-06", GroupBy: "agency"})
	after := demoStats(t, s, &dossierv1.GetDossierStatsRequest{From: "2025-07", GroupBy: "agency"})
	for _, a := range []string{"000.00.00.H40", "000.02.00.H40", "000.03.00.H40"} {
		if before[a].GetReceivedTotal() == 0 || after[a].GetReceivedTotal() != 0 {
			t.Errorf("agency %s of Nam Định: %d dossiers before 2025-07, %d after; want some and none", a, before[a].GetReceivedTotal(), after[a].GetReceivedTotal())
		}
	}
	for _, a := range []string{"000.00.00.H42", "000.02.00.H42"} {
		if before[a].GetReceivedTotal() != 0 || after[a].GetReceivedTotal() == 0 {
			t.Errorf("agency %s of Ninh Bình: %d dossiers before 2025-07, %d after; want none and some", a, before[a].GetReceivedTotal(), after[a].GetReceivedTotal())
		}
	}

	// Unit 36 retired on 2025-06-30: its dossiers are received under 37 afterwards, and
	// district-level procedures stop.
	for m := time.Date(2025, 7, 1, 0, 0, 0, 0, Vietnam); !m.After(demoNow); m = m.AddDate(0, 1, 0) {
		month := m.Format("2006-01")
		units := demoStats(t, s, &dossierv1.GetDossierStatsRequest{From: month, GroupBy: "unit", Geography: "historical"})
		if got := units["36"].GetReceivedTotal(); got != 0 {
			t.Errorf("%s: %d dossiers received by unit 36, retired on 2025-06-30", month, got)
		}
		if units["37"].GetReceivedTotal() == 0 {
			t.Errorf("%s: no dossier received by unit 37", month)
		}
		if got := demoStats(t, s, &dossierv1.GetDossierStatsRequest{From: month, Procedure: "1.000004"})["total"].GetReceivedTotal(); got != 0 {
			t.Errorf("%s: %d dossiers of a district-level procedure after the districts were abolished", month, got)
		}
		for _, a := range []string{"000.00.01.H31", "000.00.01.H40"} {
			if got := demoStats(t, s, &dossierv1.GetDossierStatsRequest{From: month, Agency: a})["total"].GetReceivedTotal(); got != 0 {
				t.Errorf("%s: %d dossiers at %s, a district's committee, after the districts were abolished", month, got, a)
			}
		}
	}
	before = demoStats(t, s, &dossierv1.GetDossierStatsRequest{From: "2024-01", To: "2025-06", GroupBy: "unit", Geography: "historical"})
	if before["36"].GetReceivedTotal() == 0 || before["37"].GetReceivedTotal() != 0 {
		t.Errorf("before 2025-07: unit 36 received %d, 37 received %d; want some and none", before["36"].GetReceivedTotal(), before["37"].GetReceivedTotal())
	}
	for _, code := range []string{"2.000006", "1.000005"} {
		got := demoStats(t, s, &dossierv1.GetDossierStatsRequest{From: "2024-01", To: "2024-12", Procedure: code})["total"].GetReceivedTotal()
		if got != 0 {
			t.Errorf("procedure %s (abolished, or in force from 2025) has %d dossiers in 2024", code, got)
		}
	}

	// From 2025-07-01 every dossier carries a commune of its province (none before), and
	// Hưng Yên's commune-level procedure is received by its commune People's Committee,
	// whose commune the dossier carries (demo_communes.go).
	for _, tc := range []struct {
		unit     string
		communes []string
	}{{"33", []string{communePhoHien, communeTanHung}}, {"37", []string{communePhuLy}}} {
		total := demoStats(t, s, &dossierv1.GetDossierStatsRequest{Unit: tc.unit, From: "2025-07"})["total"].GetReceivedTotal()
		rows := demoStats(t, s, &dossierv1.GetDossierStatsRequest{Unit: tc.unit, From: "2025-07", GroupBy: "commune"})
		sum := int64(0)
		for k, r := range rows {
			// A row of dossiers received earlier (resolved since) receives none.
			if !slices.Contains(tc.communes, k) && r.GetReceivedTotal() != 0 {
				t.Errorf("unit %s from 2025-07 by commune: row %q (%d dossiers), want only %v", tc.unit, k, r.GetReceivedTotal(), tc.communes)
			}
			sum += r.GetReceivedTotal()
		}
		if total == 0 || sum != total {
			t.Errorf("unit %s from 2025-07: %d dossiers with a commune of %d", tc.unit, sum, total)
		}
		before := demoStats(t, s, &dossierv1.GetDossierStatsRequest{Unit: tc.unit, To: "2025-06", GroupBy: "commune"})
		for k, r := range before {
			if k != "" {
				t.Errorf("unit %s before 2025-07: %d dossiers of commune %q, want none", tc.unit, r.GetReceivedTotal(), k)
			}
		}
	}
	// Communes are counted by unit only (communes.go): the committee's dossiers are checked
	// one by one below.
	if _, err := s.GetDossierStats(demoAdmin, &dossierv1.GetDossierStatsRequest{Agency: demoFakeCommittee, GroupBy: "commune"}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("by commune filtered on an agency: %v, want INVALID_ARGUMENT", err)
	}
	committeeDossiers := 0
	if got := demoStats(t, s, &dossierv1.GetDossierStatsRequest{Agency: demoFakeCommittee, To: "2025-06"})["total"].GetReceivedTotal(); got != 0 {
		t.Errorf("commune People's Committee %s: %d dossiers before 2025-07", demoFakeCommittee, got)
	}
	if got := demoStats(t, s, &dossierv1.GetDossierStatsRequest{From: "2025-07", Procedure: "2.000007", Agency: demoFakeCommittee})["total"].GetReceivedTotal(); got == 0 {
		t.Errorf("Hưng Yên's commune-level procedure 2.000007 has no dossier at %s from 2025-07", demoFakeCommittee)
	}

	// Receipts fall on working days in office hours.
	err = db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDossiers).ForEach(func(k, _ []byte) error {
			st, err := loadState(tx, string(k))
			if err != nil {
				return err
			}
			if st.GetAgencyCode() == demoFakeCommittee {
				committeeDossiers++
				if st.GetCommuneCode() != communePhoHien {
					t.Errorf("dossier %s of commune People's Committee %s: commune %q, want %s", k, demoFakeCommittee, st.GetCommuneCode(), communePhoHien)
				}
			}
			at := time.UnixMilli(st.GetReceivedAt()).In(Vietnam)
			if !DefaultCalendar().IsWorkingDay(at) || at.Hour()*60+at.Minute() < 450 || at.Hour() >= 17 {
				t.Errorf("dossier %s received %s: not in office hours of a working day", k, at)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if committeeDossiers == 0 {
		t.Errorf("commune People's Committee %s received no dossier", demoFakeCommittee)
	}
	rep := demoVerify(t, db)
	t.Logf("verify: %d events, %d dossiers, %d cells", rep.Events, rep.Dossiers, rep.Cells)

	// A second load adds nothing and does not ask the catalog.
	calls := cat.calls.Load()
	start := time.Now()
	if err := s.LoadDemo(ctx, cat, n); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("second LoadDemo took %v", took)
	}
	if got := demoTotal(t, s); got != n {
		t.Errorf("after a second load received_total = %d, want %d", got, n)
	}
	if got := cat.calls.Load(); got != calls {
		t.Errorf("second LoadDemo asked the catalog %d times", got-calls)
	}
	if s.lastSeq.Load() != rep.Events {
		t.Errorf("second LoadDemo stored events: sequence %d, was %d", s.lastSeq.Load(), rep.Events)
	}
}

// An interrupted load stops without error and the next one finishes it, with the same
// dossiers.
func TestDemoResume(t *testing.T) {
	const n = 2000
	cat := &demoFakeCatalog{}
	path := filepath.Join(t.TempDir(), "dossier.db")

	// The loader asks the clock once per batch (prepare): cancel after a few batches.
	ctx, cancel := context.WithCancel(context.Background())
	var ticks atomic.Int64
	db, s := demoOpen(t, path, cat, func() time.Time {
		if ticks.Add(1) == 12 {
			cancel()
		}
		return demoNow
	})
	if err := s.LoadDemo(ctx, cat, n); err != nil {
		t.Fatalf("interrupted load: %v", err)
	}
	partial := demoTotal(t, s)
	if partial == 0 || partial >= n {
		t.Fatalf("interrupted load stored %d dossiers, want some of %d", partial, n)
	}
	demoVerify(t, db)
	s.Close()
	db.Close()

	// Later (a day on), the load continues where the plan says, not with a new history.
	db, s = demoOpen(t, path, cat, func() time.Time { return demoNow.AddDate(0, 0, 1) })
	if err := s.LoadDemo(context.Background(), cat, 5*n); err != nil {
		t.Fatal(err)
	}
	if got := demoTotal(t, s); got != n {
		t.Fatalf("after resuming received_total = %d, want %d", got, n)
	}
	demoVerify(t, db)

	// The same history as an uninterrupted load: compare with one.
	_, s2 := demoOpen(t, filepath.Join(t.TempDir(), "dossier.db"), cat, nil)
	if err := s2.LoadDemo(context.Background(), cat, n); err != nil {
		t.Fatal(err)
	}
	a := demoStats(t, s, &dossierv1.GetDossierStatsRequest{GroupBy: "month", To: "2026-10"})
	b := demoStats(t, s2, &dossierv1.GetDossierStatsRequest{GroupBy: "month", To: "2026-10"})
	for k, ra := range a {
		rb := b[k]
		if ra.GetReceivedTotal() != rb.GetReceivedTotal() || ra.GetReceivedOnline() != rb.GetReceivedOnline() || ra.GetResolvedLate() != rb.GetResolvedLate() {
			t.Errorf("month %s: resumed load received %d (%d online, %d late), uninterrupted %d (%d, %d)", k,
				ra.GetReceivedTotal(), ra.GetReceivedOnline(), ra.GetResolvedLate(), rb.GetReceivedTotal(), rb.GetReceivedOnline(), rb.GetResolvedLate())
		}
	}
}

// Without the demo data in the catalog, LoadDemo says so.
func TestDemoEmptyCatalog(t *testing.T) {
	_, s := demoOpen(t, filepath.Join(t.TempDir(), "dossier.db"), &demoFakeCatalog{}, nil)
	empty := &demoEmptyCatalog{}
	if err := s.LoadDemo(context.Background(), empty, 10); err == nil {
		t.Fatal("LoadDemo with an empty catalog: no error")
	}
}

type demoEmptyCatalog struct{ catalogv1.CatalogServiceClient }

func (demoEmptyCatalog) ListAgencies(context.Context, *catalogv1.ListAgenciesRequest, ...grpc.CallOption) (*catalogv1.ListAgenciesResponse, error) {
	return &catalogv1.ListAgenciesResponse{}, nil
}

func (demoEmptyCatalog) ListProcedures(context.Context, *catalogv1.ListProceduresRequest, ...grpc.CallOption) (*catalogv1.ListProceduresResponse, error) {
	return &catalogv1.ListProceduresResponse{}, nil
}

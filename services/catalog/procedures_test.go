package catalog

import (
	"context"
	"slices"
	"strings"
	"testing"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/google/go-cmp/cmp"
)

func TestProcedureLifecycle(t *testing.T) {
	f := newFixture(t, true)
	ctx := f.admin()
	in := validProcedure("1.777777")
	in.Name = "Cap phep thu" // stored as given, searchable either way
	in.LegacyLevel = 0
	created, err := f.client.CreateProcedure(ctx, &catalogv1.CreateProcedureRequest{Procedure: in})
	if err != nil {
		t.Fatal(err)
	}
	if created.GetLegacyLevel() != 3 || created.GetStatus() != catalogv1.ProcedureStatus_PROCEDURE_STATUS_ACTIVE || created.GetUpdateTime() == "" {
		t.Errorf("derived fields: legacy %d status %v update_time %q", created.GetLegacyLevel(), created.GetStatus(), created.GetUpdateTime())
	}
	got, err := f.client.GetProcedure(ctx, &catalogv1.GetProcedureRequest{Code: "1.777777"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(created, got, protocmp.Transform()); diff != "" {
		t.Errorf("get after create (-created +got):\n%s", diff)
	}
	// The same procedure again is not an error; other content is.
	if _, err := f.client.CreateProcedure(ctx, &catalogv1.CreateProcedureRequest{Procedure: in}); err != nil {
		t.Errorf("same procedure again: %v", err)
	}
	other := validProcedure("1.777777")
	other.ProcessingDays = 99
	_, err = f.client.CreateProcedure(ctx, &catalogv1.CreateProcedureRequest{Procedure: other})
	wantCode(t, err, codes.AlreadyExists)

	// Update with a mask changes only the named field; changing the online level re-derives
	// the legacy level.
	upd, err := f.client.UpdateProcedure(ctx, &catalogv1.UpdateProcedureRequest{
		Procedure:  &catalogv1.Procedure{Code: "1.777777", OnlineLevel: catalogv1.OnlineLevel_ONLINE_LEVEL_FULL, Name: "ignored"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"online_level"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if upd.GetOnlineLevel() != catalogv1.OnlineLevel_ONLINE_LEVEL_FULL || upd.GetLegacyLevel() != 4 || upd.GetName() != "Cap phep thu" || upd.GetProcessingDays() != 10 {
		t.Errorf("after update: %v", upd)
	}
	cases := []struct {
		name  string
		req   *catalogv1.UpdateProcedureRequest
		code  codes.Code
		field string
	}{
		{"unknown field in mask", &catalogv1.UpdateProcedureRequest{Procedure: &catalogv1.Procedure{Code: "1.777777"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"code"}}}, codes.InvalidArgument, "update_mask"},
		{"unknown procedure", &catalogv1.UpdateProcedureRequest{Procedure: &catalogv1.Procedure{Code: "1.000000", Fee: "1"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"fee"}}}, codes.NotFound, ""},
		{"bad value", &catalogv1.UpdateProcedureRequest{Procedure: &catalogv1.Procedure{Code: "1.777777", AgencyCodes: []string{"000.00.00.Z99"}}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"agency_codes"}}}, codes.InvalidArgument, "procedure.agency_codes[0]"},
		{"inconsistent levels", &catalogv1.UpdateProcedureRequest{Procedure: &catalogv1.Procedure{Code: "1.777777", OnlineLevel: catalogv1.OnlineLevel_ONLINE_LEVEL_FULL, LegacyLevel: 2}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"online_level", "legacy_level"}}}, codes.InvalidArgument, "procedure.legacy_level"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.client.UpdateProcedure(ctx, tc.req)
			wantCode(t, err, tc.code)
			if tc.field != "" && !slices.Contains(violationFields(err), tc.field) {
				t.Errorf("violations: got %v, want %s", violationFields(err), tc.field)
			}
		})
	}
	after, _ := f.client.GetProcedure(ctx, &catalogv1.GetProcedureRequest{Code: "1.777777"})
	if diff := cmp.Diff(upd, after, protocmp.Transform()); diff != "" {
		t.Errorf("refused updates changed the procedure (-want +got):\n%s", diff)
	}
}

func TestSearchAndFilters(t *testing.T) {
	f := newFixture(t, true)
	ctx := context.Background()
	cases := []struct {
		name  string
		req   *catalogv1.ListProceduresRequest
		check func(*catalogv1.Procedure) bool
		min   int
	}{
		{"no diacritics finds Vietnamese", &catalogv1.ListProceduresRequest{Q: "dang ky thanh lap doanh nghiep tu nhan"}, func(p *catalogv1.Procedure) bool {
			return strings.Contains(strings.ToLower(p.GetName()), "đăng ký thành lập doanh nghiệp tư nhân")
		}, 1},
		{"upper case and đ", &catalogv1.ListProceduresRequest{Q: "ĐĂNG KÝ KINH DOANH"}, func(p *catalogv1.Procedure) bool {
			n := strings.ToLower(p.GetName())
			return strings.Contains(n, "đăng ký") && strings.Contains(n, "kinh doanh")
		}, 3},
		{"field without diacritics", &catalogv1.ListProceduresRequest{Field: "dat dai"}, func(p *catalogv1.Procedure) bool { return p.GetField() == "Đất đai" }, 10},
		{"online level", &catalogv1.ListProceduresRequest{OnlineLevel: catalogv1.OnlineLevel_ONLINE_LEVEL_FULL}, func(p *catalogv1.Procedure) bool {
			return p.GetOnlineLevel() == catalogv1.OnlineLevel_ONLINE_LEVEL_FULL
		}, 50},
		{"unit", &catalogv1.ListProceduresRequest{Unit: "36"}, func(p *catalogv1.Procedure) bool {
			for _, a := range p.GetAgencyCodes() {
				if strings.HasSuffix(a, ".H40") { // Nam Định, unit 36
					return true
				}
			}
			return false
		}, 100},
		{"code", &catalogv1.ListProceduresRequest{Q: "1.000114"}, func(p *catalogv1.Procedure) bool { return p.GetCode() == "1.000114" }, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.PageSize = 1000
			resp, err := f.client.ListProcedures(ctx, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.GetProcedures()) < tc.min || int(resp.GetTotalSize()) != len(resp.GetProcedures()) {
				t.Errorf("got %d procedures (total %d), want at least %d", len(resp.GetProcedures()), resp.GetTotalSize(), tc.min)
			}
			for _, p := range resp.GetProcedures() {
				if !tc.check(p) {
					t.Errorf("procedure %s %q does not match", p.GetCode(), p.GetName())
				}
			}
		})
	}
	none, err := f.client.ListProcedures(ctx, &catalogv1.ListProceduresRequest{Q: "khong co thu tuc nao nhu the nay"})
	if err != nil || len(none.GetProcedures()) != 0 {
		t.Errorf("search for nothing: %v %v", none.GetProcedures(), err)
	}
}

func TestPagination(t *testing.T) {
	f := newFixture(t, true)
	ctx := context.Background()
	all, err := f.client.ListProcedures(ctx, &catalogv1.ListProceduresRequest{PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var order []string
	token := ""
	pages := 0
	for {
		resp, err := f.client.ListProcedures(ctx, &catalogv1.ListProceduresRequest{PageSize: 7, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(resp.GetProcedures()) > 7 {
			t.Fatalf("page of %d, want at most 7", len(resp.GetProcedures()))
		}
		for _, p := range resp.GetProcedures() {
			if seen[p.GetCode()] {
				t.Fatalf("procedure %s on two pages", p.GetCode())
			}
			seen[p.GetCode()] = true
			order = append(order, p.GetCode())
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	if len(order) != len(all.GetProcedures()) {
		t.Errorf("paged through %d procedures, one page of 1000 has %d", len(order), len(all.GetProcedures()))
	}
	if want := (len(order) + 6) / 7; pages != want {
		t.Errorf("pages: got %d, want %d", pages, want)
	}
	for i := 1; i < len(order); i++ {
		if order[i-1] >= order[i] {
			t.Fatalf("not in code order at %d: %s then %s", i, order[i-1], order[i])
		}
	}
	first, _ := f.client.ListProcedures(ctx, &catalogv1.ListProceduresRequest{PageSize: 7})
	bad := []struct {
		name string
		req  *catalogv1.ListProceduresRequest
	}{
		{"garbage token", &catalogv1.ListProceduresRequest{PageToken: "not-a-token"}},
		{"token of other filters", &catalogv1.ListProceduresRequest{PageToken: first.GetNextPageToken(), Q: "dat"}},
		{"page size too large", &catalogv1.ListProceduresRequest{PageSize: 1001}},
		{"negative page size", &catalogv1.ListProceduresRequest{PageSize: -1}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.client.ListProcedures(ctx, tc.req)
			wantCode(t, err, codes.InvalidArgument)
		})
	}
}

func TestImport(t *testing.T) {
	f := newFixture(t, true)
	ctx := f.admin()
	good := "code,name,field,implementing_level,agency_codes,processing_days,online_level,documents\n" +
		"1.900001,Thủ tục nhập thử một,Đất đai,PROVINCE,000.06.00.H31,10,FULL,Tờ khai;Bản sao\n" +
		"1.900002,Thủ tục nhập thử hai,Hộ tịch,ONLINE_LEVEL_PARTIAL,000.02.00.H31,5,2,\n"
	// Row 2 has a bad implementing level; nothing of the import is stored.
	_, err := f.client.ImportProcedures(ctx, &catalogv1.ImportProceduresRequest{Csv: good})
	wantCode(t, err, codes.InvalidArgument)
	if !slices.Contains(violationFields(err), "rows[2].implementing_level") {
		t.Errorf("violations: got %v", violationFields(err))
	}
	_, err = f.client.GetProcedure(ctx, &catalogv1.GetProcedureRequest{Code: "1.900001"})
	wantCode(t, err, codes.NotFound)

	bad := "code,name,field,implementing_level,agency_codes,processing_days,online_level\n" +
		"1.900001,Một,Đất đai,PROVINCE,000.06.00.H31,10,FULL\n" +
		"1.900002,,Đất đai,PROVINCE,000.99.00.H31,x,FULL\n" +
		"1.900001,Trùng,Đất đai,PROVINCE,000.06.00.H31,10,FULL\n" +
		"1.900004,short row\n"
	_, err = f.client.ImportProcedures(ctx, &catalogv1.ImportProceduresRequest{Csv: bad})
	wantCode(t, err, codes.InvalidArgument)
	got := violationFields(err)
	for _, want := range []string{"rows[2].name", "rows[2].agency_codes[0]", "rows[2].processing_days", "rows[3].code", "rows[4]"} {
		if !slices.Contains(got, want) {
			t.Errorf("violations %v: missing %s", got, want)
		}
	}
	if slices.Contains(got, "rows[4].code") {
		t.Errorf("violations %v: a short row should be reported once, as rows[4]", got)
	}

	ok := strings.Replace(good, "ONLINE_LEVEL_PARTIAL", "COMMUNE", 1)
	dry, err := f.client.ImportProcedures(ctx, &catalogv1.ImportProceduresRequest{Csv: ok, ValidateOnly: true})
	if err != nil || dry.GetCreated() != 2 || !dry.GetValidatedOnly() {
		t.Fatalf("validate only: %v %v", dry, err)
	}
	_, err = f.client.GetProcedure(ctx, &catalogv1.GetProcedureRequest{Code: "1.900001"})
	wantCode(t, err, codes.NotFound)
	resp, err := f.client.ImportProcedures(ctx, &catalogv1.ImportProceduresRequest{Csv: ok})
	if err != nil || resp.GetCreated() != 2 || resp.GetUpdated() != 0 {
		t.Fatalf("import: %v %v", resp, err)
	}
	p, err := f.client.GetProcedure(ctx, &catalogv1.GetProcedureRequest{Code: "1.900001"})
	if err != nil || len(p.GetDocuments()) != 2 || p.GetLegacyLevel() != 4 {
		t.Errorf("imported: %v %v", p, err)
	}
	again, err := f.client.ImportProcedures(ctx, &catalogv1.ImportProceduresRequest{Procedures: []*catalogv1.Procedure{validProcedure("1.900001"), validProcedure("1.900003")}})
	if err != nil || again.GetCreated() != 1 || again.GetUpdated() != 1 {
		t.Errorf("JSON import: %v %v", again, err)
	}
	_, err = f.client.ImportProcedures(f.as("ministry", ""), &catalogv1.ImportProceduresRequest{Csv: ok})
	wantCode(t, err, codes.PermissionDenied)
	_, err = f.client.ImportProcedures(ctx, &catalogv1.ImportProceduresRequest{Csv: "code,nope\n"})
	wantCode(t, err, codes.InvalidArgument)
}

func TestCatalogStats(t *testing.T) {
	f := newFixture(t, false)
	ctx := f.admin()
	for _, a := range []*catalogv1.Agency{
		{Code: "000.01.00.H31", Name: "Sở A", UnitCode: "33"},
		{Code: "000.01.00.H40", Name: "Sở B", UnitCode: "36"},
	} {
		if _, err := f.client.CreateAgency(ctx, &catalogv1.CreateAgencyRequest{Agency: a}); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(code, field string, level catalogv1.OnlineLevel, agency string, st catalogv1.ProcedureStatus) *catalogv1.Procedure {
		return &catalogv1.Procedure{Code: code, Name: "Thủ tục " + code, Field: field, ImplementingLevel: catalogv1.ImplementingLevel_IMPLEMENTING_LEVEL_PROVINCE,
			AgencyCodes: []string{agency}, ProcessingDays: 5, OnlineLevel: level, Status: st}
	}
	ps := []*catalogv1.Procedure{
		mk("1.000001", "Đất đai", catalogv1.OnlineLevel_ONLINE_LEVEL_FULL, "000.01.00.H31", 0),
		mk("1.000002", "Đất đai", catalogv1.OnlineLevel_ONLINE_LEVEL_PARTIAL, "000.01.00.H31", 0),
		mk("1.000003", "Hộ tịch", catalogv1.OnlineLevel_ONLINE_LEVEL_NONE, "000.01.00.H31", 0),
		mk("1.000004", "Hộ tịch", catalogv1.OnlineLevel_ONLINE_LEVEL_FULL, "000.01.00.H40", 0),
		mk("1.000005", "Hộ tịch", catalogv1.OnlineLevel_ONLINE_LEVEL_FULL, "000.01.00.H31", catalogv1.ProcedureStatus_PROCEDURE_STATUS_ABOLISHED),
	}
	if _, err := f.client.ImportProcedures(ctx, &catalogv1.ImportProceduresRequest{Procedures: ps}); err != nil {
		t.Fatal(err)
	}
	st, err := f.client.GetCatalogStats(context.Background(), &catalogv1.GetCatalogStatsRequest{Unit: "33"})
	if err != nil {
		t.Fatal(err)
	}
	want := &catalogv1.CatalogStats{Unit: "33", Total: 3, Full: 1, Partial: 1, None: 1, OnlineShare: 2.0 / 3, FullShare: 1.0 / 3,
		Fields: []*catalogv1.FieldStats{{Field: "Hộ tịch", Total: 1, None: 1}, {Field: "Đất đai", Total: 2, Full: 1, Partial: 1}}}
	if diff := cmp.Diff(want, st, protocmp.Transform()); diff != "" {
		t.Errorf("stats of 33 (-want +got):\n%s", diff)
	}
	all, _ := f.client.GetCatalogStats(context.Background(), &catalogv1.GetCatalogStatsRequest{})
	if all.GetTotal() != 4 || all.GetFull() != 2 {
		t.Errorf("stats of all: total %d full %d, want 4 and 2", all.GetTotal(), all.GetFull())
	}
	_, err = f.client.GetCatalogStats(context.Background(), &catalogv1.GetCatalogStatsRequest{Unit: "99"})
	wantCode(t, err, codes.NotFound)
}

func TestLookupReferences(t *testing.T) {
	f := newFixture(t, true)
	resp, err := f.client.LookupReferences(context.Background(), &catalogv1.LookupReferencesRequest{
		ProcedureCodes: []string{"1.000114", "9.999999"},
		AgencyCodes:    []string{"000.00.00.H40", "000.00.00.Z00"},
		UnitCodes:      []string{"36", "99"},
		Date:           "2024-05-01",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetProcedures()) != 1 || resp.GetProcedures()[0].GetProcessingDays() == 0 {
		t.Errorf("procedures: %v", resp.GetProcedures())
	}
	if len(resp.GetAgencies()) != 1 || resp.GetAgencies()[0].GetUnitCode() != "36" {
		t.Errorf("agencies: %v", resp.GetAgencies())
	}
	if len(resp.GetUnits()) != 1 || !resp.GetUnits()[0].GetUnit().GetInForce() || resp.GetUnits()[0].GetCurrentCodes()[0] != "37" {
		t.Errorf("units: %v", resp.GetUnits())
	}
	wantMissing := [][]string{{"9.999999"}, {"000.00.00.Z00"}, {"99"}}
	gotMissing := [][]string{resp.GetMissingProcedures(), resp.GetMissingAgencies(), resp.GetMissingUnits()}
	if diff := cmp.Diff(wantMissing, gotMissing); diff != "" {
		t.Errorf("missing (-want +got):\n%s", diff)
	}
}

// TestProcedureFeeAndResultKind: the QĐ 766 formula description counts online payments over
// the dossiers of procedures whose fee is "khác 0, null", and electronic results over the
// dossiers of procedures that "yêu cầu trả kết quả bằng văn bản, giấy tờ" (docs/domain.md,
// "QĐ 766 service-quality index"): a procedure carries has_fee (derived from the fee text
// when not given) and result_kind.
func TestProcedureFeeAndResultKind(t *testing.T) {
	f := newFixture(t, true)
	ctx := f.admin()
	for _, tc := range []struct {
		code, fee string
		hasFee    *bool
		want      bool
	}{
		{"1.700001", "", nil, false},
		{"1.700002", "50.000 đồng/hồ sơ", nil, true},
		{"1.700003", "0 đồng/hồ sơ.", nil, false},
		{"1.700004", "Miễn phí", nil, false},
		{"1.700005", "Không", nil, false},
		{"1.700006", "Theo quy định", ptr(false), false}, // given: kept
		{"1.700007", "", ptr(true), true},
	} {
		in := validProcedure(tc.code)
		in.Fee, in.HasFee, in.ResultKind = tc.fee, tc.hasFee, catalogv1.ResultKind_RESULT_KIND_BOTH
		got, err := f.client.CreateProcedure(ctx, &catalogv1.CreateProcedureRequest{Procedure: in})
		if err != nil {
			t.Fatalf("%s: %v", tc.code, err)
		}
		if got.HasFee == nil || got.GetHasFee() != tc.want {
			t.Errorf("%s fee %q: has_fee %v, want %v", tc.code, tc.fee, got.HasFee, tc.want)
		}
		if got.GetResultKind() != catalogv1.ResultKind_RESULT_KIND_BOTH {
			t.Errorf("%s: result_kind %v", tc.code, got.GetResultKind())
		}
	}
	// A new fee re-derives has_fee; result_kind can be updated.
	upd, err := f.client.UpdateProcedure(ctx, &catalogv1.UpdateProcedureRequest{
		Procedure:  &catalogv1.Procedure{Code: "1.700001", Fee: "100.000 đồng", ResultKind: catalogv1.ResultKind_RESULT_KIND_NONE},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"fee", "result_kind"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !upd.GetHasFee() || upd.GetResultKind() != catalogv1.ResultKind_RESULT_KIND_NONE {
		t.Errorf("after update: has_fee %v result_kind %v", upd.GetHasFee(), upd.GetResultKind())
	}
	bad := validProcedure("1.700009")
	bad.ResultKind = 9
	_, err = f.client.CreateProcedure(ctx, &catalogv1.CreateProcedureRequest{Procedure: bad})
	if !slices.Contains(violationFields(err), "result_kind") {
		t.Errorf("unknown result kind: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

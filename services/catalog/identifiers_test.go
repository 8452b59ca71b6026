package catalog

import (
	"context"
	"slices"
	"strings"
	"testing"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Level-1 codes (QCVN 102:2016; QĐ 20/2020/QĐ-TTg as amended by QĐ 09/2025/QĐ-TTg): H01–H63
// in alphabetical order of the province names, the code following the province's name after
// 2025-07-01, G-codes for central bodies (data/agency-level1-codes.csv).
func TestLevel1Codes(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	get := func(code, date string) *catalogv1.Level1Code {
		t.Helper()
		l, err := f.client.GetLevel1Code(ctx, &catalogv1.GetLevel1CodeRequest{Code: code, Date: date})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	cases := []struct {
		code, date, unit, name, successor string
		inForce                           bool
		evidence                          catalogv1.Level1Evidence
	}{
		{"H31", "2026-01-01", "33", "UBND Hưng Yên", "", true, catalogv1.Level1Evidence_LEVEL1_EVIDENCE_INFERRED},
		{"H41", "2026-01-01", "40", "UBND Nghệ An", "", true, catalogv1.Level1Evidence_LEVEL1_EVIDENCE_CONFIRMED},
		{"H29", "2026-01-01", "79", "UBND Hồ Chí Minh", "", true, catalogv1.Level1Evidence_LEVEL1_EVIDENCE_CONFIRMED},
		{"H26", "2020-01-01", "01", "UBND Hà Nội", "", true, catalogv1.Level1Evidence_LEVEL1_EVIDENCE_CONFIRMED},
		// New Bắc Ninh (unit 24, old Bắc Giang's code) keeps old Bắc Ninh's H05 (unit 27).
		{"H05", "2024-01-01", "27", "UBND Bắc Ninh", "", true, catalogv1.Level1Evidence_LEVEL1_EVIDENCE_INFERRED},
		{"H05", "2025-07-01", "24", "UBND Bắc Ninh", "", true, catalogv1.Level1Evidence_LEVEL1_EVIDENCE_INFERRED},
		{"H02", "2025-07-01", "24", "UBND Bắc Giang", "H05", false, catalogv1.Level1Evidence_LEVEL1_EVIDENCE_INFERRED},
		{"H40", "2026-01-01", "36", "UBND Nam Định", "H42", false, catalogv1.Level1Evidence_LEVEL1_EVIDENCE_INFERRED},
		{"H57", "2026-01-01", "46", "UBND Huế", "", true, catalogv1.Level1Evidence_LEVEL1_EVIDENCE_CONFIRMED},
		{"K31", "2026-01-01", "33", "HĐND Hưng Yên", "", true, catalogv1.Level1Evidence_LEVEL1_EVIDENCE_INFERRED},
		{"G22", "2026-01-01", "", "Văn phòng Chính phủ", "", true, catalogv1.Level1Evidence_LEVEL1_EVIDENCE_CONFIRMED},
		{"G04", "2026-01-01", "", "Bộ Giao thông vận tải", "G17", false, catalogv1.Level1Evidence_LEVEL1_EVIDENCE_CONFIRMED},
	}
	for _, tc := range cases {
		t.Run(tc.code+"@"+tc.date, func(t *testing.T) {
			l := get(tc.code, tc.date)
			p := l.GetPeriod()
			if p.GetUnitCode() != tc.unit || p.GetName() != tc.name || p.GetSuccessorCode() != tc.successor || l.GetInForce() != tc.inForce || p.GetEvidence() != tc.evidence {
				t.Errorf("got unit %s %q successor %q in_force=%v %v, want unit %s %q successor %q in_force=%v %v",
					p.GetUnitCode(), p.GetName(), p.GetSuccessorCode(), l.GetInForce(), p.GetEvidence(), tc.unit, tc.name, tc.successor, tc.inForce, tc.evidence)
			}
			if p.GetEvidenceNote() == "" {
				t.Error("no evidence note")
			}
		})
	}
	count := func(prefix, date, unit string) (int32, []string) {
		t.Helper()
		resp, err := f.client.ListLevel1Codes(ctx, &catalogv1.ListLevel1CodesRequest{Prefix: prefix, Date: date, Unit: unit, PageSize: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var codes []string
		for _, l := range resp.GetLevel1Codes() {
			codes = append(codes, l.GetCode())
		}
		return resp.GetTotalSize(), codes
	}
	// On 1 July 2025, 29 of the 63 H-codes closed (QĐ 09/2025/QĐ-TTg).
	if n, _ := count("H", "2025-06-30", ""); n != 63 {
		t.Errorf("H-codes on 2025-06-30: got %d, want 63", n)
	}
	if n, _ := count("H", "2025-07-01", ""); n != 34 {
		t.Errorf("H-codes on 2025-07-01: got %d, want 34", n)
	}
	if n, _ := count("K", "2025-07-01", ""); n != 34 {
		t.Errorf("K-codes on 2025-07-01: got %d, want 34", n)
	}
	if _, got := count("H", "2024-01-01", "24"); !slices.Equal(got, []string{"H02"}) {
		t.Errorf("H-code of unit 24 in 2024: got %v, want [H02]", got)
	}
	if _, got := count("H", "2026-01-01", "24"); !slices.Equal(got, []string{"H05"}) {
		t.Errorf("H-code of unit 24 in 2026: got %v, want [H05]", got)
	}
	if _, got := count("", "2026-01-01", "00004"); !slices.Equal(got, []string{"H26", "K26"}) {
		t.Errorf("codes of the province of commune 00004 (Ba Đình, Hà Nội): got %v, want [H26 K26]", got)
	}
	_, err := f.client.GetLevel1Code(ctx, &catalogv1.GetLevel1CodeRequest{Code: "H64"})
	wantCode(t, err, codes.NotFound)
	_, err = f.client.ListLevel1Codes(ctx, &catalogv1.ListLevel1CodesRequest{Prefix: "X"})
	wantCode(t, err, codes.InvalidArgument)
}

// A unit's level-1 code at a date: the H-code of its province then.
func TestUnitLevel1Code(t *testing.T) {
	f := newFixture(t, false)
	cases := []struct{ code, date, want string }{
		{"33", "2026-01-01", "H31"},
		{"40", "2020-01-01", "H41"},
		{"79", "2026-01-01", "H29"},
		{"24", "2024-01-01", "H02"},
		{"24", "2025-07-01", "H05"},
		{"27", "", "H05"},              // retired: its last day
		{"00004", "2025-07-01", "H26"}, // a ward of Hà Nội
		{"01", "2010-01-01", ""},       // before the table starts
	}
	for _, tc := range cases {
		u, err := f.client.GetUnit(context.Background(), &catalogv1.GetUnitRequest{Code: tc.code, Date: tc.date})
		if err != nil {
			t.Fatal(err)
		}
		if u.GetLevel1Code() != tc.want {
			t.Errorf("%s@%s: got %q, want %q", tc.code, tc.date, u.GetLevel1Code(), tc.want)
		}
	}
}

// The 3,321 commune-level units of the 34 provinces from 2025-07-01
// (data/communes-from-2025-07-01.csv): 2,611 communes, 697 wards, 13 special zones.
func TestCommunes(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	kinds := map[catalogv1.UnitKind]int{}
	token, pages, total := "", 0, int32(0)
	for {
		resp, err := f.client.ListUnits(ctx, &catalogv1.ListUnitsRequest{Level: "commune", Date: "2025-07-01", PageSize: 1000, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		total = resp.GetTotalSize()
		for _, u := range resp.GetUnits() {
			kinds[u.GetKind()]++
			if len(u.GetParentCode()) != 2 || u.GetLevel1Code() == "" {
				t.Fatalf("%s: parent %q level-1 %q", u.GetCode(), u.GetParentCode(), u.GetLevel1Code())
			}
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	if total != 3321 || pages != 4 {
		t.Errorf("communes on 2025-07-01: total %d in %d pages of 1000, want 3321 in 4", total, pages)
	}
	if kinds[catalogv1.UnitKind_UNIT_KIND_COMMUNE] != 2611 || kinds[catalogv1.UnitKind_UNIT_KIND_WARD] != 697 || kinds[catalogv1.UnitKind_UNIT_KIND_SPECIAL_ZONE] != 13 {
		t.Errorf("kinds: got %v", kinds)
	}
	resp, err := f.client.ListUnits(ctx, &catalogv1.ListUnitsRequest{Level: "commune", Date: "2025-07-01", ParentCode: "33", PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetTotalSize() != 104 {
		t.Errorf("communes of Hưng Yên (33): got %d, want 104", resp.GetTotalSize())
	}
	resp, err = f.client.ListUnits(ctx, &catalogv1.ListUnitsRequest{Level: "commune", Date: "2025-06-30", PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetTotalSize() != 0 {
		t.Errorf("communes on 2025-06-30: got %d, want 0 (the table starts on 2025-07-01)", resp.GetTotalSize())
	}
	resp, err = f.client.ListUnits(ctx, &catalogv1.ListUnitsRequest{Level: "province", Date: "2025-07-01", PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetTotalSize() != 34 {
		t.Errorf("provinces on 2025-07-01 with the communes loaded: got %d, want 34", resp.GetTotalSize())
	}
}

// An agency's code carries the level-1 code of its province during its life (QĐ 20/2020/QĐ-TTg
// as amended by QĐ 09/2025/QĐ-TTg; docs/domain.md, Agencies).
func TestAgencyLevel1Rule(t *testing.T) {
	f := newFixture(t, false)
	ctx := f.admin()
	create := func(a *catalogv1.Agency) error {
		_, err := f.client.CreateAgency(ctx, &catalogv1.CreateAgencyRequest{Agency: a})
		return err
	}
	// H + the unit code (Hưng Yên is unit 33, its code H31) and another province's code are
	// both refused, naming the province's code.
	err := create(&catalogv1.Agency{Code: "000.00.00.H33", Name: "UBND (H + unit code)", UnitCode: "33"})
	wantViolation(t, err, "agency.code", "H31")
	err = create(&catalogv1.Agency{Code: "000.00.00.H41", Name: "UBND Nghệ An under Hưng Yên", UnitCode: "33"})
	wantViolation(t, err, "agency.code", "H31")

	cases := []struct {
		name    string
		agency  *catalogv1.Agency
		wantErr string // "" when accepted; else words of the violation on agency.code
	}{
		{"Hưng Yên is H31", &catalogv1.Agency{Code: "000.00.00.H31", Name: "UBND tỉnh Hưng Yên", UnitCode: "33"}, ""},
		{"left-to-right form", &catalogv1.Agency{Code: "H31.01", Name: "Sở thử", UnitCode: "33", ParentCode: "000.00.00.H31"}, ""},
		{"People's Council K31", &catalogv1.Agency{Code: "000.00.00.K31", Name: "HĐND tỉnh Hưng Yên", UnitCode: "33"}, ""},
		{"a commune of Hà Nội", &catalogv1.Agency{Code: "H26.999", Name: "UBND phường thử", UnitCode: "00008"}, ""},
		{"H33 is not Hưng Yên's", &catalogv1.Agency{Code: "000.01.00.H33", Name: "x", UnitCode: "33"}, "H31"},
		{"old Bắc Giang was H02", &catalogv1.Agency{Code: "000.00.00.H02", Name: "UBND tỉnh Bắc Giang", UnitCode: "24", ValidFrom: "2016-04-01", ValidTo: "2025-06-30"}, ""},
		{"new Bắc Ninh is H05", &catalogv1.Agency{Code: "000.00.00.H05", Name: "UBND tỉnh Bắc Ninh", UnitCode: "24", ValidFrom: "2025-07-01"}, ""},
		{"unit 24 changed code on 2025-07-01", &catalogv1.Agency{Code: "000.01.00.H02", Name: "x", UnitCode: "24", ValidFrom: "2020-01-01"}, "H05"},
		{"Nam Định was H40", &catalogv1.Agency{Code: "000.00.00.H40", Name: "UBND tỉnh Nam Định", UnitCode: "36"}, ""},
		{"G04 closed", &catalogv1.Agency{Code: "000.00.00.G04", Name: "Bộ GTVT", UnitCode: "01", ValidFrom: "2026-01-01"}, "G17"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := create(tc.agency)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			wantViolation(t, err, "agency.code", tc.wantErr)
		})
	}
}

func wantViolation(t *testing.T, err error, field, words string) {
	t.Helper()
	wantCode(t, err, codes.InvalidArgument)
	if got := violationFields(err); !slices.Contains(got, field) {
		t.Fatalf("violations: got %v, want one on %s", got, field)
	}
	if !strings.Contains(status.Convert(err).Message()+" "+violationText(err), words) {
		t.Errorf("violation %v does not say %q", err, words)
	}
}

// Agencies have a life: an agency of a province that merged on 2025-07-01 closes with it,
// and the People's Committee of the province it merged into answers for it unless a
// successor is recorded (NQ 202/2025/QH15; docs/domain.md, Agencies).
func TestResolveAgency(t *testing.T) {
	f := newFixture(t, false)
	ctx := f.admin()
	for _, a := range []*catalogv1.Agency{
		{Code: "000.00.00.H40", Name: "UBND tỉnh Nam Định", UnitCode: "36", ValidFrom: "2016-04-01"},
		{Code: "000.00.00.H42", Name: "UBND tỉnh Ninh Bình", UnitCode: "37"},
		{Code: "000.00.02.H42", Name: "Sở Tư pháp tỉnh Ninh Bình", UnitCode: "37", ParentCode: "000.00.00.H42"},
		{Code: "000.00.02.H40", Name: "Sở Tư pháp tỉnh Nam Định", UnitCode: "36", ParentCode: "000.00.00.H40", ValidTo: "2025-06-30", SuccessorCode: "000.00.02.H42"},
	} {
		if _, err := f.client.CreateAgency(ctx, &catalogv1.CreateAgencyRequest{Agency: a}); err != nil {
			t.Fatalf("%s: %v", a.GetCode(), err)
		}
	}
	cases := []struct {
		code, date, current string
		path                []string
		inForce             bool
		source              catalogv1.SuccessorSource
	}{
		{"000.00.00.H40", "2024-06-01", "000.00.00.H40", []string{"000.00.00.H40"}, true, catalogv1.SuccessorSource_SUCCESSOR_SOURCE_UNIT_MERGER},
		{"000.00.00.H40", "2025-07-01", "000.00.00.H42", []string{"000.00.00.H40", "000.00.00.H42"}, false, catalogv1.SuccessorSource_SUCCESSOR_SOURCE_UNIT_MERGER},
		{"000.00.02.H40", "2026-01-01", "000.00.02.H42", []string{"000.00.02.H40", "000.00.02.H42"}, false, catalogv1.SuccessorSource_SUCCESSOR_SOURCE_RECORDED},
		{"000.00.00.H40", "2010-01-01", "", []string{"000.00.00.H40"}, false, catalogv1.SuccessorSource_SUCCESSOR_SOURCE_UNIT_MERGER},
	}
	for _, tc := range cases {
		t.Run(tc.code+"@"+tc.date, func(t *testing.T) {
			resp, err := f.client.ResolveAgency(context.Background(), &catalogv1.ResolveAgencyRequest{Code: tc.code, Date: tc.date})
			if err != nil {
				t.Fatal(err)
			}
			a := resp.GetAgency()
			if resp.GetCurrent().GetCode() != tc.current || !slices.Equal(resp.GetPath(), tc.path) || a.GetInForce() != tc.inForce || a.GetSuccessorSource() != tc.source {
				t.Errorf("got current %q path %v in_force=%v source %v, want %q %v %v %v",
					resp.GetCurrent().GetCode(), resp.GetPath(), a.GetInForce(), a.GetSuccessorSource(), tc.current, tc.path, tc.inForce, tc.source)
			}
			if a.GetValidTo() != "2025-06-30" || a.GetLevel1Code() != "H40" {
				t.Errorf("valid_to %q level1 %q, want 2025-06-30 H40", a.GetValidTo(), a.GetLevel1Code())
			}
		})
	}
	// What the dossier and document parts ask: is the agency in force on the event's date,
	// and if not, who answers for it.
	refs, err := f.client.LookupReferences(context.Background(), &catalogv1.LookupReferencesRequest{AgencyCodes: []string{"000.00.00.H40", "000.00.00.H42"}, Date: "2026-01-01"})
	if err != nil {
		t.Fatal(err)
	}
	got := refs.GetAgencyReferences()
	if len(got) != 2 || got[0].GetAgency().GetInForce() || got[0].GetCurrentCode() != "000.00.00.H42" || !got[1].GetAgency().GetInForce() || got[1].GetCurrentCode() != "000.00.00.H42" {
		t.Errorf("agency references: got %v", got)
	}
	if len(refs.GetAgencies()) != 2 {
		t.Errorf("agencies: got %d, want 2 (unchanged field)", len(refs.GetAgencies()))
	}
	_, err = f.client.ResolveAgency(context.Background(), &catalogv1.ResolveAgencyRequest{Code: "000.00.00.H99"})
	wantCode(t, err, codes.NotFound)
	// A successor needs an end, and must exist.
	_, err = f.client.CreateAgency(ctx, &catalogv1.CreateAgencyRequest{Agency: &catalogv1.Agency{Code: "000.00.03.H42", Name: "x", UnitCode: "37", SuccessorCode: "000.00.02.H42"}})
	wantViolation(t, err, "agency.successor_code", "valid_to")
	_, err = f.client.CreateAgency(ctx, &catalogv1.CreateAgencyRequest{Agency: &catalogv1.Agency{Code: "000.00.03.H42", Name: "x", UnitCode: "37", ValidTo: "2026-01-01", SuccessorCode: "000.00.09.H42"}})
	wantViolation(t, err, "agency.successor_code", "does not exist")
}

func violationText(err error) string {
	var out []string
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				out = append(out, v.GetDescription())
			}
		}
	}
	return strings.Join(out, "; ")
}

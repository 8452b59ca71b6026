package catalog

import (
	"context"
	"slices"
	"strings"
	"testing"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"google.golang.org/grpc/codes"
)

func listAllUnits(t *testing.T, f *fixture, level, date string) []*catalogv1.Unit {
	t.Helper()
	var out []*catalogv1.Unit
	token := ""
	for {
		resp, err := f.client.ListUnits(context.Background(), &catalogv1.ListUnitsRequest{Level: level, Date: date, PageSize: 10, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, resp.GetUnits()...)
		if token = resp.GetNextPageToken(); token == "" {
			return out
		}
	}
}

func TestProvincesByDate(t *testing.T) {
	f := newFixture(t, false)
	cases := []struct {
		date string
		want int
	}{
		{"2017-12-31", 63},
		{"2025-06-30", 63},
		{"2025-07-01", 34},
		{"2026-11-23", 34},
	}
	for _, tc := range cases {
		t.Run(tc.date, func(t *testing.T) {
			units := listAllUnits(t, f, "province", tc.date)
			if len(units) != tc.want {
				t.Errorf("provinces on %s: got %d, want %d", tc.date, len(units), tc.want)
			}
			for _, u := range units {
				if !u.GetInForce() {
					t.Errorf("unit %s listed on %s but not in force", u.GetCode(), tc.date)
				}
			}
		})
	}
	// Default date is today (fixed in the fixture to 2026-11-23).
	resp, err := f.client.ListUnits(context.Background(), &catalogv1.ListUnitsRequest{Level: "province", PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(resp.GetUnits()); got != 34 || resp.GetTotalSize() != 34 {
		t.Errorf("provinces today: got %d (total %d), want 34", got, resp.GetTotalSize())
	}
}

func TestUnitHistory(t *testing.T) {
	f := newFixture(t, false)
	get := func(code, date string) *catalogv1.Unit {
		t.Helper()
		u, err := f.client.GetUnit(context.Background(), &catalogv1.GetUnitRequest{Code: code, Date: date})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	cases := []struct {
		name, code, date string
		wantName         string
		wantKind         catalogv1.UnitKind
		wantInForce      bool
		wantPreds        []string
		wantSuccs        []string
	}{
		{"80 before is Long An", "80", "2025-06-30", "Long An", catalogv1.UnitKind_UNIT_KIND_PROVINCE, true, []string{"72"}, nil},
		{"80 after is Tây Ninh", "80", "2025-07-01", "Tây Ninh", catalogv1.UnitKind_UNIT_KIND_PROVINCE, true, []string{"72"}, nil},
		{"72 retired into 80", "72", "2025-07-01", "Tây Ninh", catalogv1.UnitKind_UNIT_KIND_PROVINCE, false, nil, []string{"80"}},
		{"36 retired into 37", "36", "", "Nam Định", catalogv1.UnitKind_UNIT_KIND_PROVINCE, false, nil, []string{"37"}},
		{"36 in 2018", "36", "2018-06-01", "Nam Định", catalogv1.UnitKind_UNIT_KIND_PROVINCE, true, nil, []string{"37"}},
		{"37 took 35 and 36", "37", "", "Ninh Bình", catalogv1.UnitKind_UNIT_KIND_PROVINCE, true, []string{"35", "36"}, nil},
		{"46 is the city of Huế", "46", "2025-07-01", "Huế", catalogv1.UnitKind_UNIT_KIND_CITY, true, nil, nil},
		// NQ 175/2024/QH15 (published with NQ 1314/NQ-UBTVQH15): Thừa Thiên Huế province is
		// the centrally governed city of Huế from 2025-01-01, on the same code 46.
		{"46 became Huế city on 2025-01-01", "46", "2025-01-01", "Huế", catalogv1.UnitKind_UNIT_KIND_CITY, true, nil, nil},
		{"46 was Thừa Thiên Huế province on 2024-12-31", "46", "2024-12-31", "Thừa Thiên Huế", catalogv1.UnitKind_UNIT_KIND_PROVINCE, true, nil, nil},
		{"52 is Gia Lai now", "52", "2026-01-01", "Gia Lai", catalogv1.UnitKind_UNIT_KIND_PROVINCE, true, []string{"64"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := get(tc.code, tc.date)
			if u.GetName() != tc.wantName || u.GetKind() != tc.wantKind || u.GetInForce() != tc.wantInForce {
				t.Errorf("got %s %v in_force=%v, want %s %v in_force=%v", u.GetName(), u.GetKind(), u.GetInForce(), tc.wantName, tc.wantKind, tc.wantInForce)
			}
			if !slices.Equal(u.GetPredecessors(), tc.wantPreds) {
				t.Errorf("predecessors: got %v, want %v", u.GetPredecessors(), tc.wantPreds)
			}
			if !slices.Equal(u.GetSuccessors(), tc.wantSuccs) {
				t.Errorf("successors: got %v, want %v", u.GetSuccessors(), tc.wantSuccs)
			}
		})
	}
	// Tây Ninh's code 72 ends on 2025-06-30; its one name has that end date.
	u72 := get("72", "")
	if u72.GetValidTo() != "2025-06-30" || len(u72.GetNames()) != 1 || u72.GetNames()[0].GetValidTo() != "2025-06-30" {
		t.Errorf("72: valid_to %q names %v", u72.GetValidTo(), u72.GetNames())
	}
	u80 := get("80", "")
	if len(u80.GetNames()) != 2 {
		t.Fatalf("80 names: got %v, want two", u80.GetNames())
	}
	_, err := f.client.GetUnit(context.Background(), &catalogv1.GetUnitRequest{Code: "99"})
	wantCode(t, err, codes.NotFound)
	_, err = f.client.GetUnit(context.Background(), &catalogv1.GetUnitRequest{Code: "80", Date: "2025-13-01"})
	wantCode(t, err, codes.InvalidArgument)
}

func TestResolveUnit(t *testing.T) {
	f := newFixture(t, false)
	cases := []struct {
		code, target string
		want         []string
	}{
		{"36", "", []string{"37"}},
		{"37", "", []string{"37"}},
		{"72", "", []string{"80"}},
		{"02", "", []string{"08"}},
		{"36", "2020-01-01", []string{"36"}},
		{"60", "", []string{"68"}},
	}
	for _, tc := range cases {
		t.Run(tc.code+"@"+tc.target, func(t *testing.T) {
			resp, err := f.client.ResolveUnit(context.Background(), &catalogv1.ResolveUnitRequest{Code: tc.code, Date: "2018-01-01", TargetDate: tc.target})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(resp.GetCurrentCodes(), tc.want) {
				t.Errorf("got %v, want %v", resp.GetCurrentCodes(), tc.want)
			}
		})
	}
}

func TestCreateCommuneAndMerge(t *testing.T) {
	f := newFixture(t, false)
	ctx := f.admin()
	a := &catalogv1.Unit{Code: "12345", Name: "Xã Thử A", Kind: catalogv1.UnitKind_UNIT_KIND_COMMUNE, ParentCode: "33", ValidFrom: "2025-07-01"}
	b := &catalogv1.Unit{Code: "12346", Name: "Xã Thử B", Kind: catalogv1.UnitKind_UNIT_KIND_COMMUNE, ParentCode: "33", ValidFrom: "2025-07-01"}
	for _, u := range []*catalogv1.Unit{a, b} {
		if _, err := f.client.CreateUnit(ctx, &catalogv1.CreateUnitRequest{Unit: u}); err != nil {
			t.Fatal(err)
		}
	}
	merged := &catalogv1.Unit{Code: "12347", Name: "Xã Thử Mới", Kind: catalogv1.UnitKind_UNIT_KIND_COMMUNE, ParentCode: "33", ValidFrom: "2026-01-01", Predecessors: []string{"12345", "12346"}}
	if _, err := f.client.CreateUnit(ctx, &catalogv1.CreateUnitRequest{Unit: merged}); err != nil {
		t.Fatal(err)
	}
	old, err := f.client.GetUnit(ctx, &catalogv1.GetUnitRequest{Code: "12345"})
	if err != nil {
		t.Fatal(err)
	}
	if old.GetValidTo() != "2025-12-31" || !slices.Equal(old.GetSuccessors(), []string{"12347"}) {
		t.Errorf("predecessor: valid_to %q successors %v", old.GetValidTo(), old.GetSuccessors())
	}
	var made []string // among the 3,321 shipped communes
	for _, u := range listAllUnits(t, f, "commune", "2026-06-01") {
		if strings.HasPrefix(u.GetName(), "Xã Thử") {
			made = append(made, u.GetCode())
		}
	}
	if !slices.Equal(made, []string{"12347"}) {
		t.Errorf("test communes in force in 2026: got %v, want [12347]", made)
	}

	bad := []struct {
		name  string
		unit  *catalogv1.Unit
		field string
		code  codes.Code
	}{
		{"kind does not fit code", &catalogv1.Unit{Code: "123", Name: "x", Kind: catalogv1.UnitKind_UNIT_KIND_COMMUNE, ParentCode: "33", ValidFrom: "2025-07-01"}, "unit.code", codes.InvalidArgument},
		{"no parent", &catalogv1.Unit{Code: "54321", Name: "x", Kind: catalogv1.UnitKind_UNIT_KIND_WARD, ValidFrom: "2025-07-01"}, "unit.parent_code", codes.InvalidArgument},
		{"retired parent", &catalogv1.Unit{Code: "54321", Name: "x", Kind: catalogv1.UnitKind_UNIT_KIND_WARD, ParentCode: "34", ValidFrom: "2025-07-01"}, "unit.parent_code", codes.InvalidArgument},
		{"retired predecessor", &catalogv1.Unit{Code: "54321", Name: "x", Kind: catalogv1.UnitKind_UNIT_KIND_WARD, ParentCode: "33", ValidFrom: "2027-01-01", Predecessors: []string{"12345"}}, "unit.predecessors", codes.InvalidArgument},
		{"bad date", &catalogv1.Unit{Code: "54321", Name: "x", Kind: catalogv1.UnitKind_UNIT_KIND_WARD, ParentCode: "33", ValidFrom: "1/7/2025"}, "unit.valid_from", codes.InvalidArgument},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.client.CreateUnit(ctx, &catalogv1.CreateUnitRequest{Unit: tc.unit})
			wantCode(t, err, tc.code)
			if got := violationFields(err); !slices.Contains(got, tc.field) {
				t.Errorf("violations: got %v, want one on %s", got, tc.field)
			}
		})
	}
	_, err = f.client.CreateUnit(ctx, &catalogv1.CreateUnitRequest{Unit: a})
	wantCode(t, err, codes.AlreadyExists)
	_, err = f.client.CreateUnit(f.as("province", "33"), &catalogv1.CreateUnitRequest{Unit: &catalogv1.Unit{Code: "55555"}})
	wantCode(t, err, codes.PermissionDenied)
}

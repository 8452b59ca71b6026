package catalog

import (
	"context"
	"strings"
	"testing"

	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/grpc/codes"
)

func TestTokenSystemBelongsToItsUnitOrAgency(t *testing.T) {
	f := newFixture(t, true) // demo agencies: every province's people's committee, Hưng Yên's departments
	remote := RemoteSystemCheck(f.client)
	tests := []struct {
		name    string
		caller  platform.Caller
		wantErr string // "" for accepted
	}{
		{"province, own committee", platform.Caller{System: "000.00.00.H31/motcua", Role: platform.RoleProvince, Unit: "33"}, ""},
		{"province, own department", platform.Caller{System: "000.02.00.H31/motcua", Role: platform.RoleProvince, Unit: "33"}, ""},
		{"province, agency of a unit merged into it", platform.Caller{System: "000.00.00.H54/motcua", Role: platform.RoleProvince, Unit: "33"}, ""},
		{"province, agency of another unit", platform.Caller{System: "000.00.00.H41/motcua", Role: platform.RoleProvince, Unit: "33"}, "belongs to unit 40, not to the token's unit 33"},
		{"province, unit absorbed by the agency's", platform.Caller{System: "000.00.00.H31/motcua", Role: platform.RoleProvince, Unit: "34"}, "belongs to unit 33, not to the token's unit 34"},
		{"province, unknown agency", platform.Caller{System: "000.99.00.H31/motcua", Role: platform.RoleProvince, Unit: "33"}, "not in the catalog"},
		{"province, not an agency code", platform.Caller{System: "hungyen/motcua", Role: platform.RoleProvince, Unit: "33"}, "must start with an agency code"},
		// A commune People's Committee (services/catalog/data/commune-agencies.csv): its unit is
		// its commune, 00004 of Hà Nội (01); docs/domain.md, Agencies.
		{"province, commune committee of its own", platform.Caller{System: "H26.107/motcua", Role: platform.RoleProvince, Unit: "01"}, ""},
		{"province, commune committee of another", platform.Caller{System: "H26.107/motcua", Role: platform.RoleProvince, Unit: "33"}, "belongs to unit 00004, not to the token's unit 33"},
		{"agency, commune committee", platform.Caller{System: "H26.107/qlvb", Role: platform.RoleAgency}, ""},
		{"agency, known", platform.Caller{System: "000.06.00.H31/qlvb", Role: platform.RoleAgency}, ""},
		{"agency, unknown", platform.Caller{System: "000.98.00.H31/qlvb", Role: platform.RoleAgency}, "not in the catalog"},
		{"ministry, ministry code", platform.Caller{System: "000.00.00.G22/bo", Role: platform.RoleMinistry}, ""},
		{"ministry, lienthong's own", platform.Caller{System: "lienthong/scoring", Role: platform.RoleMinistry}, ""},
		{"ministry, a province's code", platform.Caller{System: "000.00.00.H31/bo", Role: platform.RoleMinistry}, "ministry's agency code"},
		{"ministry, bare lienthong", platform.Caller{System: "lienthong", Role: platform.RoleMinistry}, "ministry's agency code"},
		{"admin, anything", platform.Caller{System: "ops/anyone", Role: platform.RoleAdmin}, ""},
	}
	for _, tt := range tests {
		for how, check := range map[string]platform.SystemCheck{"memory": f.cat.CheckTokenSystem, "remote": remote, "file": FileSystemCheck(f.cat.db)} {
			t.Run(tt.name+"/"+how, func(t *testing.T) {
				err := check(context.Background(), &tt.caller)
				if tt.wantErr == "" {
					if err != nil {
						t.Fatalf("got %v, want accepted", err)
					}
					return
				}
				pe, ok := err.(*platform.Error)
				if !ok || pe.Code != codes.Unauthenticated || pe.Reason != "TOKEN_SYSTEM_NOT_OWNED" || !strings.Contains(pe.Message, tt.wantErr) {
					t.Fatalf("got %v, want UNAUTHENTICATED TOKEN_SYSTEM_NOT_OWNED containing %q", err, tt.wantErr)
				}
			})
		}
	}
}

func TestRemoteSystemCheckWithoutCatalogIsUnavailable(t *testing.T) {
	f := newFixture(t, true)
	check := RemoteSystemCheck(f.client)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no answer can come
	err := check(ctx, &platform.Caller{System: "000.00.00.H31/motcua", Role: platform.RoleProvince, Unit: "33"})
	if pe, ok := err.(*platform.Error); !ok || pe.Code != codes.Unavailable {
		t.Errorf("got %v, want UNAVAILABLE", err)
	}
}

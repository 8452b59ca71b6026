package scoring

import (
	"context"
	"testing"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"google.golang.org/grpc"
)

// communeCatalog answers LookupReferences as the catalog does for a commune People's
// Committee with a left-to-right code (H26.107, unit 00004 of Hà Nội, 01) and a provincial
// department; every other call of the interface is absent.
type communeCatalog struct {
	catalogv1.CatalogServiceClient
}

func (communeCatalog) LookupReferences(_ context.Context, in *catalogv1.LookupReferencesRequest, _ ...grpc.CallOption) (*catalogv1.LookupReferencesResponse, error) {
	units := map[string]string{"H26.107": "00004", "000.00.12.H26": "01"}
	out := &catalogv1.LookupReferencesResponse{}
	for _, a := range in.GetAgencyCodes() {
		if u, ok := units[a]; ok {
			out.Agencies = append(out.Agencies, &catalogv1.Agency{Code: a, UnitCode: u, ProvinceCode: "01"})
		}
	}
	return out, nil
}

// TestSystemOfCommuneCommittee: a system id may name an agency by its left-to-right code,
// and a commune People's Committee's system belongs to its commune's province
// (docs/domain.md, Agencies and Identifiers).
func TestSystemOfCommuneCommittee(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{{"H26.107/motcua", true}, {"000.00.00.H31/motcua", true}, {"H26.7/motcua", false}, {"H26.107", false}, {"H26.107/MotCua", false}} {
		if got := validSystemID(tc.id); got != tc.want {
			t.Errorf("validSystemID(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
	g := GRPCCatalog{Client: communeCatalog{}}
	for agency, want := range map[string]string{"H26.107": "01", "000.00.12.H26": "01"} {
		unit, found, err := g.AgencyUnit(context.Background(), agency)
		if err != nil || !found || unit != want {
			t.Errorf("AgencyUnit(%s) = %q, %v, %v; want %q", agency, unit, found, err, want)
		}
	}
	if _, found, err := g.AgencyUnit(context.Background(), "H26.999"); err != nil || found {
		t.Errorf("an unknown agency: found %v, %v", found, err)
	}
}

package dossier

import (
	"slices"
	"testing"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"google.golang.org/grpc/codes"
)

func (f *fixture) listCodes(t *testing.T, r *dossierv1.ListDossiersRequest) []string {
	t.Helper()
	var out []string
	for i := 0; i < 100; i++ {
		resp, err := f.client.ListDossiers(f.admin(), r)
		if err != nil {
			t.Fatalf("ListDossiers(%v): %v", r, err)
		}
		for _, d := range resp.GetDossiers() {
			out = append(out, d.GetCode())
		}
		if resp.GetNextPageToken() == "" {
			return out
		}
		r.PageToken = resp.GetNextPageToken()
	}
	t.Fatal("ListDossiers never ended")
	return nil
}

// TestListDossiers: filters and paging. A dossier code need not start with the code of
// the agency the dossier is filed at (the national long forms never do), so the agency
// filter must find those too.
func TestListDossiers(t *testing.T) {
	f := newFixture(t)
	a1 := dcode(agency33a, "261020", 1)
	a1b := dcode(agency33a, "261021", 1)
	prefixed := dcode(agency33p, "261015", 1) // a code of another agency's numbering (of the same unit), filed at A1
	national := "G09.20-20261019-0092637"     // a national portal's code, filed at A1
	b1 := dcode(agency33b, "261020", 1)
	c37 := dcode(agency37, "261020", 1)
	f.mustCreate(f.admin(),
		mkFirst("l-1", a1, sAccepted, vn(2026, 10, 20, 8, 0), "33", agency33a, procLand, chDirect),
		mkFirst("l-2", a1b, sNew, vn(2026, 10, 21, 8, 0), "33", agency33a, procCivil, chOnline),
		mkFirst("l-3", prefixed, sAccepted, vn(2026, 10, 15, 8, 0), "33", agency33a, procLand, chDirect),
		mkFirst("l-4", national, sAccepted, vn(2026, 10, 19, 8, 0), "33", agency33a, procLand, chOnline),
		mkFirst("l-5", b1, sAccepted, vn(2026, 10, 20, 8, 0), "33", agency33b, procLand, chPostal),
		mkEv("l-6", b1, sResolved, vn(2026, 10, 21, 8, 0)),
		mkFirst("l-7", c37, sNew, vn(2026, 10, 20, 8, 0), "37", agency37, procCivil, chDirect),
	)
	tests := []struct {
		name string
		req  *dossierv1.ListDossiersRequest
		want []string // in code order
	}{
		{"all", &dossierv1.ListDossiersRequest{}, []string{prefixed, a1, a1b, c37, b1, national}},
		{"all, pages of 2", &dossierv1.ListDossiersRequest{PageSize: 2}, []string{prefixed, a1, a1b, c37, b1, national}},
		{"agency A1", &dossierv1.ListDossiersRequest{Agency: agency33a}, []string{prefixed, a1, a1b, national}},
		{"agency A1, pages of 1", &dossierv1.ListDossiersRequest{Agency: agency33a, PageSize: 1}, []string{prefixed, a1, a1b, national}},
		{"agency A2", &dossierv1.ListDossiersRequest{Agency: agency33b}, []string{b1}},
		{"unit 37", &dossierv1.ListDossiersRequest{Unit: "37"}, []string{c37}},
		{"procedure 1.000002", &dossierv1.ListDossiersRequest{Procedure: procCivil}, []string{a1b, c37}},
		{"status NEW", &dossierv1.ListDossiersRequest{Status: sNew}, []string{a1b, c37}},
		{"status RESOLVED", &dossierv1.ListDossiersRequest{Status: sResolved}, []string{b1}},
		// Accepted 15/10, 19/10 and 20/10 with 5 days: due 22/10, 26/10, 27/10; now is 23/11.
		{"overdue", &dossierv1.ListDossiersRequest{Overdue: true}, []string{prefixed, a1, national}},
		{"overdue at A1, pages of 1", &dossierv1.ListDossiersRequest{Overdue: true, Agency: agency33a, PageSize: 1}, []string{prefixed, a1, national}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := f.listCodes(t, tc.req); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}

	t.Run("bad requests", func(t *testing.T) {
		first, err := f.client.ListDossiers(f.admin(), &dossierv1.ListDossiersRequest{PageSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []*dossierv1.ListDossiersRequest{
			{PageToken: "garbage"}, {PageSize: 1, Agency: agency33a, PageToken: first.GetNextPageToken()}, {Status: 99}, {PageSize: 1001},
		} {
			_, err := f.client.ListDossiers(f.admin(), r)
			wantStatus(t, err, codes.InvalidArgument, "INVALID_ARGUMENT")
		}
	})
}

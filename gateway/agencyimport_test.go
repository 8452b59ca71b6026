package gateway_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
)

// agencyImports records the ImportAgencies requests each fake catalog received.
var agencyImports = struct {
	sync.Mutex
	m map[*fakeCatalog][]*catalogv1.ImportAgenciesRequest
}{m: map[*fakeCatalog][]*catalogv1.ImportAgenciesRequest{}}

func (f *fakeCatalog) ImportAgencies(_ context.Context, r *catalogv1.ImportAgenciesRequest) (*catalogv1.ImportAgenciesResponse, error) {
	agencyImports.Lock()
	agencyImports.m[f] = append(agencyImports.m[f], proto.Clone(r).(*catalogv1.ImportAgenciesRequest))
	agencyImports.Unlock()
	return &catalogv1.ImportAgenciesResponse{Created: int32(len(r.GetAgencies())), ValidatedOnly: r.GetValidateOnly()}, nil
}

// POST /v1/agencies:import takes the bodies the procedure import takes (docs/api.md,
// Catalog): a CSV document, a bare JSON array of agencies or the request object, with
// ?validate_only=true carried into the request.
func TestRESTImportAgencyBodies(t *testing.T) {
	e := newEnv(t)
	csv := "code,name,unit_code,valid_from,kind\n" +
		"H31.901,\"Ủy ban nhân dân phường Phố Hiến, Hưng Yên\",11953,2025-07-01,COMMUNE_PEOPLES_COMMITTEE\n"
	kind := catalogv1.AgencyKind_AGENCY_KIND_COMMUNE_PEOPLES_COMMITTEE
	tests := []struct {
		name, path, contentType, body string
		want                          *catalogv1.ImportAgenciesRequest
	}{
		{"CSV", "/v1/agencies:import", "text/csv; charset=utf-8", csv,
			&catalogv1.ImportAgenciesRequest{Csv: csv}},
		{"bare JSON array with validate_only", "/v1/agencies:import?validate_only=true", "",
			`[{"code":"H31.901","unit_code":"11953","kind":"AGENCY_KIND_COMMUNE_PEOPLES_COMMITTEE"}]`,
			&catalogv1.ImportAgenciesRequest{Agencies: []*catalogv1.Agency{{Code: "H31.901", UnitCode: "11953", Kind: kind}}, ValidateOnly: true}},
		{"object body with validate_only query", "/v1/agencies:import?validate_only=1", "",
			`{"agencies":[{"code":"H31.902"}]}`,
			&catalogv1.ImportAgenciesRequest{Agencies: []*catalogv1.Agency{{Code: "H31.902"}}, ValidateOnly: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{"Authorization": "Bearer " + e.token()}
			if tc.contentType != "" {
				h["Content-Type"] = tc.contentType
			}
			r := e.do(request{method: http.MethodPost, path: tc.path, body: tc.body, header: h})
			if r.code != http.StatusOK {
				t.Fatalf("HTTP status: got %d, want 200\n%s", r.code, r.body)
			}
			agencyImports.Lock()
			got := agencyImports.m[e.part.fake]
			agencyImports.Unlock()
			if len(got) == 0 || !proto.Equal(got[len(got)-1], tc.want) {
				var last *catalogv1.ImportAgenciesRequest
				if len(got) > 0 {
					last = got[len(got)-1]
				}
				t.Errorf("request at the part:\n got {%v}\nwant {%v}", prototext.Format(last), prototext.Format(tc.want))
			}
			if m := jsonObject(t, r.body); m["validated_only"] != tc.want.GetValidateOnly() {
				t.Errorf("validated_only in the answer: got %v, want %v", m["validated_only"], tc.want.GetValidateOnly())
			}
		})
	}
}

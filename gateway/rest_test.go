package gateway_test

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/lienthong/lienthong/gateway"
	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
)

func TestRESTGetUnitJSON(t *testing.T) {
	e := newEnv(t)
	r := e.get("/v1/units/80")
	if r.code != http.StatusOK {
		t.Fatalf("GET /v1/units/80: got %d, want 200\n%s", r.code, r.body)
	}
	if got := r.header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
		t.Errorf("Content-Type: got %q, want application/json", got)
	}
	m := jsonObject(t, r.body)
	tests := []struct {
		key  string
		want any
	}{
		{"code", "80"},
		{"name", "Tây Ninh"},
		{"kind", "UNIT_KIND_PROVINCE"}, // enums as names
		{"valid_from", "2025-07-01"},   // proto names
		{"valid_to", ""},               // defaults emitted
		{"parent_code", ""},
		{"in_force", true},
		{"predecessors", []any{"72", "80"}},
		{"successors", []any{}},
		{"names", []any{}},
	}
	for _, tc := range tests {
		got, ok := m[tc.key]
		if !ok {
			t.Errorf("key %q: missing from %s", tc.key, r.body)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("key %q: got %v, want %v", tc.key, got, tc.want)
		}
	}
	for _, camel := range []string{"validFrom", "validTo", "inForce", "parentCode"} {
		if _, ok := m[camel]; ok {
			t.Errorf("key %q: JSON name used instead of the proto name", camel)
		}
	}
}

func TestRESTNotFoundDetails(t *testing.T) {
	e := newEnv(t)
	r := e.get("/v1/units/99")
	if r.code != http.StatusNotFound {
		t.Fatalf("GET /v1/units/99: got %d, want 404\n%s", r.code, r.body)
	}
	m := jsonObject(t, r.body)
	if got, want := m["code"], float64(codes.NotFound); got != want {
		t.Errorf("body code: got %v, want %v", got, want)
	}
	if _, ok := m["message"]; !ok {
		t.Errorf("body has no message: %s", r.body)
	}
	st := restStatus(t, r.body)
	d := checkDetails(t, st, "UNIT_NOT_FOUND")
	reqID := r.header.Get("X-Request-Id")
	if got := d.info.GetMetadata()["request_id"]; got == "" || got != reqID {
		t.Errorf("ErrorInfo.metadata.request_id: got %q, want the X-Request-Id header %q", got, reqID)
	}
	if got, want := d.info.GetMetadata()["id"], "99"; got != want {
		t.Errorf("ErrorInfo.metadata.id: got %q, want %q", got, want)
	}
}

func TestRESTRequestID(t *testing.T) {
	e := newEnv(t)
	hexID := regexp.MustCompile(`^[0-9a-f]{16}$`)
	tests := []struct {
		name     string
		path     string
		incoming string
		wantCode int
	}{
		{"generated on success", "/v1/units/80", "", http.StatusOK},
		{"echoed on success", "/v1/units/80", "client-req-0001", http.StatusOK},
		{"generated on part error", "/v1/units/99", "", http.StatusNotFound},
		{"echoed on part error", "/v1/units/99", "client-req-0002", http.StatusNotFound},
		{"echoed on gateway error", "/v1/no-such-thing", "client-req-0003", http.StatusNotFound},
		{"too long is replaced", "/v1/units/80", strings.Repeat("x", 65), http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := request{method: http.MethodGet, path: tc.path}
			if tc.incoming != "" {
				req.header = map[string]string{"X-Request-Id": tc.incoming}
			}
			r := e.do(req)
			if r.code != tc.wantCode {
				t.Fatalf("got %d, want %d\n%s", r.code, tc.wantCode, r.body)
			}
			vals := r.header.Values("X-Request-Id")
			if len(vals) != 1 {
				t.Fatalf("X-Request-Id values: got %q, want exactly one", vals)
			}
			got := vals[0]
			switch {
			case tc.incoming != "" && len(tc.incoming) <= 64:
				if got != tc.incoming {
					t.Errorf("X-Request-Id: got %q, want the incoming %q", got, tc.incoming)
				}
			default:
				if !hexID.MatchString(got) {
					t.Errorf("X-Request-Id: got %q, want a generated 16-hex id", got)
				}
			}
			if strings.HasPrefix(tc.path, "/v1/units/") {
				if seen := e.part.fake.lastRequestID(); seen != got {
					t.Errorf("request id seen by the part: got %q, want %q", seen, got)
				}
			}
			if r.code >= 400 {
				d := detailsOf(restStatus(t, r.body))
				if d.info == nil {
					t.Fatalf("no ErrorInfo in %s", r.body)
				}
				if rid := d.info.GetMetadata()["request_id"]; rid != got {
					t.Errorf("ErrorInfo.metadata.request_id: got %q, want %q", rid, got)
				}
			}
		})
	}
}

func TestRESTErrors(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name       string
		req        request
		wantHTTP   int
		wantCode   codes.Code
		wantReason string
		wantField  string // a BadRequest violation on this field, when set
	}{
		{
			name:       "unknown field",
			req:        request{method: http.MethodPost, path: "/v1/procedures", body: `{"code":"1.000010","bogus_field":1}`},
			wantHTTP:   http.StatusBadRequest,
			wantCode:   codes.InvalidArgument,
			wantReason: "MALFORMED_REQUEST",
			wantField:  "bogus_field",
		},
		{
			name:       "malformed JSON",
			req:        request{method: http.MethodPost, path: "/v1/procedures", body: `{"code": "1.000010",`},
			wantHTTP:   http.StatusBadRequest,
			wantCode:   codes.InvalidArgument,
			wantReason: "MALFORMED_REQUEST",
			wantField:  "body",
		},
		{
			name:       "wrong JSON type",
			req:        request{method: http.MethodPost, path: "/v1/procedures", body: `{"code": 5}`},
			wantHTTP:   http.StatusBadRequest,
			wantCode:   codes.InvalidArgument,
			wantReason: "MALFORMED_REQUEST",
			wantField:  "body",
		},
		{
			name:       "failed precondition is 412",
			req:        request{method: http.MethodPost, path: "/v1/procedures", body: `{"code":"` + abolishedCode + `"}`},
			wantHTTP:   http.StatusPreconditionFailed,
			wantCode:   codes.FailedPrecondition,
			wantReason: "PROCEDURE_ABOLISHED",
		},
		{
			name:       "unknown path",
			req:        request{method: http.MethodGet, path: "/v1/no-such-thing"},
			wantHTTP:   http.StatusNotFound,
			wantCode:   codes.NotFound,
			wantReason: "NO_SUCH_PATH",
		},
		{
			name:       "unknown path outside /v1",
			req:        request{method: http.MethodGet, path: "/nothing/here"},
			wantHTTP:   http.StatusNotFound,
			wantCode:   codes.NotFound,
			wantReason: "NO_SUCH_PATH",
		},
		{
			name:       "wrong method",
			req:        request{method: http.MethodDelete, path: "/v1/units/80"},
			wantHTTP:   http.StatusMethodNotAllowed,
			wantCode:   codes.Unimplemented,
			wantReason: "UNIMPLEMENTED",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.req)
			if r.code != tc.wantHTTP {
				t.Fatalf("HTTP status: got %d, want %d\n%s", r.code, tc.wantHTTP, r.body)
			}
			if got := r.header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
				t.Errorf("Content-Type: got %q, want application/json", got)
			}
			st := restStatus(t, r.body)
			if st.Code() != tc.wantCode {
				t.Errorf("code: got %v, want %v", st.Code(), tc.wantCode)
			}
			if st.Message() == "" {
				t.Errorf("message is empty")
			}
			d := checkDetails(t, st, tc.wantReason)
			if got := d.info.GetMetadata()["request_id"]; got != r.header.Get("X-Request-Id") {
				t.Errorf("ErrorInfo.metadata.request_id: got %q, want %q", got, r.header.Get("X-Request-Id"))
			}
			if tc.wantField != "" {
				var fields []string
				for _, v := range d.bad.GetFieldViolations() {
					fields = append(fields, v.GetField())
				}
				if !slices.Contains(fields, tc.wantField) {
					t.Errorf("BadRequest violations: got fields %q, want %q among them", fields, tc.wantField)
				}
			}
		})
	}
}

func TestRESTCreateProcedureEcho(t *testing.T) {
	e := newEnv(t)
	r := e.do(request{method: http.MethodPost, path: "/v1/procedures",
		body: `{"code":"1.000010","name":"Đăng ký kinh doanh","online_level":"ONLINE_LEVEL_FULL","processing_days":3}`})
	if r.code != http.StatusOK {
		t.Fatalf("got %d, want 200\n%s", r.code, r.body)
	}
	m := jsonObject(t, r.body)
	for k, want := range map[string]any{
		"code": "1.000010", "name": "Đăng ký kinh doanh", "online_level": "ONLINE_LEVEL_FULL",
		"processing_days": float64(3), "fee": "", "status": "PROCEDURE_STATUS_UNSPECIFIED",
	} {
		if got := m[k]; got != want {
			t.Errorf("%s: got %v, want %v", k, got, want)
		}
	}
}

func TestRESTBodyLimit(t *testing.T) {
	e := newEnv(t)
	const limit = 64 << 10
	big := bigJSON(2 * limit)
	bigCSV := "code,name\n" + strings.Repeat("1.000001,Thủ tục đăng ký\n", 2*limit/20)
	tests := []struct {
		name string
		req  request
	}{
		{"with Content-Length", request{method: http.MethodPost, path: "/v1/procedures", body: big}},
		{"chunked", request{method: http.MethodPost, path: "/v1/procedures", body: big, chunked: true}},
		{"import with Content-Length", request{method: http.MethodPost, path: "/v1/procedures:import", body: "[" + big + "]"}},
		{"import chunked", request{method: http.MethodPost, path: "/v1/procedures:import", body: "[" + big + "]", chunked: true}},
		{"import CSV chunked", request{method: http.MethodPost, path: "/v1/procedures:import", body: bigCSV, chunked: true,
			header: map[string]string{"Content-Type": "text/csv"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			created0, imports0 := e.part.fake.counts()
			r := e.do(tc.req)
			if r.code != http.StatusRequestEntityTooLarge {
				t.Fatalf("HTTP status: got %d, want 413\n%.300s", r.code, r.body)
			}
			// Retrying the same body cannot help: no Retry-After (429 keeps it).
			if got := r.header.Get("Retry-After"); got != "" {
				t.Errorf("Retry-After: %q, want none", got)
			}
			st := restStatus(t, r.body)
			if st.Code() != codes.ResourceExhausted {
				t.Errorf("code: got %v, want RESOURCE_EXHAUSTED", st.Code())
			}
			checkDetails(t, st, "REQUEST_TOO_LARGE")
			created1, imports1 := e.part.fake.counts()
			if created1 != created0 || imports1 != imports0 {
				t.Errorf("the part was called: creates %d→%d, imports %d→%d", created0, created1, imports0, imports1)
			}
		})
	}
	// Just under the limit still passes.
	r := e.do(request{method: http.MethodPost, path: "/v1/procedures", body: bigJSON(limit - 100), chunked: true})
	if r.code != http.StatusOK {
		t.Errorf("body under the limit: got %d, want 200\n%.300s", r.code, r.body)
	}
}

// The document paths have their own, larger limit; every other path keeps the general one.
func TestRESTDocumentBodyLimit(t *testing.T) {
	const limit, docLimit = 64 << 10, 256 << 10
	e := newEnvConfig(t, func(c *gateway.Config) {
		c.MaxDocumentBytes = docLimit
		// The document routes, answered by the fake catalog part: UNIMPLEMENTED (501)
		// shows that a body passed the gateway's limit.
		c.Parts = append(c.Parts, gateway.Part{
			Name: "docexchange", Addr: c.Parts[0].Addr,
			Services: []string{docv1.DocumentService_ServiceDesc.ServiceName},
			Policy: platform.Policy{docv1.DocumentService_SendDocument_FullMethodName: platform.Public,
				docv1.DocumentService_ImportEdxml_FullMethodName: platform.Public, docv1.DocumentService_ReportStatus_FullMethodName: platform.Public},
			RegisterREST: func(ctx context.Context, mux *runtime.ServeMux, cc grpc.ClientConnInterface) error {
				return docv1.RegisterDocumentServiceHandlerClient(ctx, mux, docv1.NewDocumentServiceClient(cc))
			},
		})
	})
	mid := bigJSON(2 * limit) // over the general limit, under the documents'
	tests := []struct {
		name string
		req  request
		want int
	}{
		// The part behind the document routes answers UNIMPLEMENTED (501): a body that
		// passes the limit reaches it; one over the limit never gets that far.
		{"document over the general limit", request{method: http.MethodPost, path: "/v1/documents", body: docJSON(2 * limit)}, http.StatusNotImplemented},
		{"document chunked", request{method: http.MethodPost, path: "/v1/documents", body: docJSON(2 * limit), chunked: true}, http.StatusNotImplemented},
		{"edXML over the general limit", request{method: http.MethodPost, path: "/v1/documents:importEdxml", body: mid, chunked: true,
			header: map[string]string{"Content-Type": "application/xml"}}, http.StatusNotImplemented},
		{"document over its limit", request{method: http.MethodPost, path: "/v1/documents", body: docJSON(2 * docLimit)}, http.StatusRequestEntityTooLarge},
		{"document chunked over its limit", request{method: http.MethodPost, path: "/v1/documents", body: docJSON(2 * docLimit), chunked: true}, http.StatusRequestEntityTooLarge},
		{"other path keeps the general limit", request{method: http.MethodPost, path: "/v1/procedures", body: mid}, http.StatusRequestEntityTooLarge},
		{"a document sub-path keeps it too", request{method: http.MethodPost, path: "/v1/documents/abc/statuses", body: mid}, http.StatusRequestEntityTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.req.header == nil {
				tc.req.header = map[string]string{}
			}
			tc.req.header["Authorization"] = "Bearer " + e.token()
			r := e.do(tc.req)
			if r.code != tc.want {
				t.Fatalf("HTTP status: got %d, want %d\n%.300s", r.code, tc.want, r.body)
			}
		})
	}
}

func TestRESTImportBodies(t *testing.T) {
	e := newEnv(t)
	csv := "code,name,field,online_level\r\n" +
		"1.000101,\"Đăng ký khai sinh, có yếu tố nước ngoài\",Hộ tịch,FULL\r\n" +
		"1.000102,Cấp giấy phép <xây dựng> & sửa chữa \"nhà ở\",Xây dựng,PARTIAL\r\n" +
		"1.000103,Thủ tục\tcó tab,Đất đai,NONE\n"
	tests := []struct {
		name        string
		path        string
		contentType string
		body        string
		want        *catalogv1.ImportProceduresRequest
	}{
		{
			name: "bare JSON array",
			path: "/v1/procedures:import",
			body: `[{"code":"1.000101","name":"Đăng ký khai sinh"},{"code":"1.000102","online_level":"ONLINE_LEVEL_FULL"}]`,
			want: &catalogv1.ImportProceduresRequest{Procedures: []*catalogv1.Procedure{
				{Code: "1.000101", Name: "Đăng ký khai sinh"},
				{Code: "1.000102", OnlineLevel: catalogv1.OnlineLevel_ONLINE_LEVEL_FULL},
			}},
		},
		{
			name: "bare JSON array with whitespace and validate_only",
			path: "/v1/procedures:import?validate_only=true",
			body: "\n  [ {\"code\":\"1.000103\"} ]\n",
			want: &catalogv1.ImportProceduresRequest{
				Procedures:   []*catalogv1.Procedure{{Code: "1.000103"}},
				ValidateOnly: true,
			},
		},
		{
			name:        "CSV",
			path:        "/v1/procedures:import",
			contentType: "text/csv",
			body:        csv,
			want:        &catalogv1.ImportProceduresRequest{Csv: csv},
		},
		{
			name:        "CSV with charset and validate_only",
			path:        "/v1/procedures:import?validate_only=true",
			contentType: "text/csv; charset=utf-8",
			body:        csv,
			want:        &catalogv1.ImportProceduresRequest{Csv: csv, ValidateOnly: true},
		},
		{
			name:        "CSV with validate_only=false",
			path:        "/v1/procedures:import?validate_only=false",
			contentType: "application/csv",
			body:        csv,
			want:        &catalogv1.ImportProceduresRequest{Csv: csv},
		},
		{
			name: "object body unchanged",
			path: "/v1/procedures:import",
			body: `{"procedures":[{"code":"1.000104"}],"validate_only":true}`,
			want: &catalogv1.ImportProceduresRequest{
				Procedures:   []*catalogv1.Procedure{{Code: "1.000104"}},
				ValidateOnly: true,
			},
		},
		{
			name: "object body with CSV field",
			path: "/v1/procedures:import",
			body: `{"csv":"code,name\n1.000105,Thủ tục\n"}`,
			want: &catalogv1.ImportProceduresRequest{Csv: "code,name\n1.000105,Thủ tục\n"},
		},
		{
			// README: `?validate_only=true` checks without storing, whatever the body form.
			name: "object body with validate_only query",
			path: "/v1/procedures:import?validate_only=true",
			body: `{"procedures":[{"code":"1.000106"}]}`,
			want: &catalogv1.ImportProceduresRequest{
				Procedures:   []*catalogv1.Procedure{{Code: "1.000106"}},
				ValidateOnly: true,
			},
		},
		{
			name: "object body with validate_only false and the query",
			path: "/v1/procedures:import?validate_only=1",
			body: `{"procedures":[{"code":"1.000107"}],"validate_only":false}`,
			want: &catalogv1.ImportProceduresRequest{
				Procedures:   []*catalogv1.Procedure{{Code: "1.000107"}},
				ValidateOnly: true,
			},
		},
		{
			name: "object body with validateOnly and the query",
			path: "/v1/procedures:import?validate_only=true",
			body: `{"procedures":[{"code":"1.000108"}],"validateOnly":true}`,
			want: &catalogv1.ImportProceduresRequest{
				Procedures:   []*catalogv1.Procedure{{Code: "1.000108"}},
				ValidateOnly: true,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, before := e.part.fake.counts()
			req := request{method: http.MethodPost, path: tc.path, body: tc.body}
			if tc.contentType != "" {
				req.header = map[string]string{"Content-Type": tc.contentType}
			}
			r := e.do(req)
			if r.code != http.StatusOK {
				t.Fatalf("HTTP status: got %d, want 200\n%s", r.code, r.body)
			}
			if _, after := e.part.fake.counts(); after != before+1 {
				t.Fatalf("imports received by the part: got %d, want %d", after, before+1)
			}
			got := e.part.fake.lastImport()
			if !proto.Equal(got, tc.want) {
				t.Errorf("request at the part:\n got {%v}\nwant {%v}", prototext.Format(got), prototext.Format(tc.want))
			}
			if strings.Contains(tc.contentType, "csv") && got.GetCsv() != tc.body {
				t.Errorf("csv is not the body byte for byte:\n got %q\nwant %q", got.GetCsv(), tc.body)
			}
			m := jsonObject(t, r.body)
			if got, want := m["validated_only"], tc.want.GetValidateOnly(); got != want {
				t.Errorf("validated_only in the answer: got %v, want %v", got, want)
			}
		})
	}
}

func TestRESTImportMalformed(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name      string
		body      string
		wantField string
	}{
		{"array with unknown field", `[{"code":"1.000107","nope":true}]`, "nope"},
		{"broken array", `[{"code":"1.000107"`, "body"},
		{"object with unknown field and validate_only", `{"procedures":[],"nope":1}`, "nope"},
		{"broken object and validate_only", `{"procedures":[`, "body"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, before := e.part.fake.counts()
			r := e.do(request{method: http.MethodPost, path: "/v1/procedures:import?validate_only=true", body: tc.body})
			if r.code != http.StatusBadRequest {
				t.Fatalf("HTTP status: got %d, want 400\n%s", r.code, r.body)
			}
			st := restStatus(t, r.body)
			if st.Code() != codes.InvalidArgument {
				t.Errorf("code: got %v, want INVALID_ARGUMENT", st.Code())
			}
			d := checkDetails(t, st, "MALFORMED_REQUEST")
			var fields []string
			for _, v := range d.bad.GetFieldViolations() {
				fields = append(fields, v.GetField())
			}
			if !slices.Contains(fields, tc.wantField) {
				t.Errorf("violations: got %q, want %q among them", fields, tc.wantField)
			}
			if _, after := e.part.fake.counts(); after != before {
				t.Errorf("the part received the malformed import")
			}
		})
	}
}

func TestCORS(t *testing.T) {
	e := newEnv(t)
	const origin = "https://dichvucong.example.vn"
	tests := []struct {
		name        string
		req         request
		wantCode    int
		wantOrigin  string
		wantHeaders []string // in Access-Control-Allow-Headers
		wantMethods []string // in Access-Control-Allow-Methods
	}{
		{
			name: "preflight",
			req: request{method: http.MethodOptions, path: "/v1/procedures", header: map[string]string{
				"Origin": origin, "Access-Control-Request-Method": "POST",
				"Access-Control-Request-Headers": "authorization, content-type",
			}},
			wantCode: http.StatusNoContent, wantOrigin: "*",
			wantHeaders: []string{"Authorization", "Content-Type"},
			wantMethods: []string{"POST", "GET"},
		},
		{
			name:     "simple GET with Origin",
			req:      request{method: http.MethodGet, path: "/v1/units/80", header: map[string]string{"Origin": origin}},
			wantCode: http.StatusOK, wantOrigin: "*",
		},
		{
			name:     "error with Origin",
			req:      request{method: http.MethodGet, path: "/v1/units/99", header: map[string]string{"Origin": origin}},
			wantCode: http.StatusNotFound, wantOrigin: "*",
		},
		{
			name:     "GET without Origin",
			req:      request{method: http.MethodGet, path: "/v1/units/80"},
			wantCode: http.StatusOK, wantOrigin: "",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.req)
			if r.code != tc.wantCode {
				t.Fatalf("HTTP status: got %d, want %d\n%s", r.code, tc.wantCode, r.body)
			}
			if got := r.header.Get("Access-Control-Allow-Origin"); got != tc.wantOrigin {
				t.Errorf("Access-Control-Allow-Origin: got %q, want %q", got, tc.wantOrigin)
			}
			if tc.wantOrigin == "" {
				for k := range r.header {
					if strings.HasPrefix(k, "Access-Control-") {
						t.Errorf("CORS header %s present without Origin", k)
					}
				}
				return
			}
			if got := r.header.Get("Access-Control-Expose-Headers"); !strings.Contains(got, "X-Request-Id") {
				t.Errorf("Access-Control-Expose-Headers: got %q, want X-Request-Id in it", got)
			}
			allowH := r.header.Get("Access-Control-Allow-Headers")
			for _, h := range tc.wantHeaders {
				if !strings.Contains(strings.ToLower(allowH), strings.ToLower(h)) {
					t.Errorf("Access-Control-Allow-Headers: got %q, want %s in it", allowH, h)
				}
			}
			allowM := r.header.Get("Access-Control-Allow-Methods")
			for _, m := range tc.wantMethods {
				if !strings.Contains(allowM, m) {
					t.Errorf("Access-Control-Allow-Methods: got %q, want %s in it", allowM, m)
				}
			}
		})
	}
	if created, _ := e.part.fake.counts(); created != 0 {
		t.Errorf("the preflight reached the part: %d creates", created)
	}
}

func TestRESTAuthorizationPassThrough(t *testing.T) {
	e := newEnv(t)
	other := newEnv(t) // a second key pair: its tokens are not valid at e's part
	tests := []struct {
		name       string
		auth       string
		wantHTTP   int
		wantReason string
		wantUnit   string
	}{
		{"no token", "", http.StatusUnauthorized, "UNAUTHENTICATED", ""},
		{"not bearer", "Basic dXNlcjpwYXNz", http.StatusUnauthorized, "UNAUTHENTICATED", ""},
		{"garbage token", "Bearer not-a-token", http.StatusUnauthorized, "UNAUTHENTICATED", ""},
		{"token of another key", "Bearer " + other.token(), http.StatusUnauthorized, "UNAUTHENTICATED", ""},
		{"valid token", "Bearer " + e.token(), http.StatusOK, "", "80"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := request{method: http.MethodGet, path: "/v1/catalog-stats"}
			if tc.auth != "" {
				req.header = map[string]string{"Authorization": tc.auth}
			}
			r := e.do(req)
			if r.code != tc.wantHTTP {
				t.Fatalf("HTTP status: got %d, want %d\n%s", r.code, tc.wantHTTP, r.body)
			}
			if tc.wantHTTP != http.StatusOK {
				st := restStatus(t, r.body)
				if st.Code() != codes.Unauthenticated {
					t.Errorf("code: got %v, want UNAUTHENTICATED", st.Code())
				}
				checkDetails(t, st, tc.wantReason)
				return
			}
			m := jsonObject(t, r.body)
			if got := m["unit"]; got != tc.wantUnit {
				t.Errorf("unit (from the caller the part saw): got %v, want %q", got, tc.wantUnit)
			}
			if got := m["total"]; got != float64(7) {
				t.Errorf("total: got %v, want 7", got)
			}
		})
	}
}

// docJSON is a document whose JSON is about n bytes.
func docJSON(n int) string {
	return fmt.Sprintf(`{"subject":%q}`, strings.Repeat("a", n))
}

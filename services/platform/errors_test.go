package platform

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
)

// detailsOf returns the details of err's gRPC status as proto messages, failing on any
// detail that does not decode.
func detailsOf(t *testing.T, err error) []proto.Message {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok {
		t.Fatalf("status.FromError(%v) is not a gRPC status", err)
	}
	var out []proto.Message
	for i, d := range st.Details() {
		m, ok := d.(proto.Message)
		if !ok {
			t.Fatalf("detail %d does not decode: %v", i, d)
		}
		out = append(out, m)
	}
	return out
}

func TestErrorStatusDetails(t *testing.T) {
	tests := []struct {
		name        string
		err         error
		wantCode    codes.Code
		wantMessage string
		wantDetails []proto.Message
	}{
		{
			name: "invalid with two violations in order",
			err: Invalid(
				FieldViolation{Field: "unit_code", Description: "must be 2 digits"},
				FieldViolation{Field: "name", Description: "is required"},
			),
			wantCode:    codes.InvalidArgument,
			wantMessage: "invalid request: unit_code: must be 2 digits; name: is required",
			wantDetails: []proto.Message{
				&errdetails.ErrorInfo{Reason: "INVALID_ARGUMENT", Domain: "lienthong.vn"},
				&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
					{Field: "unit_code", Description: "must be 2 digits"},
					{Field: "name", Description: "is required"},
				}},
				&errdetails.LocalizedMessage{Locale: "vi-VN", Message: "Yêu cầu không hợp lệ: unit_code, name"},
			},
		},
		{
			name:        "violations collected",
			err:         func() error { var v Violations; v.Add("page_size", "must be at most %d", 1000); return v.Err() }(),
			wantCode:    codes.InvalidArgument,
			wantMessage: "invalid request: page_size: must be at most 1000",
			wantDetails: []proto.Message{
				&errdetails.ErrorInfo{Reason: "INVALID_ARGUMENT", Domain: "lienthong.vn"},
				&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
					{Field: "page_size", Description: "must be at most 1000"},
				}},
				&errdetails.LocalizedMessage{Locale: "vi-VN", Message: "Yêu cầu không hợp lệ: page_size"},
			},
		},
		{
			name:        "unit not found",
			err:         NotFound("Unit", "01"),
			wantCode:    codes.NotFound,
			wantMessage: `unit "01" not found`,
			wantDetails: []proto.Message{
				&errdetails.ErrorInfo{Reason: "UNIT_NOT_FOUND", Domain: "lienthong.vn", Metadata: map[string]string{"id": "01"}},
				&errdetails.LocalizedMessage{Locale: "vi-VN", Message: `Không tìm thấy đơn vị hành chính "01".`},
			},
		},
		{
			name:        "dossier not found",
			err:         NotFound("dossier", "H29.22-260101-0001"),
			wantCode:    codes.NotFound,
			wantMessage: `dossier "H29.22-260101-0001" not found`,
			wantDetails: []proto.Message{
				&errdetails.ErrorInfo{Reason: "DOSSIER_NOT_FOUND", Domain: "lienthong.vn", Metadata: map[string]string{"id": "H29.22-260101-0001"}},
				&errdetails.LocalizedMessage{Locale: "vi-VN", Message: `Không tìm thấy hồ sơ "H29.22-260101-0001".`},
			},
		},
		{
			name:        "unknown kind not found",
			err:         NotFound("widget", "7"),
			wantCode:    codes.NotFound,
			wantMessage: `widget "7" not found`,
			wantDetails: []proto.Message{
				&errdetails.ErrorInfo{Reason: "WIDGET_NOT_FOUND", Domain: "lienthong.vn", Metadata: map[string]string{"id": "7"}},
				&errdetails.LocalizedMessage{Locale: "vi-VN", Message: `Không tìm thấy widget "7".`},
			},
		},
		{
			name:        "agency already exists",
			err:         AlreadyExists("agency", "000.00.00.H31"),
			wantCode:    codes.AlreadyExists,
			wantMessage: `agency "000.00.00.H31" already exists`,
			wantDetails: []proto.Message{
				&errdetails.ErrorInfo{Reason: "AGENCY_ALREADY_EXISTS", Domain: "lienthong.vn", Metadata: map[string]string{"id": "000.00.00.H31"}},
				&errdetails.LocalizedMessage{Locale: "vi-VN", Message: `Cơ quan "000.00.00.H31" đã tồn tại.`},
			},
		},
		{
			name:        "failed precondition",
			err:         FailedPrecondition("DOSSIER_OUT_OF_ORDER", "event older than the last applied", "Sự kiện cũ hơn sự kiện đã áp dụng."),
			wantCode:    codes.FailedPrecondition,
			wantMessage: "event older than the last applied",
			wantDetails: []proto.Message{
				&errdetails.ErrorInfo{Reason: "DOSSIER_OUT_OF_ORDER", Domain: "lienthong.vn"},
				&errdetails.LocalizedMessage{Locale: "vi-VN", Message: "Sự kiện cũ hơn sự kiện đã áp dụng."},
			},
		},
		{
			name:        "permission denied",
			err:         PermissionDenied("no", "Không."),
			wantCode:    codes.PermissionDenied,
			wantMessage: "no",
			wantDetails: []proto.Message{
				&errdetails.ErrorInfo{Reason: "PERMISSION_DENIED", Domain: "lienthong.vn"},
				&errdetails.LocalizedMessage{Locale: "vi-VN", Message: "Không."},
			},
		},
		{
			name:        "unauthenticated",
			err:         Unauthenticated("token expired"),
			wantCode:    codes.Unauthenticated,
			wantMessage: "token expired",
			wantDetails: []proto.Message{
				&errdetails.ErrorInfo{Reason: "UNAUTHENTICATED", Domain: "lienthong.vn"},
				&errdetails.LocalizedMessage{Locale: "vi-VN", Message: "Chưa xác thực hoặc mã truy cập không hợp lệ."},
			},
		},
		{
			name:        "resource exhausted",
			err:         ResourceExhausted("RATE_LIMITED", "slow down", "Chậm lại."),
			wantCode:    codes.ResourceExhausted,
			wantMessage: "slow down",
			wantDetails: []proto.Message{
				&errdetails.ErrorInfo{Reason: "RATE_LIMITED", Domain: "lienthong.vn"},
				&errdetails.LocalizedMessage{Locale: "vi-VN", Message: "Chậm lại."},
			},
		},
		{
			name:        "default Vietnamese message from the code",
			err:         &Error{Code: codes.Unavailable, Reason: "CATALOG_DOWN", Message: "catalog unavailable"},
			wantCode:    codes.Unavailable,
			wantMessage: "catalog unavailable",
			wantDetails: []proto.Message{
				&errdetails.ErrorInfo{Reason: "CATALOG_DOWN", Domain: "lienthong.vn"},
				&errdetails.LocalizedMessage{Locale: "vi-VN", Message: "Dịch vụ tạm thời không sẵn sàng."},
			},
		},
		{
			name:        "wrapped client error keeps its status",
			err:         fmt.Errorf("load unit: %w", NotFound("unit", "99")),
			wantCode:    codes.NotFound,
			wantMessage: `load unit: unit "99" not found`,
			wantDetails: []proto.Message{
				&errdetails.ErrorInfo{Reason: "UNIT_NOT_FOUND", Domain: "lienthong.vn", Metadata: map[string]string{"id": "99"}},
				&errdetails.LocalizedMessage{Locale: "vi-VN", Message: `Không tìm thấy đơn vị hành chính "99".`},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := status.Convert(tt.err)
			if st.Code() != tt.wantCode {
				t.Errorf("code = %v, want %v", st.Code(), tt.wantCode)
			}
			if got := status.Code(tt.err); got != tt.wantCode {
				t.Errorf("status.Code = %v, want %v", got, tt.wantCode)
			}
			if st.Message() != tt.wantMessage {
				t.Errorf("message = %q, want %q", st.Message(), tt.wantMessage)
			}
			if diff := cmp.Diff(tt.wantDetails, detailsOf(t, tt.err), protocmp.Transform()); diff != "" {
				t.Errorf("details mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDefaultVIPerCode(t *testing.T) {
	seen := map[string]codes.Code{}
	for _, c := range []codes.Code{
		codes.InvalidArgument, codes.Unauthenticated, codes.PermissionDenied, codes.NotFound,
		codes.AlreadyExists, codes.FailedPrecondition, codes.ResourceExhausted, codes.Unavailable,
	} {
		t.Run(c.String(), func(t *testing.T) {
			msgs := detailsOf(t, &Error{Code: c, Reason: "X", Message: "m"})
			lm, ok := msgs[len(msgs)-1].(*errdetails.LocalizedMessage)
			if !ok {
				t.Fatalf("last detail is %T, want LocalizedMessage", msgs[len(msgs)-1])
			}
			if lm.GetLocale() != "vi-VN" || lm.GetMessage() == "" {
				t.Errorf("LocalizedMessage = %v, want a vi-VN message", lm)
			}
			if lm.GetMessage() == "Lỗi hệ thống." {
				t.Errorf("code %v falls back to the generic system-error message", c)
			}
			if prev, dup := seen[lm.GetMessage()]; dup {
				t.Errorf("codes %v and %v share the message %q", prev, c, lm.GetMessage())
			}
			seen[lm.GetMessage()] = c
		})
	}
}

func TestWithMetadataCopies(t *testing.T) {
	orig := NotFound("unit", "01")
	withID := orig.WithMetadata("request_id", "abc")
	withOther := withID.WithMetadata("request_id", "def")

	if diff := cmp.Diff(map[string]string{"id": "01"}, orig.Metadata); diff != "" {
		t.Errorf("original metadata changed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"id": "01", "request_id": "abc"}, withID.Metadata); diff != "" {
		t.Errorf("first copy metadata (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"id": "01", "request_id": "def"}, withOther.Metadata); diff != "" {
		t.Errorf("second copy metadata (-want +got):\n%s", diff)
	}
	if withID == orig {
		t.Errorf("WithMetadata returned the same pointer")
	}
	if withID.Code != orig.Code || withID.Reason != orig.Reason || withID.Message != orig.Message || withID.MessageVI != orig.MessageVI {
		t.Errorf("WithMetadata copy = %+v, want the fields of %+v", withID, orig)
	}

	// Metadata reaches the status.
	msgs := detailsOf(t, withID)
	info, ok := msgs[0].(*errdetails.ErrorInfo)
	if !ok {
		t.Fatalf("first detail is %T, want ErrorInfo", msgs[0])
	}
	if got := info.GetMetadata()["request_id"]; got != "abc" {
		t.Errorf("ErrorInfo metadata request_id = %q, want abc", got)
	}

	// An error without metadata stays without metadata.
	bare := PermissionDenied("x", "y")
	_ = bare.WithMetadata("k", "v")
	if bare.Metadata != nil {
		t.Errorf("WithMetadata mutated a nil metadata map into %v", bare.Metadata)
	}
}

func TestErrorIs(t *testing.T) {
	errUnitNotFound := NotFound("unit", "")
	tests := []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"same code and reason, other id", NotFound("unit", "01"), errUnitNotFound, true},
		{"wrapped", fmt.Errorf("get: %w", NotFound("unit", "01")), errUnitNotFound, true},
		{"with metadata", NotFound("unit", "01").WithMetadata("request_id", "x"), errUnitNotFound, true},
		{"other reason", NotFound("agency", "01"), errUnitNotFound, false},
		{"same reason other code", &Error{Code: codes.Internal, Reason: "UNIT_NOT_FOUND"}, errUnitNotFound, false},
		{"plain error target", NotFound("unit", "01"), errors.New("unit not found"), false},
		{"plain error", errors.New("x"), errUnitNotFound, false},
		{"two invalid-argument errors", Invalid(FieldViolation{Field: "x"}), Invalid(FieldViolation{Field: "y"}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errors.Is(tt.err, tt.target); got != tt.want {
				t.Errorf("errors.Is(%v, %v) = %v, want %v", tt.err, tt.target, got, tt.want)
			}
		})
	}
}

func TestViolations(t *testing.T) {
	var empty Violations
	if err := empty.Err(); err != nil {
		t.Errorf("empty Violations.Err() = %v, want nil", err)
	}
	if err := (Violations{}).Err(); err != nil {
		t.Errorf("Violations{}.Err() = %v, want nil", err)
	}

	var v Violations
	v.Add("a", "bad %s", "one")
	v.Add("b", "bad %d", 2)
	want := Violations{{Field: "a", Description: "bad one"}, {Field: "b", Description: "bad 2"}}
	if diff := cmp.Diff(want, v); diff != "" {
		t.Errorf("Violations (-want +got):\n%s", diff)
	}
	err := v.Err()
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("Err() code = %v, want InvalidArgument", status.Code(err))
	}
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("Err() = %T, want *Error", err)
	}
	if diff := cmp.Diff([]FieldViolation(want), ce.Violations); diff != "" {
		t.Errorf("Err().Violations (-want +got):\n%s", diff)
	}
	if got := err.Error(); !strings.Contains(got, "a: bad one; b: bad 2") {
		t.Errorf("Err().Error() = %q, want it to list both fields", got)
	}
}

// TestReasonsOfKindsOfManyWords: a reason is UPPER_SNAKE_CASE whatever the kind's name.
func TestReasonsOfKindsOfManyWords(t *testing.T) {
	if got := NotFound("metric report", "33/2024").Reason; got != "METRIC_REPORT_NOT_FOUND" {
		t.Errorf("NotFound reason = %q, want METRIC_REPORT_NOT_FOUND", got)
	}
	if got := AlreadyExists("signing key", "k1").Reason; got != "SIGNING_KEY_ALREADY_EXISTS" {
		t.Errorf("AlreadyExists reason = %q, want SIGNING_KEY_ALREADY_EXISTS", got)
	}
}

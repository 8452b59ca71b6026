package platform

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"
)

// ErrorDomain is the ErrorInfo domain of every error lienthong returns.
const ErrorDomain = "lienthong.vn"

// FieldViolation names one bad field of a request.
type FieldViolation struct {
	Field       string
	Description string
}

// Error is an error meant for the client. Services return it (or wrap it with %w); the
// interceptor turns it into a gRPC status with ErrorInfo, BadRequest and a vi-VN
// LocalizedMessage. Any other error reaching the edge is internal: it is logged and the
// client sees a plain INTERNAL with the request id.
type Error struct {
	Code       codes.Code
	Reason     string
	Message    string
	MessageVI  string
	Violations []FieldViolation
	Metadata   map[string]string
	// RetryDelay, when set, is sent as google.rpc.RetryInfo (and as Retry-After over REST).
	RetryDelay time.Duration
}

func (e *Error) Error() string {
	if len(e.Violations) == 0 {
		return e.Message
	}
	parts := make([]string, 0, len(e.Violations))
	for _, v := range e.Violations {
		parts = append(parts, v.Field+": "+v.Description)
	}
	return e.Message + ": " + strings.Join(parts, "; ")
}

// Is lets errors.Is match two client errors by code and reason, so services can declare
// sentinels such as ErrNotFound and compare against wrapped copies.
func (e *Error) Is(target error) bool {
	var t *Error
	if !errors.As(target, &t) {
		return false
	}
	return t.Code == e.Code && t.Reason == e.Reason
}

// GRPCStatus builds the status with its details. Every text in it is bounded
// (maxTextRunes): an error never echoes unbounded input back, whatever its maker passed in.
func (e *Error) GRPCStatus() *status.Status {
	e = e.bounded()
	st := status.New(e.Code, e.Error())
	info := &errdetails.ErrorInfo{Reason: e.Reason, Domain: ErrorDomain}
	if len(e.Metadata) > 0 {
		info.Metadata = make(map[string]string, len(e.Metadata))
		for k, v := range e.Metadata {
			info.Metadata[k] = v
		}
	}
	details := []protoadapt.MessageV1{info}
	if len(e.Violations) > 0 {
		br := &errdetails.BadRequest{}
		for _, v := range e.Violations {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Description})
		}
		details = append(details, br)
	}
	if e.RetryDelay > 0 {
		details = append(details, &errdetails.RetryInfo{RetryDelay: durationpb.New(e.RetryDelay)})
	}
	vi := e.MessageVI
	if vi == "" {
		vi = defaultVI(e.Code)
	}
	details = append(details, &errdetails.LocalizedMessage{Locale: "vi-VN", Message: vi})
	withDetails, err := st.WithDetails(details...)
	if err != nil {
		return st
	}
	return withDetails
}

// MaxEchoRunes is how much of a caller-given string (an id, a code, a name) an error
// message repeats; Clip cuts the rest.
const MaxEchoRunes = 64

// maxTextRunes bounds each text of an error a client sees: the message, each field name
// and description, each metadata value.
const maxTextRunes = 1024

// Clip cuts a caller-given string to MaxEchoRunes runes, marking the cut with "…", so that
// an error quoting it stays small however long it was.
func Clip(s string) string { return clipRunes(s, MaxEchoRunes) }

// clipRunes cuts s after n runes (reading no further than it must), adding "…".
func clipRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for k := 0; k < n; k++ {
		if i >= len(s) {
			return s
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	if i >= len(s) {
		return s
	}
	return s[:i] + "…"
}

// bounded returns e, or a copy of it with every text cut to maxTextRunes.
func (e *Error) bounded() *Error {
	long := func(s string) bool { return len(s) > maxTextRunes }
	cut := long(e.Message) || long(e.MessageVI)
	for _, v := range e.Violations {
		cut = cut || long(v.Field) || long(v.Description)
	}
	for k, v := range e.Metadata {
		cut = cut || long(k) || long(v)
	}
	if !cut {
		return e
	}
	c := *e
	c.Message, c.MessageVI = clipRunes(e.Message, maxTextRunes), clipRunes(e.MessageVI, maxTextRunes)
	c.Violations = make([]FieldViolation, len(e.Violations))
	for i, v := range e.Violations {
		c.Violations[i] = FieldViolation{Field: clipRunes(v.Field, maxTextRunes), Description: clipRunes(v.Description, maxTextRunes)}
	}
	c.Metadata = make(map[string]string, len(e.Metadata))
	for k, v := range e.Metadata {
		c.Metadata[clipRunes(k, maxTextRunes)] = clipRunes(v, maxTextRunes)
	}
	return &c
}

// WithMetadata returns a copy of e with one more ErrorInfo metadata entry.
func (e *Error) WithMetadata(key, value string) *Error {
	c := *e
	c.Metadata = make(map[string]string, len(e.Metadata)+1)
	for k, v := range e.Metadata {
		c.Metadata[k] = v
	}
	c.Metadata[key] = value
	return &c
}

func defaultVI(c codes.Code) string {
	switch c {
	case codes.InvalidArgument:
		return "Yêu cầu không hợp lệ."
	case codes.Unauthenticated:
		return "Chưa xác thực hoặc mã truy cập không hợp lệ."
	case codes.PermissionDenied:
		return "Không có quyền thực hiện thao tác này."
	case codes.NotFound:
		return "Không tìm thấy dữ liệu."
	case codes.AlreadyExists:
		return "Dữ liệu đã tồn tại với nội dung khác."
	case codes.FailedPrecondition:
		return "Thao tác không được phép ở trạng thái hiện tại."
	case codes.ResourceExhausted:
		return "Vượt quá giới hạn cho phép."
	case codes.Unavailable:
		return "Dịch vụ tạm thời không sẵn sàng."
	default:
		return "Lỗi hệ thống."
	}
}

// Invalid is INVALID_ARGUMENT with one violation per bad field.
func Invalid(violations ...FieldViolation) *Error {
	return &Error{
		Code: codes.InvalidArgument, Reason: "INVALID_ARGUMENT",
		Message: "invalid request", MessageVI: "Yêu cầu không hợp lệ: " + joinFields(violations),
		Violations: violations,
	}
}

func joinFields(vs []FieldViolation) string {
	names := make([]string, 0, len(vs))
	for _, v := range vs {
		names = append(names, v.Field)
	}
	return strings.Join(names, ", ")
}

// kindReason is a kind's name as it stands in a reason: upper case, words joined by "_"
// ("metric report" → METRIC_REPORT), as ErrorInfo reasons are UPPER_SNAKE_CASE.
func kindReason(kind string) string {
	return strings.ToUpper(strings.Join(strings.Fields(kind), "_"))
}

// NotFound says a resource of a kind with an id does not exist. The id, given by the
// caller, is quoted cut to MaxEchoRunes.
func NotFound(kind, id string) *Error {
	id = Clip(id)
	return &Error{
		Code: codes.NotFound, Reason: kindReason(kind) + "_NOT_FOUND",
		Message:   fmt.Sprintf("%s %q not found", strings.ToLower(kind), id),
		MessageVI: fmt.Sprintf("Không tìm thấy %s %q.", viKind(kind), id),
		Metadata:  map[string]string{"id": id},
	}
}

func viKind(kind string) string {
	switch strings.ToLower(kind) {
	case "unit":
		return "đơn vị hành chính"
	case "agency":
		return "cơ quan"
	case "procedure":
		return "thủ tục hành chính"
	case "dossier":
		return "hồ sơ"
	case "document":
		return "văn bản"
	default:
		return strings.ToLower(kind)
	}
}

// AlreadyExists says a resource with that key exists with other content. The id is quoted
// cut to MaxEchoRunes.
func AlreadyExists(kind, id string) *Error {
	id = Clip(id)
	return &Error{
		Code: codes.AlreadyExists, Reason: kindReason(kind) + "_ALREADY_EXISTS",
		Message:   fmt.Sprintf("%s %q already exists", strings.ToLower(kind), id),
		MessageVI: fmt.Sprintf("%s %q đã tồn tại.", upperFirst(viKind(kind)), id),
		Metadata:  map[string]string{"id": id},
	}
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	return strings.ToUpper(string(r[0])) + string(r[1:])
}

// FailedPrecondition refuses an operation in the current state.
func FailedPrecondition(reason, message, messageVI string) *Error {
	return &Error{Code: codes.FailedPrecondition, Reason: reason, Message: message, MessageVI: messageVI}
}

// PermissionDenied refuses a caller outside its role or unit.
func PermissionDenied(message, messageVI string) *Error {
	return &Error{Code: codes.PermissionDenied, Reason: "PERMISSION_DENIED", Message: message, MessageVI: messageVI}
}

// Unauthenticated refuses a call with no or a bad token.
func Unauthenticated(message string) *Error {
	return &Error{Code: codes.Unauthenticated, Reason: "UNAUTHENTICATED", Message: message,
		MessageVI: "Chưa xác thực hoặc mã truy cập không hợp lệ."}
}

// ResourceExhausted refuses a request over a limit.
func ResourceExhausted(reason, message, messageVI string) *Error {
	return &Error{Code: codes.ResourceExhausted, Reason: reason, Message: message, MessageVI: messageVI}
}

// Violations collects field violations while a request is checked.
type Violations []FieldViolation

// Add records a bad field.
func (v *Violations) Add(field, format string, args ...any) {
	*v = append(*v, FieldViolation{Field: field, Description: fmt.Sprintf(format, args...)})
}

// Err returns nil when nothing was recorded, else an INVALID_ARGUMENT error.
func (v Violations) Err() error {
	if len(v) == 0 {
		return nil
	}
	return Invalid(v...)
}

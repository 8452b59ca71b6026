package platform

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
)

func TestPageTokenRoundTrip(t *testing.T) {
	tests := []struct {
		name, query, key string
	}{
		{"simple", "units?province=01", "01/00001"},
		{"empty query", "", "k"},
		{"empty key", "q", ""},
		{"unicode key", "q", "Hà Nội/Đống Đa"},
		{"binary key", "q", "\x00\xff\x01/\n"},
		{"long key", "q", strings.Repeat("k", 1000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := EncodePageToken(tt.query, tt.key)
			if tok == "" {
				t.Fatalf("EncodePageToken returned an empty token (the end-of-list marker)")
			}
			if strings.ContainsAny(tok, "+/=") {
				t.Errorf("token %q is not URL-safe unpadded base64", tok)
			}
			got, err := DecodePageToken(tt.query, tok)
			if err != nil {
				t.Fatalf("DecodePageToken: %v", err)
			}
			if got != tt.key {
				t.Errorf("DecodePageToken = %q, want %q", got, tt.key)
			}
		})
	}
}

func TestDecodePageTokenEmpty(t *testing.T) {
	got, err := DecodePageToken("q", "")
	if err != nil || got != "" {
		t.Errorf(`DecodePageToken("q", "") = %q, %v; want "", nil`, got, err)
	}
}

func TestDecodePageTokenRefuses(t *testing.T) {
	const query = "units?province=01"
	good := EncodePageToken(query, "01/00001")
	raw, err := base64.RawURLEncoding.DecodeString(good)
	if err != nil {
		t.Fatal(err)
	}
	flipByte := func(i int) string {
		b := append([]byte(nil), raw...)
		b[i] ^= 0x01
		return base64.RawURLEncoding.EncodeToString(b)
	}
	tests := []struct {
		name, query, token string
	}{
		{"token of another query", "units?province=79", good},
		{"token of the empty query", "", good},
		{"flipped query hash", query, flipByte(0)},
		{"flipped key byte", query, flipByte(5)},
		{"flipped checksum", query, flipByte(len(raw) - 1)},
		{"truncated", query, good[:len(good)-2]},
		{"extra data", query, good + "AAAA"},
		{"not base64", query, "!!!not-base64!!!"},
		{"standard base64 alphabet", query, strings.NewReplacer("-", "+", "_", "/").Replace(good) + "+/"},
		{"padded", query, good + "=="},
		{"garbage word", query, "garbage"},
		{"too short", query, base64.RawURLEncoding.EncodeToString([]byte{1, 2, 3, 4, 5, 6, 7})},
		{"eight zero bytes", query, base64.RawURLEncoding.EncodeToString(make([]byte, 8))},
		{"oversized", query, strings.Repeat("A", 2049)},
		{"oversized but valid", query, EncodePageToken(query, strings.Repeat("k", 2000))},
		{"space", query, " "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := DecodePageToken(tt.query, tt.token)
			if err == nil {
				t.Fatalf("DecodePageToken(%q, %q) = %q, want an error", tt.query, tt.token, key)
			}
			if key != "" {
				t.Errorf("DecodePageToken returned key %q with the error", key)
			}
			if code := status.Code(err); code != codes.InvalidArgument {
				t.Errorf("code = %v, want InvalidArgument", code)
			}
			if !ErrBadPageToken(err) {
				t.Errorf("ErrBadPageToken(%v) = false, want true", err)
			}
			var details []proto.Message
			for _, d := range status.Convert(err).Details() {
				if br, ok := d.(*errdetails.BadRequest); ok {
					details = append(details, br)
				}
			}
			want := []proto.Message{&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{
				Field: "page_token", Description: "not a token of this list with these filters; start again without page_token",
			}}}}
			if diff := cmp.Diff(want, details, protocmp.Transform()); diff != "" {
				t.Errorf("BadRequest (-want +got):\n%s", diff)
			}
		})
	}
}

func TestErrBadPageToken(t *testing.T) {
	_, badToken := DecodePageToken("q", "garbage")
	_, badSize := PageSize(-1)
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"bad token", badToken, true},
		{"bad token with request id", badToken.(*Error).WithMetadata("request_id", "r"), true},
		{"wrapped bad token", errors.Join(errors.New("list"), badToken), true},
		{"bad page size", badSize, false},
		{"other invalid field", Invalid(FieldViolation{Field: "unit", Description: "must be 2 digits"}), false},
		{"not found", NotFound("unit", "01"), false},
		{"nil", nil, false},
		{"plain error", errors.New("page_token"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ErrBadPageToken(tt.err); got != tt.want {
				t.Errorf("ErrBadPageToken(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestPageSize(t *testing.T) {
	tests := []struct {
		name    string
		in      int32
		want    int
		wantErr bool
	}{
		{"zero is the default", 0, 50, false},
		{"one", 1, 1, false},
		{"default", 50, 50, false},
		{"maximum", 1000, 1000, false},
		{"above maximum", 1001, 0, true},
		{"huge", 1 << 30, 0, true},
		{"minus one", -1, 0, true},
		{"most negative", -1 << 31, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PageSize(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("PageSize(%d) = %d, want an error", tt.in, got)
				}
				if code := status.Code(err); code != codes.InvalidArgument {
					t.Errorf("PageSize(%d) code = %v, want InvalidArgument", tt.in, code)
				}
				var ce *Error
				if !errors.As(err, &ce) || len(ce.Violations) != 1 || ce.Violations[0].Field != "page_size" {
					t.Errorf("PageSize(%d) error %v does not name page_size", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("PageSize(%d): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("PageSize(%d) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzDecodePageToken(f *testing.F) {
	f.Add("q", EncodePageToken("q", "01/00001"))
	f.Add("q", EncodePageToken("other", "01/00001"))
	f.Add("", EncodePageToken("", ""))
	f.Add("units", "garbage")
	f.Add("units", "")
	f.Add("units", "AAAAAAAAAAA")
	f.Add("units", strings.Repeat("A", 2049))
	f.Add("q", EncodePageToken("q", "Hà Nội")+"\n")
	f.Fuzz(func(t *testing.T, query, token string) {
		key, err := DecodePageToken(query, token)
		if err != nil {
			if key != "" {
				t.Fatalf("DecodePageToken(%q, %q) = %q with error %v", query, token, key, err)
			}
			if code := status.Code(err); code != codes.InvalidArgument {
				t.Fatalf("DecodePageToken(%q, %q) error code %v, want InvalidArgument", query, token, code)
			}
			return
		}
		if token == "" {
			if key != "" {
				t.Fatalf("empty token decoded to %q", key)
			}
			return
		}
		again := EncodePageToken(query, key)
		back, err := DecodePageToken(query, again)
		if err != nil {
			t.Fatalf("re-encoded token %q of key %q does not decode: %v", again, key, err)
		}
		if back != key {
			t.Fatalf("token %q decodes to %q; re-encoded it decodes to %q", token, key, back)
		}
		// A token that decodes carries the same bytes as the canonical encoding of its key.
		orig, err1 := base64.RawURLEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(token))
		canon, err2 := base64.RawURLEncoding.DecodeString(again)
		if err1 != nil || err2 != nil || string(orig) != string(canon) {
			t.Fatalf("token %q and its re-encoding %q carry different bytes", token, again)
		}
	})
}

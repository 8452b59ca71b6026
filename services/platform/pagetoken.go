package platform

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// Page sizes of every List (docs/api.md, "Conventions").
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// PageSize checks a requested page size: 0 means the default, above the maximum or negative
// is INVALID_ARGUMENT.
func PageSize(n int32) (int, error) {
	switch {
	case n == 0:
		return DefaultPageSize, nil
	case n < 0 || n > MaxPageSize:
		return 0, Invalid(FieldViolation{Field: "page_size", Description: "must be between 1 and 1000"})
	}
	return int(n), nil
}

// errBadToken is the one answer to any token that is not ours or not for this query.
var errBadToken = Invalid(FieldViolation{Field: "page_token", Description: "not a token of this list with these filters; start again without page_token"})

// EncodePageToken makes an opaque token that resumes after key for a query whose filters
// hash to query (so a token cannot be replayed against other filters).
func EncodePageToken(query string, key string) string {
	buf := make([]byte, 0, 8+len(key))
	buf = binary.BigEndian.AppendUint32(buf, crc32.ChecksumIEEE([]byte(query)))
	buf = append(buf, key...)
	buf = binary.BigEndian.AppendUint32(buf, crc32.ChecksumIEEE(buf))
	return base64.RawURLEncoding.EncodeToString(buf)
}

// DecodePageToken returns the key a token resumes after; "" for an empty token.
func DecodePageToken(query, token string) (string, error) {
	if token == "" {
		return "", nil
	}
	if len(token) > 2048 {
		return "", errBadToken
	}
	buf, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(buf) < 8 {
		return "", errBadToken
	}
	body, sum := buf[:len(buf)-4], binary.BigEndian.Uint32(buf[len(buf)-4:])
	if crc32.ChecksumIEEE(body) != sum || binary.BigEndian.Uint32(body[:4]) != crc32.ChecksumIEEE([]byte(query)) {
		return "", errBadToken
	}
	return string(body[4:]), nil
}

// ErrBadPageToken reports whether err is the bad-token error. errors.Is alone is not enough:
// *Error matches by code and reason, which every INVALID_ARGUMENT shares.
func ErrBadPageToken(err error) bool {
	var ce *Error
	if !errors.As(err, &ce) || !errors.Is(ce, errBadToken) {
		return false
	}
	for _, v := range ce.Violations {
		if v.Field == "page_token" {
			return true
		}
	}
	return false
}

package platform

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// NFC normalises text input to Unicode NFC and trims surrounding space. Every service calls
// it on text before storing or comparing it (docs/api.md, "Conventions").
func NFC(s string) string {
	return strings.TrimSpace(norm.NFC.String(s))
}

// Fold returns the search form of a text: no diacritics, lower case, đ as d, runs of
// space collapsed. "Đăng ký kinh doanh" and "dang ky  kinh doanh" fold to the same string.
func Fold(s string) string {
	// norm leaves runes after an invalid byte undecomposed, so their marks would survive
	// (and a second Fold would remove them): make the text valid UTF-8 first.
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, string(utf8.RuneError))
	}
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	var b strings.Builder
	b.Grow(len(out))
	space := false
	for _, r := range out {
		switch {
		case r == 'đ' || r == 'Đ':
			r = 'd'
		case unicode.IsSpace(r):
			if !space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = true
			continue
		default:
			r = unicode.ToLower(r)
		}
		space = false
		b.WriteRune(r)
	}
	return strings.TrimRight(b.String(), " ")
}

// MatchAllWords reports whether every word of the folded query appears in the folded text.
func MatchAllWords(foldedText, foldedQuery string) bool {
	for _, w := range strings.Fields(foldedQuery) {
		if !strings.Contains(foldedText, w) {
			return false
		}
	}
	return true
}

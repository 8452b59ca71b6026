package docexchange

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"strings"
)

// subjectAttributeNames are the short names of the subject attributes agencies'
// certificates carry (RFC 4514 names, and UID, where a certificate names its agency), and
// description (RFC 4519 §2.5), which signing certificates of PDFs carry
// (testdata/pdf/README.md).
var subjectAttributeNames = map[string]string{
	"2.5.4.3": "CN", "2.5.4.5": "SERIALNUMBER", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST",
	"2.5.4.10": "O", "2.5.4.11": "OU", "0.9.2342.19200300.100.1.1": "UID", "1.2.840.113549.1.9.1": "E",
	"2.5.4.13": "description",
}

// readableSubject is a certificate's subject as RFC 4514 writes it, most specific first,
// with UID and E named and their text shown (pkix.Name.String shows them as hex).
func readableSubject(c *x509.Certificate) string {
	var rdns pkix.RDNSequence
	if _, err := asn1.Unmarshal(c.RawSubject, &rdns); err != nil {
		return c.Subject.String()
	}
	var parts []string
	for i := len(rdns) - 1; i >= 0; i-- {
		var set []string
		for _, atv := range rdns[i] {
			name, ok := subjectAttributeNames[atv.Type.String()]
			v, isText := atv.Value.(string)
			if !ok || !isText {
				return c.Subject.String()
			}
			set = append(set, name+"="+escapeRDNValue(v))
		}
		parts = append(parts, strings.Join(set, "+"))
	}
	return strings.Join(parts, ",")
}

// escapeRDNValue escapes a value as RFC 4514, section 2.4 asks.
func escapeRDNValue(v string) string {
	var b strings.Builder
	for i, r := range v {
		switch {
		case strings.ContainsRune(`,+"\<>;`, r),
			i == 0 && (r == ' ' || r == '#'),
			i == len(v)-1 && r == ' ':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			fmt.Fprintf(&b, "\\%02x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

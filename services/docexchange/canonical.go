package docexchange

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Canonicalize returns the RFC 8785 (JCS) form of a JSON text: no insignificant white space,
// object members sorted by the UTF-16 code units of their names, strings with the minimal
// escapes, numbers in the ECMAScript shortest form. Duplicate member names, invalid UTF-8
// and numbers outside IEEE 754 double range are refused, as the RFC requires.
func Canonicalize(in []byte) ([]byte, error) {
	if !utf8.Valid(in) {
		return nil, errors.New("canonical json: invalid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.UseNumber()
	var buf bytes.Buffer
	if err := canonValue(dec, &buf, 0); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("canonical json: text after the value")
	}
	return buf.Bytes(), nil
}

const maxDepth = 100

func canonValue(dec *json.Decoder, buf *bytes.Buffer, depth int) error {
	if depth > maxDepth {
		return errors.New("canonical json: nested too deep")
	}
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("canonical json: %w", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			return canonObject(dec, buf, depth)
		case '[':
			buf.WriteByte('[')
			for i := 0; dec.More(); i++ {
				if i > 0 {
					buf.WriteByte(',')
				}
				if err := canonValue(dec, buf, depth+1); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return fmt.Errorf("canonical json: %w", err)
			}
			buf.WriteByte(']')
			return nil
		}
		return fmt.Errorf("canonical json: unexpected %v", t)
	case string:
		writeString(buf, t)
	case json.Number:
		s, err := canonNumber(string(t))
		if err != nil {
			return err
		}
		buf.WriteString(s)
	case bool:
		buf.WriteString(strconv.FormatBool(t))
	case nil:
		buf.WriteString("null")
	}
	return nil
}

func canonObject(dec *json.Decoder, buf *bytes.Buffer, depth int) error {
	type member struct {
		key string
		val []byte
	}
	var members []member
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("canonical json: %w", err)
		}
		key, ok := tok.(string)
		if !ok {
			return errors.New("canonical json: object key is not a string")
		}
		if seen[key] {
			return fmt.Errorf("canonical json: duplicate member %q", key)
		}
		seen[key] = true
		var vb bytes.Buffer
		if err := canonValue(dec, &vb, depth+1); err != nil {
			return err
		}
		members = append(members, member{key, vb.Bytes()})
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("canonical json: %w", err)
	}
	sort.Slice(members, func(i, j int) bool { return lessUTF16(members[i].key, members[j].key) })
	buf.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			buf.WriteByte(',')
		}
		writeString(buf, m.key)
		buf.WriteByte(':')
		buf.Write(m.val)
	}
	buf.WriteByte('}')
	return nil
}

// lessUTF16 orders strings by their UTF-16 code units (RFC 8785 §3.2.3).
func lessUTF16(a, b string) bool {
	ua, ub := utf16.Encode([]rune(a)), utf16.Encode([]rune(b))
	for i := 0; i < len(ua) && i < len(ub); i++ {
		if ua[i] != ub[i] {
			return ua[i] < ub[i]
		}
	}
	return len(ua) < len(ub)
}

// writeString writes a JSON string as ECMAScript's JSON.stringify does.
func writeString(buf *bytes.Buffer, s string) {
	buf.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			buf.WriteString(`\"`)
		case '\\':
			buf.WriteString(`\\`)
		case '\b':
			buf.WriteString(`\b`)
		case '\f':
			buf.WriteString(`\f`)
		case '\n':
			buf.WriteString(`\n`)
		case '\r':
			buf.WriteString(`\r`)
		case '\t':
			buf.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(buf, `\u%04x`, r)
			} else {
				buf.WriteRune(r)
			}
		}
	}
	buf.WriteByte('"')
}

// canonNumber formats a JSON number as ECMAScript's Number.prototype.toString does.
func canonNumber(s string) (string, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return "", fmt.Errorf("canonical json: number %s is not an IEEE 754 double", s)
	}
	if f == 0 {
		return "0", nil
	}
	neg := f < 0
	if neg {
		f = -f
	}
	// Shortest digits that round-trip, and the decimal exponent.
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±xx
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	n, _ := strconv.Atoi(exp)
	n++ // position of the decimal point relative to the digits
	k := len(digits)
	var out string
	switch {
	case k <= n && n <= 21:
		out = digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		out = digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		out = "0." + strings.Repeat("0", -n) + digits
	default:
		sign := "+"
		if n-1 < 0 {
			sign = "-"
		}
		m := digits[:1]
		if k > 1 {
			m += "." + digits[1:]
		}
		ex := n - 1
		if ex < 0 {
			ex = -ex
		}
		out = m + "e" + sign + strconv.Itoa(ex)
	}
	if neg {
		out = "-" + out
	}
	return out, nil
}

// signedJSON is how a document is written before canonicalisation: proto field names, enums
// as names, int64 as strings, default values left out.
var signedJSON = protojson.MarshalOptions{UseProtoNames: true}

// CanonicalBytes are the bytes a document's signature covers (docs/api.md, "Documents"): the
// RFC 8785 form of the document's JSON without `id`, `signature`, `recipients` and the other
// fields the service fills in, and without each attachment's `content` and `upload_id` (its
// `sha256` stays).
func CanonicalBytes(d *docv1.Document) ([]byte, error) {
	c := proto.Clone(d).(*docv1.Document)
	clearFields(c.ProtoReflect(), unsignedFields)
	for _, a := range c.Attachments {
		clearFields(a.ProtoReflect(), unsignedAttachmentFields)
	}
	js, err := signedJSON.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("document json: %w", err)
	}
	return Canonicalize(js)
}

// unsignedFields are the fields of a document its signature leaves out, as the service
// fills them in (the JSON as sent leaves them out too, in either name form: as_sent.go).
var unsignedFields = []protoreflect.Name{"id", "signature", "recipients", "sent_at", "links", "superseded_by", "xml_signature_subject"}

// unsignedAttachmentFields are the fields of an attachment its document's signature leaves
// out: the bytes themselves (their sha256 stays), the upload they came from and the
// service's report on a PDF's signatures.
var unsignedAttachmentFields = []protoreflect.Name{"content", "upload_id", "pdf"}

func clearFields(m protoreflect.Message, names []protoreflect.Name) {
	fields := m.Descriptor().Fields()
	for _, n := range names {
		m.Clear(fields.ByName(n))
	}
}

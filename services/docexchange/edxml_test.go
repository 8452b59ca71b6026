package docexchange

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
)

// fullLetter sets every header field.
func fullLetter(f *fixture) *docv1.Document {
	d := letter("42")
	d.DueDate, d.Priority, d.MessageId, d.PromulgationPlace = "2026-11-20", 2, "msg-42", "Hưng Yên"
	d.Signer.Competence = "TL. GIÁM ĐỐC"
	d.BusinessType = docv1.BusinessType_BUSINESS_TYPE_NEW
	d.ResponseFor = &docv1.ResponseFor{Code: "7/UBND-VP", OrganId: agUBND33, PromulgationDate: "2026-10-01"}
	d.Attachments = append(d.Attachments, &docv1.Attachment{Name: "phu-luc.xlsx", ContentType: "application/vnd.ms-excel",
		Description: "Phụ lục <số 1> & \"2\"", Content: []byte{0, 1, 2, 255}})
	return f.signed(d)
}

// Exporting in lienthong's own variant and re-importing keeps every header field and the
// signature still verifies.
func TestEdxmlRoundTrip(t *testing.T) {
	f := newFixture(t)
	d := fullLetter(f)
	sent := proto.Clone(d).(*docv1.Document)
	resp := f.send(d)
	body, err := f.client.ExportEdxml(f.agency(agUBND33), &docv1.ExportEdxmlRequest{Id: resp.GetId(), Format: "lienthong"})
	if err != nil {
		t.Fatal(err)
	}
	xml := string(body.GetData())
	for _, want := range []string{`xmlns="` + EdxmlNamespace + `"`, "<OrganId>000.02.00.H31</OrganId>", "<PromulgationDate>2026/11/02</PromulgationDate>",
		"<CodeNotation>STP-VP</CodeNotation>", "<BussinessDocType>0</BussinessDocType>", "<DocumentId>000.02.00.H31,2026/11/02,42/STP-VP</DocumentId>"} {
		if !strings.Contains(xml, want) {
			t.Errorf("edXML lacks %s", want)
		}
	}
	back, err := ParseEdxml(body.GetData())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sent, back, protocmp.Transform()); diff != "" {
		t.Fatalf("round trip (-sent +parsed):\n%s", diff)
	}
	// Importing it again is the same document.
	again, err := f.client.ImportEdxml(f.agency(agTuPhap33), &docv1.ImportEdxmlRequest{Edxml: body.GetData()})
	if err != nil {
		t.Fatal(err)
	}
	if !again.GetDuplicate() || again.GetId() != resp.GetId() {
		t.Fatalf("re-import: %v", again)
	}
	// A package with the prefix form of the namespace, as other SDKs write it, is read too.
	prefixed := strings.NewReplacer(`<edXMLEnvelope xmlns="`+EdxmlNamespace+`">`, `<edXML:edXMLEnvelope xmlns:edXML="`+EdxmlNamespace+`">`,
		"</edXMLEnvelope>", "</edXML:edXMLEnvelope>").Replace(xml)
	if p, err := ParseEdxml([]byte(prefixed)); err != nil || p.GetCodeNumber() != "42" {
		t.Fatalf("prefixed package: %v %v", p, err)
	}
}

func TestEdxmlRefusals(t *testing.T) {
	f := newFixture(t)
	d := letter("1")
	good, err := MarshalEdxml(d, [][]byte{d.Attachments[0].Content})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"empty":              "",
		"not xml":            "hello",
		"other namespace":    strings.Replace(string(good), EdxmlNamespace, "urn:other", 1),
		"bad base64":         strings.Replace(string(good), "JVBER", "!!!!!", 1),
		"manifest mismatch":  strings.Replace(string(good), "<ContentId>cid:1</ContentId>", "<ContentId>cid:9</ContentId>", 1),
		"attachment missing": strings.Replace(string(good), `<Attachment ContentId="cid:1">`, `<Attachment ContentId="">`, 1),
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := f.client.ImportEdxml(f.agency(agTuPhap33), &docv1.ImportEdxmlRequest{Edxml: []byte(in)})
			if status.Code(err) != codes.InvalidArgument || reason(err) != "EDXML_INVALID" {
				t.Fatalf("got %v", err)
			}
		})
	}
	if got := f.inboxIDs(agUBND33); len(got) != 0 {
		t.Fatalf("refused packages delivered: %v", got)
	}
}

// FuzzParseEdxml: any package is read or refused, never a panic; what is read survives a
// second round trip unchanged (attachments in base64 included).
//
// Fuzz it with a short minimisation, e.g. `go test -run '^$' -fuzz FuzzParseEdxml
// -fuzztime 60s -fuzzminimizetime 2s -parallel 1`: Go minimises every new interesting
// input for up to -fuzzminimizetime (60 s by default), trying a number of candidates that
// grows with the square of its length at a few hundred µs each, and counts none of those
// runs, so the progress line shows 0 execs/sec for up to a minute per input (60 s measured
// with the default: 11,521 execs and 58 s at 0/sec; with 2 s: 146,700 execs, none stalled).
func FuzzParseEdxml(f *testing.F) {
	d := letter("1")
	d.Signature = &docv1.Signature{KeyId: "k", Algorithm: AlgEd25519, Value: []byte{1, 2, 3}}
	good, _ := MarshalEdxml(d, [][]byte{d.Attachments[0].Content})
	f.Add(good)
	f.Add([]byte(`<edXMLEnvelope xmlns="` + EdxmlNamespace + `"><edXMLManifest><Reference><ContentId>a</ContentId></Reference></edXMLManifest><AttachmentEncoded><Attachment ContentId="a">QUJD
REVG</Attachment></AttachmentEncoded></edXMLEnvelope>`))
	f.Add([]byte(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><edXMLEnvelope xmlns="` + EdxmlNamespace + `">&a;</edXMLEnvelope>`))
	// Beyond the shape bounds: deep, wide, many attributes.
	f.Add([]byte(`<edXMLEnvelope xmlns="` + EdxmlNamespace + `">` + strings.Repeat("<a>", 40) + strings.Repeat("</a>", 40) + `</edXMLEnvelope>`))
	f.Add([]byte(`<edXMLEnvelope xmlns="` + EdxmlNamespace + `"><edXMLHeader><MessageHeader>` + strings.Repeat("<To><OrganId>x</OrganId></To>", 10001) + `</MessageHeader></edXMLHeader></edXMLEnvelope>`))
	f.Add([]byte(`<edXMLEnvelope xmlns="` + EdxmlNamespace + `"><a` + strings.Repeat(` b="1"`, 17) + `/></edXMLEnvelope>`))
	// The conformance fixtures (testdata/edxml, README there) and a national export.
	fixtures, _ := filepath.Glob(filepath.Join("testdata", "edxml", "*.edxml"))
	for _, p := range fixtures {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	if nat, err := MarshalNationalEdxml(d, [][]byte{d.Attachments[0].Content}); err == nil {
		f.Add(nat)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		doc, err := ParseEdxml(in)
		if err != nil {
			return
		}
		var contents [][]byte
		for _, a := range doc.GetAttachments() {
			contents = append(contents, a.GetContent())
		}
		out, err := MarshalEdxml(doc, contents)
		if err != nil {
			return // text XML cannot carry (invalid characters)
		}
		again, err := ParseEdxml(out)
		if err != nil {
			t.Fatalf("our own package is refused: %v\n%s", err, out)
		}
		if !proto.Equal(normalizedForXML(doc), normalizedForXML(again)) {
			t.Fatalf("second round trip differs:\n%v\n%v", doc, again)
		}
		// The national form keeps the meaning (not lienthong's signature, message id, digests).
		nat, err := MarshalNationalEdxml(doc, contents)
		if err != nil {
			return
		}
		back, err := ParseEdxml(nat)
		if err != nil {
			t.Fatalf("our own national package is refused: %v\n%s", err, nat)
		}
		if !proto.Equal(meaningOf(doc, true), meaningOf(back, true)) {
			t.Fatalf("national round trip differs:\n%v\n%v", doc, back)
		}
	})
}

// normalizedForXML drops what XML text cannot keep exactly (carriage returns are read as
// line feeds) so fuzzed text compares.
func normalizedForXML(d *docv1.Document) *docv1.Document {
	c := proto.Clone(d).(*docv1.Document)
	c.Subject = strings.ReplaceAll(c.Subject, "\r", "\n")
	return c
}

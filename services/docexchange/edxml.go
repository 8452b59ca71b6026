package docexchange

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
)

// EdxmlNamespace is the namespace of QCVN 102:2016 packages.
const EdxmlNamespace = "http://www.mic.gov.vn/TBT/QCVN_102_2016"

func edxmlInvalid(field, format string, args ...any) error {
	e := platform.Invalid(platform.FieldViolation{Field: field, Description: fmt.Sprintf(format, args...)})
	e.Reason = "EDXML_INVALID"
	return e
}

// Bounds of an edXML package's shape, far above what a package needs (its envelope is six
// elements deep; a document to a few hundred recipients with a few hundred attachments is a
// few thousand elements) and far below what would cost the part: a package beyond one is
// refused before it is decoded.
const (
	maxEdxmlDepth         = 32
	maxEdxmlElements      = 20000
	maxEdxmlAttrs         = 16   // attributes of one element
	maxEdxmlAttrValue     = 1024 // bytes of one attribute value
	maxEdxmlNameBytes     = 256  // bytes of an element or attribute name
	edxmlLimitsReasonText = "beyond the limit"
)

// checkEdxmlShape refuses a package nested deeper, or with more elements, attributes or
// longer names and attribute values, than the bounds above. It reads tokens only (no
// structures are built); a malformed package passes here and is refused by the decoder.
func checkEdxmlShape(data []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	depth, elements := 0, 0
	for {
		tok, err := dec.RawToken()
		if err != nil {
			return nil // io.EOF, or malformed: the decoder says which
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			elements++
			if err := checkElementShape(t, depth, elements); err != nil {
				return err
			}
		case xml.EndElement:
			depth--
		}
	}
}

// ParseEdxml reads a document package of any form (national, VPCP or lienthong's variant)
// into a document with its attachments' content (unzipped for the national form).
func ParseEdxml(data []byte) (*docv1.Document, error) {
	p, err := parseEdxmlPackage(data, DefaultMaxDocumentBytes)
	if err != nil {
		return nil, err
	}
	if p.doc == nil {
		return nil, edxmlInvalid("edxml", "a status package, not a document")
	}
	return p.doc, nil
}

func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\r':
			return -1
		}
		return r
	}, s)
}

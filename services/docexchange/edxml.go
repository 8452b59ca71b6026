package docexchange

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/genproto/googleapis/api/httpbody"
)

// EdxmlNamespace is the namespace of QCVN 102:2016 packages.
const EdxmlNamespace = "http://www.mic.gov.vn/TBT/QCVN_102_2016"

// The package is one XML document: the edXML envelope (header and manifest) followed by
// the attachments in base64. Element names follow QCVN 102:2016; three elements that the
// standard leaves to the exchange carry what a lienthong document has besides the header:
// MessageHeader/MessageId, the manifest references' Size and Sha256, and
// edXMLHeader/DocumentSignature (key id, algorithm and value of the signature over the
// canonical JSON, kept so that a signed document can travel as edXML and still verify).
type edEnvelope struct {
	XMLName     xml.Name       `xml:"http://www.mic.gov.vn/TBT/QCVN_102_2016 edXMLEnvelope"`
	Header      edHeader       `xml:"edXMLHeader"`
	Manifest    []edReference  `xml:"edXMLManifest>Reference"`
	Attachments []edAttachment `xml:"AttachmentEncoded>Attachment"`
}

type edHeader struct {
	Message   edMessageHeader `xml:"MessageHeader"`
	Signature *edSignature    `xml:"DocumentSignature,omitempty"`
}

type edOrgan struct {
	OrganID   string `xml:"OrganId"`
	OrganName string `xml:"OrganName,omitempty"`
}

type edMessageHeader struct {
	From             edOrgan        `xml:"From"`
	To               []edOrgan      `xml:"To"`
	DocumentID       string         `xml:"DocumentId,omitempty"`
	MessageID        string         `xml:"MessageId,omitempty"`
	CodeNumber       string         `xml:"Code>CodeNumber"`
	CodeNotation     string         `xml:"Code>CodeNotation"`
	Place            string         `xml:"PromulgationInfo>Place,omitempty"`
	PromulgationDate string         `xml:"PromulgationInfo>PromulgationDate"`
	TypeName         string         `xml:"DocumentType>TypeName,omitempty"`
	Subject          string         `xml:"Subject"`
	Signer           *edSigner      `xml:"SignerInfo,omitempty"`
	DueDate          string         `xml:"DueDate,omitempty"`
	Priority         int32          `xml:"OtherInfo>Priority"`
	ResponseFor      *edResponseFor `xml:"ResponseFor,omitempty"`
	BusinessType     int32          `xml:"Bussiness>BussinessDocType"`
}

type edSigner struct {
	Competence string `xml:"Competence,omitempty"`
	Position   string `xml:"Position,omitempty"`
	FullName   string `xml:"FullName,omitempty"`
}

type edResponseFor struct {
	OrganID          string `xml:"OrganId,omitempty"`
	Code             string `xml:"Code,omitempty"`
	PromulgationDate string `xml:"PromulgationDate,omitempty"`
	DocumentID       string `xml:"DocumentId,omitempty"`
}

type edSignature struct {
	KeyID     string `xml:"KeyId"`
	Algorithm string `xml:"Algorithm,omitempty"`
	Value     string `xml:"Value"`
}

type edReference struct {
	ContentID      string `xml:"ContentId"`
	ContentType    string `xml:"ContentType,omitempty"`
	Description    string `xml:"Description,omitempty"`
	AttachmentName string `xml:"AttachmentName"`
	Size           int64  `xml:"Size"`
	Sha256         string `xml:"Sha256,omitempty"`
}

type edAttachment struct {
	ContentID string `xml:"ContentId,attr"`
	Data      string `xml:",chardata"`
}

// edxmlDate writes YYYY-MM-DD as edXML's yyyy/MM/dd.
func edxmlDate(s string) string { return strings.ReplaceAll(s, "-", "/") }

// fromEdxmlDate reads yyyy/MM/dd (or YYYY-MM-DD) as YYYY-MM-DD.
func fromEdxmlDate(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "/", "-") }

// MarshalEdxml writes a document and its attachments' content as an edXML package.
func MarshalEdxml(d *docv1.Document, contents [][]byte) ([]byte, error) {
	h := edMessageHeader{
		From: edOrgan{OrganID: d.GetFrom()}, DocumentID: edxmlDocumentID(d), MessageID: d.GetMessageId(),
		CodeNumber: d.GetCodeNumber(), CodeNotation: d.GetCodeNotation(), Place: d.GetPromulgationPlace(),
		PromulgationDate: edxmlDate(d.GetPromulgationDate()), TypeName: d.GetDocumentType(), Subject: d.GetSubject(),
		DueDate: edxmlDate(d.GetDueDate()), Priority: d.GetPriority(), BusinessType: int32(d.GetBusinessType()),
	}
	for _, t := range d.GetTo() {
		h.To = append(h.To, edOrgan{OrganID: t})
	}
	if s := d.GetSigner(); s != nil {
		h.Signer = &edSigner{Competence: s.GetCompetence(), Position: s.GetPosition(), FullName: s.GetName()}
	}
	if rf := d.GetResponseFor(); rf != nil {
		h.ResponseFor = &edResponseFor{OrganID: rf.GetOrganId(), Code: rf.GetCode(), PromulgationDate: edxmlDate(rf.GetPromulgationDate()), DocumentID: rf.GetDocumentId()}
	}
	env := edEnvelope{Header: edHeader{Message: h}}
	if s := d.GetSignature(); s != nil {
		env.Header.Signature = &edSignature{KeyID: s.GetKeyId(), Algorithm: s.GetAlgorithm(), Value: base64.StdEncoding.EncodeToString(s.GetValue())}
	}
	for i, a := range d.GetAttachments() {
		cid := "cid:" + strconv.Itoa(i+1)
		env.Manifest = append(env.Manifest, edReference{ContentID: cid, ContentType: a.GetContentType(), Description: a.GetDescription(),
			AttachmentName: a.GetName(), Size: a.GetSize(), Sha256: a.GetSha256()})
		var data []byte
		if i < len(contents) {
			data = contents[i]
		}
		env.Attachments = append(env.Attachments, edAttachment{ContentID: cid, Data: base64.StdEncoding.EncodeToString(data)})
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(env); err != nil {
		return nil, fmt.Errorf("edxml: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// edxmlDocumentID is the national document id convention OrganId,yyyy/MM/dd,Number/Notation.
func edxmlDocumentID(d *docv1.Document) string {
	return d.GetFrom() + "," + edxmlDate(d.GetPromulgationDate()) + "," + d.GetCodeNumber() + "/" + d.GetCodeNotation()
}

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
			switch {
			case depth > maxEdxmlDepth:
				return edxmlInvalid("edxml", "elements nested more than %d deep, %s", maxEdxmlDepth, edxmlLimitsReasonText)
			case elements > maxEdxmlElements:
				return edxmlInvalid("edxml", "more than %d elements, %s", maxEdxmlElements, edxmlLimitsReasonText)
			case len(t.Attr) > maxEdxmlAttrs:
				return edxmlInvalid("edxml", "an element with more than %d attributes, %s", maxEdxmlAttrs, edxmlLimitsReasonText)
			case len(t.Name.Local)+len(t.Name.Space) > maxEdxmlNameBytes:
				return edxmlInvalid("edxml", "an element name longer than %d bytes, %s", maxEdxmlNameBytes, edxmlLimitsReasonText)
			}
			for _, a := range t.Attr {
				if len(a.Value) > maxEdxmlAttrValue || len(a.Name.Local)+len(a.Name.Space) > maxEdxmlNameBytes {
					return edxmlInvalid("edxml", "an attribute value longer than %d bytes or a name longer than %d, %s",
						maxEdxmlAttrValue, maxEdxmlNameBytes, edxmlLimitsReasonText)
				}
			}
		case xml.EndElement:
			depth--
		}
	}
}

// ParseEdxml reads an edXML package into a document with its attachments' content.
func ParseEdxml(data []byte) (*docv1.Document, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, edxmlInvalid("edxml", "empty package")
	}
	if err := checkEdxmlShape(data); err != nil {
		return nil, err
	}
	var env edEnvelope
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	if err := dec.Decode(&env); err != nil {
		return nil, edxmlInvalid("edxml", "not an edXML envelope (namespace %s): %v", EdxmlNamespace, err)
	}
	h := env.Header.Message
	d := &docv1.Document{
		From: strings.TrimSpace(h.From.OrganID), CodeNumber: h.CodeNumber, CodeNotation: h.CodeNotation,
		PromulgationDate: fromEdxmlDate(h.PromulgationDate), DocumentType: h.TypeName, Subject: h.Subject,
		DueDate: fromEdxmlDate(h.DueDate), Priority: h.Priority, BusinessType: docv1.BusinessType(h.BusinessType),
		MessageId: h.MessageID, PromulgationPlace: h.Place,
	}
	for _, t := range h.To {
		d.To = append(d.To, strings.TrimSpace(t.OrganID))
	}
	if s := h.Signer; s != nil && (s.FullName != "" || s.Position != "" || s.Competence != "") {
		d.Signer = &docv1.Signer{Name: s.FullName, Position: s.Position, Competence: s.Competence}
	}
	if rf := h.ResponseFor; rf != nil && (rf.DocumentID != "" || rf.Code != "" || rf.OrganID != "" || rf.PromulgationDate != "") {
		d.ResponseFor = &docv1.ResponseFor{DocumentId: rf.DocumentID, Code: rf.Code, OrganId: rf.OrganID, PromulgationDate: fromEdxmlDate(rf.PromulgationDate)}
	}
	if s := env.Header.Signature; s != nil {
		v, err := base64.StdEncoding.DecodeString(stripSpace(s.Value))
		if err != nil {
			return nil, edxmlInvalid("edXMLHeader.DocumentSignature.Value", "not base64")
		}
		d.Signature = &docv1.Signature{KeyId: s.KeyID, Algorithm: s.Algorithm, Value: v}
	}
	byCID := map[string]string{}
	for i, a := range env.Attachments {
		if _, dup := byCID[a.ContentID]; dup || a.ContentID == "" {
			return nil, edxmlInvalid(fmt.Sprintf("AttachmentEncoded.Attachment[%d].ContentId", i), "missing or repeated")
		}
		byCID[a.ContentID] = a.Data
	}
	if len(env.Manifest) != len(env.Attachments) {
		return nil, edxmlInvalid("edXMLManifest", "lists %d attachments, the package carries %d", len(env.Manifest), len(env.Attachments))
	}
	for i, ref := range env.Manifest {
		enc, ok := byCID[ref.ContentID]
		if !ok {
			return nil, edxmlInvalid(fmt.Sprintf("edXMLManifest.Reference[%d].ContentId", i), "no attachment %q in the package", ref.ContentID)
		}
		content, err := base64.StdEncoding.DecodeString(stripSpace(enc))
		if err != nil {
			return nil, edxmlInvalid(fmt.Sprintf("AttachmentEncoded.Attachment[%d]", i), "not base64")
		}
		d.Attachments = append(d.Attachments, &docv1.Attachment{Name: ref.AttachmentName, ContentType: ref.ContentType,
			Description: ref.Description, Size: ref.Size, Sha256: ref.Sha256, Content: content})
	}
	return d, nil
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

// ImportEdxml sends a document given as an edXML package.
func (s *Service) ImportEdxml(ctx context.Context, r *docv1.ImportEdxmlRequest) (*docv1.SendDocumentResponse, error) {
	if _, err := platform.RequireRole(ctx, platform.RoleAdmin, platform.RoleProvince, platform.RoleAgency); err != nil {
		return nil, err
	}
	d, err := ParseEdxml(r.GetEdxml())
	if err != nil {
		return nil, err
	}
	return s.send(ctx, d, sendOptions{})
}

// ExportEdxml answers a document as an edXML package.
func (s *Service) ExportEdxml(ctx context.Context, r *docv1.ExportEdxmlRequest) (*httpbody.HttpBody, error) {
	sd, err := s.readableDoc(ctx, r.GetId())
	if err != nil {
		return nil, err
	}
	var contents [][]byte
	for _, blob := range sd.GetBlobIds() {
		var data []byte
		for n := uint32(0); ; n++ {
			chunk, err := s.readChunk(blob, n)
			if err != nil {
				return nil, err
			}
			if chunk == nil {
				break
			}
			if int64(len(data)+len(chunk)) > s.maxDoc {
				return nil, platform.ResourceExhausted("DOCUMENT_TOO_LARGE",
					"the attachments are too large for one edXML package; download them one by one",
					"Tệp đính kèm quá lớn để xuất trong một gói edXML; hãy tải từng tệp.")
			}
			data = append(data, chunk...)
		}
		contents = append(contents, data)
	}
	out, err := MarshalEdxml(sd.GetDocument(), contents)
	if err != nil {
		return nil, err
	}
	return &httpbody.HttpBody{ContentType: "application/xml; charset=utf-8", Data: out}, nil
}

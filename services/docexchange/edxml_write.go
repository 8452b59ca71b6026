package docexchange

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
)

// errNotXMLText: a text holds characters XML cannot carry.
var errNotXMLText = errors.New("edxml: text with characters XML cannot carry")

// xw writes an indented package; p is the element prefix ("edXML:" or "").
type xw struct {
	b     bytes.Buffer
	p     string
	depth int
	err   error
}

func (w *xw) indent() { w.b.WriteString("\n" + strings.Repeat("  ", w.depth)) }

func (w *xw) open(name string, attrs ...string) {
	w.indent()
	w.b.WriteString("<" + w.p + name)
	for i := 0; i+1 < len(attrs); i += 2 {
		w.b.WriteString(" " + attrs[i] + `="`)
		w.text(attrs[i+1])
		w.b.WriteString(`"`)
	}
	w.b.WriteString(">")
	w.depth++
}

func (w *xw) close(name string) {
	w.depth--
	w.indent()
	w.b.WriteString("</" + w.p + name + ">")
}

func (w *xw) text(s string) {
	for _, r := range s {
		if !isXMLChar(r) {
			w.err = errNotXMLText
		}
	}
	_ = xml.EscapeText(&w.b, []byte(s))
}

// leaf writes <name>text</name>.
func (w *xw) leaf(name, s string) {
	w.indent()
	w.b.WriteString("<" + w.p + name + ">")
	w.text(s)
	w.b.WriteString("</" + w.p + name + ">")
}

func (w *xw) num(name string, v int32) { w.leaf(name, strconv.Itoa(int(v))) }

func isXMLChar(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) ||
		(r >= 0x10000 && r <= 0x10FFFF) && r != utf8.RuneError
}

// exportOptions are what an export knows besides the document.
type exportOptions struct {
	form edxmlForm
	// responseForNational is the national id of the document `response_for` names, when
	// it is stored here.
	responseForNational string
}

// edxmlDocumentID is the national document id: the package's own, or the convention
// OrganId,yyyy/MM/dd,Number/Notation.
func edxmlDocumentID(d *docv1.Document) string {
	return d.GetFrom() + "," + edxmlDate(d.GetPromulgationDate()) + "," + d.GetCodeNumber() + "/" + d.GetCodeNotation()
}

func nationalIDOf(d *docv1.Document) string {
	if id := d.GetEdxmlDocumentId(); id != "" {
		return id
	}
	return edxmlDocumentID(d)
}

// edxmlDate writes YYYY-MM-DD as edXML's yyyy/MM/dd.
func edxmlDate(s string) string { return strings.ReplaceAll(s, "-", "/") }

func (w *xw) organ(name, id string, o *docv1.Organization) {
	w.open(name)
	w.leaf("OrganId", id)
	if o != nil {
		w.leaf("OrganizationInCharge", o.GetOrganizationInCharge())
		w.leaf("OrganName", o.GetOrganName())
		w.leaf("OrganAdd", o.GetOrganAdd())
		w.leaf("Email", o.GetEmail())
		w.leaf("Telephone", o.GetTelephone())
		w.leaf("Fax", o.GetFax())
		w.leaf("Website", o.GetWebsite())
	}
	w.close(name)
}

func (w *xw) staff(s *docv1.StaffInfo) {
	if s == nil {
		return
	}
	w.open("StaffInfo")
	w.leaf("Department", s.GetDepartment())
	w.leaf("Staff", s.GetStaff())
	w.leaf("Mobile", s.GetMobile())
	w.leaf("Email", s.GetEmail())
	w.close("StaffInfo")
}

// messageHeader writes MessageHeader with every field of QCVN 102:2016 the document has.
func (w *xw) messageHeader(d *docv1.Document, o exportOptions) {
	w.open("MessageHeader")
	w.organ("From", d.GetFrom(), d.GetFromOrgan())
	for i, t := range d.GetTo() {
		var org *docv1.Organization
		if i < len(d.GetToOrgans()) {
			org = d.GetToOrgans()[i]
			if org.GetOrganizationInCharge() == "" && org.GetOrganName() == "" && org.GetOrganAdd() == "" && org.GetEmail() == "" &&
				org.GetTelephone() == "" && org.GetFax() == "" && org.GetWebsite() == "" {
				org = nil
			}
		}
		w.organ("To", t, org)
	}
	w.open("Code")
	w.leaf("CodeNumber", d.GetCodeNumber())
	w.leaf("CodeNotation", d.GetCodeNotation())
	w.close("Code")
	w.open("PromulgationInfo")
	if d.GetPromulgationPlace() != "" {
		w.leaf("Place", d.GetPromulgationPlace())
	}
	w.leaf("PromulgationDate", edxmlDate(d.GetPromulgationDate()))
	w.close("PromulgationInfo")
	w.open("DocumentType")
	w.num("Type", d.GetDocumentTypeCode())
	w.leaf("TypeName", d.GetDocumentType())
	w.close("DocumentType")
	w.leaf("Subject", d.GetSubject())
	if d.GetContent() != "" {
		w.leaf("Content", d.GetContent())
	}
	if s := d.GetSigner(); s != nil {
		w.open("SignerInfo")
		w.leaf("Competence", s.GetCompetence())
		w.leaf("Position", s.GetPosition())
		w.leaf("FullName", s.GetName())
		w.close("SignerInfo")
	}
	if d.GetDueDate() != "" {
		w.leaf("DueDate", edxmlDate(d.GetDueDate()))
	}
	if len(d.GetToPlaces()) > 0 {
		w.open("ToPlaces")
		for _, p := range d.GetToPlaces() {
			w.leaf("Place", p)
		}
		w.close("ToPlaces")
	}
	w.open("OtherInfo")
	w.num("Priority", d.GetPriority())
	if oi := d.GetOtherInfo(); oi != nil {
		w.leaf("SphereOfPromulgation", oi.GetSphereOfPromulgation())
		w.leaf("TyperNotation", oi.GetTyperNotation())
		w.num("PromulgationAmount", oi.GetPromulgationAmount())
		w.num("PageAmount", oi.GetPageAmount())
		w.open("Appendixes")
		for _, a := range oi.GetAppendixes() {
			w.leaf("Appendix", a)
		}
		w.close("Appendixes")
	}
	w.close("OtherInfo")
	if rf := d.GetResponseFor(); rf != nil {
		id := rf.GetDocumentId()
		if o.form != formLienthong && id != "" {
			if national, ok := nationalResponseFor(rf); o.responseForNational != "" {
				id = o.responseForNational
			} else if ok {
				id = national
			}
		}
		w.open("ResponseFor")
		w.leaf("OrganId", rf.GetOrganId())
		w.leaf("Code", rf.GetCode())
		w.leaf("PromulgationDate", edxmlDate(rf.GetPromulgationDate()))
		w.leaf("DocumentId", id)
		w.close("ResponseFor")
	}
	w.num("SteeringType", d.GetSteeringType())
	w.leaf("DocumentId", nationalIDOf(d))
	if o.form == formLienthong && d.GetMessageId() != "" {
		w.leaf("MessageId", d.GetMessageId())
	}
	w.close("MessageHeader")
}

// traceHeaderList writes the trace and the business (type, reason, officer, documents
// replaced, paper flag).
func (w *xw) traceHeaderList(d *docv1.Document) {
	w.open("TraceHeaderList")
	for _, t := range d.GetTraceHeaders() {
		w.open("TraceHeader")
		w.leaf("OrganId", t.GetOrganId())
		w.leaf("Timestamp", t.GetTimestamp())
		w.close("TraceHeader")
	}
	w.open("Bussiness")
	w.num("BussinessDocType", int32(d.GetBusinessType()))
	if b := d.GetBusiness(); b != nil {
		w.leaf("BussinessDocReason", b.GetReason())
		w.leaf("DocumentId", b.GetDocumentId())
		paper := "0"
		if b.GetPaper() {
			paper = "1"
		}
		w.leaf("Paper", paper)
		w.staff(b.GetStaffInfo())
		if len(b.GetReplacementInfo()) > 0 {
			w.open("ReplacementInfoList")
			for _, r := range b.GetReplacementInfo() {
				w.open("ReplacementInfo")
				w.leaf("DocumentId", r.GetDocumentId())
				w.open("OrganIdList")
				for _, id := range r.GetOrganIds() {
					w.leaf("OrganId", id)
				}
				w.close("OrganIdList")
				w.close("ReplacementInfo")
			}
			w.close("ReplacementInfoList")
		}
	}
	w.close("Bussiness")
	w.close("TraceHeaderList")
}

// MarshalEdxml writes a document and its attachments' content as lienthong's own edXML
// variant (root edXMLEnvelope, attachments in base64, with the message id, the digests and
// the JSON signature).
func MarshalEdxml(d *docv1.Document, contents [][]byte) ([]byte, error) {
	return marshalEdxml(d, contents, exportOptions{form: formLienthong})
}

// MarshalNationalEdxml writes a document as QCVN 102:2016 packages are built by the national
// SDK: an unprefixed root edXML declaring the edXML prefix, the envelope's elements
// prefixed, then AttachmentEncoded with each file zipped and base64-encoded.
func MarshalNationalEdxml(d *docv1.Document, contents [][]byte) ([]byte, error) {
	return marshalEdxml(d, contents, exportOptions{form: formNational})
}

func marshalEdxml(d *docv1.Document, contents [][]byte, o exportOptions) ([]byte, error) {
	w := &xw{}
	w.b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
	content := func(i int) []byte {
		if i < len(contents) {
			return contents[i]
		}
		return nil
	}
	if o.form == formLienthong {
		w.indent()
		w.b.WriteString(`<edXMLEnvelope xmlns="` + EdxmlNamespace + `">`)
		w.depth++
		w.open("edXMLHeader")
		w.messageHeader(d, o)
		w.traceHeaderList(d)
		w.documentSignature(d)
		w.close("edXMLHeader")
		w.open("edXMLManifest")
		for i, a := range d.GetAttachments() {
			w.open("Reference")
			w.leaf("ContentId", "cid:"+strconv.Itoa(i+1))
			w.leaf("ContentType", a.GetContentType())
			w.leaf("Description", a.GetDescription())
			w.leaf("AttachmentName", a.GetName())
			w.leaf("Size", strconv.FormatInt(a.GetSize(), 10))
			w.leaf("Sha256", a.GetSha256())
			w.close("Reference")
		}
		w.close("edXMLManifest")
		w.open("AttachmentEncoded")
		for i := range d.GetAttachments() {
			w.indent()
			w.b.WriteString(`<Attachment ContentId="cid:` + strconv.Itoa(i+1) + `">`)
			w.b.WriteString(base64.StdEncoding.EncodeToString(content(i)))
			w.b.WriteString(`</Attachment>`)
		}
		w.close("AttachmentEncoded")
		w.depth--
		w.indent()
		w.b.WriteString("</edXMLEnvelope>\n")
		if w.err != nil {
			return nil, w.err
		}
		return w.b.Bytes(), nil
	}
	w.indent()
	w.b.WriteString(`<edXML xmlns="` + EdxmlNamespace + `">`)
	w.depth++
	w.p = "edXML:"
	w.open("edXMLEnvelope", "xmlns:edXML", EdxmlNamespace)
	w.open("edXMLHeader")
	w.messageHeader(d, o)
	w.traceHeaderList(d)
	w.close("edXMLHeader")
	w.open("edXMLBody")
	w.open("edXMLManifest", "version", "1.0")
	for i, a := range d.GetAttachments() {
		w.open("Reference")
		w.leaf("ContentId", "cid:"+strconv.Itoa(i+1))
		w.leaf("ContentType", a.GetContentType())
		w.leaf("Description", a.GetDescription())
		w.leaf("AttachmentName", a.GetName())
		w.close("Reference")
	}
	w.close("edXMLManifest")
	w.close("edXMLBody")
	w.close("edXMLEnvelope")
	w.p = ""
	if len(d.GetAttachments()) > 0 {
		w.open("AttachmentEncoded")
		for i, a := range d.GetAttachments() {
			zipped, err := zipAttachment(a.GetName(), content(i))
			if err != nil {
				return nil, err
			}
			w.open("Attachment")
			w.leaf("ContentId", "cid:"+strconv.Itoa(i+1))
			w.leaf("AttachmentName", a.GetName())
			w.leaf("Description", a.GetDescription())
			w.leaf("ContentType", a.GetContentType())
			w.indent()
			w.b.WriteString(`<edXML:ContentTransferEncoded xmlns:edXML="` + EdxmlNamespace + `">`)
			w.b.WriteString(base64.StdEncoding.EncodeToString(zipped))
			w.b.WriteString(`</edXML:ContentTransferEncoded>`)
			w.close("Attachment")
		}
		w.close("AttachmentEncoded")
	}
	w.depth--
	w.indent()
	w.b.WriteString("</edXML>\n")
	if w.err != nil {
		return nil, w.err
	}
	return w.b.Bytes(), nil
}

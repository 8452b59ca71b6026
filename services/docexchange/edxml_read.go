package docexchange

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
)

// VPCPNamespace is the namespace of the older VPCP axis packages (root EdXMLEnvelope).
const VPCPNamespace = "http://www.go.vn/eDoc"

// edxmlForm says how a package is built.
type edxmlForm int

const (
	formNational  edxmlForm = iota // QCVN 102:2016 as the national SDK builds it: root edXML
	formLienthong                  // lienthong's own variant: root edXMLEnvelope
	formVPCP                       // the older VPCP axis: root EdXMLEnvelope in VPCPNamespace
	formStatus                     // a status package: root Status (or a SOAP envelope holding one)
)

// edxmlPackage is a package as read: a document, or a status report.
type edxmlPackage struct {
	form   edxmlForm
	root   *xnode
	doc    *docv1.Document
	status *edxmlStatus
}

// classify names the form of a package from its root element and namespace.
func classify(root *xnode) (edxmlForm, error) {
	switch {
	case root.local == "edXML" && root.space == EdxmlNamespace:
		return formNational, nil
	case root.local == "edXMLEnvelope" && root.space == EdxmlNamespace:
		return formLienthong, nil
	case (root.local == "EdXMLEnvelope" || root.local == "edXMLEnvelope") && root.space == VPCPNamespace:
		return formVPCP, nil
	case root.local == "Status" && root.space == EdxmlNamespace:
		return formStatus, nil
	case root.local == "Envelope" && root.path("Header", "Status") != nil:
		return formStatus, nil // a status in a SOAP header, as a deployed client sends it
	}
	return 0, edxmlInvalid("edxml", "not an edXML package: the root is <%s> in namespace %q; expected <edXML> or <edXMLEnvelope> in %s, <EdXMLEnvelope> in %s, or a status package <Status>",
		root.local, root.space, EdxmlNamespace, VPCPNamespace)
}

// parseEdxmlPackage reads a package of any form. maxBytes bounds the attachments' content
// once unzipped (and base64-decoded).
func parseEdxmlPackage(data []byte, maxBytes int64) (*edxmlPackage, error) {
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil, edxmlInvalid("edxml", "empty package")
	}
	if err := checkEdxmlShape(data); err != nil {
		return nil, err
	}
	root, err := parseXMLTree(data)
	if err != nil {
		return nil, edxmlInvalid("edxml", "not well-formed XML: %v", err)
	}
	form, err := classify(root)
	if err != nil {
		return nil, err
	}
	p := &edxmlPackage{form: form, root: root}
	if form == formStatus {
		p.status, err = readStatus(root)
		return p, err
	}
	p.doc, err = readDocument(root, form, maxBytes)
	return p, err
}

// readDocument reads the header, business and attachments of a document package.
func readDocument(root *xnode, form edxmlForm, maxBytes int64) (*docv1.Document, error) {
	d, err := readDocumentHeader(root, form)
	if err != nil {
		return nil, err
	}
	switch form {
	case formVPCP:
		d.Attachments, err = readVPCPAttachments(root, maxBytes)
	default:
		d.Attachments, err = readAttachments(root, form, maxBytes)
	}
	if err != nil {
		return nil, err
	}
	return d, nil
}

// readDocumentHeader reads a document package without its attachments: header, business
// and (lienthong's variant) the document's signature.
func readDocumentHeader(root *xnode, form edxmlForm) (*docv1.Document, error) {
	mh := root.find("MessageHeader")
	if mh == nil {
		return nil, edxmlInvalid("edXMLHeader.MessageHeader", "missing")
	}
	d := &docv1.Document{}
	if err := readHeader(mh, form, d); err != nil {
		return nil, err
	}
	trace := root.find("TraceHeaderList")
	if err := readTrace(trace, mh, d); err != nil {
		return nil, err
	}
	if form == formLienthong {
		if err := readDocumentSignature(root, d); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func readInt(n *xnode, field string, locals ...string) (int32, error) {
	s := strings.TrimSpace(n.str(locals...))
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, edxmlInvalid(field, "must be a whole number, got %q", s)
	}
	return int32(v), nil
}

var organDetail = []string{"OrganizationInCharge", "OrganName", "OrganAdd", "Email", "Telephone", "Fax", "Website"}

// readOrgan reads From or To: the agency code, and the organisation's details when the
// package gives any of them.
func readOrgan(n *xnode) (string, *docv1.Organization) {
	if n == nil { // no From or To at all: the envelope's validation names what is missing
		return "", nil
	}
	id := strings.TrimSpace(n.str("OrganId"))
	if n.child("OrganId") == nil && len(n.kids) == 0 {
		id = strings.TrimSpace(n.text.String()) // the VPCP form's Path/From is the code itself
	}
	detail := false
	for _, l := range organDetail {
		if n.child(l) != nil {
			detail = true
		}
	}
	if !detail {
		return id, nil
	}
	return id, &docv1.Organization{OrganId: id, OrganizationInCharge: n.str("OrganizationInCharge"), OrganName: n.str("OrganName"),
		OrganAdd: n.str("OrganAdd"), Email: n.str("Email"), Telephone: n.str("Telephone"), Fax: n.str("Fax"), Website: n.str("Website")}
}

func readStaff(n *xnode) *docv1.StaffInfo {
	if n == nil {
		return nil
	}
	return &docv1.StaffInfo{Department: n.str("Department"), Staff: n.str("Staff"), Mobile: n.str("Mobile"), Email: n.str("Email")}
}

func readHeader(mh *xnode, form edxmlForm, d *docv1.Document) error {
	var org *docv1.Organization
	d.From, org = readOrgan(mh.child("From"))
	d.FromOrgan = org
	detailed := false
	var tos []*docv1.Organization
	for _, t := range mh.children("To") {
		id, o := readOrgan(t)
		d.To = append(d.To, id)
		if o == nil {
			o = &docv1.Organization{OrganId: id}
		} else {
			detailed = true
		}
		tos = append(tos, o)
	}
	if detailed {
		d.ToOrgans = tos
	}
	d.CodeNumber, d.CodeNotation = mh.str("Code", "CodeNumber"), mh.str("Code", "CodeNotation")
	d.PromulgationPlace = mh.str("PromulgationInfo", "Place")
	d.PromulgationDate = fromEdxmlDate(mh.str("PromulgationInfo", "PromulgationDate"))
	dt := mh.child("DocumentType")
	if dt != nil && len(dt.kids) == 0 {
		d.DocumentType = dt.text.String() // the VPCP form: the name itself
	} else {
		d.DocumentType = dt.str("TypeName")
		v, err := readInt(dt, "MessageHeader.DocumentType.Type", "Type")
		if err != nil {
			return err
		}
		d.DocumentTypeCode = v
	}
	d.Subject, d.Content = mh.str("Subject"), mh.str("Content")
	if s := mh.child("SignerInfo"); s != nil {
		name := s.str("FullName")
		if name == "" {
			name = s.str("Signer")
		}
		d.Signer = &docv1.Signer{Name: name, Position: s.str("Position"), Competence: s.str("Competence")}
	}
	d.DueDate = fromEdxmlDate(mh.str("DueDate"))
	for _, p := range mh.path("ToPlaces").children("Place") {
		d.ToPlaces = append(d.ToPlaces, p.text.String())
	}
	if err := readOtherInfo(mh.child("OtherInfo"), d); err != nil {
		return err
	}
	st, err := readInt(mh, "MessageHeader.SteeringType", "SteeringType")
	if err != nil {
		return err
	}
	d.SteeringType = st
	if rf := mh.child("ResponseFor"); rf != nil {
		d.ResponseFor = readResponseFor(rf, form)
	}
	d.MessageId = mh.str("MessageId")
	if id := mh.str("DocumentId"); id != "" && id != edxmlDocumentID(d) {
		d.EdxmlDocumentId = id
	}
	if form == formLienthong {
		// lienthong packages before the national form kept the business type here.
		if b := mh.child("Bussiness"); b != nil {
			v, err := readInt(b, "MessageHeader.Bussiness.BussinessDocType", "BussinessDocType")
			if err != nil {
				return err
			}
			d.BusinessType = docv1.BusinessType(v)
		}
	}
	return nil
}

func readOtherInfo(oi *xnode, d *docv1.Document) error {
	if oi == nil {
		return nil
	}
	p, err := readInt(oi, "MessageHeader.OtherInfo.Priority", "Priority")
	if err != nil {
		return err
	}
	d.Priority = p
	present := false
	for _, l := range []string{"SphereOfPromulgation", "TyperNotation", "PromulgationAmount", "PageAmount", "Appendixes", "Appendix"} {
		if oi.child(l) != nil {
			present = true
		}
	}
	if !present {
		return nil
	}
	o := &docv1.OtherInfo{SphereOfPromulgation: oi.str("SphereOfPromulgation"), TyperNotation: oi.str("TyperNotation")}
	if o.PromulgationAmount, err = readInt(oi, "MessageHeader.OtherInfo.PromulgationAmount", "PromulgationAmount"); err != nil {
		return err
	}
	if o.PageAmount, err = readInt(oi, "MessageHeader.OtherInfo.PageAmount", "PageAmount"); err != nil {
		return err
	}
	for _, a := range oi.path("Appendixes").children("Appendix") {
		o.Appendixes = append(o.Appendixes, a.text.String())
	}
	for _, a := range oi.children("Appendix") { // the VPCP form: directly in OtherInfo
		if t := a.text.String(); t != "" {
			o.Appendixes = append(o.Appendixes, t)
		}
	}
	d.OtherInfo = o
	return nil
}

// nationalIDRE is the national document id: OrganId,yyyy/MM/dd,Number/Notation.
var nationalIDRE = regexp.MustCompile(`^([^,]+),(\d{4})/(\d{2})/(\d{2}),([^/]+)/(.+)$`)

// idOfNational is lienthong's id of the document a national id names (the id is derived
// from sender, number, notation and date: documentID), with its parts.
func idOfNational(national string) (id, organ, date, code string, ok bool) {
	m := nationalIDRE.FindStringSubmatch(strings.TrimSpace(national))
	if m == nil {
		return "", "", "", "", false
	}
	date = m[2] + "-" + m[3] + "-" + m[4]
	ref := &docv1.Document{From: m[1], CodeNumber: m[5], CodeNotation: m[6], PromulgationDate: date}
	return documentID(ref), m[1], date, m[5] + "/" + m[6], true
}

// readResponseFor reads the earlier document referred to. In the national and VPCP forms
// its DocumentId is the national id, read as the id lienthong gives that document; in
// lienthong's variant it is lienthong's id.
func readResponseFor(n *xnode, form edxmlForm) *docv1.ResponseFor {
	rf := &docv1.ResponseFor{OrganId: strings.TrimSpace(n.str("OrganId")), Code: n.str("Code"),
		PromulgationDate: fromEdxmlDate(n.str("PromulgationDate"))}
	id := strings.TrimSpace(n.str("DocumentId"))
	switch {
	case form == formLienthong || docIDRE.MatchString(id):
		rf.DocumentId = id
	default:
		if our, organ, date, code, ok := idOfNational(id); ok {
			rf.DocumentId = our
			if rf.OrganId == "" {
				rf.OrganId = organ
			}
			if rf.PromulgationDate == "" {
				rf.PromulgationDate = date
			}
			if rf.Code == "" {
				rf.Code = code
			}
		}
	}
	return rf
}

func readTrace(trace, mh *xnode, d *docv1.Document) error {
	if trace == nil {
		trace = mh.child("TraceHeaderList") // the VPCP form keeps it in the header
	}
	for _, t := range trace.children("TraceHeader") {
		th := &docv1.TraceHeader{OrganId: strings.TrimSpace(t.str("OrganId")), Timestamp: t.str("Timestamp")}
		if t.child("Path") != nil { // VPCP: Time and Path/From
			th.OrganId, th.Timestamp = strings.TrimSpace(t.str("Path", "From")), t.str("Time")
		}
		d.TraceHeaders = append(d.TraceHeaders, th)
	}
	b := trace.child("Bussiness")
	if b == nil {
		return nil
	}
	v, err := readInt(b, "TraceHeaderList.Bussiness.BussinessDocType", "BussinessDocType")
	if err != nil {
		return err
	}
	d.BusinessType = docv1.BusinessType(v)
	present := false
	for _, l := range []string{"BussinessDocReason", "Paper", "StaffInfo", "ReplacementInfoList", "DocumentId"} {
		if b.child(l) != nil {
			present = true
		}
	}
	if !present {
		return nil
	}
	bz := &docv1.Business{Reason: b.str("BussinessDocReason"), StaffInfo: readStaff(b.child("StaffInfo")),
		DocumentId: strings.TrimSpace(b.str("DocumentId"))}
	switch p := strings.TrimSpace(b.str("Paper")); p {
	case "", "0", "false":
	case "1", "true":
		bz.Paper = true
	default:
		return edxmlInvalid("TraceHeaderList.Bussiness.Paper", "must be 0 or 1, got %q", p)
	}
	for _, r := range b.path("ReplacementInfoList").children("ReplacementInfo") {
		ri := &docv1.ReplacementInfo{DocumentId: strings.TrimSpace(r.str("DocumentId"))}
		for _, o := range r.path("OrganIdList").children("OrganId") {
			ri.OrganIds = append(ri.OrganIds, strings.TrimSpace(o.text.String()))
		}
		bz.ReplacementInfo = append(bz.ReplacementInfo, ri)
	}
	d.Business = bz
	return nil
}

// cid is a content id without its cid: prefix, as the two sides of a package may differ.
func cid(s string) string { return strings.TrimPrefix(strings.TrimSpace(s), "cid:") }

// readAttachments reads the manifest and the AttachmentEncoded section. In the national
// form the content is the file zipped, then base64; the file itself is kept.
func readAttachments(root *xnode, form edxmlForm, maxBytes int64) ([]*docv1.Attachment, error) {
	refs, err := matchAttachments(root, form)
	if err != nil {
		return nil, err
	}
	var out []*docv1.Attachment
	var total int64
	for i, r := range refs {
		a := r.a
		raw, err := base64.StdEncoding.DecodeString(stripSpace(r.body.text.String()))
		if err != nil {
			return nil, edxmlInvalid(fmt.Sprintf("AttachmentEncoded.Attachment[%d]", i), "not base64")
		}
		a.Content = raw
		if form == formNational {
			file, unzipped, err := unzipAttachment(raw, maxBytes-total)
			if err != nil {
				return nil, edxmlInvalid(fmt.Sprintf("AttachmentEncoded.Attachment[%d]", i), "%v", err)
			}
			a.Content = file
			unzippedType(a, unzipped)
		}
		total += int64(len(a.Content))
		if total > maxBytes {
			return nil, edxmlInvalid("AttachmentEncoded", "the attachments hold more than %d bytes", maxBytes)
		}
		out = append(out, a)
	}
	return out, nil
}

// attachmentRef is an attachment of a package as its manifest and its encoded section
// describe it (no content yet), and the element whose text is its base64 content.
type attachmentRef struct {
	a    *docv1.Attachment
	body *xnode
}

// matchAttachments pairs the manifest's references with the AttachmentEncoded section's
// attachments by content id, in the manifest's order.
func matchAttachments(root *xnode, form edxmlForm) ([]attachmentRef, error) {
	var refs []*xnode
	if m := root.find("edXMLManifest"); m != nil {
		refs = m.children("Reference")
	}
	type enc struct {
		node, body *xnode
	}
	byCID := map[string]enc{}
	var encs []*xnode
	if ae := root.find("AttachmentEncoded"); ae != nil {
		encs = ae.children("Attachment")
	}
	for i, a := range encs {
		id, body := a.str("ContentId"), a
		if id == "" {
			id = a.attr("ContentId")
		}
		if t := a.child("ContentTransferEncoded"); t != nil {
			body = t
		}
		id = cid(id)
		if _, dup := byCID[id]; dup || id == "" {
			return nil, edxmlInvalid(fmt.Sprintf("AttachmentEncoded.Attachment[%d].ContentId", i), "missing or repeated")
		}
		byCID[id] = enc{a, body}
	}
	if len(refs) == 0 && form == formNational {
		// No manifest: the attachments describe themselves.
		refs = append(refs, encs...)
	}
	if len(refs) != len(encs) {
		return nil, edxmlInvalid("edXMLManifest", "lists %d attachments, the package carries %d", len(refs), len(encs))
	}
	out := make([]attachmentRef, 0, len(refs))
	for i, ref := range refs {
		id := ref.str("ContentId")
		if id == "" {
			id = ref.attr("ContentId")
		}
		if id == "" {
			id = ref.attr("href")
		}
		e, ok := byCID[cid(id)]
		if !ok {
			return nil, edxmlInvalid(fmt.Sprintf("edXMLManifest.Reference[%d].ContentId", i), "no attachment %q in the package", id)
		}
		name := ref.str("AttachmentName")
		if name == "" {
			name = e.node.str("AttachmentName")
		}
		ct := ref.str("ContentType")
		if ct == "" {
			ct = e.node.str("ContentType")
		}
		desc := ref.str("Description")
		if ref.child("Description") == nil {
			desc = e.node.str("Description")
		}
		a := &docv1.Attachment{Name: name, ContentType: ct, Description: desc}
		if form != formNational {
			a.Size, a.Sha256 = sizeOf(ref.str("Size")), ref.str("Sha256")
		}
		out = append(out, attachmentRef{a: a, body: e.body})
	}
	return out, nil
}

// unzippedType gives an attachment that arrived as a zip of one file the content type of
// the file's name.
func unzippedType(a *docv1.Attachment, unzipped bool) {
	ct, name := a.GetContentType(), a.GetName()
	if unzipped && (ct == "application/zip" || ct == "application/x-zip-compressed") && !strings.HasSuffix(strings.ToLower(name), ".zip") {
		a.ContentType = contentTypeOf(name)
	}
}

func sizeOf(s string) int64 {
	v, _ := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return v
}

// readVPCPAttachments reads the VPCP form's Manifest/Attachment (Content in base64,
// FileName, FileType).
func readVPCPAttachments(root *xnode, maxBytes int64) ([]*docv1.Attachment, error) {
	var out []*docv1.Attachment
	var total int64
	for i, a := range root.path("Manifest").children("Attachment") {
		raw, err := base64.StdEncoding.DecodeString(stripSpace(a.str("Content")))
		if err != nil {
			return nil, edxmlInvalid(fmt.Sprintf("Manifest.Attachment[%d].Content", i), "not base64")
		}
		total += int64(len(raw))
		if total > maxBytes {
			return nil, edxmlInvalid("Manifest", "the attachments hold more than %d bytes", maxBytes)
		}
		out = append(out, &docv1.Attachment{Name: a.str("FileName"), ContentType: a.str("FileType"), Content: raw})
	}
	return out, nil
}

var (
	dmyRE     = regexp.MustCompile(`^(\d{2})/(\d{2})/(\d{4})$`)
	isoTimeRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}[T ]`)
)

// fromEdxmlDate reads yyyy/MM/dd (or YYYY-MM-DD, an ISO time, dd/MM/yyyy) as YYYY-MM-DD.
func fromEdxmlDate(s string) string {
	s = strings.TrimSpace(s)
	if m := dmyRE.FindStringSubmatch(s); m != nil {
		return m[3] + "-" + m[2] + "-" + m[1]
	}
	if isoTimeRE.MatchString(s) {
		return s[:10]
	}
	return strings.ReplaceAll(s, "/", "-")
}

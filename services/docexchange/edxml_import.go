package docexchange

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/protobuf/proto"
)

// ImportEdxml sends a document given as an edXML package, or records the status a status
// package reports.
func (s *Service) ImportEdxml(ctx context.Context, r *docv1.ImportEdxmlRequest) (*docv1.SendDocumentResponse, error) {
	if _, err := platform.RequireRole(ctx, platform.RoleAdmin, platform.RoleProvince, platform.RoleAgency); err != nil {
		return nil, err
	}
	p, err := parseEdxmlPackage(r.GetEdxml(), s.maxDoc)
	if err != nil {
		return nil, err
	}
	if p.status != nil {
		return s.importStatus(ctx, p.status)
	}
	d := p.doc
	subject, err := s.verifyXMLSignature(ctx, r.GetEdxml(), p.root, d)
	if err != nil {
		return nil, err
	}
	return s.importDocument(ctx, d, subject)
}

// importDocument sends a document read from an edXML package (xmlSigner: the subject of the
// package's verified XML signature) and gives a revocation its effect; a package carrying a
// document already here with the same meaning is answered as a duplicate.
func (s *Service) importDocument(ctx context.Context, d *docv1.Document, xmlSigner string) (*docv1.SendDocumentResponse, error) {
	if dup, err := s.sameMeaning(ctx, d); err != nil || dup != nil {
		if err == nil {
			err = s.applyBusiness(ctx, dup.GetDocument())
		}
		return dup, err
	}
	resp, err := s.send(ctx, d, sendOptions{xmlSigner: xmlSigner})
	if err != nil {
		return nil, err
	}
	if err := s.applyBusiness(ctx, resp.GetDocument()); err != nil {
		return nil, err
	}
	return resp, nil
}

// sameMeaning answers the stored document when a package carries a document already here
// with the same meaning: what the national form leaves out (lienthong's JSON signature,
// message id, digests written in the envelope) does not make it another document.
func (s *Service) sameMeaning(ctx context.Context, d *docv1.Document) (*docv1.SendDocumentResponse, error) {
	if validateEnvelope(d) != nil {
		return nil, nil // send says what is wrong
	}
	id := documentID(d)
	sd, err := s.readableDoc(ctx, id)
	if err != nil {
		return nil, nil // not here (or not readable): send decides
	}
	if !proto.Equal(meaningOf(sd.GetDocument(), false), meaningOf(d, true)) {
		return nil, nil
	}
	return &docv1.SendDocumentResponse{Id: id, Duplicate: true, Document: sd.GetDocument()}, nil
}

// meaningOf is a document without what the service keeps and what the national form does
// not carry; incoming attachments get their digest and size from their content.
func meaningOf(d *docv1.Document, incoming bool) *docv1.Document {
	c := proto.Clone(d).(*docv1.Document)
	c.Id, c.Recipients, c.SentAt, c.Links, c.SupersededBy, c.XmlSignatureSubject = "", nil, "", nil, "", ""
	c.Signature, c.MessageId = nil, ""
	for _, a := range c.Attachments {
		if incoming && a.GetUploadId() == "" { // a streamed attachment has them already
			sum := sha256.Sum256(a.GetContent())
			a.Sha256, a.Size = hex.EncodeToString(sum[:]), int64(len(a.GetContent()))
		}
		a.Content, a.UploadId, a.Pdf = nil, "", nil
	}
	normalizeUnsigned(c)
	return c
}

// applyBusiness gives a revocation its effect: the revoked document is recalled (13) from
// every recipient that can still give it back. Update and replacement are linked and the
// earlier document marked superseded when the later one is stored (send). Applying it again
// changes nothing, so a retried revocation completes it.
func (s *Service) applyBusiness(ctx context.Context, d *docv1.Document) error {
	if d.GetBusinessType() != docv1.BusinessType_BUSINESS_TYPE_REVOKE || d.GetResponseFor().GetDocumentId() == "" {
		return nil
	}
	c, err := platform.RequireRole(ctx, platform.RoleAdmin, platform.RoleProvince, platform.RoleAgency)
	if err != nil {
		return err
	}
	reason := d.GetBusiness().GetReason()
	if reason == "" {
		reason = "Thu hồi văn bản " + d.GetCodeNumber() + "/" + d.GetCodeNotation()
	}
	_, err = s.recall(ctx, c, d.GetResponseFor().GetDocumentId(), nil, reason, s.now())
	var pe *platform.Error
	if errors.As(err, &pe) && pe.Reason == "TRANSITION_NOT_ALLOWED" {
		return nil // every recipient has finished, rejected or already answered a recall
	}
	return err
}

// ExportEdxml answers a document as an edXML package: national form unless asked otherwise.
func (s *Service) ExportEdxml(ctx context.Context, r *docv1.ExportEdxmlRequest) (*httpbody.HttpBody, error) {
	o := exportOptions{form: formNational}
	switch r.GetFormat() {
	case "", "national":
	case "lienthong":
		o.form = formLienthong
	default:
		return nil, platform.Invalid(platform.FieldViolation{Field: "format", Description: "must be national or lienthong"})
	}
	sd, err := s.readableDoc(ctx, r.GetId())
	if err != nil {
		return nil, err
	}
	var contents [][]byte
	var total int64
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
			total += int64(len(chunk))
			if total > s.maxDoc {
				return nil, platform.ResourceExhausted("DOCUMENT_TOO_LARGE",
					"the attachments are too large for one edXML package; download them one by one",
					"Tệp đính kèm quá lớn để xuất trong một gói edXML; hãy tải từng tệp.")
			}
			data = append(data, chunk...)
		}
		contents = append(contents, data)
	}
	if rf := sd.GetDocument().GetResponseFor().GetDocumentId(); rf != "" && o.form == formNational {
		err := s.db.View(func(tx *bolt.Tx) error {
			ref, err := loadDoc(tx, rf)
			if err == nil && ref != nil {
				o.responseForNational = nationalIDOf(ref.GetDocument())
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	out, err := marshalEdxml(sd.GetDocument(), contents, o)
	if err != nil {
		return nil, err
	}
	return &httpbody.HttpBody{ContentType: "application/xml; charset=utf-8", Data: out}, nil
}

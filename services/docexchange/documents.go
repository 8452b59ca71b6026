package docexchange

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/store/v1"
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// sendOptions are what the demo loader may set that a client cannot.
type sendOptions struct {
	at     time.Time // when the document is taken as delivered
	system string    // the sending system
	// xmlSigner is the subject of the certificate whose XML signature of the edXML package
	// was verified (edxml_xmldsig.go).
	xmlSigner string
}

// send checks and stores a document and delivers it. Anything refused stores nothing.
func (s *Service) send(ctx context.Context, d *docv1.Document, o sendOptions) (*docv1.SendDocumentResponse, error) {
	c, err := platform.RequireRole(ctx, platform.RoleAdmin, platform.RoleProvince, platform.RoleAgency)
	if err != nil {
		return nil, err
	}
	if o.system == "" {
		o.system = c.System
	}
	if o.at.IsZero() {
		o.at = s.now()
	}
	if err := validateEnvelope(d); err != nil {
		return nil, err
	}
	if err := validateEdxmlFields(d); err != nil {
		return nil, err
	}
	if err := checkDocumentDates(d, o.at); err != nil {
		return nil, err
	}
	if c.Role == platform.RoleAgency && d.GetFrom() != c.Agency() {
		return nil, platform.PermissionDenied(
			fmt.Sprintf("a token of agency %s may not send as %s", c.Agency(), d.GetFrom()),
			fmt.Sprintf("Mã truy cập của cơ quan %s không được gửi văn bản thay cơ quan %s.", c.Agency(), d.GetFrom()))
	}
	normalizeUnsigned(d)
	agencies := append([]string{d.GetFrom()}, d.GetTo()...)
	units, err := s.refs.agencyUnits(ctx, agencies)
	if err != nil {
		return nil, err
	}
	var v platform.Violations
	if _, ok := units[d.GetFrom()]; !ok {
		v.Add("from", "agency %s is not in the catalog", d.GetFrom())
	}
	for i, t := range d.GetTo() {
		if _, ok := units[t]; !ok {
			v.Add(fmt.Sprintf("to[%d]", i), "agency %s is not in the catalog", t)
		}
	}
	if len(v) > 0 {
		e := platform.Invalid(v...)
		e.Reason = "UNKNOWN_REFERENCE"
		return nil, e
	}
	if c.Role == platform.RoleProvince && units[d.GetFrom()] != c.Unit {
		return nil, platform.PermissionDenied(
			fmt.Sprintf("a token of unit %s may not send for agency %s of unit %s", c.Unit, d.GetFrom(), units[d.GetFrom()]),
			fmt.Sprintf("Mã truy cập của đơn vị %s không được gửi văn bản thay cơ quan %s.", c.Unit, d.GetFrom()))
	}
	if err := s.checkAgenciesOpen(ctx, d); err != nil {
		return nil, err
	}
	// Inline attachments: size, digest and the request limit.
	signed := d.GetSignature() != nil
	var total int64
	for i, a := range d.GetAttachments() {
		f := fmt.Sprintf("attachments[%d]", i)
		if a.GetUploadId() != "" {
			continue
		}
		total += int64(len(a.GetContent()))
		if total > s.maxDoc {
			return nil, platform.ResourceExhausted("DOCUMENT_TOO_LARGE",
				fmt.Sprintf("attachments larger than %d bytes in one request; stream large files with UploadAttachment", s.maxDoc),
				"Tệp đính kèm vượt quá giới hạn của một yêu cầu; hãy tải lên tệp lớn bằng UploadAttachment.")
		}
		sum := sha256.Sum256(a.GetContent())
		hx := hex.EncodeToString(sum[:])
		if a.GetSha256() != "" && a.GetSha256() != hx {
			return nil, signatureError("ATTACHMENT_DIGEST_MISMATCH", f+".sha256",
				fmt.Sprintf("attachment %q: the content's SHA-256 is %s, the document says %s", a.GetName(), hx, a.GetSha256()),
				fmt.Sprintf("mã băm của tệp %q không khớp với nội dung", a.GetName()))
		}
		if a.GetSize() != 0 && a.GetSize() != int64(len(a.GetContent())) {
			return nil, signatureError("ATTACHMENT_SIZE_MISMATCH", f+".size",
				fmt.Sprintf("attachment %q has %d bytes, the document says %d", a.GetName(), len(a.GetContent()), a.GetSize()),
				fmt.Sprintf("kích thước tệp %q không khớp", a.GetName()))
		}
		if !signed { // a signed document stays exactly as signed
			a.Sha256, a.Size = hx, int64(len(a.GetContent()))
		}
	}

	var resp *docv1.SendDocumentResponse
	delivered := false
	// Batch: concurrent sends share one commit (and its fsync). A function of a batch that
	// fails is run again alone, so it starts from nothing each time.
	err = s.db.Batch(func(tx *bolt.Tx) error {
		resp, delivered = nil, false
		// Uploaded attachments: they must be the caller's and match their digest.
		for i, a := range d.GetAttachments() {
			if a.GetUploadId() == "" {
				continue
			}
			f := fmt.Sprintf("attachments[%d]", i)
			u, err := loadUpload(tx, a.GetUploadId(), c.Agency())
			if err != nil {
				return err
			}
			if u == nil && c.Role == platform.RoleAdmin {
				u, err = loadUpload(tx, a.GetUploadId(), "")
				if err != nil {
					return err
				}
			}
			if u == nil {
				return platform.Invalid(platform.FieldViolation{Field: f + ".upload_id", Description: "no such upload of this agency"})
			}
			if a.GetSha256() != "" && a.GetSha256() != u.GetSha256() {
				return signatureError("ATTACHMENT_DIGEST_MISMATCH", f+".sha256",
					fmt.Sprintf("attachment %q: the upload's SHA-256 is %s, the document says %s", a.GetName(), u.GetSha256(), a.GetSha256()),
					fmt.Sprintf("mã băm của tệp %q không khớp với nội dung", a.GetName()))
			}
			if a.GetSize() != 0 && a.GetSize() != u.GetSize() {
				return signatureError("ATTACHMENT_SIZE_MISMATCH", f+".size",
					fmt.Sprintf("attachment %q has %d bytes, the document says %d", a.GetName(), u.GetSize(), a.GetSize()),
					fmt.Sprintf("kích thước tệp %q không khớp", a.GetName()))
			}
			if !signed {
				a.Sha256, a.Size = u.GetSha256(), u.GetSize()
			}
		}
		if d.GetSignature() != nil {
			if err := s.verifySignature(tx, d, s.now()); err != nil {
				return err
			}
		}
		canon, err := CanonicalBytes(d)
		if err != nil {
			return fmt.Errorf("canonical document: %w", err)
		}
		contentHash := payloadHash(canon)
		id := documentID(d)
		// Duplicates: by (from, number, notation, date), then by message id.
		existing := tx.Bucket(bucketDupKeys).Get([]byte(dupKey(d)))
		if existing == nil && d.GetMessageId() != "" {
			existing = tx.Bucket(bucketMsgIDs).Get([]byte(d.GetFrom() + "\x00" + d.GetMessageId()))
		}
		if existing != nil {
			sd, err := loadDoc(tx, string(existing))
			if err != nil || sd == nil {
				return fmt.Errorf("document %s indexed but not stored: %v", existing, err)
			}
			if !bytes.Equal(sd.GetContentHash(), contentHash) {
				e := platform.AlreadyExists("document", string(existing))
				e.Message = fmt.Sprintf("document %s has the same sender and number/notation/date or message id, with other content", existing)
				return e
			}
			resp = &docv1.SendDocumentResponse{Id: string(existing), Duplicate: true, Document: sd.GetDocument()}
			return nil
		}
		if rf := d.GetResponseFor().GetDocumentId(); rf != "" {
			orig, err := loadDoc(tx, rf)
			if err != nil {
				return err
			}
			if orig == nil {
				return &platform.Error{Code: codes.InvalidArgument, Reason: "UNKNOWN_REFERENCE", Message: "response_for names no stored document",
					MessageVI:  "Văn bản được tham chiếu không tồn tại.",
					Violations: []platform.FieldViolation{{Field: "response_for.document_id", Description: "no document " + rf}}}
			}
			if d.GetBusinessType() != docv1.BusinessType_BUSINESS_TYPE_NEW {
				if orig.GetDocument().GetFrom() != d.GetFrom() {
					return platform.FailedPrecondition("NOT_ORIGINAL_SENDER",
						"only the agency that sent a document may revoke, update or replace it",
						"Chỉ cơ quan đã gửi văn bản mới được thu hồi, cập nhật hoặc thay thế văn bản đó.")
				}
				orig.Document.Links = append(orig.Document.Links, &docv1.DocumentLink{DocumentId: id, BusinessType: d.GetBusinessType()})
				if bt := d.GetBusinessType(); bt == docv1.BusinessType_BUSINESS_TYPE_UPDATE || bt == docv1.BusinessType_BUSINESS_TYPE_REPLACE {
					orig.Document.SupersededBy = id
				}
				if err := putDoc(tx, orig); err != nil {
					return err
				}
			}
		}
		// Attachment content.
		sd := &storev1.StoredDocument{SenderSystem: o.system, FromUnit: units[d.GetFrom()], ContentHash: contentHash}
		for _, a := range d.GetAttachments() {
			if a.GetUploadId() != "" {
				sd.BlobIds = append(sd.BlobIds, a.GetUploadId())
				if err := tx.Bucket(bucketUploads).Delete([]byte(a.GetUploadId())); err != nil {
					return err
				}
				continue
			}
			blob := newBlobID()
			if _, err := putChunks(tx, blob, 0, a.GetContent()); err != nil {
				return err
			}
			sd.BlobIds = append(sd.BlobIds, blob)
		}
		stored := proto.Clone(d).(*docv1.Document)
		for _, a := range stored.Attachments {
			a.Content, a.UploadId = nil, ""
		}
		stored.Id, stored.SentAt, stored.XmlSignatureSubject = id, rfc3339(o.at), o.xmlSigner
		seq, err := nextSeq(tx, "delivery")
		if err != nil {
			return err
		}
		sd.DeliverySeq = seq
		for _, t := range d.GetTo() {
			sd.RecipientUnits = append(sd.RecipientUnits, units[t])
			stored.Recipients = append(stored.Recipients, &docv1.Recipient{
				AgencyCode: t, Status: stArrived, UpdatedAt: stored.SentAt,
				History: []*docv1.StatusChange{{Status: stArrived, UpdatedAt: stored.SentAt, ReportedBy: o.system}},
			})
			if err := tx.Bucket(bucketInbox).Put(inboxKey(t, seq), []byte(id)); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketSent).Put(inboxKey(d.GetFrom(), seq), []byte(id)); err != nil {
			return err
		}
		sd.Document = stored
		if err := putDoc(tx, sd); err != nil {
			return err
		}
		if err := tx.Bucket(bucketDupKeys).Put([]byte(dupKey(d)), []byte(id)); err != nil {
			return err
		}
		if d.GetMessageId() != "" {
			if err := tx.Bucket(bucketMsgIDs).Put([]byte(d.GetFrom()+"\x00"+d.GetMessageId()), []byte(id)); err != nil {
				return err
			}
		}
		rec := &storev1.EvidenceRecord{Kind: kindAccepted, DocumentId: id, AgencyCode: d.GetFrom(), PayloadSha256: contentHash, Actor: o.system}
		if err := s.appendEvidence(tx, rec, s.now()); err != nil {
			return err
		}
		resp, delivered = &docv1.SendDocumentResponse{Id: id, Document: stored}, true
		return nil
	})
	if err != nil {
		return nil, err
	}
	if delivered {
		s.wake()
	}
	return resp, nil
}

func inboxKey(agency string, seq uint64) []byte {
	k := make([]byte, 0, len(agency)+9)
	k = append(k, agency...)
	k = append(k, 0)
	return append(k, be64(seq)...)
}

func loadDoc(tx *bolt.Tx, id string) (*storev1.StoredDocument, error) {
	raw := tx.Bucket(bucketDocs).Get([]byte(id))
	if raw == nil {
		return nil, nil
	}
	var sd storev1.StoredDocument
	if err := proto.Unmarshal(raw, &sd); err != nil {
		return nil, fmt.Errorf("document %s: %w", id, err)
	}
	return &sd, nil
}

func putDoc(tx *bolt.Tx, sd *storev1.StoredDocument) error {
	v, err := proto.Marshal(sd)
	if err != nil {
		return err
	}
	// The statistics counters follow the document in the same transaction (stats_counters.go).
	if err := countDocument(tx, sd); err != nil {
		return err
	}
	return tx.Bucket(bucketDocs).Put([]byte(sd.GetDocument().GetId()), v)
}

// mayRead says whether the caller may read a stored document: admin and ministry all, an
// agency what it sent or received, a province what an agency of its unit sent or received.
func mayRead(c *platform.Caller, sd *storev1.StoredDocument) bool {
	switch c.Role {
	case platform.RoleAdmin, platform.RoleMinistry:
		return true
	case platform.RoleAgency:
		if sd.GetDocument().GetFrom() == c.Agency() {
			return true
		}
		for _, t := range sd.GetDocument().GetTo() {
			if t == c.Agency() {
				return true
			}
		}
	case platform.RoleProvince:
		if sd.GetFromUnit() == c.Unit {
			return true
		}
		for _, u := range sd.GetRecipientUnits() {
			if u == c.Unit {
				return true
			}
		}
	}
	return false
}

// readableDoc loads a document the caller may read. A document the caller may not read is
// NOT_FOUND, so ids of other agencies' documents are not confirmed.
func (s *Service) readableDoc(ctx context.Context, id string) (*storev1.StoredDocument, error) {
	c, err := platform.RequireRole(ctx, platform.RoleAdmin, platform.RoleMinistry, platform.RoleProvince, platform.RoleAgency)
	if err != nil {
		return nil, err
	}
	if !docIDRE.MatchString(id) {
		return nil, platform.NotFound("document", id)
	}
	var sd *storev1.StoredDocument
	err = s.db.View(func(tx *bolt.Tx) error {
		sd, err = loadDoc(tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	if sd == nil || !mayRead(c, sd) {
		return nil, platform.NotFound("document", id)
	}
	return sd, nil
}

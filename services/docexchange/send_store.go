package docexchange

import (
	"bytes"
	"fmt"

	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/store/v1"
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// storeSent is the last stage of send, in the storing transaction: a document already
// stored with the same content is answered as a duplicate; otherwise the document it answers
// is linked to it, its attachments, the document, its deliveries and the evidence of its
// acceptance are stored. delivered says whether recipients have something new.
func (s *Service) storeSent(tx *bolt.Tx, st *sendState) (resp *docv1.SendDocumentResponse, delivered bool, err error) {
	d := st.d
	canon, err := CanonicalBytes(d)
	if err != nil {
		return nil, false, fmt.Errorf("canonical document: %w", err)
	}
	contentHash := payloadHash(canon)
	id := documentID(d)
	if resp, err := findDuplicate(tx, d, contentHash); resp != nil || err != nil {
		return resp, false, err
	}
	if err := linkToAnswered(tx, d, id); err != nil {
		return nil, false, err
	}
	sd := &storev1.StoredDocument{SenderSystem: st.o.system, FromUnit: st.units[d.GetFrom()], ContentHash: contentHash}
	if err := storeAttachments(tx, sd, d); err != nil {
		return nil, false, err
	}
	stored := proto.Clone(d).(*docv1.Document)
	for _, a := range stored.Attachments {
		a.Content, a.UploadId = nil, ""
	}
	if err := s.recordPDFInspections(st, stored); err != nil {
		return nil, false, err
	}
	stored.Id, stored.SentAt, stored.XmlSignatureSubject = id, rfc3339(st.o.at), st.o.xmlSigner
	sd.Document = stored
	if err := deliverStored(tx, st, sd); err != nil {
		return nil, false, err
	}
	if err := putDoc(tx, sd); err != nil {
		return nil, false, err
	}
	if err := indexStored(tx, d, id); err != nil {
		return nil, false, err
	}
	rec := &storev1.EvidenceRecord{Kind: kindAccepted, DocumentId: id, AgencyCode: d.GetFrom(), PayloadSha256: contentHash, Actor: st.o.system}
	if err := s.appendEvidence(tx, rec, s.now()); err != nil {
		return nil, false, err
	}
	return &docv1.SendDocumentResponse{Id: id, Document: stored}, true, nil
}

// findDuplicate answers a document stored before under the same (from, number, notation,
// date), then the same message id: as a duplicate with the same content, ALREADY_EXISTS
// with other content. Neither (nil, nil): the document is new.
func findDuplicate(tx *bolt.Tx, d *docv1.Document, contentHash []byte) (*docv1.SendDocumentResponse, error) {
	existing := tx.Bucket(bucketDupKeys).Get([]byte(dupKey(d)))
	if existing == nil && d.GetMessageId() != "" {
		existing = tx.Bucket(bucketMsgIDs).Get([]byte(d.GetFrom() + "\x00" + d.GetMessageId()))
	}
	if existing == nil {
		return nil, nil
	}
	sd, err := loadDoc(tx, string(existing))
	if err != nil || sd == nil {
		return nil, fmt.Errorf("document %s indexed but not stored: %v", existing, err)
	}
	if !bytes.Equal(sd.GetContentHash(), contentHash) {
		e := platform.AlreadyExists("document", string(existing))
		e.Message = fmt.Sprintf("document %s has the same sender and number/notation/date or message id, with other content", existing)
		return nil, e
	}
	return &docv1.SendDocumentResponse{Id: string(existing), Duplicate: true, Document: sd.GetDocument()}, nil
}

// linkToAnswered checks the document d answers (response_for) is stored and, for a
// revocation, update or replacement, that d comes from its sender; it links that document
// to d (id) and marks it superseded by an update or replacement.
func linkToAnswered(tx *bolt.Tx, d *docv1.Document, id string) error {
	rf := d.GetResponseFor().GetDocumentId()
	if rf == "" {
		return nil
	}
	orig, err := loadDoc(tx, rf)
	if err != nil {
		return err
	}
	if orig == nil {
		return &platform.Error{Code: codes.InvalidArgument, Reason: "UNKNOWN_REFERENCE", Message: "response_for names no stored document",
			MessageVI:  "Văn bản được tham chiếu không tồn tại.",
			Violations: []platform.FieldViolation{{Field: "response_for.document_id", Description: "no document " + rf}}}
	}
	bt := d.GetBusinessType()
	if bt == docv1.BusinessType_BUSINESS_TYPE_NEW {
		return nil
	}
	if orig.GetDocument().GetFrom() != d.GetFrom() {
		return platform.FailedPrecondition("NOT_ORIGINAL_SENDER",
			"only the agency that sent a document may revoke, update or replace it",
			"Chỉ cơ quan đã gửi văn bản mới được thu hồi, cập nhật hoặc thay thế văn bản đó.")
	}
	orig.Document.Links = append(orig.Document.Links, &docv1.DocumentLink{DocumentId: id, BusinessType: bt})
	if bt == docv1.BusinessType_BUSINESS_TYPE_UPDATE || bt == docv1.BusinessType_BUSINESS_TYPE_REPLACE {
		orig.Document.SupersededBy = id
	}
	return putDoc(tx, orig)
}

// storeAttachments stores the content of inline attachments as blobs and takes over
// uploaded ones, recording each blob in sd in the attachments' order.
func storeAttachments(tx *bolt.Tx, sd *storev1.StoredDocument, d *docv1.Document) error {
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
	return nil
}

// deliverStored gives the stored document its delivery sequence number and each recipient
// its first status (arrived), and puts it in each recipient's inbox and the sender's sent
// list.
func deliverStored(tx *bolt.Tx, st *sendState, sd *storev1.StoredDocument) error {
	stored, id := sd.Document, []byte(sd.Document.GetId())
	seq, err := nextSeq(tx, "delivery")
	if err != nil {
		return err
	}
	sd.DeliverySeq = seq
	for _, t := range st.d.GetTo() {
		sd.RecipientUnits = append(sd.RecipientUnits, st.units[t])
		stored.Recipients = append(stored.Recipients, &docv1.Recipient{
			AgencyCode: t, Status: stArrived, UpdatedAt: stored.SentAt,
			History: []*docv1.StatusChange{{Status: stArrived, UpdatedAt: stored.SentAt, ReportedBy: st.o.system}},
		})
		if err := tx.Bucket(bucketInbox).Put(inboxKey(t, seq), id); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketSent).Put(inboxKey(st.d.GetFrom(), seq), id)
}

// indexStored records the document's id under its duplicate key and its message id.
func indexStored(tx *bolt.Tx, d *docv1.Document, id string) error {
	if err := tx.Bucket(bucketDupKeys).Put([]byte(dupKey(d)), []byte(id)); err != nil {
		return err
	}
	if d.GetMessageId() == "" {
		return nil
	}
	return tx.Bucket(bucketMsgIDs).Put([]byte(d.GetFrom()+"\x00"+d.GetMessageId()), []byte(id))
}

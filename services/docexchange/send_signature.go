package docexchange

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
)

// checkInlineAttachments is the part of send's third stage that needs no transaction: the
// attachments sent in the request are within the request limit and match the size and
// SHA-256 the document gives them. An unsigned document is given them.
func (s *Service) checkInlineAttachments(st *sendState) error {
	var total int64
	for i, a := range st.d.GetAttachments() {
		if a.GetUploadId() != "" {
			continue
		}
		total += int64(len(a.GetContent()))
		if total > s.maxDoc {
			return platform.ResourceExhausted("DOCUMENT_TOO_LARGE",
				fmt.Sprintf("attachments larger than %d bytes in one request; stream large files with UploadAttachment", s.maxDoc),
				"Tệp đính kèm vượt quá giới hạn của một yêu cầu; hãy tải lên tệp lớn bằng UploadAttachment.")
		}
		sum := sha256.Sum256(a.GetContent())
		if err := matchAttachment(st, i, a, hex.EncodeToString(sum[:]), int64(len(a.GetContent())), "content"); err != nil {
			return err
		}
	}
	return nil
}

// checkSendSignatures is the third stage of send, in the storing transaction: uploaded
// attachments are the caller's and match their digest, then the document's signature (if
// any) is verified over the completed document.
func (s *Service) checkSendSignatures(tx *bolt.Tx, st *sendState) error {
	for i, a := range st.d.GetAttachments() {
		if a.GetUploadId() == "" {
			continue
		}
		u, err := loadUpload(tx, a.GetUploadId(), st.c.Agency())
		if err != nil {
			return err
		}
		if u == nil && st.c.Role == platform.RoleAdmin {
			if u, err = loadUpload(tx, a.GetUploadId(), ""); err != nil {
				return err
			}
		}
		if u == nil {
			return platform.Invalid(platform.FieldViolation{Field: fmt.Sprintf("attachments[%d].upload_id", i), Description: "no such upload of this agency"})
		}
		if err := matchAttachment(st, i, a, u.GetSha256(), u.GetSize(), "upload"); err != nil {
			return err
		}
	}
	if st.signed {
		return s.verifySignature(tx, st.d, s.now())
	}
	return nil
}

// matchAttachment checks the SHA-256 and size the document gives attachment i against
// those of what was received (its content or its upload, named by what), and gives them to
// it when the document is unsigned (a signed document stays exactly as signed).
func matchAttachment(st *sendState, i int, a *docv1.Attachment, sha string, size int64, what string) error {
	f := fmt.Sprintf("attachments[%d]", i)
	if a.GetSha256() != "" && a.GetSha256() != sha {
		return signatureError("ATTACHMENT_DIGEST_MISMATCH", f+".sha256",
			fmt.Sprintf("attachment %q: the %s's SHA-256 is %s, the document says %s", a.GetName(), what, sha, a.GetSha256()),
			fmt.Sprintf("mã băm của tệp %q không khớp với nội dung", a.GetName()))
	}
	if a.GetSize() != 0 && a.GetSize() != size {
		return signatureError("ATTACHMENT_SIZE_MISMATCH", f+".size",
			fmt.Sprintf("attachment %q has %d bytes, the document says %d", a.GetName(), size, a.GetSize()),
			fmt.Sprintf("kích thước tệp %q không khớp", a.GetName()))
	}
	if !st.signed {
		a.Sha256, a.Size = sha, size
	}
	return nil
}

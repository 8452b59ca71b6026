package docexchange

import (
	"bytes"
	"fmt"
	"io"
	"path"
	"strings"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
)

// inspectPDFAttachments inspects the embedded signatures of every PDF attachment of the
// document being sent (pdf_signatures.go): its content, or the blob of its upload read in
// place. It is the one place an arriving attachment is inspected, whichever way it came
// (SendDocument with content or upload_id, ImportEdxml). It runs before the storing
// transaction, so the inspection holds no lock; recordPDFInspections then keeps the
// reports with the stored attachments, or refuses the document.
func (s *Service) inspectPDFAttachments(st *sendState) {
	atts := st.d.GetAttachments()
	st.pdf = make([]*docv1.PdfInspection, len(atts))
	for i, a := range atts {
		r, size := s.attachmentReader(a)
		if r == nil || !looksLikePDF(a, r, size) {
			continue
		}
		s.pdfSem <- struct{}{}
		in := &pdfInspector{roots: s.roots, crls: s.crls, now: st.o.at}
		st.pdf[i] = in.inspect(r, size)
		<-s.pdfSem
	}
}

// attachmentReader reads an attachment's bytes where they are: its content, or its
// upload's blob (nil when there is no such upload; the storing stage refuses it).
func (s *Service) attachmentReader(a *docv1.Attachment) (io.ReaderAt, int64) {
	if a.GetUploadId() == "" {
		return bytes.NewReader(a.GetContent()), int64(len(a.GetContent()))
	}
	var size int64 = -1
	_ = s.db.View(func(tx *bolt.Tx) error {
		if u, err := loadUpload(tx, a.GetUploadId(), ""); err == nil && u != nil {
			size = u.GetSize()
		}
		return nil
	})
	if size < 0 {
		return nil, 0
	}
	return &blobReaderAt{s: s, blob: a.GetUploadId(), size: size, chunk: -1}, size
}

// looksLikePDF: the attachment says it is a PDF (content type or file name), or its bytes
// start like one.
func looksLikePDF(a *docv1.Attachment, r io.ReaderAt, size int64) bool {
	ct, _, _ := strings.Cut(strings.ToLower(a.GetContentType()), ";")
	if strings.TrimSpace(ct) == "application/pdf" || strings.EqualFold(path.Ext(a.GetName()), ".pdf") {
		return true
	}
	return hasPDFHeader(r, size)
}

// blobReaderAt reads a stored blob at any offset, one chunk at a time (the last one kept),
// so a large attachment is never held whole.
type blobReaderAt struct {
	s     *Service
	blob  string
	size  int64
	chunk int64
	data  []byte
}

func (b *blobReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("negative offset %d", off)
	}
	n := 0
	for n < len(p) {
		if off >= b.size {
			return n, io.EOF
		}
		c := off / blobChunk
		if c != b.chunk {
			data, err := b.s.readChunk(b.blob, uint32(c))
			if err != nil {
				return n, err
			}
			b.chunk, b.data = c, data
		}
		in := off - c*blobChunk
		if in >= int64(len(b.data)) {
			return n, io.ErrUnexpectedEOF
		}
		m := copy(p[n:], b.data[in:])
		n += m
		off += int64(m)
	}
	return n, nil
}

// recordPDFInspections gives the stored attachments their PDF reports and, where the
// deployment refuses broken PDF signatures, refuses a document with one
// (PDF_SIGNATURE_BROKEN, naming the attachment).
func (s *Service) recordPDFInspections(st *sendState, stored *docv1.Document) error {
	for i, a := range stored.GetAttachments() {
		a.Pdf = nil // output only: what a client sends is not kept
		if i >= len(st.pdf) || st.pdf[i] == nil {
			continue
		}
		a.Pdf = st.pdf[i]
		if !s.refuseBrokenPDF || !a.Pdf.GetBroken() {
			continue
		}
		why := ""
		for _, sig := range a.Pdf.GetSignatures() {
			if sig.GetBroken() {
				why = fmt.Sprintf("signature %q: %s", sig.GetFieldName(), sig.GetError())
				break
			}
		}
		e := platform.FailedPrecondition("PDF_SIGNATURE_BROKEN",
			fmt.Sprintf("attachment %d (%q) is a PDF with a broken signature: %s", i, a.GetName(), why),
			fmt.Sprintf("Tệp đính kèm %q là tệp PDF có chữ ký số không còn nguyên vẹn.", a.GetName()))
		e.Violations = []platform.FieldViolation{{Field: fmt.Sprintf("attachments[%d]", i), Description: why}}
		return e.WithMetadata("attachment", a.GetName())
	}
	return nil
}

package docexchange

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/store/v1"
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// An edXML package read as a stream (ImportEdxmlStream, and REST bodies that are not JSON,
// which the gateway streams): the XML is read token by token, once; the base64 text of each
// attachment's content (ContentTransferEncoded, or the VPCP form's Content) is decoded as
// it arrives into a spool (memory up to spoolInMemory, then a temporary file in the data
// directory: the zip needs random access), the file is then unzipped from the spool into
// the blob store in chunks with its SHA-256 computed as it goes, and the document is sent
// naming those blobs as uploads, through the same stages as every document (send). A
// package is never held whole: see docs/benchmarks.md. An XML-signed package needs the
// whole tree for XMLDSig: it is read again from its copy (kept like a spool) and imported
// as ImportEdxml imports it, in memory under the same limits.

const (
	// maxEdxmlStreamChunk is the most one ImportEdxmlStream message carries.
	maxEdxmlStreamChunk = 64 << 10
	// spoolInMemory: a spool (an attachment's decoded content, a package's copy) stays in
	// memory up to this size, so a small import writes no file.
	spoolInMemory = 256 << 10
	// inlineAttachment: an attachment file up to this size is sent as content, stored in
	// the document's own transaction; a larger one is stored in chunks first (an upload).
	inlineAttachment = 256 << 10
	// importFilePattern names the temporary files of imports in the data directory.
	importFilePattern = "edxml-import-*.tmp"
)

// maxEdxmlPackage is the most a streamed package may hold: one and a half times the
// document limit (attachments of the limit's size, base64-encoded, with their envelope).
func (s *Service) maxEdxmlPackage() int64 { return s.maxDoc + s.maxDoc/2 }

var errEdxmlTooLarge = platform.ResourceExhausted("DOCUMENT_TOO_LARGE",
	"the edXML package is larger than the limit", "Gói edXML vượt quá giới hạn cho phép.")

// ImportEdxmlStream is ImportEdxml with the package streamed in chunks.
func (s *Service) ImportEdxmlStream(stream grpc.ClientStreamingServer[docv1.ImportEdxmlStreamRequest, docv1.SendDocumentResponse]) error {
	ctx := stream.Context()
	if _, err := platform.RequireRole(ctx, platform.RoleAdmin, platform.RoleProvince, platform.RoleAgency); err != nil {
		return err
	}
	resp, err := s.importEdxmlFrom(ctx, &chunkReader{stream: stream})
	if err != nil {
		return err
	}
	return stream.SendAndClose(resp)
}

// chunkReader reads the chunks of an ImportEdxmlStream as one byte stream.
type chunkReader struct {
	stream grpc.ClientStreamingServer[docv1.ImportEdxmlStreamRequest, docv1.SendDocumentResponse]
	rest   []byte
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for len(c.rest) == 0 {
		m, err := c.stream.Recv()
		if err != nil {
			return 0, err // io.EOF at the end
		}
		if len(m.GetChunk()) > maxEdxmlStreamChunk {
			return 0, platform.Invalid(platform.FieldViolation{Field: "chunk", Description: fmt.Sprintf("carries %d bytes, at most %d", len(m.GetChunk()), maxEdxmlStreamChunk)})
		}
		c.rest = m.GetChunk()
	}
	n := copy(p, c.rest)
	c.rest = c.rest[n:]
	return n, nil
}

// edxmlImport is one streamed import: its spools and the uploads it made, all removed at
// the end unless the document took them (cleanup, deferred: error, panic or success).
type edxmlImport struct {
	s       *Service
	dir     string
	spools  []*spool
	uploads []*uploader
	gc      gcPacer
}

// gcPacer collects garbage every importGCEvery bytes written to files or the blob store.
// A large import leaves garbage several times its size (each received chunk, bbolt's page
// buffers of each commit) while what is live stays small; at import speed the collector
// would let the heap grow far beyond it. As UploadAttachment does (blobs.go), a collection
// per few MiB keeps the peak near the live size; small imports never reach it.
type gcPacer struct{ since int64 }

const importGCEvery = 8 << 20

func (g *gcPacer) wrote(n int) {
	g.since += int64(n)
	if g.since >= importGCEvery {
		g.since = 0
		runtime.GC()
	}
}

// uploadBuffers are the buffers of the uploaders of imports (uploadFlush bytes each),
// reused: an import stores its attachments one after the other.
var uploadBuffers = sync.Pool{New: func() any { b := make([]byte, 0, uploadFlush); return &b }}

// importEdxmlFrom reads a package from r and imports it as ImportEdxml does.
func (s *Service) importEdxmlFrom(ctx context.Context, r io.Reader) (*docv1.SendDocumentResponse, error) {
	c, err := platform.RequireRole(ctx, platform.RoleAdmin, platform.RoleProvince, platform.RoleAgency)
	if err != nil {
		return nil, err
	}
	imp := &edxmlImport{s: s, dir: filepath.Dir(s.db.Path())}
	defer imp.cleanup()
	whole := imp.newSpool()
	lim := &limitedSource{r: r, left: s.maxEdxmlPackage()}
	root, err := imp.parse(io.TeeReader(lim, whole), lim)
	if err != nil {
		return nil, err
	}
	form, err := classify(root)
	if err != nil {
		return nil, err
	}
	if form == formStatus {
		st, err := readStatus(root)
		if err != nil {
			return nil, err
		}
		return s.importStatus(ctx, st)
	}
	if xmlSignatureElement(root) != nil {
		// XMLDSig needs the package as it was sent: read again whole, in memory, within the
		// same limit.
		data := make([]byte, whole.size())
		if _, err := whole.readerAt().ReadAt(data, 0); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		imp.cleanup()
		return s.ImportEdxml(ctx, &docv1.ImportEdxmlRequest{Edxml: data})
	}
	whole.remove()
	d, err := readDocumentHeader(root, form)
	if err != nil {
		return nil, err
	}
	var refs []attachmentRef
	if form == formVPCP {
		refs = vpcpAttachmentRefs(root)
	} else if refs, err = matchAttachments(root, form); err != nil {
		return nil, err
	}
	if d.Attachments, err = imp.store(refs, form, c.Agency(), d.GetSignature() == nil); err != nil {
		return nil, err
	}
	return s.importDocument(ctx, d, "")
}

// vpcpAttachmentRefs are the VPCP form's Manifest/Attachment (Content in base64,
// FileName, FileType).
func vpcpAttachmentRefs(root *xnode) []attachmentRef {
	var out []attachmentRef
	for _, a := range root.path("Manifest").children("Attachment") {
		body := a.child("Content")
		if body == nil {
			body = &xnode{}
		}
		out = append(out, attachmentRef{a: &docv1.Attachment{Name: a.str("FileName"), ContentType: a.str("FileType")}, body: body})
	}
	return out
}

// limitedSource reads at most left bytes of a package, then fails with errEdxmlTooLarge;
// err keeps why reading failed (other than at the end), for the import to answer it
// rather than the XML decoder's view of it.
type limitedSource struct {
	r    io.Reader
	left int64
	err  error
}

func (l *limitedSource) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		l.err = errEdxmlTooLarge
		return 0, l.err
	}
	if err != nil && !errors.Is(err, io.EOF) {
		l.err = err
	}
	return n, err
}

// isContentElement says whether an element named local, child of parent, holds an
// attachment's base64 content.
func isContentElement(parent *xnode, local string) bool {
	return parent != nil && parent.local == "Attachment" && (local == "ContentTransferEncoded" || local == "Content")
}

// parse reads a package into a tree as parseXMLTree does, with the shape bounds of
// checkEdxmlShape checked as it goes, and each attachment's content decoded into a spool
// instead of its text.
func (imp *edxmlImport) parse(r io.Reader, source *limitedSource) (*xnode, error) {
	br := xmlReaders.Get().(*bufio.Reader)
	br.Reset(r)
	defer func() { br.Reset(nil); xmlReaders.Put(br) }()
	src := &divertingReader{br: br}
	dec := xml.NewDecoder(src)
	dec.Strict = true
	var root, content *xnode
	var contentW *base64Writer
	var stack []*xnode
	elements, contents, nonSpace := 0, 0, false
	fail := func(err error) (*xnode, error) {
		if source.err != nil {
			return nil, source.err
		}
		if src.err != nil {
			return nil, src.err
		}
		return nil, edxmlInvalid("edxml", "not well-formed XML: %v", err)
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			nonSpace = true
			elements++
			if err := checkElementShape(t, len(stack)+1, elements); err != nil {
				return nil, err
			}
			n := &xnode{space: t.Name.Space, local: t.Name.Local, attrs: t.Attr}
			var parent *xnode
			if len(stack) == 0 {
				if root != nil {
					return fail(errors.New("more than one root element"))
				}
				root = n
			} else {
				parent = stack[len(stack)-1]
				parent.kids = append(parent.kids, n)
			}
			if content == nil && isContentElement(parent, t.Name.Local) {
				n.spool = imp.newSpool()
				content, contentW = n, &base64Writer{dst: n.spool, field: fmt.Sprintf("AttachmentEncoded.Attachment[%d]", contents)}
				contents++
				src.divert = contentW
			}
			stack = append(stack, n)
		case xml.EndElement:
			top := stack[len(stack)-1]
			if top == content {
				src.divert = nil
				if err := contentW.close(); err != nil {
					return nil, err
				}
				content, contentW = nil, nil
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				nonSpace = true
			}
			if len(stack) == 0 {
				continue
			}
			if top := stack[len(stack)-1]; top == content {
				if _, err := contentW.Write(t); err != nil {
					return nil, err
				}
			} else {
				top.text.Write(t)
			}
		default:
			nonSpace = true
		}
	}
	if root == nil {
		if !nonSpace {
			return nil, edxmlInvalid("edxml", "empty package")
		}
		return fail(errors.New("no root element"))
	}
	return root, nil
}

// checkElementShape applies the bounds of checkEdxmlShape to one element, of its token scan
// (where Name.Space is the prefix) or of a streamed import (where it is the namespace); a
// namespace or prefix is bounded as an attribute value.
func checkElementShape(t xml.StartElement, depth, elements int) error {
	switch {
	case depth > maxEdxmlDepth:
		return edxmlInvalid("edxml", "elements nested more than %d deep, %s", maxEdxmlDepth, edxmlLimitsReasonText)
	case elements > maxEdxmlElements:
		return edxmlInvalid("edxml", "more than %d elements, %s", maxEdxmlElements, edxmlLimitsReasonText)
	case len(t.Attr) > maxEdxmlAttrs:
		return edxmlInvalid("edxml", "an element with more than %d attributes, %s", maxEdxmlAttrs, edxmlLimitsReasonText)
	case len(t.Name.Local) > maxEdxmlNameBytes || len(t.Name.Space) > maxEdxmlAttrValue:
		return edxmlInvalid("edxml", "an element name longer than %d bytes, %s", maxEdxmlNameBytes, edxmlLimitsReasonText)
	}
	for _, a := range t.Attr {
		if len(a.Value) > maxEdxmlAttrValue || len(a.Name.Local) > maxEdxmlNameBytes || len(a.Name.Space) > maxEdxmlAttrValue {
			return edxmlInvalid("edxml", "an attribute value longer than %d bytes or a name longer than %d, %s",
				maxEdxmlAttrValue, maxEdxmlNameBytes, edxmlLimitsReasonText)
		}
	}
	return nil
}

// xmlReaders and copyBuffers are reused from one import to the next.
var (
	xmlReaders  = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 32<<10) }}
	copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}
)

// divertingReader gives the XML decoder its bytes one by one (the decoder reads from an
// io.ByteReader directly, without a buffer of its own), except the text of an attachment's
// content: while divert is set, the bytes up to the next '<' or '&' go to divert instead,
// so the decoder never collects them. Text after an entity reference reaches the decoder
// as character data (the import passes it to the same writer).
type divertingReader struct {
	br     *bufio.Reader
	divert io.Writer
	err    error // why divert refused bytes
}

func (d *divertingReader) Read(p []byte) (int, error) { return d.br.Read(p) }

func (d *divertingReader) ReadByte() (byte, error) {
	for d.divert != nil {
		if d.br.Buffered() == 0 {
			if _, err := d.br.Peek(1); err != nil {
				return 0, err
			}
		}
		data, _ := d.br.Peek(d.br.Buffered())
		i := bytes.IndexAny(data, "<&")
		end := i >= 0
		if !end {
			i = len(data)
		}
		if i > 0 {
			if _, err := d.divert.Write(data[:i]); err != nil {
				d.err = err
				return 0, err
			}
			_, _ = d.br.Discard(i)
		}
		if end {
			d.divert = nil
		}
	}
	return d.br.ReadByte()
}

// base64Writer decodes base64 text (white space ignored) as it is written.
type base64Writer struct {
	dst   io.Writer
	field string
	buf   []byte // characters not decoded yet
	done  bool   // padding seen: only white space may follow
	out   []byte
}

func (w *base64Writer) notBase64() error { return edxmlInvalid(w.field, "not base64") }

func (w *base64Writer) Write(p []byte) (int, error) {
	for _, c := range p {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		if w.done {
			return 0, w.notBase64()
		}
		w.buf = append(w.buf, c)
		if len(w.buf) == 4096 {
			if err := w.decode(); err != nil {
				return 0, err
			}
		}
	}
	return len(p), nil
}

// decode decodes the whole groups of four characters gathered.
func (w *base64Writer) decode() error {
	n := len(w.buf) / 4 * 4
	if n == 0 {
		return nil
	}
	if w.out == nil {
		w.out = make([]byte, base64.StdEncoding.DecodedLen(4096))
	}
	m, err := base64.StdEncoding.Decode(w.out, w.buf[:n])
	if err != nil {
		return w.notBase64()
	}
	w.done = w.buf[n-1] == '='
	if _, err := w.dst.Write(w.out[:m]); err != nil {
		return err
	}
	w.buf = append(w.buf[:0], w.buf[n:]...)
	return nil
}

// close decodes what is left: a whole number of groups of four.
func (w *base64Writer) close() error {
	if err := w.decode(); err != nil {
		return err
	}
	if len(w.buf) != 0 {
		return w.notBase64()
	}
	return nil
}

// spool holds bytes in memory up to spoolInMemory, then in a temporary file of the data
// directory. Its size is bounded by what writes to it (the package limit).
type spool struct {
	dir string
	mem []byte
	f   *os.File
	n   int64
	gc  *gcPacer
}

func (imp *edxmlImport) newSpool() *spool {
	sp := &spool{dir: imp.dir, gc: &imp.gc}
	imp.spools = append(imp.spools, sp)
	return sp
}

func (sp *spool) Write(p []byte) (int, error) {
	if sp.f == nil && len(sp.mem)+len(p) <= spoolInMemory {
		sp.mem = append(sp.mem, p...)
		sp.n += int64(len(p))
		return len(p), nil
	}
	if sp.f == nil {
		f, err := os.CreateTemp(sp.dir, importFilePattern)
		if err != nil {
			return 0, err
		}
		sp.f = f
		if _, err := f.Write(sp.mem); err != nil {
			return 0, err
		}
		sp.mem = nil
	}
	n, err := sp.f.Write(p)
	sp.n += int64(n)
	sp.gc.wrote(n)
	return n, err
}

func (sp *spool) size() int64 { return sp.n }

func (sp *spool) readerAt() io.ReaderAt {
	if sp.f != nil {
		return sp.f
	}
	return bytes.NewReader(sp.mem)
}

// remove deletes the spool's file, if any, and forgets its bytes.
func (sp *spool) remove() {
	if sp.f != nil {
		_ = sp.f.Close()
		_ = os.Remove(sp.f.Name())
		sp.f = nil
	}
	sp.mem = nil
}

// store turns each attachment's spool into the file it carries (unzipped in the national
// form, within the zip bounds of unzipAttachment) and stores it: a small file as the
// attachment's content, a larger one in the blob store in chunks, as an upload of agency
// that the document names. The attachments together hold at most the document limit.
// Unless the document is signed (it stays exactly as signed), each gets its size and
// SHA-256.
func (imp *edxmlImport) store(refs []attachmentRef, form edxmlForm, agency string, unsigned bool) ([]*docv1.Attachment, error) {
	var out []*docv1.Attachment
	var total int64
	for i, r := range refs {
		field := fmt.Sprintf("AttachmentEncoded.Attachment[%d]", i)
		if form == formVPCP {
			field = fmt.Sprintf("Manifest.Attachment[%d].Content", i)
		}
		sp := r.body.spool
		if sp == nil { // content given as the attachment's own text: decode it now
			sp = imp.newSpool()
			w := &base64Writer{dst: sp, field: field}
			if _, err := w.Write([]byte(r.body.text.String())); err != nil {
				return nil, err
			}
			if err := w.close(); err != nil {
				return nil, err
			}
		}
		a := r.a
		limit := imp.s.maxDoc - total
		var file io.Reader = io.NewSectionReader(sp.readerAt(), 0, sp.size())
		if form == formNational {
			f, unzipped, err := openZipped(sp.readerAt(), sp.size(), limit)
			if err != nil {
				return nil, edxmlInvalid(field, "%v", err)
			}
			file = f
			unzippedType(a, unzipped)
		}
		sink := &attachmentSink{imp: imp, agency: agency}
		n, err := copyAttachment(sink, file, field)
		if c, ok := file.(io.Closer); ok {
			_ = c.Close()
		}
		if err != nil {
			return nil, err
		}
		total += n
		if total > imp.s.maxDoc {
			return nil, edxmlInvalid(strings.SplitN(field, ".", 2)[0], "the attachments hold more than %d bytes", imp.s.maxDoc)
		}
		sha, err := sink.finish(a)
		if err != nil {
			return nil, err
		}
		sp.remove()
		if unsigned {
			a.Sha256, a.Size = sha, n
		}
		out = append(out, a)
	}
	return out, nil
}

// copyAttachment copies a file to the sink: a read that fails is the package's fault
// (edxmlInvalid on field), a write that fails the store's.
func copyAttachment(dst io.Writer, src io.Reader, field string) (int64, error) {
	bp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bp)
	buf := *bp
	var n int64
	for {
		m, err := src.Read(buf)
		if m > 0 {
			if _, werr := dst.Write(buf[:m]); werr != nil {
				return n, werr
			}
			n += int64(m)
		}
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, edxmlInvalid(field, "%v", err)
		}
	}
}

// attachmentSink keeps a file in memory up to inlineAttachment, then stores it in the blob
// store in chunks (an uploader: committed every few MiB, the SHA-256 computed as it goes).
type attachmentSink struct {
	imp    *edxmlImport
	agency string
	mem    []byte
	up     *uploader
}

func (k *attachmentSink) Write(p []byte) (int, error) {
	if k.up == nil && len(k.mem)+len(p) <= inlineAttachment {
		k.mem = append(k.mem, p...)
		return len(p), nil
	}
	if k.up == nil {
		buf := uploadBuffers.Get().(*[]byte)
		k.up = &uploader{s: k.imp.s, blob: newBlobID(), h: sha256.New(), buf: (*buf)[:0]}
		k.imp.uploads = append(k.imp.uploads, k.up)
		if err := k.up.add(k.mem); err != nil {
			return 0, err
		}
		k.mem = nil
	}
	if err := k.up.add(p); err != nil {
		return 0, err
	}
	k.imp.gc.wrote(len(p))
	return len(p), nil
}

// finish gives the attachment its content, or records the stored chunks as an upload of
// the sink's agency (fsync) and names it; it answers the file's SHA-256.
func (k *attachmentSink) finish(a *docv1.Attachment) (string, error) {
	if k.up == nil {
		sum := sha256.Sum256(k.mem)
		a.Content = k.mem
		return hex.EncodeToString(sum[:]), nil
	}
	u, s := k.up, k.imp.s
	err := u.flush()
	buf := u.buf[:0]
	u.buf = nil
	uploadBuffers.Put(&buf)
	if err != nil {
		return "", err
	}
	sum := hex.EncodeToString(u.h.Sum(nil))
	rec := &storev1.UploadRecord{Id: u.blob, Name: a.GetName(), ContentType: a.GetContentType(), Size: u.size, Sha256: sum,
		OwnerAgency: k.agency, CreatedAt: rfc3339(s.now())}
	val, err := proto.Marshal(rec)
	if err != nil {
		return "", err
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		if u.wrote {
			if err := markUploading(tx, u.blob, false, s.now()); err != nil {
				return err
			}
			if err := unmarkUploading(tx, u.blob); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketUploads).Put([]byte(u.blob), val)
	})
	if err != nil {
		return "", err
	}
	a.UploadId = u.blob
	return sum, nil
}

// cleanup removes the import's temporary files, and the uploads it made that no document
// took (the import failed, or the document was stored before).
func (imp *edxmlImport) cleanup() {
	for _, sp := range imp.spools {
		sp.remove()
	}
	imp.spools = nil
	for _, u := range imp.uploads {
		if !u.wrote {
			continue
		}
		err := imp.s.db.Update(func(tx *bolt.Tx) error {
			if tx.Bucket(bucketUploads).Get([]byte(u.blob)) == nil {
				if b := tx.Bucket(bucketUploading); b == nil || b.Get([]byte(u.blob)) == nil {
					return nil // recorded, then taken by the document
				}
			}
			if err := deleteBlob(tx, u.blob); err != nil {
				return err
			}
			if err := unmarkUploading(tx, u.blob); err != nil {
				return err
			}
			return tx.Bucket(bucketUploads).Delete([]byte(u.blob))
		})
		if err != nil {
			imp.s.lg.Warn("edXML import: chunks not removed")
		}
	}
	imp.uploads = nil
}

// openZipped reads an attachment of the national form from a spool as unzipAttachment
// does: a zip of one file gives a reader of that file, bounded by limit and by maxZipRatio
// times the zipped size (the declared size is not trusted); anything else is the file
// itself.
func openZipped(r io.ReaderAt, size, limit int64) (io.Reader, bool, error) {
	raw := io.NewSectionReader(r, 0, size)
	var magic [len(zipMagic)]byte
	if n, _ := r.ReadAt(magic[:], 0); n < len(magic) || string(magic[:]) != zipMagic {
		return raw, false, nil
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return raw, false, nil
	}
	zr.RegisterDecompressor(zip.Deflate, pooledFlate)
	var files []*zip.File
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, "/") {
			files = append(files, f)
		}
	}
	if len(files) != 1 {
		return raw, false, nil
	}
	f := files[0]
	if f.UncompressedSize64 > uint64(limit) {
		return nil, false, fmt.Errorf("the zipped file holds %d bytes, more than the %d allowed", f.UncompressedSize64, limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, false, fmt.Errorf("not a readable zip: %v", err)
	}
	return &unzipBound{r: rc, limit: limit, zipped: size}, true, nil
}

// unzipBound reads an unzipped file and fails once it holds more than its limit, or grows
// more than maxZipRatio times its zipped size (beyond zipRatioFloor).
type unzipBound struct {
	r      io.ReadCloser
	n      int64
	limit  int64
	zipped int64
}

func (u *unzipBound) Close() error { return u.r.Close() }

func (u *unzipBound) Read(p []byte) (int, error) {
	m, err := u.r.Read(p)
	u.n += int64(m)
	switch {
	case u.n > u.limit:
		return 0, fmt.Errorf("the zipped file holds more than the %d bytes allowed", u.limit)
	case u.n > zipRatioFloor && u.n > maxZipRatio*u.zipped:
		return 0, fmt.Errorf("the zipped file grows more than %d times once unzipped", maxZipRatio)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return m, fmt.Errorf("not a readable zip: %v", err)
	}
	return m, err
}

// removeStaleImportFiles removes the temporary files of streamed imports, beside the
// database file dbPath, last written before cutoff: those of a process that stopped in the
// middle of an import (an import removes its own on every path it returns by).
func removeStaleImportFiles(dbPath string, cutoff time.Time) {
	names, _ := filepath.Glob(filepath.Join(filepath.Dir(dbPath), importFilePattern))
	for _, n := range names {
		if fi, err := os.Stat(n); err == nil && fi.ModTime().Before(cutoff) {
			_ = os.Remove(n)
		}
	}
}

// flateReaders are the decompressors of zipped attachments (each holds a 32 KiB window),
// reused from one attachment to the next.
var flateReaders sync.Pool

// pooledFlate is archive/zip's Deflate decompressor taken from flateReaders; Close gives it
// back.
func pooledFlate(r io.Reader) io.ReadCloser {
	fr, ok := flateReaders.Get().(io.ReadCloser)
	if ok {
		_ = fr.(flate.Resetter).Reset(r, nil)
	} else {
		fr = flate.NewReader(r)
	}
	return &pooledFlateReader{fr: fr}
}

type pooledFlateReader struct{ fr io.ReadCloser }

func (p *pooledFlateReader) Read(b []byte) (int, error) {
	if p.fr == nil {
		return 0, errors.New("read of a closed decompressor")
	}
	return p.fr.Read(b)
}

func (p *pooledFlateReader) Close() error {
	if p.fr == nil {
		return nil
	}
	err := p.fr.Close()
	flateReaders.Put(p.fr)
	p.fr = nil
	return err
}

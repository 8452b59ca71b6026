package docexchange

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform/platformtest"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// randomBytes are n bytes that do not compress (so a zip keeps their size).
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	out := make([]byte, n)
	for i := range out {
		out[i] = byte(r.Uint32())
	}
	return out
}

// nationalPackage is a national-form package of letter(number) with the given files.
func nationalPackage(t testing.TB, number string, files ...[]byte) []byte {
	t.Helper()
	d := letter(number)
	d.Attachments = nil
	for i := range files {
		d.Attachments = append(d.Attachments, &docv1.Attachment{Name: "file-" + string(rune('a'+i)) + ".bin", ContentType: "application/octet-stream"})
	}
	pkg, err := MarshalNationalEdxml(d, files)
	if err != nil {
		t.Fatal(err)
	}
	return pkg
}

// streamPackage sends a package in chunks of 64 KiB.
func (f *fixture) streamPackage(ctx context.Context, pkg []byte) (*docv1.SendDocumentResponse, error) {
	st, err := f.client.ImportEdxmlStream(ctx)
	if err != nil {
		return nil, err
	}
	for off := 0; off < len(pkg); off += maxEdxmlStreamChunk {
		if err := st.Send(&docv1.ImportEdxmlStreamRequest{Chunk: pkg[off:min(off+maxEdxmlStreamChunk, len(pkg))]}); err != nil {
			break // the part ended the call: CloseAndRecv says why
		}
	}
	return st.CloseAndRecv()
}

// leftovers counts what a failed import must not leave: blobs' chunks, uploads, upload
// marks and temporary files of the data directory.
func (f *fixture) leftovers() (chunks, uploads, marks, files int) {
	f.t.Helper()
	err := f.db.View(func(tx *bolt.Tx) error {
		chunks = tx.Bucket(bucketBlobs).Stats().KeyN
		uploads = tx.Bucket(bucketUploads).Stats().KeyN
		if b := tx.Bucket(bucketUploading); b != nil {
			marks = b.Stats().KeyN
		}
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
	m, _ := filepath.Glob(filepath.Join(f.dir, importFilePattern))
	return chunks, uploads, marks, len(m)
}

// waitClean polls until a failed import has left nothing behind (the part may still be
// cleaning up when the client has its answer, for a cut call).
func (f *fixture) waitClean(what string) {
	f.t.Helper()
	platformtest.WaitFor(f.t, 5*time.Second, what+": no chunk, upload, upload mark or temporary file left", func() bool {
		c, u, m, n := f.leftovers()
		return c == 0 && u == 0 && m == 0 && n == 0
	})
}

// A large national-form package streamed in chunks: its attachments are stored (the large
// ones in chunks through the blob store) with the SHA-256 of the files, export again
// unchanged, and the import leaves no temporary file.
func TestImportEdxmlStreamLargePackage(t *testing.T) {
	f := newFixture(t)
	files := [][]byte{randomBytes(1, 1<<20+77), randomBytes(2, 900<<10), []byte("%PDF-1.4 tờ trình nhỏ")}
	pkg := nationalPackage(t, "901", files...)
	if len(pkg) < 2<<20 {
		t.Fatalf("package of %d bytes: want a few MiB", len(pkg))
	}
	resp, err := f.streamPackage(f.agency(agTuPhap33), pkg)
	if err != nil {
		t.Fatalf("streamed import: %v", err)
	}
	atts := resp.GetDocument().GetAttachments()
	if len(atts) != len(files) {
		t.Fatalf("%d attachments stored, want %d", len(atts), len(files))
	}
	for i, a := range atts {
		sum := sha256.Sum256(files[i])
		if a.GetSha256() != hex.EncodeToString(sum[:]) || a.GetSize() != int64(len(files[i])) {
			t.Errorf("attachment %d: sha256 %s size %d, want the file's %x and %d", i, a.GetSha256(), a.GetSize(), sum, len(files[i]))
		}
	}
	body, err := f.client.ExportEdxml(f.agency(agUBND33), &docv1.ExportEdxmlRequest{Id: resp.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseEdxml(body.GetData())
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range back.GetAttachments() {
		if !bytes.Equal(a.GetContent(), files[i]) {
			t.Errorf("attachment %d exported with other content (%d bytes, want %d)", i, len(a.GetContent()), len(files[i]))
		}
	}
	// The same package again is the same document, and leaves no upload behind.
	again, err := f.streamPackage(f.agency(agTuPhap33), pkg)
	if err != nil || !again.GetDuplicate() || again.GetId() != resp.GetId() {
		t.Fatalf("again: %v duplicate=%v", err, again.GetDuplicate())
	}
	_, u, m, n := f.leftovers()
	if u != 0 || m != 0 || n != 0 {
		t.Errorf("left %d uploads, %d marks, %d temporary files", u, m, n)
	}
}

// Streamed packages that fail leave no blob, upload or temporary file: malformed XML (400
// as ImportEdxml answers it), content that is not base64, attachments beyond the document
// limit (the first one already stored in chunks), a zip bomb, a package beyond the stream
// limit, and a call cut in the middle.
func TestImportEdxmlStreamFailuresLeaveNothing(t *testing.T) {
	f := newFixture(t)
	ctx := f.agency(agTuPhap33)
	big := randomBytes(3, 1<<20+5)
	pkg := nationalPackage(t, "902", big)

	cut := pkg[:len(pkg)*3/4] // ends inside the attachment's base64
	_, err := f.streamPackage(ctx, cut)
	if status.Code(err) != codes.InvalidArgument || reason(err) != "EDXML_INVALID" || !strings.Contains(err.Error(), "not well-formed XML") {
		t.Errorf("truncated package: %v", err)
	}
	f.waitClean("truncated package")

	i := contentStart(t, pkg) + 1000
	bad := append(append(append([]byte(nil), pkg[:i]...), '*'), pkg[i:]...)
	_, err = f.streamPackage(ctx, bad)
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "not base64") {
		t.Errorf("not base64: %v", err)
	}
	f.waitClean("not base64")

	// 2.5 + 1.6 MiB: more than the fixture's 4 MiB document limit once the second is read.
	over := nationalPackage(t, "903", randomBytes(4, 2560<<10), randomBytes(5, 1600<<10))
	_, err = f.streamPackage(ctx, over)
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "bytes") {
		t.Errorf("attachments beyond the limit: %v", err)
	}
	f.waitClean("attachments beyond the limit")

	bomb, err := zipAttachment("bomb.txt", make([]byte, 3<<20))
	if err != nil {
		t.Fatal(err)
	}
	// The writer zips the file; put the bomb's base64 in its place.
	bombPkg := replaceContent(t, nationalPackage(t, "904", []byte("x")), bomb)
	_, err = f.streamPackage(ctx, bombPkg)
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "times once unzipped") {
		t.Errorf("zip bomb: %v", err)
	}
	f.waitClean("zip bomb")

	huge := nationalPackage(t, "905", randomBytes(6, 5<<20)) // about 6.7 MiB: beyond 1.5 × 4 MiB
	_, err = f.streamPackage(ctx, huge)
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("package beyond the stream limit: %v", err)
	}
	f.waitClean("package beyond the stream limit")

	// A call cut after 2 MiB (the attachment already spooled to a file).
	cctx, cancel := context.WithCancel(ctx)
	st, err := f.client.ImportEdxmlStream(cctx)
	if err != nil {
		t.Fatal(err)
	}
	long := nationalPackage(t, "906", randomBytes(7, 2<<20))
	for off := 0; off < 2<<20; off += maxEdxmlStreamChunk {
		if err := st.Send(&docv1.ImportEdxmlStreamRequest{Chunk: long[off : off+maxEdxmlStreamChunk]}); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	f.waitClean("cut call")
	if _, err := f.client.GetDocument(f.admin(), &docv1.GetDocumentRequest{Id: documentID(letter("906"))}); status.Code(err) != codes.NotFound {
		t.Errorf("cut call stored its document: %v", err)
	}
}

// contentStart is where the first attachment's base64 text starts.
func contentStart(t *testing.T, pkg []byte) int {
	t.Helper()
	i := bytes.Index(pkg, []byte("ContentTransferEncoded"))
	if i < 0 {
		t.Fatal("no ContentTransferEncoded in the package")
	}
	return i + bytes.IndexByte(pkg[i:], '>') + 1
}

// replaceContent puts content, base64-encoded, as the package's first attachment content.
func replaceContent(t *testing.T, pkg, content []byte) []byte {
	t.Helper()
	s := string(pkg)
	open := contentStart(t, pkg)
	end := open + strings.Index(s[open:], "<")
	return []byte(s[:open] + base64.StdEncoding.EncodeToString(content) + s[end:])
}

// A 20 MiB national-form package with 10 attachments, streamed: the heap the import adds
// stays far below the package's size (the unary import holds the package several times
// over). The bound is the target of docs/benchmarks.md, 64 MiB, measured as the highest
// heap in use sampled while the import runs.
func TestImportEdxmlStreamMemoryBound(t *testing.T) {
	f := newFixture(t)
	f.svc.maxDoc = 20 << 20
	var files [][]byte
	for i := range 10 {
		files = append(files, randomBytes(uint64(10+i), 1<<20+400<<10)) // 14 MiB, 19 MiB as base64
	}
	pkg := nationalPackage(t, "907", files...)
	files = nil
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	peak := base.HeapInuse
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
		}
	}()
	resp, err := f.streamPackage(f.agency(agTuPhap33), pkg)
	close(stop)
	<-sampled
	if err != nil {
		t.Fatal(err)
	}
	if n := len(resp.GetDocument().GetAttachments()); n != 10 {
		t.Fatalf("%d attachments", n)
	}
	grew := int64(peak) - int64(base.HeapInuse)
	t.Logf("package %d bytes; heap in use %d MiB before, peak +%d MiB", len(pkg), base.HeapInuse>>20, grew>>20)
	if grew > 64<<20 {
		t.Errorf("the streamed import of a %d MiB package grew the heap by %d MiB, more than 64 MiB", len(pkg)>>20, grew>>20)
	}
	if _, _, _, n := f.leftovers(); n != 0 {
		t.Errorf("%d temporary files left", n)
	}
}

// The temporary files of an import that never finished (the process stopped) are removed
// with the expired uploads once older than UploadTTL; a recent one is left to its import.
func TestStaleImportFilesRemoved(t *testing.T) {
	f := newFixture(t)
	old, recent := filepath.Join(f.dir, "edxml-import-1.tmp"), filepath.Join(f.dir, "edxml-import-2.tmp")
	for _, n := range []string{old, recent} {
		if err := os.WriteFile(n, []byte("PK"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	long := f.clock().Add(-UploadTTL - time.Hour)
	if err := os.Chtimes(old, long, long); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ExpireUploads(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("the stale file is still there: %v", err)
	}
	if _, err := os.Stat(recent); err != nil {
		t.Errorf("the recent file was removed: %v", err)
	}
}

// BenchmarkImportEdxmlSmall with the package read as a stream (as the gateway passes a REST
// body): the XML read once, no JSON or base64 wrapping.
func BenchmarkImportEdxmlSmallStreamed(b *testing.B) {
	s, ctx := benchService(b)
	pkgs := benchPackages(b)
	var n atomic.Int64
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.importEdxmlFrom(ctx, bytes.NewReader(pkgs[n.Add(1)-1])); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// An XML-signed package streamed is verified as ImportEdxml verifies it (read back whole
// from its copy): a good certificate is accepted and its subject kept, a revoked one refused,
// and neither leaves a temporary file.
func TestImportEdxmlStreamXMLSigned(t *testing.T) {
	ca := newRSACA(t)
	crl := filepath.Join(t.TempDir(), "intermediate.crl")
	year := testStart.AddDate(1, 0, 0)
	uid := pkix.AttributeTypeAndValue{Type: oidUID, Value: "MCQ:" + agTuPhap33}
	_, named := ca.agencyCert(t, "Sở Tư pháp tỉnh Hưng Yên", testStart.Add(-time.Hour), year, uid)
	_, revoked := ca.agencyCert(t, "Sở Tư pháp tỉnh Hưng Yên (thu hồi)", testStart.Add(-time.Hour), year, uid)
	ca.writeCRL(t, crl, 1, x509.RevocationListEntry{SerialNumber: revoked.SerialNumber, RevocationTime: testStart.Add(-30 * time.Minute), ReasonCode: 1})
	f := caFixture(t, ca, crl)
	signed := func(c *x509.Certificate) []byte {
		return signEdxml(t, readFixture(t, "national-new.edxml"), tls.Certificate{Certificate: [][]byte{c.Raw, ca.inter.Raw}, PrivateKey: ca.leafKey})
	}
	if _, err := f.streamPackage(f.agency(agTuPhap33), signed(revoked)); reason(err) != "CERTIFICATE_REVOKED" {
		t.Errorf("revoked certificate: %v", err)
	}
	resp, err := f.streamPackage(f.agency(agTuPhap33), signed(named))
	if err != nil {
		t.Fatalf("good certificate: %v", err)
	}
	if resp.GetDocument().GetXmlSignatureSubject() == "" {
		t.Error("no signature subject kept")
	}
	if _, _, _, n := f.leftovers(); n != 0 {
		t.Errorf("%d temporary files left", n)
	}
}

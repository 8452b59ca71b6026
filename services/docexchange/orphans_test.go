package docexchange

import (
	"bytes"
	"testing"
	"time"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// blobs counts the stored chunks of each blob.
func (f *fixture) blobs() map[string]int {
	f.t.Helper()
	out := map[string]int{}
	err := f.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBlobs).ForEach(func(k, _ []byte) error {
			out[string(k[:bytes.IndexByte(k, 0)])]++
			return nil
		})
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

// upload sends an attachment of n bytes in 1 MiB messages; close=false leaves the stream
// open (an upload in progress) once its first 4 MiB are committed.
func (f *fixture) upload(n int, close bool) (docv1.DocumentService_UploadAttachmentClient, *docv1.Upload) {
	f.t.Helper()
	up, err := f.client.UploadAttachment(f.agency(agTuPhap33))
	if err != nil {
		f.t.Fatal(err)
	}
	if err := up.Send(&docv1.UploadAttachmentRequest{Header: &docv1.UploadHeader{Name: "a.pdf", ContentType: "application/pdf"}}); err != nil {
		f.t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte("x"), 1<<20)
	for sent := 0; sent < n; sent += len(chunk) {
		if err := up.Send(&docv1.UploadAttachmentRequest{Chunk: chunk[:min(len(chunk), n-sent)]}); err != nil {
			f.t.Fatal(err)
		}
	}
	if !close {
		return up, nil
	}
	u, err := up.CloseAndRecv()
	if err != nil {
		f.t.Fatal(err)
	}
	return up, u
}

// crashChunks writes chunks of a blob directly, as an upload that a killed process left:
// marked when marked is true (this version), unmarked as a version without the marks left
// them.
func (f *fixture) crashChunks(blob string, marked bool) {
	f.t.Helper()
	err := f.db.Update(func(tx *bolt.Tx) error {
		if marked {
			if err := markUploading(tx, blob, true, f.clock()); err != nil {
				return err
			}
		}
		_, err := putChunks(tx, blob, 0, bytes.Repeat([]byte("y"), 3*blobChunk+5))
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) advance(d time.Duration) {
	f.nowMu.Lock()
	f.now = f.now.Add(d)
	f.nowMu.Unlock()
}

// The chunks of an upload that will never finish (the process stopped in the middle) are
// removed at the next start, and by the expiry sweep once they are older than UploadTTL; the
// chunks of stored documents (uploaded or inline), of finished uploads no document took yet
// and of uploads in progress stay. Before, nothing removed them: only uploads with a record
// were ever expired.
func TestUnfinishedUploadChunksRemoved(t *testing.T) {
	f := newFixture(t)
	_, taken := f.upload(5<<20, true)
	d := letter("1")
	d.Attachments = append(d.Attachments, &docv1.Attachment{Name: "a.pdf", ContentType: "application/pdf",
		UploadId: taken.GetUploadId(), Sha256: taken.GetSha256(), Size: taken.GetSize()})
	f.send(d)
	_, waiting := f.upload(2<<20, true) // finished, not yet named by a document
	keep := f.blobs()
	if len(keep) != 3 || keep[taken.GetUploadId()] != 5 || keep[waiting.GetUploadId()] != 2 {
		t.Fatalf("blobs before: %v", keep)
	}

	// An upload in progress: its first 4 MiB are committed.
	live, _ := f.upload(5<<20, false)
	var liveBlob string
	deadline := time.Now().Add(10 * time.Second)
	for liveBlob == "" {
		for b := range f.blobs() {
			if _, ok := keep[b]; !ok {
				liveBlob = b
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the upload in progress committed nothing")
		}
	}
	f.crashChunks("0000000000000000000000aa", true)
	f.crashChunks("0000000000000000000000bb", false)

	// The sweep within the day keeps everything in progress.
	if _, err := f.svc.ExpireUploads(); err != nil {
		t.Fatal(err)
	}
	got := f.blobs()
	for _, b := range []string{liveBlob, "0000000000000000000000aa"} {
		if got[b] == 0 {
			t.Errorf("the sweep within the day removed the chunks of %s (in progress)", b)
		}
	}
	// The upload in progress finishes whole.
	if err := live.Send(&docv1.UploadAttachmentRequest{Chunk: []byte("end")}); err != nil {
		t.Fatal(err)
	}
	u, err := live.CloseAndRecv()
	if err != nil || u.GetSize() != 5<<20+3 || u.GetUploadId() != liveBlob {
		t.Fatalf("the upload in progress after the sweep: %v %v", u, err)
	}
	keep[liveBlob] = 6
	d2 := letter("2")
	d2.Attachments = append(d2.Attachments, &docv1.Attachment{Name: "b.pdf", ContentType: "application/pdf",
		UploadId: u.GetUploadId(), Sha256: u.GetSha256(), Size: u.GetSize()})
	f.send(d2)
	for b, n := range f.blobs() {
		if _, ok := keep[b]; !ok && n == 1 {
			keep[b] = 1 // the second document's inline attachment
		}
	}

	// A day later the sweep removes the marked leftover; the unmarked one needs the start.
	f.advance(UploadTTL + time.Minute)
	f.upload(1, false) // an upload begun now, whose first bytes are not committed yet
	if _, err := f.svc.ExpireUploads(); err != nil {
		t.Fatal(err)
	}
	if n := f.blobs()["0000000000000000000000aa"]; n != 0 {
		t.Errorf("the sweep after a day left %d chunks of an unfinished upload", n)
	}

	// A file from a version without the marks: at the next start, every blob that nothing
	// names goes; so do marked leftovers.
	f.crashChunks("0000000000000000000000cc", true)
	if err := f.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete([]byte(orphanScanKey)) }); err != nil {
		t.Fatal(err)
	}
	f.closeFn()
	f.open(f.verifier)
	got = f.blobs()
	for b, n := range keep {
		if b == waiting.GetUploadId() {
			continue // expired with its record a day later, as before
		}
		if got[b] != n {
			t.Errorf("blob %s has %d chunks after the start, want %d", b, got[b], n)
		}
	}
	for _, b := range []string{"0000000000000000000000bb", "0000000000000000000000cc"} {
		if got[b] != 0 {
			t.Errorf("%d chunks of %s (nothing names them) remain after the start", got[b], b)
		}
	}
	if len(got) != len(keep)-1 {
		t.Errorf("blobs after the start: %v, want those of %v but the expired upload", got, keep)
	}
	err = f.db.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketUploading).Cursor().First(); k != nil {
			t.Errorf("upload mark %s left after the start", k)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Every stored attachment still verifies against its digest.
	if v, err := f.client.VerifyEvidence(f.admin(), &docv1.VerifyEvidenceRequest{Attachments: true}); err != nil || !v.GetOk() {
		t.Fatalf("attachments after the clean-up: %v %v", v, err)
	}
}

// An upload whose chunks the sweep removed (it ran for longer than UploadTTL) fails rather
// than record a partial attachment, and leaves nothing.
func TestSweptUploadFails(t *testing.T) {
	f := newFixture(t)
	up, _ := f.upload(5<<20, false)
	deadline := time.Now().Add(10 * time.Second)
	for len(f.blobs()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the upload committed nothing")
		}
	}
	f.advance(UploadTTL + time.Minute)
	if n, err := f.svc.ExpireUploads(); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v, want the one upload in progress", n, err)
	}
	_ = up.Send(&docv1.UploadAttachmentRequest{Chunk: []byte("end")})
	_, err := up.CloseAndRecv()
	if status.Code(err) != codes.FailedPrecondition || reason(err) != "UPLOAD_EXPIRED" {
		t.Fatalf("finishing a swept upload: %v, want FAILED_PRECONDITION UPLOAD_EXPIRED", err)
	}
	if b := f.blobs(); len(b) != 0 {
		t.Errorf("chunks left by the failed upload: %v", b)
	}
}

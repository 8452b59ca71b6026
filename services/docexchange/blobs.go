package docexchange

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"runtime"
	"time"

	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/grpc"

	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/store/v1"
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
)

// Attachment content lives in the blobs bucket in chunks of blobChunk bytes under
// blob id \x00 chunk number, so no attachment is ever read or written whole.

func newBlobID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func chunkKey(blob string, n uint32) []byte {
	k := make([]byte, 0, len(blob)+5)
	k = append(k, blob...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint32(k, n)
}

// putChunks stores data as chunks of a blob starting at chunk number first.
func putChunks(tx *bolt.Tx, blob string, first uint32, data []byte) (uint32, error) {
	b := tx.Bucket(bucketBlobs)
	b.FillPercent = 1.0
	n := first
	for len(data) > 0 {
		m := min(len(data), blobChunk)
		if err := b.Put(chunkKey(blob, n), data[:m]); err != nil {
			return n, err
		}
		data = data[m:]
		n++
	}
	return n, nil
}

// deleteBlob removes every chunk of a blob.
func deleteBlob(tx *bolt.Tx, blob string) error {
	c := tx.Bucket(bucketBlobs).Cursor()
	prefix := append([]byte(blob), 0)
	for k, _ := c.Seek(prefix); k != nil && len(k) == len(prefix)+4 && string(k[:len(prefix)]) == string(prefix); k, _ = c.Seek(prefix) {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// readChunk copies one chunk of a blob (nil at the end).
func (s *Service) readChunk(blob string, n uint32) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketBlobs).Get(chunkKey(blob, n)); v != nil {
			out = append([]byte(nil), v...)
		}
		return nil
	})
	return out, err
}

const (
	maxUploadMessage = 4 << 20
	// uploadFlush is how much of an upload is gathered before it is committed: small, so
	// that the transaction's dirty pages and the garbage they leave stay small (4 MiB: with
	// 1 MiB the fsyncs halve the throughput, with more the peak memory grows).
	uploadFlush = 4 << 20
	// uploadGCEvery is how many stored chunks (of blobChunk bytes) pass between two
	// collections: one per commit.
	uploadGCEvery = 4
)

var errUploadTooLarge = platform.ResourceExhausted("UPLOAD_TOO_LARGE", "the upload is larger than the limit",
	"Tệp tải lên vượt quá giới hạn cho phép.")

// UploadAttachment stores a streamed attachment chunk by chunk: whenever 4 MiB have arrived
// they are committed (fsync), so memory stays flat whatever the size. On any failure the
// chunks already written are removed.
func (s *Service) UploadAttachment(stream grpc.ClientStreamingServer[docv1.UploadAttachmentRequest, docv1.Upload]) error {
	ctx := stream.Context()
	c, err := platform.RequireRole(ctx, platform.RoleAdmin, platform.RoleProvince, platform.RoleAgency)
	if err != nil {
		return err
	}
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	hdr := first.GetHeader()
	var v platform.Violations
	if hdr == nil {
		v.Add("header", "the first message carries the header")
	}
	checkText(&v, "header.name", hdr.GetName(), true, 255)
	checkText(&v, "header.content_type", hdr.GetContentType(), false, 255)
	if hdr.GetSha256() != "" && !sha256HexRE.MatchString(hdr.GetSha256()) {
		v.Add("header.sha256", "must be 64 lower-case hex digits")
	}
	if err := v.Err(); err != nil {
		return err
	}
	id := newBlobID()
	up := &uploader{s: s, blob: id, h: sha256.New()}
	if err := up.add(first.GetChunk()); err != nil {
		return up.abort(err)
	}
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return up.abort(err)
		}
		if msg.GetHeader() != nil {
			return up.abort(platform.Invalid(platform.FieldViolation{Field: "header", Description: "only the first message carries the header"}))
		}
		if err := up.add(msg.GetChunk()); err != nil {
			return up.abort(err)
		}
	}
	if err := up.flush(); err != nil {
		return up.abort(err)
	}
	sum := hex.EncodeToString(up.h.Sum(nil))
	if hdr.GetSha256() != "" && hdr.GetSha256() != sum {
		return up.abort(signatureError("ATTACHMENT_DIGEST_MISMATCH", "header.sha256",
			"the uploaded content's SHA-256 is "+sum, "mã băm SHA-256 không khớp với nội dung tải lên"))
	}
	rec := &storev1.UploadRecord{Id: id, Name: hdr.GetName(), ContentType: hdr.GetContentType(), Size: up.size, Sha256: sum,
		OwnerAgency: c.Agency(), CreatedAt: rfc3339(s.now())}
	val, err := proto.Marshal(rec)
	if err != nil {
		return up.abort(err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		if up.wrote { // the chunks are still there: the sweep did not take them
			if err := markUploading(tx, id, false, s.now()); err != nil {
				return err
			}
			if err := unmarkUploading(tx, id); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketUploads).Put([]byte(id), val)
	})
	if err != nil {
		return up.abort(err)
	}
	return stream.SendAndClose(&docv1.Upload{UploadId: id, Size: up.size, Sha256: sum, Name: rec.Name, ContentType: rec.ContentType})
}

type uploader struct {
	s     *Service
	blob  string
	h     hash.Hash
	buf   []byte
	next  uint32
	size  int64
	wrote bool
}

func (u *uploader) add(p []byte) error {
	if len(p) > maxUploadMessage {
		return platform.ResourceExhausted("UPLOAD_CHUNK_TOO_LARGE", "one upload message carries at most 4 MiB",
			"Mỗi phần tải lên tối đa 4 MiB.")
	}
	u.size += int64(len(p))
	if u.size > u.s.maxUpld {
		return errUploadTooLarge
	}
	u.h.Write(p)
	if u.buf == nil {
		u.buf = make([]byte, 0, uploadFlush)
	}
	for len(p) > 0 {
		m := min(len(p), cap(u.buf)-len(u.buf))
		u.buf = append(u.buf, p[:m]...)
		p = p[m:]
		if len(u.buf) == cap(u.buf) {
			if err := u.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (u *uploader) flush() error {
	if len(u.buf) == 0 {
		return nil
	}
	u.wrote = true
	err := u.s.db.Update(func(tx *bolt.Tx) error {
		// The first commit marks the blob as being uploaded (orphans.go); later ones check
		// the mark is still there.
		if err := markUploading(tx, u.blob, u.next == 0, u.s.now()); err != nil {
			return err
		}
		n, err := putChunks(tx, u.blob, u.next, u.buf)
		u.next = n
		return err
	})
	u.buf = u.buf[:0]
	// Every chunk leaves garbage the size of the chunk several times over (the gRPC frames,
	// the decoded message, bbolt's page buffers); at upload speed the collector would let
	// the heap grow far beyond what is live. Collecting every uploadGCEvery keeps the peak
	// near the live size, at the price of a short collection per few MiB.
	if u.next%uploadGCEvery == 0 {
		runtime.GC()
	}
	return err
}

func (u *uploader) abort(err error) error {
	if u.wrote {
		derr := u.s.db.Update(func(tx *bolt.Tx) error {
			if err := deleteBlob(tx, u.blob); err != nil {
				return err
			}
			return unmarkUploading(tx, u.blob)
		})
		if derr != nil {
			u.s.lg.Warn("upload chunks not removed")
		}
	}
	return err
}

// DownloadAttachment streams an attachment's chunks.
func (s *Service) DownloadAttachment(r *docv1.DownloadAttachmentRequest, stream grpc.ServerStreamingServer[httpbody.HttpBody]) error {
	ctx := stream.Context()
	sd, err := s.readableDoc(ctx, r.GetId())
	if err != nil {
		return err
	}
	atts := sd.GetDocument().GetAttachments()
	i := int(r.GetIndex())
	if i < 0 || i >= len(atts) || i >= len(sd.GetBlobIds()) {
		return platform.NotFound("attachment", fmt.Sprintf("%s/%d", r.GetId(), r.GetIndex()))
	}
	ct := atts[i].GetContentType()
	if ct == "" {
		ct = "application/octet-stream"
	}
	blob := sd.GetBlobIds()[i]
	sent := false
	for n := uint32(0); ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunk, err := s.readChunk(blob, n)
		if err != nil {
			return err
		}
		if chunk == nil {
			break
		}
		// readChunk copied the chunk and closed its transaction; the send has a deadline.
		if err := s.sendChunk(ctx, stream, &httpbody.HttpBody{ContentType: ct, Data: chunk}); err != nil {
			return err
		}
		sent = true
	}
	if !sent { // an empty file still answers its content type
		return s.sendChunk(ctx, stream, &httpbody.HttpBody{ContentType: ct})
	}
	return nil
}

// sendChunk sends one message of a download within the send timeout.
func (s *Service) sendChunk(ctx context.Context, stream grpc.ServerStreamingServer[httpbody.HttpBody], m *httpbody.HttpBody) error {
	return platform.SendWithTimeout(ctx, s.sendTimeout, func() error { return stream.Send(m) })
}

// loadUpload returns an upload the caller's agency made.
func loadUpload(tx *bolt.Tx, id, agency string) (*storev1.UploadRecord, error) {
	raw := tx.Bucket(bucketUploads).Get([]byte(id))
	if raw == nil {
		return nil, nil
	}
	var u storev1.UploadRecord
	if err := proto.Unmarshal(raw, &u); err != nil {
		return nil, fmt.Errorf("upload %s: %w", id, err)
	}
	if agency != "" && u.GetOwnerAgency() != agency {
		return nil, nil
	}
	return &u, nil
}

// UploadTTL is how long an upload that no document names is kept.
const UploadTTL = 24 * time.Hour

// ExpireUploads removes the uploads older than UploadTTL that no document took (a document
// that names an upload takes it over), with their chunks, and the chunks of uploads begun
// before UploadTTL that never finished (orphans.go). The part calls it periodically.
func (s *Service) ExpireUploads() (int, error) {
	cutoff := s.now().Add(-UploadTTL)
	var old []string
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketUploads).ForEach(func(k, v []byte) error {
			var u storev1.UploadRecord
			if err := proto.Unmarshal(v, &u); err != nil {
				return err
			}
			if t, err := time.Parse(time.RFC3339, u.GetCreatedAt()); err == nil && t.Before(cutoff) {
				old = append(old, string(k))
			}
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	for _, id := range old {
		err := s.db.Update(func(tx *bolt.Tx) error {
			if tx.Bucket(bucketUploads).Get([]byte(id)) == nil {
				return nil // taken by a document meanwhile
			}
			if err := deleteBlob(tx, id); err != nil {
				return err
			}
			return tx.Bucket(bucketUploads).Delete([]byte(id))
		})
		if err != nil {
			return 0, err
		}
	}
	unfinished, err := s.sweepUploading(cutoff, false)
	removeStaleImportFiles(s.db.Path(), cutoff) // edxml_stream.go
	return len(old) + unfinished, err
}

package docexchange

import (
	"bytes"
	"fmt"
	"time"

	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/store/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
)

// An upload's chunks are committed as they arrive, before its record: a process that stops
// in the middle (kill -9, power cut) would leave chunks that nothing names. So the first
// commit of an upload also marks its blob as being uploaded, and the commit of the record
// removes the mark; at start every mark left is an upload that will never finish, and the
// sweep removes any mark older than UploadTTL (an upload that failed and whose clean-up
// failed too, e.g. on a full disk). A mark removed under a running upload makes the upload
// fail rather than store a partial attachment.

// bucketUploading holds the blobs being uploaded: blob id -> start time (RFC 3339).
var bucketUploading = []byte("uploading")

// orphanScanKey, in the meta bucket, records that the chunks of files written before the
// marks existed have been checked once.
const orphanScanKey = "orphan_chunks_checked"

var errUploadSwept = platform.FailedPrecondition("UPLOAD_EXPIRED",
	"the upload took longer than allowed and its chunks were removed; upload the file again",
	"Quá thời gian tải lên, các phần đã tải bị xoá; vui lòng tải lên lại.")

// markUploading records, in the transaction of the first chunks, that blob is being
// uploaded; a later commit of the same upload checks that the mark is still there.
func markUploading(tx *bolt.Tx, blob string, first bool, now time.Time) error {
	b, err := tx.CreateBucketIfNotExists(bucketUploading)
	if err != nil {
		return err
	}
	if first {
		return b.Put([]byte(blob), []byte(now.UTC().Format(time.RFC3339)))
	}
	if b.Get([]byte(blob)) == nil {
		return errUploadSwept
	}
	return nil
}

// unmarkUploading removes the mark of blob (the upload is recorded, or removed).
func unmarkUploading(tx *bolt.Tx, blob string) error {
	if b := tx.Bucket(bucketUploading); b != nil {
		return b.Delete([]byte(blob))
	}
	return nil
}

// sweepUploading removes the chunks and marks of uploads marked before cutoff (at start:
// all of them). It returns how many it removed.
func (s *Service) sweepUploading(cutoff time.Time, all bool) (int, error) {
	var stale []string
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketUploading)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			t, err := time.Parse(time.RFC3339, string(v))
			if all || err != nil || t.Before(cutoff) {
				stale = append(stale, string(k))
			}
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	for _, blob := range stale {
		err := s.db.Update(func(tx *bolt.Tx) error {
			if tx.Bucket(bucketUploading).Get([]byte(blob)) == nil {
				return nil // finished meanwhile
			}
			if err := deleteBlob(tx, blob); err != nil {
				return err
			}
			return unmarkUploading(tx, blob)
		})
		if err != nil {
			return 0, err
		}
	}
	return len(stale), nil
}

// removeOrphanChunks runs at start: the uploads a stopped process left unfinished are
// removed, and, once for a file written before the marks existed, every blob that no
// document and no upload record names.
func (s *Service) removeOrphanChunks() error {
	if err := s.db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketUploading)
		return err
	}); err != nil {
		return err
	}
	n, err := s.sweepUploading(time.Time{}, true)
	if err != nil {
		return err
	}
	if n > 0 {
		s.lg.Info("chunks of unfinished uploads removed")
	}
	var done bool
	if err := s.db.View(func(tx *bolt.Tx) error {
		done = tx.Bucket(bucketMeta).Get([]byte(orphanScanKey)) != nil
		return nil
	}); err != nil || done {
		return err
	}
	var orphans []string
	err = s.db.View(func(tx *bolt.Tx) error {
		named := map[string]bool{}
		if err := tx.Bucket(bucketUploads).ForEach(func(k, _ []byte) error {
			named[string(k)] = true
			return nil
		}); err != nil {
			return err
		}
		if err := tx.Bucket(bucketDocs).ForEach(func(k, v []byte) error {
			var sd storev1.StoredDocument
			if err := proto.Unmarshal(v, &sd); err != nil {
				return fmt.Errorf("document %s: %w", k, err)
			}
			for _, b := range sd.GetBlobIds() {
				named[b] = true
			}
			return nil
		}); err != nil {
			return err
		}
		c := tx.Bucket(bucketBlobs).Cursor()
		for k, _ := c.First(); k != nil; {
			i := bytes.IndexByte(k, 0)
			if i < 0 {
				k, _ = c.Next()
				continue
			}
			blob := string(k[:i])
			if !named[blob] {
				orphans = append(orphans, blob)
			}
			k, _ = c.Seek(append([]byte(blob), 1)) // past this blob's chunks
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, blob := range orphans {
			if err := deleteBlob(tx, blob); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put([]byte(orphanScanKey), []byte(s.now().UTC().Format(time.RFC3339)))
	})
}

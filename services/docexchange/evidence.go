package docexchange

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"

	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/store/v1"
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
)

// Evidence record kinds.
const (
	kindAccepted = "DOCUMENT_ACCEPTED"
	kindStatus   = "STATUS_CHANGED"
	kindKey      = "SIGNING_KEY_REGISTERED"
)

const checkpointDomain = "lienthong-evidence-checkpoint"

var deterministic = proto.MarshalOptions{Deterministic: true}

// recordHash is SHA-256 of the previous hash followed by the record's deterministic
// encoding with its own hash left out.
func recordHash(r *storev1.EvidenceRecord) ([]byte, error) {
	c := proto.Clone(r).(*storev1.EvidenceRecord)
	c.Hash = nil
	b, err := deterministic.Marshal(c)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	h.Write(r.GetPrevHash())
	h.Write(b)
	return h.Sum(nil), nil
}

func checkpointMessage(seq uint64, hash []byte) []byte {
	m := make([]byte, 0, len(checkpointDomain)+8+len(hash))
	m = append(m, checkpointDomain...)
	m = binary.BigEndian.AppendUint64(m, seq)
	return append(m, hash...)
}

// appendEvidence adds a record to the log inside the caller's transaction, linked to the
// last one, and signs a checkpoint every checkpointEvery records.
func (s *Service) appendEvidence(tx *bolt.Tx, r *storev1.EvidenceRecord, now time.Time) error {
	b := tx.Bucket(bucketEvidence)
	var prev []byte
	if k, v := b.Cursor().Last(); k != nil {
		var last storev1.EvidenceRecord
		if err := proto.Unmarshal(v, &last); err != nil {
			return fmt.Errorf("evidence: last record: %w", err)
		}
		prev = last.GetHash()
		r.Seq = binary.BigEndian.Uint64(k) + 1
	} else {
		r.Seq = 1
	}
	r.PrevHash = prev
	r.At = rfc3339Nano(now)
	h, err := recordHash(r)
	if err != nil {
		return err
	}
	r.Hash = h
	v, err := deterministic.Marshal(r)
	if err != nil {
		return err
	}
	b.FillPercent = 1.0
	if err := b.Put(be64(r.Seq), v); err != nil {
		return err
	}
	if r.Seq%checkpointEvery == 0 {
		return s.putCheckpoint(tx, r.Seq, h, now)
	}
	return nil
}

func (s *Service) putCheckpoint(tx *bolt.Tx, seq uint64, hash []byte, now time.Time) error {
	cp := &storev1.Checkpoint{Seq: seq, Hash: hash, At: rfc3339(now), Signature: ed25519.Sign(s.key, checkpointMessage(seq, hash))}
	v, err := deterministic.Marshal(cp)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketChecks).Put(be64(seq), v)
}

// Checkpoint signs the current head of the log, if it is not signed yet (the part calls it
// periodically and at shutdown, so a quiet log is signed too).
func (s *Service) Checkpoint() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		k, v := tx.Bucket(bucketEvidence).Cursor().Last()
		if k == nil {
			return nil
		}
		if ck, _ := tx.Bucket(bucketChecks).Cursor().Last(); ck != nil && bytes.Equal(ck, k) {
			return nil
		}
		var r storev1.EvidenceRecord
		if err := proto.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("evidence head: %w", err)
		}
		return s.putCheckpoint(tx, r.GetSeq(), r.GetHash(), s.now())
	})
}

// verifyEvidence walks the whole log in one read transaction.
func (s *Service) verifyEvidence(tx *bolt.Tx) *docv1.VerifyEvidenceResponse {
	out := &docv1.VerifyEvidenceResponse{Ok: true, CheckpointPublicKey: s.key.Public().(ed25519.PublicKey)}
	fail := func(seq uint64, format string, args ...any) *docv1.VerifyEvidenceResponse {
		out.Ok, out.FirstBrokenSequence, out.Reason = false, int64(seq), fmt.Sprintf(format, args...)
		return out
	}
	hashes := map[uint64][]byte{}
	var prev []byte
	var want uint64 = 1
	c := tx.Bucket(bucketEvidence).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(k) != 8 {
			return fail(want, "record key of %d bytes", len(k))
		}
		seq := binary.BigEndian.Uint64(k)
		if seq != want {
			return fail(want, "record %d is missing (next stored is %d)", want, seq)
		}
		var r storev1.EvidenceRecord
		if err := proto.Unmarshal(v, &r); err != nil {
			return fail(seq, "record %d cannot be decoded", seq)
		}
		if r.GetSeq() != seq {
			return fail(seq, "record %d says it is record %d", seq, r.GetSeq())
		}
		if !bytes.Equal(r.GetPrevHash(), prev) {
			return fail(seq, "record %d does not link to the hash of record %d", seq, seq-1)
		}
		h, err := recordHash(&r)
		if err != nil || !bytes.Equal(h, r.GetHash()) {
			return fail(seq, "record %d was altered: its content does not give its hash", seq)
		}
		prev = r.GetHash()
		hashes[seq] = prev
		out.Records++
		want++
	}
	out.HeadHash = hex.EncodeToString(prev)
	if r := s.verifyDocuments(tx, c, fail); r != nil {
		return r
	}
	pub := s.key.Public().(ed25519.PublicKey)
	cc := tx.Bucket(bucketChecks).Cursor()
	for k, v := cc.First(); k != nil; k, v = cc.Next() {
		var cp storev1.Checkpoint
		if err := proto.Unmarshal(v, &cp); err != nil || len(k) != 8 || binary.BigEndian.Uint64(k) != cp.GetSeq() {
			return fail(binary.BigEndian.Uint64(append(make([]byte, 8-min(len(k), 8)), k[:min(len(k), 8)]...)), "checkpoint cannot be decoded")
		}
		if !ed25519.Verify(pub, checkpointMessage(cp.GetSeq(), cp.GetHash()), cp.GetSignature()) {
			return fail(cp.GetSeq(), "checkpoint at record %d has a bad signature", cp.GetSeq())
		}
		h, ok := hashes[cp.GetSeq()]
		if !ok {
			return fail(cp.GetSeq(), "checkpoint at record %d names a record that is not in the log", cp.GetSeq())
		}
		if !bytes.Equal(h, cp.GetHash()) {
			return fail(cp.GetSeq(), "record %d differs from its signed checkpoint", cp.GetSeq())
		}
		out.Checkpoints++
	}
	return out
}

func payloadHash(b []byte) []byte {
	h := sha256.Sum256(b)
	return h[:]
}

// verifyDocuments checks the stored documents against the log: each accepted document must
// still give the canonical hash its record holds, and each status change must still be in
// its recipient's history, so a byte altered in a document is caught as well as one altered
// in the log. It names the record whose document no longer matches.
func (s *Service) verifyDocuments(tx *bolt.Tx, c *bolt.Cursor, fail func(uint64, string, ...any) *docv1.VerifyEvidenceResponse) *docv1.VerifyEvidenceResponse {
	type docState struct {
		sd       *storev1.StoredDocument
		history  map[string]int    // hash of a status change -> how many times it is in the history
		accepted uint64            // record of the acceptance
		last     map[string]uint64 // recipient -> its last status record
	}
	docs := map[string]*docState{}
	load := func(id string) (*docState, error) {
		if d, ok := docs[id]; ok {
			return d, nil
		}
		sd, err := loadDoc(tx, id)
		if err != nil || sd == nil {
			return nil, err
		}
		d := &docState{sd: sd, history: map[string]int{}, last: map[string]uint64{}}
		for _, rc := range sd.GetDocument().GetRecipients() {
			for i, h := range rc.GetHistory() {
				if i == 0 {
					continue // the delivery, recorded with the document
				}
				b, err := deterministic.Marshal(h)
				if err != nil {
					return nil, err
				}
				d.history[rc.GetAgencyCode()+"\x00"+string(payloadHash(b))]++
			}
		}
		docs[id] = d
		return d, nil
	}
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var r storev1.EvidenceRecord
		if err := proto.Unmarshal(v, &r); err != nil {
			return fail(binary.BigEndian.Uint64(k), "record cannot be decoded")
		}
		switch r.GetKind() {
		case kindAccepted:
			d, err := load(r.GetDocumentId())
			if err != nil || d == nil {
				return fail(r.GetSeq(), "document %s of record %d is missing or unreadable", r.GetDocumentId(), r.GetSeq())
			}
			d.accepted = r.GetSeq()
			canon, err := CanonicalBytes(d.sd.GetDocument())
			if err != nil || !bytes.Equal(payloadHash(canon), r.GetPayloadSha256()) {
				return fail(r.GetSeq(), "document %s was altered: it no longer matches record %d", r.GetDocumentId(), r.GetSeq())
			}
		case kindStatus:
			d, err := load(r.GetDocumentId())
			key := r.GetAgencyCode() + "\x00" + string(r.GetPayloadSha256())
			if err != nil || d == nil || d.history[key] == 0 {
				return fail(r.GetSeq(), "the status change of record %d is not in document %s as recorded (altered or removed)", r.GetSeq(), r.GetDocumentId())
			}
			d.history[key]--
			d.last[r.GetAgencyCode()] = r.GetSeq()
		}
	}
	stored := 0
	_ = tx.Bucket(bucketDocs).ForEach(func(_, _ []byte) error { stored++; return nil })
	if stored != len(docs) {
		return fail(0, "%d documents are stored, %d are in the log", stored, len(docs))
	}
	for id, d := range docs {
		// A recipient's current status is the last of its history.
		for _, rc := range d.sd.GetDocument().GetRecipients() {
			h := rc.GetHistory()
			if len(h) == 0 {
				return fail(d.accepted, "document %s has lost the history of recipient %s", id, rc.GetAgencyCode())
			}
			l := h[len(h)-1]
			if rc.GetStatus() != l.GetStatus() || rc.GetReason() != l.GetReason() || rc.GetUpdatedAt() != l.GetUpdatedAt() {
				seq := d.last[rc.GetAgencyCode()]
				if seq == 0 {
					seq = d.accepted
				}
				return fail(seq, "document %s was altered: the status of recipient %s is not the last of its history (record %d)", id, rc.GetAgencyCode(), seq)
			}
		}
		for _, n := range d.history {
			if n > 0 {
				return fail(0, "document %s holds a status change that is in no record", id)
			}
		}
	}
	return nil
}

// verifyAttachments reads every attachment back and compares its SHA-256 and size with the
// document's (which the acceptance record vouches for).
func (s *Service) verifyAttachments(ctx context.Context, tx *bolt.Tx, out *docv1.VerifyEvidenceResponse) error {
	accepted := map[string]uint64{}
	c := tx.Bucket(bucketEvidence).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var r storev1.EvidenceRecord
		if err := proto.Unmarshal(v, &r); err == nil && r.GetKind() == kindAccepted {
			accepted[r.GetDocumentId()] = r.GetSeq()
		}
	}
	blobs := tx.Bucket(bucketBlobs)
	return tx.Bucket(bucketDocs).ForEach(func(id, raw []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		var sd storev1.StoredDocument
		if err := proto.Unmarshal(raw, &sd); err != nil {
			return err
		}
		for i, a := range sd.GetDocument().GetAttachments() {
			if !out.Ok {
				return nil
			}
			h := sha256.New()
			var size int64
			if i < len(sd.GetBlobIds()) {
				for n := uint32(0); ; n++ {
					v := blobs.Get(chunkKey(sd.GetBlobIds()[i], n))
					if v == nil {
						break
					}
					h.Write(v)
					size += int64(len(v))
				}
			}
			if hex.EncodeToString(h.Sum(nil)) != a.GetSha256() || (a.GetSize() != 0 && size != a.GetSize()) {
				seq := accepted[string(id)]
				out.Ok, out.FirstBrokenSequence = false, int64(seq)
				out.Reason = fmt.Sprintf("attachment %d (%s) of document %s was altered: it no longer matches record %d", i, a.GetName(), id, seq)
				return nil
			}
			out.AttachmentsChecked++
		}
		return nil
	})
}

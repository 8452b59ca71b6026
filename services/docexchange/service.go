// Package docexchange is the document exchange part of lienthong: agencies' document
// management software sends official documents (envelope after edXML, QCVN 102:2016,
// attachments, an optional signature) to other agencies; recipients fetch them from a
// mailbox (pull, or a resumable stream) and report their handling status; every accepted
// document and status change is appended to a hash-chained evidence log with checkpoints
// signed by the part's own key.
//
// Where to look: signatures and keys in signature.go, canonical JSON (RFC 8785) in
// canonical.go, the status rules in transitions.go, the evidence log in evidence.go,
// edXML in edxml.go, attachments and uploads in blobs.go, statistics in stats.go.
//
// Every write is one bbolt transaction (fsynced before the call is answered) that holds the
// document or status change and its evidence record together, so the log and the data never
// disagree after a crash.
package docexchange

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
	"google.golang.org/grpc"
)

// Part is the name of this part.
const Part = "docexchange"

// Buckets of docexchange.db.
var (
	bucketDocs     = []byte("documents")    // id -> StoredDocument
	bucketDupKeys  = []byte("dup_keys")     // from \x00 number \x00 notation \x00 date -> id
	bucketMsgIDs   = []byte("message_ids")  // from \x00 message_id -> id
	bucketInbox    = []byte("inbox")        // agency \x00 seq (8) -> id
	bucketSent     = []byte("sent")         // sending agency \x00 seq (8) -> id
	bucketBlobs    = []byte("blobs")        // blob id \x00 chunk (4) -> bytes
	bucketUploads  = []byte("uploads")      // upload id -> UploadRecord
	bucketKeys     = []byte("signing_keys") // key id -> SigningKey
	bucketEvidence = []byte("evidence")     // seq (8) -> EvidenceRecord
	bucketChecks   = []byte("checkpoints")  // seq (8) -> Checkpoint
	bucketMeta     = []byte("meta")         // counters
)

// Limits and defaults.
const (
	// DefaultMaxDocumentBytes is the largest document (attachments included) one request
	// carries unless configured.
	DefaultMaxDocumentBytes = 20 << 20
	// DefaultMaxUploadBytes is the largest streamed attachment.
	DefaultMaxUploadBytes = 200 << 20
	blobChunk             = 1 << 20 // bytes per stored chunk
	maxRecipients         = 500
	maxAttachments        = 100
	checkpointEvery       = 100 // evidence records between signed checkpoints
)

// CatalogClient is what the part asks the catalog.
type CatalogClient interface {
	LookupReferences(ctx context.Context, in *catalogv1.LookupReferencesRequest, opts ...grpc.CallOption) (*catalogv1.LookupReferencesResponse, error)
}

// Options configure the service.
type Options struct {
	Catalog CatalogClient
	Logger  *zap.Logger
	Now     func() time.Time
	// EvidenceKey signs the evidence log's checkpoints.
	EvidenceKey ed25519.PrivateKey
	// MaxDocumentBytes limits a document sent in one request (default 20 MiB).
	MaxDocumentBytes int64
	// MaxUploadBytes limits one streamed attachment (default 200 MiB).
	MaxUploadBytes int64
	// TrustedRoots are the roots agencies' certificate chains must lead to (none: only bare
	// public keys can be registered).
	TrustedRoots *x509.CertPool
	// CRLs are the revocation lists certificates are checked against (nil: none).
	CRLs *RevocationLists
	// SendTimeout bounds each message of a server stream (inbox subscriptions, attachment
	// downloads): a client that does not take one within it has its stream ended
	// (0: platform.DefaultSendTimeout).
	SendTimeout time.Duration
	// RefuseBrokenPDFSignatures refuses a document with a PDF attachment whose embedded
	// signature is broken (FAILED_PRECONDITION, PDF_SIGNATURE_BROKEN); otherwise it is only
	// reported (pdf_attachments.go).
	RefuseBrokenPDFSignatures bool
}

// Service is the docexchange part.
type Service struct {
	docv1.UnimplementedDocumentServiceServer

	db      *bolt.DB
	lg      *zap.Logger
	now     func() time.Time
	refs    *refs
	key     ed25519.PrivateKey
	maxDoc  int64
	maxUpld int64
	roots   *x509.CertPool
	crls    *RevocationLists
	// sendTimeout: see Options.SendTimeout.
	sendTimeout time.Duration
	// refuseBrokenPDF: see Options.RefuseBrokenPDFSignatures; pdfSem bounds the PDF
	// inspections running at once.
	refuseBrokenPDF bool
	pdfSem          chan struct{}

	notifyMu sync.Mutex
	notify   chan struct{} // closed and replaced after every delivery
}

// Open creates the buckets and returns the service.
func Open(db *bolt.DB, o Options) (*Service, error) {
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if len(o.EvidenceKey) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("docexchange: an Ed25519 evidence key is required")
	}
	if o.MaxDocumentBytes <= 0 {
		o.MaxDocumentBytes = DefaultMaxDocumentBytes
	}
	if o.MaxUploadBytes <= 0 {
		o.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = platform.DefaultSendTimeout
	}
	// Sends and status reports are committed in batches (bbolt's Batch): a short delay, as
	// the default 10 ms would be most of a request's time.
	db.MaxBatchDelay = 2 * time.Millisecond
	s := &Service{db: db, lg: o.Logger, now: o.Now, refs: newRefs(o.Catalog, o.Now), key: o.EvidenceKey,
		maxDoc: o.MaxDocumentBytes, maxUpld: o.MaxUploadBytes, roots: o.TrustedRoots, crls: o.CRLs, notify: make(chan struct{}),
		sendTimeout: o.SendTimeout, refuseBrokenPDF: o.RefuseBrokenPDFSignatures, pdfSem: make(chan struct{}, 2)}
	err := db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketDocs, bucketDupKeys, bucketMsgIDs, bucketInbox, bucketSent, bucketBlobs, bucketUploads,
			bucketKeys, bucketEvidence, bucketChecks, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("docexchange buckets: %w", err)
	}
	if err := s.removeOrphanChunks(); err != nil {
		return nil, fmt.Errorf("docexchange: chunks of unfinished uploads: %w", err)
	}
	if err := s.ensureCounters(); err != nil {
		return nil, fmt.Errorf("docexchange: statistics counters: %w", err)
	}
	return s, nil
}

// wake tells the inbox subscribers that something was delivered.
func (s *Service) wake() {
	s.notifyMu.Lock()
	close(s.notify)
	s.notify = make(chan struct{})
	s.notifyMu.Unlock()
}

func (s *Service) waitCh() <-chan struct{} {
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	return s.notify
}

// nextSeq increments a named counter in the meta bucket.
func nextSeq(tx *bolt.Tx, name string) (uint64, error) {
	b := tx.Bucket(bucketMeta)
	var n uint64
	if v := b.Get([]byte(name)); len(v) == 8 {
		n = binary.BigEndian.Uint64(v)
	}
	n++
	if err := b.Put([]byte(name), be64(n)); err != nil {
		return 0, err
	}
	return n, nil
}

func be64(n uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return b[:]
}

// vietnam is the time zone the API writes times in (docs/api.md, "Conventions").
var vietnam = time.FixedZone("ICT", 7*3600)

// rfc3339 writes a time as the API shows it: Vietnam time, to the second.
func rfc3339(t time.Time) string { return t.In(vietnam).Format(time.RFC3339) }

// rfc3339Nano writes a time of the evidence log, to the nanosecond.
func rfc3339Nano(t time.Time) string { return t.In(vietnam).Format(time.RFC3339Nano) }

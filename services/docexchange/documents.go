package docexchange

import (
	"context"
	"fmt"
	"time"

	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/store/v1"
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
)

// sendOptions are what the demo loader may set that a client cannot.
type sendOptions struct {
	at     time.Time // when the document is taken as delivered
	system string    // the sending system
	// xmlSigner is the subject of the certificate whose XML signature of the edXML package
	// was verified (edxml_xmldsig.go).
	xmlSigner string
}

// send checks and stores a document and delivers it. Anything refused stores nothing.
func (s *Service) send(ctx context.Context, d *docv1.Document, o sendOptions) (*docv1.SendDocumentResponse, error) {
	c, err := platform.RequireRole(ctx, platform.RoleAdmin, platform.RoleProvince, platform.RoleAgency)
	if err != nil {
		return nil, err
	}
	if o.system == "" {
		o.system = c.System
	}
	if o.at.IsZero() {
		o.at = s.now()
	}
	// The stages, in this order (docs/security.md: the right before expensive work):
	// validate (send_validate.go) → authorise (send_authorise.go) → check signatures
	// (send_signature.go) → store (send_store.go).
	st := &sendState{d: d, o: o, c: c}
	if err := validateSend(st); err != nil {
		return nil, err
	}
	if err := s.authoriseSend(ctx, st); err != nil {
		return nil, err
	}
	st.signed = d.GetSignature() != nil
	if err := s.checkInlineAttachments(st); err != nil {
		return nil, err
	}
	s.inspectPDFAttachments(st)
	var resp *docv1.SendDocumentResponse
	delivered := false
	// Batch: concurrent sends share one commit (and its fsync). A function of a batch that
	// fails is run again alone, so it starts from nothing each time.
	err = s.db.Batch(func(tx *bolt.Tx) error {
		resp, delivered = nil, false
		if err := s.checkSendSignatures(tx, st); err != nil {
			return err
		}
		var err error
		resp, delivered, err = s.storeSent(tx, st)
		return err
	})
	if err != nil {
		return nil, err
	}
	if delivered {
		s.wake()
	}
	return resp, nil
}

func inboxKey(agency string, seq uint64) []byte {
	k := make([]byte, 0, len(agency)+9)
	k = append(k, agency...)
	k = append(k, 0)
	return append(k, be64(seq)...)
}

func loadDoc(tx *bolt.Tx, id string) (*storev1.StoredDocument, error) {
	raw := tx.Bucket(bucketDocs).Get([]byte(id))
	if raw == nil {
		return nil, nil
	}
	var sd storev1.StoredDocument
	if err := proto.Unmarshal(raw, &sd); err != nil {
		return nil, fmt.Errorf("document %s: %w", id, err)
	}
	return &sd, nil
}

func putDoc(tx *bolt.Tx, sd *storev1.StoredDocument) error {
	v, err := proto.Marshal(sd)
	if err != nil {
		return err
	}
	// The statistics counters follow the document in the same transaction (stats_counters.go).
	if err := countDocument(tx, sd); err != nil {
		return err
	}
	return tx.Bucket(bucketDocs).Put([]byte(sd.GetDocument().GetId()), v)
}

// mayRead says whether the caller may read a stored document: admin and ministry all, an
// agency what it sent or received, a province what an agency of its unit sent or received.
func mayRead(c *platform.Caller, sd *storev1.StoredDocument) bool {
	switch c.Role {
	case platform.RoleAdmin, platform.RoleMinistry:
		return true
	case platform.RoleAgency:
		if sd.GetDocument().GetFrom() == c.Agency() {
			return true
		}
		for _, t := range sd.GetDocument().GetTo() {
			if t == c.Agency() {
				return true
			}
		}
	case platform.RoleProvince:
		if sd.GetFromUnit() == c.Unit {
			return true
		}
		for _, u := range sd.GetRecipientUnits() {
			if u == c.Unit {
				return true
			}
		}
	}
	return false
}

// readableDoc loads a document the caller may read. A document the caller may not read is
// NOT_FOUND, so ids of other agencies' documents are not confirmed.
func (s *Service) readableDoc(ctx context.Context, id string) (*storev1.StoredDocument, error) {
	c, err := platform.RequireRole(ctx, platform.RoleAdmin, platform.RoleMinistry, platform.RoleProvince, platform.RoleAgency)
	if err != nil {
		return nil, err
	}
	if !docIDRE.MatchString(id) {
		return nil, platform.NotFound("document", id)
	}
	var sd *storev1.StoredDocument
	err = s.db.View(func(tx *bolt.Tx) error {
		sd, err = loadDoc(tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	if sd == nil || !mayRead(c, sd) {
		return nil, platform.NotFound("document", id)
	}
	return sd, nil
}

package docexchange

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"strconv"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc"
)

// mayReadInbox checks that the caller may read an agency's mailbox.
func (s *Service) mayReadInbox(ctx context.Context, agency string) error {
	c, err := platform.RequireRole(ctx, platform.RoleAdmin, platform.RoleMinistry, platform.RoleProvince, platform.RoleAgency)
	if err != nil {
		return err
	}
	if !platform.IsAgencyCode(agency) {
		return platform.Invalid(platform.FieldViolation{Field: "agency_code", Description: "must be an agency code NNN.NN.NN.XNN or XNN.NN (e.g. 000.00.00.H31, H26.107)"})
	}
	switch c.Role {
	case platform.RoleAgency:
		if c.Agency() != agency {
			return platform.PermissionDenied(
				fmt.Sprintf("a token of agency %s may not read the mailbox of %s", c.Agency(), agency),
				fmt.Sprintf("Mã truy cập của cơ quan %s không được đọc hộp thư của cơ quan %s.", c.Agency(), agency))
		}
	case platform.RoleProvince:
		units, err := s.refs.agencyUnits(ctx, []string{agency})
		if err != nil {
			return err
		}
		if units[agency] != c.Unit {
			return platform.PermissionDenied(
				fmt.Sprintf("a token of unit %s may not read the mailbox of %s", c.Unit, agency),
				fmt.Sprintf("Mã truy cập của đơn vị %s không được đọc hộp thư của cơ quan %s.", c.Unit, agency))
		}
	}
	return nil
}

// ListInbox answers a page of a mailbox, oldest delivery first.
func (s *Service) ListInbox(ctx context.Context, r *docv1.ListInboxRequest) (*docv1.ListInboxResponse, error) {
	if err := s.mayReadInbox(ctx, r.GetAgencyCode()); err != nil {
		return nil, err
	}
	size, err := platform.PageSize(r.GetPageSize())
	if err != nil {
		return nil, err
	}
	if st := r.GetStatus(); st != 0 && !reportable[st] && st != stRecall {
		return nil, platform.Invalid(platform.FieldViolation{Field: "status", Description: "not a document status"})
	}
	query := "inbox|" + r.GetAgencyCode() + "|" + strconv.Itoa(int(r.GetStatus()))
	after, err := platform.DecodePageToken(query, r.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &docv1.ListInboxResponse{}
	prefix := append([]byte(r.GetAgencyCode()), 0)
	var lastKey []byte
	err = s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketInbox).Cursor()
		k, v := c.Seek(prefix)
		if after != "" {
			k, v = c.Seek([]byte(after))
			if k != nil && string(k) == after {
				k, v = c.Next()
			}
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			sd, err := loadDoc(tx, string(v))
			if err != nil {
				return err
			}
			if sd == nil {
				continue
			}
			if st := r.GetStatus(); st != 0 {
				i := recipientIndex(sd, r.GetAgencyCode())
				if i < 0 || sd.GetDocument().GetRecipients()[i].GetStatus() != st {
					continue
				}
			}
			if len(out.Documents) == size {
				out.NextPageToken = platform.EncodePageToken(query, string(lastKey))
				return nil
			}
			out.Documents = append(out.Documents, sd.GetDocument())
			lastKey = append(lastKey[:0], k...)
		}
		return nil
	})
	return out, err
}

// SubscribeInbox sends the deliveries after the cursor, then new ones as they come.
func (s *Service) SubscribeInbox(r *docv1.SubscribeInboxRequest, stream grpc.ServerStreamingServer[docv1.InboxEntry]) error {
	ctx := stream.Context()
	if err := s.mayReadInbox(ctx, r.GetAgencyCode()); err != nil {
		return err
	}
	var after uint64
	if r.GetAfter() != "" {
		n, err := strconv.ParseUint(r.GetAfter(), 10, 64)
		if err != nil {
			return platform.Invalid(platform.FieldViolation{Field: "after", Description: "not a cursor of this mailbox"})
		}
		after = n
	}
	prefix := append([]byte(r.GetAgencyCode()), 0)
	for {
		wait := s.waitCh() // taken before reading, so a delivery in between is not missed
		var batch []*docv1.InboxEntry
		err := s.db.View(func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketInbox).Cursor()
			for k, v := c.Seek(inboxKey(r.GetAgencyCode(), after+1)); k != nil && bytes.HasPrefix(k, prefix) && len(batch) < 256; k, v = c.Next() {
				seq := binary.BigEndian.Uint64(k[len(prefix):])
				sd, err := loadDoc(tx, string(v))
				if err != nil {
					return err
				}
				after = seq
				if sd == nil {
					continue
				}
				batch = append(batch, &docv1.InboxEntry{Cursor: strconv.FormatUint(seq, 10), Document: sd.GetDocument()})
			}
			return nil
		})
		if err != nil {
			return err
		}
		// Sent with the transaction closed, each within the send timeout: a client that
		// stops reading holds neither the writer nor, for long, a goroutine.
		for _, e := range batch {
			if err := platform.SendWithTimeout(ctx, s.sendTimeout, func() error { return stream.Send(e) }); err != nil {
				return err
			}
		}
		if len(batch) == 256 {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wait:
		}
	}
}

// ListDocuments answers a page of the documents an agency sent, oldest first.
func (s *Service) ListDocuments(ctx context.Context, r *docv1.ListDocumentsRequest) (*docv1.ListDocumentsResponse, error) {
	c, err := platform.RequireRole(ctx, platform.RoleAdmin, platform.RoleMinistry, platform.RoleProvince, platform.RoleAgency)
	if err != nil {
		return nil, err
	}
	from := r.GetFrom()
	if from == "" && c.Role == platform.RoleAgency {
		from = c.Agency()
	}
	if !platform.IsAgencyCode(from) {
		return nil, platform.Invalid(platform.FieldViolation{Field: "from", Description: "the sending agency's code (NNN.NN.NN.XNN or XNN.NN) is required"})
	}
	switch c.Role {
	case platform.RoleAgency:
		if from != c.Agency() {
			return nil, platform.PermissionDenied(
				fmt.Sprintf("a token of agency %s may not list what %s sent", c.Agency(), from),
				fmt.Sprintf("Mã truy cập của cơ quan %s không được xem văn bản do cơ quan %s gửi.", c.Agency(), from))
		}
	case platform.RoleProvince:
		units, err := s.refs.agencyUnits(ctx, []string{from})
		if err != nil {
			return nil, err
		}
		if units[from] != c.Unit {
			return nil, platform.PermissionDenied(
				fmt.Sprintf("a token of unit %s may not list what %s sent", c.Unit, from),
				fmt.Sprintf("Mã truy cập của đơn vị %s không được xem văn bản do cơ quan %s gửi.", c.Unit, from))
		}
	}
	size, err := platform.PageSize(r.GetPageSize())
	if err != nil {
		return nil, err
	}
	query := "sent|" + from
	after, err := platform.DecodePageToken(query, r.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &docv1.ListDocumentsResponse{}
	prefix := append([]byte(from), 0)
	err = s.db.View(func(tx *bolt.Tx) error {
		cur := tx.Bucket(bucketSent).Cursor()
		k, v := cur.Seek(prefix)
		if after != "" {
			k, v = cur.Seek([]byte(after))
			if k != nil && string(k) == after {
				k, v = cur.Next()
			}
		}
		var last []byte
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
			if len(out.Documents) == size {
				out.NextPageToken = platform.EncodePageToken(query, string(last))
				return nil
			}
			sd, err := loadDoc(tx, string(v))
			if err != nil {
				return err
			}
			if sd != nil {
				out.Documents = append(out.Documents, sd.GetDocument())
			}
			last = append(last[:0], k...)
		}
		return nil
	})
	return out, err
}

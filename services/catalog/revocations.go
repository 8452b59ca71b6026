package catalog

import (
	"context"
	"encoding/binary"
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"time"

	adminv1 "github.com/lienthong/lienthong/proto/gen/lienthong/admin/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Token revocations (the TokenRevocationService) live in catalog.db, bucket
// token_revocations, keyed by big-endian sequence. Every one is committed (fsynced) before
// it is answered, and put into the revocation set of this process's token verifier in the
// same call, so under `lienthong up` (one process) a revoked token is refused by every part
// as soon as the POST answers. Parts in other processes follow WatchTokenRevocations.

var bucketTokenRevocations = []byte("token_revocations")

// maxTokenRevocations bounds the revocations kept (each is a few dozen bytes in every part's
// memory): far more than a country's systems will ever need revoked.
const maxTokenRevocations = 100000

// tokenIDRE is the form of the ids lienthong issues (platform.TokenIssuer.IssueWithID).
var tokenIDRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

// TokenRevocations stores and serves the revocations.
type TokenRevocations struct {
	adminv1.UnimplementedTokenRevocationServiceServer

	db   *bolt.DB
	lg   *zap.Logger
	now  func() time.Time
	sink *platform.Revocations

	writeMu sync.Mutex // one revocation at a time

	mu      sync.RWMutex
	list    []*adminv1.TokenRevocation // by sequence
	changed chan struct{}              // closed (and replaced) when list grows
}

// OpenTokenRevocations loads the stored revocations into memory and into sink (the set the
// part's token verifier consults).
func OpenTokenRevocations(db *bolt.DB, sink *platform.Revocations, lg *zap.Logger) (*TokenRevocations, error) {
	t := &TokenRevocations{db: db, lg: lg, now: time.Now, sink: sink, changed: make(chan struct{})}
	err := db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketTokenRevocations)
		if err != nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			rv := &adminv1.TokenRevocation{}
			if err := proto.Unmarshal(v, rv); err != nil {
				return fmt.Errorf("bucket %s key %x: %w", bucketTokenRevocations, k, err)
			}
			t.list = append(t.list, rv)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("token revocations: %w", err)
	}
	if _, err := sink.Add(t.list...); err != nil {
		return nil, err
	}
	return t, nil
}

// RegisterTokenRevocations adds the service to a part's server.
func RegisterTokenRevocations(s grpc.ServiceRegistrar, t *TokenRevocations) {
	adminv1.RegisterTokenRevocationServiceServer(s, t)
}

// CreateTokenRevocation revokes a token by id or a whole system. Admin only.
func (t *TokenRevocations) CreateTokenRevocation(ctx context.Context, r *adminv1.CreateTokenRevocationRequest) (*adminv1.TokenRevocation, error) {
	admin, err := platform.RequireRole(ctx, platform.RoleAdmin)
	if err != nil {
		return nil, err
	}
	in := r.GetTokenRevocation()
	var v platform.Violations
	rv := &adminv1.TokenRevocation{TokenId: in.GetTokenId(), System: platform.NFC(in.GetSystem()), Reason: platform.NFC(in.GetReason())}
	switch {
	case rv.TokenId == "" && rv.System == "":
		v.Add("token_revocation", "give token_id (the id `lienthong token issue --print-id` printed) or system")
	case rv.TokenId != "" && rv.System != "":
		v.Add("token_revocation", "give token_id or system, not both")
	case rv.TokenId != "" && !tokenIDRE.MatchString(rv.TokenId):
		v.Add("token_revocation.token_id", "must be 32 lowercase hexadecimal digits, got %.40q", rv.TokenId)
	case len(rv.System) > 200:
		v.Add("token_revocation.system", "must be at most 200 bytes")
	}
	if len(rv.Reason) > 500 {
		v.Add("token_revocation.reason", "must be at most 500 bytes")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}

	t.writeMu.Lock()
	defer t.writeMu.Unlock()
	t.mu.RLock()
	n := len(t.list)
	var same *adminv1.TokenRevocation
	for _, old := range t.list {
		if rv.TokenId != "" && old.GetTokenId() == rv.TokenId {
			same = old
		}
	}
	t.mu.RUnlock()
	if same != nil {
		return same, nil // the token is revoked already
	}
	if n >= maxTokenRevocations {
		return nil, platform.ResourceExhausted("TOO_MANY_REVOCATIONS",
			fmt.Sprintf("the catalog holds %d token revocations, the most it keeps", n),
			fmt.Sprintf("Danh mục đã lưu %d lượt thu hồi mã truy cập, mức tối đa.", n))
	}
	rv.Sequence = uint64(n) + 1
	if n > 0 {
		rv.Sequence = t.list[n-1].GetSequence() + 1
	}
	rv.RevokedAt = timestamppb.New(t.now())
	rv.RevokedBy = admin.System
	val, err := proto.MarshalOptions{Deterministic: true}.Marshal(rv)
	if err != nil {
		return nil, err
	}
	if err := t.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTokenRevocations).Put(binary.BigEndian.AppendUint64(nil, rv.Sequence), val)
	}); err != nil {
		return nil, err
	}
	if _, err := t.sink.Add(rv); err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.list = append(t.list, rv)
	close(t.changed)
	t.changed = make(chan struct{})
	t.mu.Unlock()
	t.lg.Info("token revoked", zap.Uint64("sequence", rv.Sequence), zap.String("token_id", rv.TokenId),
		zap.String("system", rv.System), zap.String("by", rv.RevokedBy))
	return rv, nil
}

// ListTokenRevocations lists the revocations by sequence. Admin only.
func (t *TokenRevocations) ListTokenRevocations(ctx context.Context, r *adminv1.ListTokenRevocationsRequest) (*adminv1.ListTokenRevocationsResponse, error) {
	if _, err := platform.RequireRole(ctx, platform.RoleAdmin); err != nil {
		return nil, err
	}
	size, err := platform.PageSize(r.GetPageSize())
	if err != nil {
		return nil, err
	}
	const query = "token-revocations"
	after, err := platform.DecodePageToken(query, r.GetPageToken())
	if err != nil {
		return nil, err
	}
	var from uint64
	if after != "" {
		if from, err = strconv.ParseUint(after, 10, 64); err != nil {
			return nil, platform.Invalid(platform.FieldViolation{Field: "page_token", Description: "is not a token of this list"})
		}
	}
	page, more := t.after(from, size)
	out := &adminv1.ListTokenRevocationsResponse{TokenRevocations: page}
	if more {
		out.NextPageToken = platform.EncodePageToken(query, strconv.FormatUint(page[len(page)-1].GetSequence(), 10))
	}
	return out, nil
}

// after copies up to n revocations with a greater sequence than seq, and whether more
// follow, and the channel closed at the next change.
func (t *TokenRevocations) after(seq uint64, n int) ([]*adminv1.TokenRevocation, bool) {
	page, more, _ := t.afterWithChange(seq, n)
	return page, more
}

func (t *TokenRevocations) afterWithChange(seq uint64, n int) ([]*adminv1.TokenRevocation, bool, <-chan struct{}) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out []*adminv1.TokenRevocation
	for _, rv := range t.list {
		if rv.GetSequence() <= seq {
			continue
		}
		if len(out) == n {
			return out, true, t.changed
		}
		out = append(out, rv)
	}
	return out, false, t.changed
}

// WatchTokenRevocations sends the revocations after the requested sequence, then each new
// one, without reasons or revokers (the call is public: the parts follow it without a
// token). What is sent is copied out of memory first; no lock or transaction is held
// across a send, and a reader that stops reading is dropped after
// platform.DefaultSendTimeout.
func (t *TokenRevocations) WatchTokenRevocations(r *adminv1.WatchTokenRevocationsRequest, stream grpc.ServerStreamingServer[adminv1.TokenRevocation]) error {
	ctx := stream.Context()
	seq := r.GetAfterSequence()
	for {
		page, more, changed := t.afterWithChange(seq, 1000)
		for _, rv := range page {
			out := &adminv1.TokenRevocation{Sequence: rv.GetSequence(), TokenId: rv.GetTokenId(), System: rv.GetSystem(), RevokedAt: rv.GetRevokedAt()}
			if err := platform.SendWithTimeout(ctx, platform.DefaultSendTimeout, func() error { return stream.Send(out) }); err != nil {
				return err
			}
			seq = rv.GetSequence()
		}
		if more {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
	}
}

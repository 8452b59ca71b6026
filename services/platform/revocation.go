package platform

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	adminv1 "github.com/lienthong/lienthong/proto/gen/lienthong/admin/v1"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// Revocations is the set of revoked tokens (by id) and systems (every token of the system
// issued up to the revocation) that a part's TokenVerifier consults at every call. The
// catalog part stores the revocations (services/catalog/revocations.go) and feeds its own
// set as it stores them; every other part follows the catalog's WatchTokenRevocations
// stream (Follow) and keeps a copy in its data folder (Persist), so that it refuses revoked
// tokens after a restart while the catalog is down.
type Revocations struct {
	mu      sync.RWMutex
	tokens  map[string]bool
	systems map[string]time.Time // the latest revocation of each system
	known   map[string]bool      // keys of the revocations held, for idempotent Add
	list    []*adminv1.TokenRevocation

	saveMu sync.Mutex
	path   string // the local copy; "" for none
}

// NewRevocations returns an empty set.
func NewRevocations() *Revocations {
	return &Revocations{tokens: map[string]bool{}, systems: map[string]time.Time{}, known: map[string]bool{}}
}

// ErrTokenRevoked is the reason of a call refused for a revoked token or system.
const ErrTokenRevoked = "TOKEN_REVOKED"

// Check refuses a caller whose token, or whose system as of the token's issue time, was
// revoked. A token issued in the same second as its system's revocation is refused too
// (the iat claim counts whole seconds).
func (r *Revocations) Check(c *Caller) error {
	r.mu.RLock()
	byID := c.TokenID != "" && r.tokens[c.TokenID]
	at, bySystem := r.systems[c.System]
	r.mu.RUnlock()
	switch {
	case byID:
		return revokedError(fmt.Sprintf("token %s was revoked", c.TokenID))
	case bySystem && !c.IssuedAt.After(at.Truncate(time.Second)):
		return revokedError(fmt.Sprintf("the tokens of system %s issued up to %s were revoked; ask for a new token",
			c.System, at.UTC().Format(time.RFC3339)))
	}
	return nil
}

func revokedError(msg string) *Error {
	return &Error{Code: codes.Unauthenticated, Reason: ErrTokenRevoked, Message: msg,
		MessageVI: "Mã truy cập đã bị thu hồi; vui lòng xin cấp mã mới."}
}

// revocationKey identifies a revocation whatever its sequence (the same revocation may come
// from the local copy and from the catalog).
func revocationKey(rv *adminv1.TokenRevocation) string {
	if rv.GetTokenId() != "" {
		return "token\x00" + rv.GetTokenId()
	}
	return fmt.Sprintf("system\x00%s\x00%d", rv.GetSystem(), rv.GetRevokedAt().AsTime().UnixNano())
}

// Add puts revocations into the set and reports how many were new; the local copy, if
// any, is rewritten (and fsynced) before Add returns when something was new.
func (r *Revocations) Add(revs ...*adminv1.TokenRevocation) (int, error) {
	r.mu.Lock()
	added := 0
	for _, rv := range revs {
		if rv.GetTokenId() == "" && rv.GetSystem() == "" {
			continue
		}
		k := revocationKey(rv)
		if r.known[k] {
			continue
		}
		r.known[k] = true
		added++
		r.list = append(r.list, proto.Clone(rv).(*adminv1.TokenRevocation))
		if rv.GetTokenId() != "" {
			r.tokens[rv.GetTokenId()] = true
			continue
		}
		if at := rv.GetRevokedAt().AsTime(); at.After(r.systems[rv.GetSystem()]) {
			r.systems[rv.GetSystem()] = at
		}
	}
	r.mu.Unlock()
	if added == 0 {
		return 0, nil
	}
	return added, r.save()
}

// Len is how many revocations the set holds.
func (r *Revocations) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.list)
}

// Persist loads the local copy at path (if it exists) into the set and keeps the copy up
// to date from then on.
func (r *Revocations) Persist(path string) error {
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("token revocations: %w", err)
	}
	var l adminv1.TokenRevocationList
	if err := proto.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("token revocations %s: %w (remove it: the part reads the revocations again from the catalog)", path, err)
	}
	r.saveMu.Lock()
	r.path = path
	r.saveMu.Unlock()
	if _, err := r.Add(l.GetTokenRevocations()...); err != nil {
		return err
	}
	return nil
}

// save writes the whole set to the local copy. Writes are serialised, and each writes the
// set as it is when the write starts, so the last write holds everything.
func (r *Revocations) save() error {
	r.saveMu.Lock()
	defer r.saveMu.Unlock()
	if r.path == "" {
		return nil
	}
	r.mu.RLock()
	l := &adminv1.TokenRevocationList{TokenRevocations: append([]*adminv1.TokenRevocation(nil), r.list...)}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(l)
	r.mu.RUnlock()
	if err != nil {
		return err
	}
	if err := WriteFileAtomic(r.path, b, 0o600); err != nil {
		return fmt.Errorf("token revocations: %w", err)
	}
	return nil
}

// Follow keeps the set up to date from the catalog's stream of revocations until ctx ends,
// reconnecting with a growing pause (up to maxPause) when the catalog is away. At every
// connection the catalog sends every revocation it holds (the set ignores those it has),
// so a catalog restored from an older backup loses none that the part already knew.
func (r *Revocations) Follow(ctx context.Context, client adminv1.TokenRevocationServiceClient, lg *zap.Logger) {
	const minPause, maxPause = 200 * time.Millisecond, 5 * time.Second
	pause := minPause
	down := false
	for ctx.Err() == nil {
		received, err := r.follow(ctx, client)
		if ctx.Err() != nil {
			return
		}
		if received {
			pause, down = minPause, false
		}
		if !down {
			lg.Warn("token revocations: catalog stream ended; reconnecting", zap.Error(err))
			down = true
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, maxPause)
	}
}

// follow reads one stream; received says whether the stream delivered anything.
func (r *Revocations) follow(ctx context.Context, client adminv1.TokenRevocationServiceClient) (bool, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := client.WatchTokenRevocations(ctx, &adminv1.WatchTokenRevocationsRequest{})
	if err != nil {
		return false, err
	}
	received := false
	for {
		rv, err := stream.Recv()
		if err != nil {
			return received, err
		}
		received = true
		if _, err := r.Add(rv); err != nil {
			return received, err
		}
	}
}

package platform

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	adminv1 "github.com/lienthong/lienthong/proto/gen/lienthong/admin/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// wantRevoked fails unless err refuses a revoked token.
func wantRevoked(t *testing.T, what string, err error) {
	t.Helper()
	var ce *Error
	if !errors.As(err, &ce) || ce.Code != codes.Unauthenticated || ce.Reason != ErrTokenRevoked {
		t.Errorf("%s: got %v, want UNAUTHENTICATED %s", what, err, ErrTokenRevoked)
	}
}

func TestRevokedTokensAreRefusedAtOnce(t *testing.T) {
	priv, pub := newKeyPair(t)
	now := time.Now()
	hungyen := Caller{System: "000.00.00.H31/motcua", Role: RoleProvince, Unit: "33"}
	iss := NewTokenIssuer(priv)
	tok, id, err := iss.IssueWithID(hungyen, time.Hour, now.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	other, _, _ := iss.IssueWithID(hungyen, time.Hour, now.Add(-time.Minute))
	v := NewTokenVerifier(pub)
	if _, err := v.Verify(tok); err != nil { // now remembered: the revocation must not be missed
		t.Fatal(err)
	}
	if _, err := v.Revocations().Add(&adminv1.TokenRevocation{Sequence: 1, TokenId: id, RevokedAt: timestamppb.New(now)}); err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(tok)
	wantRevoked(t, "revoked token", err)
	if _, err := v.Verify(other); err != nil {
		t.Errorf("another token of the system: %v, want accepted", err)
	}

	// A whole system: its tokens issued up to the revocation are refused, later ones work.
	revokedAt := now.Truncate(time.Second)
	if _, err := v.Revocations().Add(&adminv1.TokenRevocation{Sequence: 2, System: hungyen.System, RevokedAt: timestamppb.New(revokedAt.Add(300 * time.Millisecond))}); err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(other)
	wantRevoked(t, "token of a revoked system", err)
	sameSecond := issue(t, priv, hungyen, time.Hour, revokedAt.Add(500*time.Millisecond))
	_, err = v.Verify(sameSecond)
	wantRevoked(t, "token issued in the second of the revocation", err)
	later := issue(t, priv, hungyen, time.Hour, revokedAt.Add(time.Second))
	if _, err := v.Verify(later); err != nil {
		t.Errorf("token issued after the system's revocation: %v, want accepted", err)
	}
	nghean := issue(t, priv, Caller{System: "000.00.00.H41/motcua", Role: RoleProvince, Unit: "40"}, time.Hour, now)
	if _, err := v.Verify(nghean); err != nil {
		t.Errorf("token of another system: %v, want accepted", err)
	}
}

func TestRevocationsKeptInTheDataFolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dossier.token-revocations")
	now := time.Now()
	r := NewRevocations()
	if err := r.Persist(path); err != nil {
		t.Fatal(err)
	}
	revs := []*adminv1.TokenRevocation{
		{Sequence: 1, TokenId: "0123456789abcdef0123456789abcdef", RevokedAt: timestamppb.New(now)},
		{Sequence: 2, System: "000.00.00.H41/motcua", RevokedAt: timestamppb.New(now)},
	}
	if n, err := r.Add(revs...); n != 2 || err != nil {
		t.Fatalf("Add: %d, %v; want 2 new", n, err)
	}
	if n, _ := r.Add(revs...); n != 0 {
		t.Errorf("Add again: %d new, want 0", n)
	}

	// A restart: a new set reads the copy.
	again := NewRevocations()
	if err := again.Persist(path); err != nil {
		t.Fatal(err)
	}
	if again.Len() != 2 {
		t.Fatalf("after restart: %d revocations, want 2", again.Len())
	}
	wantRevoked(t, "token by id after restart", again.Check(&Caller{System: "000.00.00.H31/motcua", TokenID: revs[0].TokenId, IssuedAt: now}))
	wantRevoked(t, "system after restart", again.Check(&Caller{System: "000.00.00.H41/motcua", IssuedAt: now.Add(-time.Hour)}))
	if err := again.Check(&Caller{System: "000.00.00.H41/motcua", IssuedAt: now.Add(time.Hour)}); err != nil {
		t.Errorf("token issued after: %v", err)
	}
}

func TestRevocationsFileDamagedIsNamed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.token-revocations")
	if err := WriteFileAtomic(path, []byte("\xff\xff\xff not protobuf"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := NewRevocations().Persist(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Persist of a damaged copy: %v, want an error naming the file", err)
	}
}

func TestCachedSystemCheck(t *testing.T) {
	calls := 0
	var answer error
	check := CachedSystemCheck(func(context.Context, *Caller) error { calls++; return answer })
	c := &Caller{System: "000.00.00.H31/motcua", Role: RoleProvince, Unit: "33"}
	ctx := context.Background()
	if err := check(ctx, c); err != nil || calls != 1 {
		t.Fatalf("first: %v after %d calls", err, calls)
	}
	answer = SystemUnavailable()
	if err := check(ctx, c); err != nil || calls != 1 {
		t.Errorf("remembered yes: %v after %d calls, want nil after 1", err, calls)
	}
	other := &Caller{System: "000.00.00.H41/motcua", Role: RoleProvince, Unit: "33"}
	if err := check(ctx, other); codeOf(err) != codes.Unavailable {
		t.Errorf("no answer, nothing remembered: %v, want UNAVAILABLE", err)
	}
	answer = SystemNotOwned("no")
	if err := check(ctx, other); codeOf(err) != codes.Unauthenticated {
		t.Errorf("no: %v", err)
	}
	n := calls
	if err := check(ctx, other); codeOf(err) != codes.Unauthenticated || calls != n {
		t.Errorf("remembered no: %v after %d calls, want %d", err, calls, n)
	}
}

func codeOf(err error) codes.Code {
	var ce *Error
	if errors.As(err, &ce) {
		return ce.Code
	}
	return codes.OK
}

func TestVerifierChecksSystemOncePerToken(t *testing.T) {
	priv, pub := newKeyPair(t)
	v := NewTokenVerifier(pub)
	calls := 0
	v.SetSystemCheck(func(_ context.Context, c *Caller) error {
		calls++
		if c.Unit != "33" {
			return SystemNotOwned("agency of unit 33, not " + c.Unit)
		}
		return nil
	})
	good := issue(t, priv, Caller{System: "000.00.00.H31/motcua", Role: RoleProvince, Unit: "33"}, time.Hour, time.Now())
	for i := 0; i < 3; i++ {
		if _, err := v.Verify(good); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 1 {
		t.Errorf("system checked %d times for one token, want 1", calls)
	}
	bad := issue(t, priv, Caller{System: "000.00.00.H31/motcua", Role: RoleProvince, Unit: "40"}, time.Hour, time.Now())
	if _, err := v.Verify(bad); codeOf(err) != codes.Unauthenticated || !strings.Contains(err.Error(), "not 40") {
		t.Errorf("token of a system of another unit: %v", err)
	}
}

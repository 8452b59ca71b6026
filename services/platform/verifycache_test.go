package platform

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"
)

func TestVerifierRemembersUntilExpiry(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok, err := NewTokenIssuer(priv).Issue(Caller{System: "000.00.00.H31/motcua", Role: RoleProvince, Unit: "33"}, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	v := NewTokenVerifier(pub)
	v.now = func() time.Time { return now }
	first, err := v.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	first.Unit = "99" // a caller's copy must not change what is remembered
	second, err := v.Verify(tok)
	if err != nil || second.Unit != "33" {
		t.Fatalf("second verify: got %+v, %v; want unit 33", second, err)
	}
	if len(v.verified) != 1 {
		t.Errorf("remembered tokens: got %d, want 1", len(v.verified))
	}
	v.now = func() time.Time { return now.Add(2 * time.Hour) }
	if _, err := v.Verify(tok); err == nil {
		t.Error("a remembered token was accepted after it expired")
	}
}

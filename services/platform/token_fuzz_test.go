package platform

import (
	"testing"
	"time"
)

// FuzzVerifyToken: no input makes the verifier panic, and whatever verifies carries exactly
// the claims the key signed (base64 lets a few spellings of the same bytes through; no
// other claims can).
func FuzzVerifyToken(f *testing.F) {
	priv, pub := newKeyPair(f)
	good := issue(f, priv, Caller{System: "000.00.00.H31/motcua", Role: RoleProvince, Unit: "33"}, time.Hour, time.Now())
	for _, s := range []string{good, "", ".", "..", "a.b.c", good + "x", "eyJhbGciOiJub25lIn0.eyJzeXN0ZW0iOiJ4In0.", good[:len(good)/2]} {
		f.Add(s)
	}
	v := NewTokenVerifier(pub)
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := v.Verify(tok)
		if tok == good {
			if err != nil || c == nil || c.Unit != "33" {
				t.Fatalf("the signed token: %v, %v", c, err)
			}
			return
		}
		if err == nil && (c.System != "000.00.00.H31/motcua" || c.Role != RoleProvince || c.Unit != "33") {
			t.Fatalf("a token the key did not sign verified with other claims: %q -> %+v", tok, c)
		}
	})
}

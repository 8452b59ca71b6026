package platform

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// newKeyPair returns a fresh Ed25519 key pair.
func newKeyPair(t testing.TB) (ed25519.PrivateKey, ed25519.PublicKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	return priv, pub
}

// issue signs a token for c valid for ttl from now, failing the test on error.
func issue(t testing.TB, priv ed25519.PrivateKey, c Caller, ttl time.Duration, now time.Time) string {
	t.Helper()
	tok, err := NewTokenIssuer(priv).Issue(c, ttl, now)
	if err != nil {
		t.Fatalf("Issue(%+v): %v", c, err)
	}
	return tok
}

// signClaims signs arbitrary claims with EdDSA, bypassing the issuer's checks.
func signClaims(t testing.TB, priv ed25519.PrivateKey, claims jwt.Claims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims).SignedString(priv)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return tok
}

func TestParseRole(t *testing.T) {
	tests := []struct {
		in      string
		want    Role
		wantErr bool
	}{
		{in: "admin", want: RoleAdmin},
		{in: "ministry", want: RoleMinistry},
		{in: "province", want: RoleProvince},
		{in: "agency", want: RoleAgency},
		{in: "", wantErr: true},
		{in: "Admin", wantErr: true},
		{in: "root", wantErr: true},
		{in: " admin", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRole(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseRole(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseRole(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCallerAgency(t *testing.T) {
	tests := []struct {
		system, want string
	}{
		{"000.00.00.H31/motcua", "000.00.00.H31"},
		{"000.00.00.H31", "000.00.00.H31"},
		{"000.00.00.H31/a/b", "000.00.00.H31"},
		{"/x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.system, func(t *testing.T) {
			c := &Caller{System: tt.system}
			if got := c.Agency(); got != tt.want {
				t.Errorf("Caller{System: %q}.Agency() = %q, want %q", tt.system, got, tt.want)
			}
		})
	}
}

func TestIssueVerifyRoundTrip(t *testing.T) {
	priv, pub := newKeyPair(t)
	now := time.Now()
	ttl := time.Hour
	tests := []struct {
		name   string
		caller Caller
	}{
		{"admin", Caller{System: "000.00.00.H31/admin", Role: RoleAdmin}},
		{"ministry", Caller{System: "000.00.00.G12/bonoivu", Role: RoleMinistry}},
		{"province", Caller{System: "000.00.00.H29/motcua", Role: RoleProvince, Unit: "01"}},
		{"province other unit", Caller{System: "000.00.00.H31/motcua", Role: RoleProvince, Unit: "79"}},
		{"agency", Caller{System: "000.00.00.H31/edoc", Role: RoleAgency}},
		{"agency without subsystem", Caller{System: "000.00.00.H31", Role: RoleAgency}},
		// A commune People's Committee's code read left to right (docs/domain.md, "Identifiers").
		{"agency with a left-to-right code", Caller{System: "H26.107/edoc", Role: RoleAgency}},
		{"admin with unit", Caller{System: "sys/x", Role: RoleAdmin, Unit: "48"}},
		{"system with vietnamese text", Caller{System: "Sở Nội vụ/một cửa", Role: RoleMinistry}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := issue(t, priv, tt.caller, ttl, now)
			if n := strings.Count(tok, "."); n != 2 {
				t.Fatalf("token %q has %d dots, want 2 (a JWS compact token)", tok, n)
			}
			got, err := NewTokenVerifier(pub).Verify(tok)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got.System != tt.caller.System || got.Role != tt.caller.Role || got.Unit != tt.caller.Unit {
				t.Errorf("Verify = {System:%q Role:%q Unit:%q}, want {System:%q Role:%q Unit:%q}",
					got.System, got.Role, got.Unit, tt.caller.System, tt.caller.Role, tt.caller.Unit)
			}
			wantExp := now.Add(ttl).Truncate(time.Second)
			if !got.ExpiresAt.Equal(wantExp) {
				t.Errorf("ExpiresAt = %v, want %v", got.ExpiresAt, wantExp)
			}
		})
	}
}

func TestIssueRefusesBadCallers(t *testing.T) {
	priv, _ := newKeyPair(t)
	now := time.Now()
	tests := []struct {
		name    string
		caller  Caller
		ttl     time.Duration
		wantMsg string // a substring of the error
	}{
		{"province without unit", Caller{System: "000.00.00.H29/motcua", Role: RoleProvince}, time.Hour, "unit"},
		{"province one-digit unit", Caller{System: "000.00.00.H29/motcua", Role: RoleProvince, Unit: "1"}, time.Hour, "unit"},
		{"province three-digit unit", Caller{System: "000.00.00.H29/motcua", Role: RoleProvince, Unit: "001"}, time.Hour, "unit"},
		{"province letter unit", Caller{System: "000.00.00.H29/motcua", Role: RoleProvince, Unit: "ab"}, time.Hour, "unit"},
		{"province unit with space", Caller{System: "000.00.00.H29/motcua", Role: RoleProvince, Unit: "01 "}, time.Hour, "unit"},
		{"agency system without agency code", Caller{System: "motcua/x", Role: RoleAgency}, time.Hour, "agency code"},
		{"agency lower-case code", Caller{System: "000.00.00.h33/edoc", Role: RoleAgency}, time.Hour, "agency code"},
		{"agency short code", Caller{System: "000.00.0.H33/edoc", Role: RoleAgency}, time.Hour, "agency code"},
		{"agency code not first", Caller{System: "edoc/000.00.00.H31", Role: RoleAgency}, time.Hour, "agency code"},
		{"agency left-to-right code with a 1-digit part", Caller{System: "H26.7/edoc", Role: RoleAgency}, time.Hour, "agency code"},
		{"admin with bad unit", Caller{System: "sys/a", Role: RoleAdmin, Unit: "1a"}, time.Hour, "unit"},
		{"empty system", Caller{Role: RoleAdmin}, time.Hour, "system"},
		{"system too long", Caller{System: strings.Repeat("x", 201), Role: RoleAdmin}, time.Hour, "system"},
		{"unknown role", Caller{System: "sys/a", Role: "root"}, time.Hour, "role"},
		{"empty role", Caller{System: "sys/a"}, time.Hour, "role"},
		{"zero ttl", Caller{System: "sys/a", Role: RoleAdmin}, 0, "ttl"},
		{"negative ttl", Caller{System: "sys/a", Role: RoleAdmin}, -time.Minute, "ttl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := NewTokenIssuer(priv).Issue(tt.caller, tt.ttl, now)
			if err == nil {
				t.Fatalf("Issue(%+v, %v) = %q, want an error", tt.caller, tt.ttl, tok)
			}
			if tok != "" {
				t.Errorf("Issue returned token %q together with error %v", tok, err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Issue error %q does not mention %q", err, tt.wantMsg)
			}
		})
	}
}

func TestIssueAcceptsLimits(t *testing.T) {
	priv, pub := newKeyPair(t)
	c := Caller{System: strings.Repeat("x", 200), Role: RoleAdmin}
	// A 200-byte system is the largest accepted and survives the round trip.
	tok := issue(t, priv, c, time.Hour, time.Now())
	got, err := NewTokenVerifier(pub).Verify(tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got.System != c.System {
		t.Errorf("System = %q, want %q", got.System, c.System)
	}
}

// flipMiddleSegment changes one character in the middle of the payload segment.
func flipMiddleSegment(tok string) string {
	parts := strings.Split(tok, ".")
	p := []byte(parts[1])
	i := len(p) / 2
	if p[i] == 'A' {
		p[i] = 'B'
	} else {
		p[i] = 'A'
	}
	parts[1] = string(p)
	return strings.Join(parts, ".")
}

// replacePayload keeps header and signature of tok and swaps in another JSON payload.
func replacePayload(t *testing.T, tok string, mutate func(map[string]any)) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("decode payload: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("unmarshal payload: %v", err)
	}
	mutate(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("marshal payload: %v", err)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

func TestVerifyRefuses(t *testing.T) {
	priv, pub := newKeyPair(t)
	otherPriv, _ := newKeyPair(t)
	now := time.Now()
	province := Caller{System: "000.00.00.H29/motcua", Role: RoleProvince, Unit: "01"}
	good := issue(t, priv, province, time.Hour, now)

	// Sanity: the unmodified token is accepted, so every refusal below is caused by the change.
	if _, err := NewTokenVerifier(pub).Verify(good); err != nil {
		t.Fatalf("Verify(good token): %v", err)
	}

	noneTok, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{
		"system": "sys/a", "role": "admin", "iss": "lienthong", "exp": now.Add(time.Hour).Unix(),
	}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatalf("sign none: %v", err)
	}
	hsClaims := jwt.MapClaims{"system": "sys/a", "role": "admin", "iss": "lienthong", "exp": now.Add(time.Hour).Unix()}
	// The classic key-confusion attack: HS256 keyed with the public key bytes.
	hsPubTok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, hsClaims).SignedString([]byte(pub))
	if err != nil {
		t.Fatalf("sign HS256: %v", err)
	}
	hsTok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, hsClaims).SignedString([]byte("secret"))
	if err != nil {
		t.Fatalf("sign HS256: %v", err)
	}
	claimsWith := func(mod func(*tokenClaims)) *tokenClaims {
		c := &tokenClaims{System: "sys/a", Role: "admin", RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    "lienthong",
			NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		}}
		mod(c)
		return c
	}

	tests := []struct {
		name    string
		token   string
		now     time.Time // the verifier's clock; zero means now
		wantMsg string    // substring of the error; "" means any error
	}{
		{name: "expired", token: good, now: now.Add(2 * time.Hour), wantMsg: "expired"},
		{name: "expired by one second", token: issue(t, priv, province, time.Minute, now), now: now.Add(time.Minute + time.Second), wantMsg: "expired"},
		{name: "not yet valid", token: good, now: now.Add(-2 * time.Minute)},
		{name: "signed by another key", token: issue(t, otherPriv, province, time.Hour, now), wantMsg: "signature"},
		{name: "tampered payload", token: flipMiddleSegment(good)},
		{name: "payload swapped to admin", token: replacePayload(t, good, func(m map[string]any) { m["role"] = "admin" }), wantMsg: "signature"},
		{name: "payload swapped to other unit", token: replacePayload(t, good, func(m map[string]any) { m["unit"] = "79" }), wantMsg: "signature"},
		{name: "signature removed", token: good[:strings.LastIndex(good, ".")+1]},
		{name: "alg none", token: noneTok},
		{name: "HS256 keyed with the public key", token: hsPubTok},
		{name: "HS256 with a secret", token: hsTok},
		{name: "empty", token: ""},
		{name: "garbage", token: "not-a-token"},
		{name: "three garbage segments", token: "a.b.c"},
		{name: "wrong issuer", token: signClaims(t, priv, claimsWith(func(c *tokenClaims) { c.Issuer = "someone-else" }))},
		{name: "no issuer", token: signClaims(t, priv, claimsWith(func(c *tokenClaims) { c.Issuer = "" }))},
		{name: "no expiry", token: signClaims(t, priv, claimsWith(func(c *tokenClaims) { c.ExpiresAt = nil }))},
		{name: "unknown role in claims", token: signClaims(t, priv, claimsWith(func(c *tokenClaims) { c.Role = "root" }))},
		{name: "province without unit in claims", token: signClaims(t, priv, claimsWith(func(c *tokenClaims) { c.Role = "province" }))},
		{name: "agency without agency code in claims", token: signClaims(t, priv, claimsWith(func(c *tokenClaims) { c.Role = "agency" }))},
		{name: "empty system in claims", token: signClaims(t, priv, claimsWith(func(c *tokenClaims) { c.System = "" }))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := NewTokenVerifier(pub)
			if !tt.now.IsZero() {
				at := tt.now
				v.now = func() time.Time { return at }
			}
			got, err := v.Verify(tt.token)
			if err == nil {
				t.Fatalf("Verify(%q) = %+v, want an error", tt.token, got)
			}
			if got != nil {
				t.Errorf("Verify returned caller %+v together with error %v", got, err)
			}
			if tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Verify error %q does not mention %q", err, tt.wantMsg)
			}
		})
	}
}

func TestVerifyClockWithinValidity(t *testing.T) {
	priv, pub := newKeyPair(t)
	now := time.Now()
	tok := issue(t, priv, Caller{System: "sys/a", Role: RoleAdmin}, time.Hour, now)
	tests := []struct {
		name string
		at   time.Time
	}{
		{"at issue", now},
		{"half a minute before issue (clock skew)", now.Add(-30 * time.Second)},
		{"just before expiry", now.Add(time.Hour - 2*time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := NewTokenVerifier(pub)
			v.now = func() time.Time { return tt.at }
			if _, err := v.Verify(tok); err != nil {
				t.Errorf("Verify at %v: %v, want success", tt.at, err)
			}
		})
	}
}

func ctxWith(c *Caller) context.Context {
	if c == nil {
		return context.Background()
	}
	return WithCaller(context.Background(), c)
}

var (
	adminCaller    = &Caller{System: "000.00.00.H31/admin", Role: RoleAdmin}
	ministryCaller = &Caller{System: "000.00.00.G12/bo", Role: RoleMinistry}
	province01     = &Caller{System: "000.00.00.H29/motcua", Role: RoleProvince, Unit: "01"}
	agencyCaller   = &Caller{System: "000.00.00.H31/edoc", Role: RoleAgency}
)

func TestCallerFrom(t *testing.T) {
	if got := CallerFrom(context.Background()); got != nil {
		t.Errorf("CallerFrom(empty ctx) = %+v, want nil", got)
	}
	if got := CallerFrom(WithCaller(context.Background(), province01)); got != province01 {
		t.Errorf("CallerFrom(WithCaller(c)) = %+v, want %+v", got, province01)
	}
}

func TestRequireRole(t *testing.T) {
	tests := []struct {
		name   string
		caller *Caller
		roles  []Role
		want   codes.Code
	}{
		{"no caller", nil, []Role{RoleAdmin}, codes.Unauthenticated},
		{"no caller, any role", nil, []Role{RoleAdmin, RoleMinistry, RoleProvince, RoleAgency}, codes.Unauthenticated},
		{"admin needs admin", adminCaller, []Role{RoleAdmin}, codes.OK},
		{"province needs admin", province01, []Role{RoleAdmin}, codes.PermissionDenied},
		{"ministry needs admin or province", ministryCaller, []Role{RoleAdmin, RoleProvince}, codes.PermissionDenied},
		{"province needs admin or province", province01, []Role{RoleAdmin, RoleProvince}, codes.OK},
		{"agency needs agency", agencyCaller, []Role{RoleAgency}, codes.OK},
		{"admin needs agency", adminCaller, []Role{RoleAgency}, codes.PermissionDenied},
		{"no role listed", adminCaller, nil, codes.PermissionDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RequireRole(ctxWith(tt.caller), tt.roles...)
			if code := status.Code(err); code != tt.want {
				t.Fatalf("RequireRole code = %v (err %v), want %v", code, err, tt.want)
			}
			if tt.want == codes.OK && got != tt.caller {
				t.Errorf("RequireRole caller = %+v, want %+v", got, tt.caller)
			}
			if tt.want != codes.OK {
				if got != nil {
					t.Errorf("RequireRole returned caller %+v with error", got)
				}
				var ce *Error
				if !errors.As(err, &ce) {
					t.Errorf("RequireRole error %T is not a *Error", err)
				}
			}
		})
	}
}

func TestMayWriteUnit(t *testing.T) {
	tests := []struct {
		name   string
		caller *Caller
		unit   string
		want   codes.Code
	}{
		{"no caller", nil, "01", codes.Unauthenticated},
		{"admin any unit", adminCaller, "79", codes.OK},
		{"admin empty unit", adminCaller, "", codes.OK},
		{"province own unit", province01, "01", codes.OK},
		{"province other unit", province01, "79", codes.PermissionDenied},
		{"province empty unit", province01, "", codes.PermissionDenied},
		{"ministry writes nothing", ministryCaller, "01", codes.PermissionDenied},
		{"agency writes no unit", agencyCaller, "01", codes.PermissionDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MayWriteUnit(ctxWith(tt.caller), tt.unit)
			if code := status.Code(err); code != tt.want {
				t.Fatalf("MayWriteUnit(%q) code = %v (err %v), want %v", tt.unit, code, err, tt.want)
			}
			if tt.want == codes.OK && got != tt.caller {
				t.Errorf("MayWriteUnit caller = %+v, want %+v", got, tt.caller)
			}
			if tt.want != codes.OK && got != nil {
				t.Errorf("MayWriteUnit returned caller %+v with error", got)
			}
		})
	}
}

func TestMayReadUnit(t *testing.T) {
	tests := []struct {
		name   string
		caller *Caller
		unit   string
		want   codes.Code
	}{
		{"no caller", nil, "01", codes.Unauthenticated},
		{"admin any unit", adminCaller, "79", codes.OK},
		{"ministry any unit", ministryCaller, "79", codes.OK},
		{"province own unit", province01, "01", codes.OK},
		{"province other unit", province01, "79", codes.PermissionDenied},
		{"agency", agencyCaller, "01", codes.PermissionDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MayReadUnit(ctxWith(tt.caller), tt.unit)
			if code := status.Code(err); code != tt.want {
				t.Fatalf("MayReadUnit(%q) code = %v (err %v), want %v", tt.unit, code, err, tt.want)
			}
			if tt.want == codes.OK && got != tt.caller {
				t.Errorf("MayReadUnit caller = %+v, want %+v", got, tt.caller)
			}
			if tt.want != codes.OK && got != nil {
				t.Errorf("MayReadUnit returned caller %+v with error", got)
			}
		})
	}
}

func TestEnsureSigningKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys", "nested") // does not exist yet
	priv, err := EnsureSigningKey(dir)
	if err != nil {
		t.Fatalf("EnsureSigningKey: %v", err)
	}
	if len(priv) != ed25519.PrivateKeySize {
		t.Fatalf("private key has %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}

	modes := []struct {
		file string
		want os.FileMode
	}{
		{PrivateKeyFile, 0o600},
		{PublicKeyFile, 0o644},
	}
	for _, m := range modes {
		fi, err := os.Stat(filepath.Join(dir, m.file))
		if err != nil {
			t.Fatalf("stat %s: %v", m.file, err)
		}
		if got := fi.Mode().Perm(); got != m.want {
			t.Errorf("%s mode = %04o, want %04o", m.file, got, m.want)
		}
	}
	if fi, err := os.Stat(dir); err != nil {
		t.Fatalf("stat dir: %v", err)
	} else if fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("key folder mode = %04o, want no group/other access", fi.Mode().Perm())
	}
	// No temporary files are left behind.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("ReadDir: %v", err)
	}
	if len(entries) != 2 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("key folder holds %v, want exactly %s and %s", names, PrivateKeyFile, PublicKeyFile)
	}

	again, err := EnsureSigningKey(dir)
	if err != nil {
		t.Fatalf("second EnsureSigningKey: %v", err)
	}
	if !priv.Equal(again) {
		t.Errorf("second EnsureSigningKey returned another key")
	}

	pub, err := LoadPublicKey(filepath.Join(dir, PublicKeyFile))
	if err != nil {
		t.Fatalf("LoadPublicKey: %v", err)
	}
	if !pub.Equal(priv.Public()) {
		t.Errorf("LoadPublicKey does not match the private key's public half")
	}
	loaded, err := LoadPrivateKey(filepath.Join(dir, PrivateKeyFile))
	if err != nil {
		t.Fatalf("LoadPrivateKey: %v", err)
	}
	if !loaded.Equal(priv) {
		t.Errorf("LoadPrivateKey does not match EnsureSigningKey")
	}

	// A token issued with the file key verifies with the file public key.
	tok := issue(t, priv, Caller{System: "sys/a", Role: RoleAdmin}, time.Hour, time.Now())
	if _, err := NewTokenVerifier(pub).Verify(tok); err != nil {
		t.Errorf("Verify with loaded public key: %v", err)
	}
}

func TestEnsureSigningKeyKeepsCorruptFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, PrivateKeyFile)
	junk := []byte("not a key\n")
	if err := os.WriteFile(path, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureSigningKey(dir); err == nil {
		t.Fatalf("EnsureSigningKey over a corrupt key file succeeded, want an error")
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(junk) {
		t.Errorf("EnsureSigningKey overwrote a corrupt key file; it must leave it for a person to look at")
	}
}

func TestLoadKeyErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := EnsureSigningKey(dir); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		load func(string) error
		path string
	}{
		{"private from missing file", func(p string) error { _, err := LoadPrivateKey(p); return err }, filepath.Join(dir, "missing")},
		{"public from missing file", func(p string) error { _, err := LoadPublicKey(p); return err }, filepath.Join(dir, "missing")},
		{"private from non-PEM", func(p string) error { _, err := LoadPrivateKey(p); return err }, garbage},
		{"public from non-PEM", func(p string) error { _, err := LoadPublicKey(p); return err }, garbage},
		{"private from public file", func(p string) error { _, err := LoadPrivateKey(p); return err }, filepath.Join(dir, PublicKeyFile)},
		{"public from private file", func(p string) error { _, err := LoadPublicKey(p); return err }, filepath.Join(dir, PrivateKeyFile)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.load(tt.path); err == nil {
				t.Errorf("load(%s) succeeded, want an error", filepath.Base(tt.path))
			}
		})
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	for i, content := range []string{"first", "second, longer content"} {
		if err := WriteFileAtomic(path, []byte(content), 0o640); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != content {
			t.Errorf("write %d: content = %q, want %q", i, got, content)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o640 {
			t.Errorf("write %d: mode = %04o, want 0640", i, fi.Mode().Perm())
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries, want 1 (no temporary files left)", len(entries))
	}
}

package platform

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Role is what a token may do (docs/api.md, "Auth: tokens and roles"; docs/security.md).
type Role string

// The roles.
const (
	RoleAdmin    Role = "admin"
	RoleMinistry Role = "ministry"
	RoleProvince Role = "province"
	RoleAgency   Role = "agency"
)

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleAdmin, RoleMinistry, RoleProvince, RoleAgency:
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q (admin, ministry, province, agency)", s)
}

// Caller is who is calling, as proven by a token.
type Caller struct {
	System    string // e.g. 000.00.00.H31/motcua
	Role      Role
	Unit      string // 2-digit province code, for province tokens
	ExpiresAt time.Time
	// IssuedAt is the token's iat claim; TokenID its jti claim, by which an admin revokes
	// it ("" for tokens issued before tokens had ids: those are revoked by system).
	IssuedAt time.Time
	TokenID  string
}

// Agency is the agency code part of the system id (before the first '/').
func (c *Caller) Agency() string {
	a, _, _ := strings.Cut(c.System, "/")
	return a
}

// Token claims: the registered ones plus system, role and unit.
type tokenClaims struct {
	System string `json:"system"`
	Role   string `json:"role"`
	Unit   string `json:"unit,omitempty"`
	jwt.RegisteredClaims
}

var (
	provinceCodeRE = regexp.MustCompile(`^\d{2}$`)
	// AgencyCodeRE is the electronic identifier of an agency read from the right,
	// NNN.NN.NN.XNN. Checks accept both forms with IsAgencyCode (services/platform/agencycode.go).
	AgencyCodeRE = regexp.MustCompile(`^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$`)
)

const tokenIssuer = "lienthong"

// TokenIssuer signs tokens with an Ed25519 private key.
type TokenIssuer struct {
	key    ed25519.PrivateKey
	maxTTL MaxTTL
}

// NewTokenIssuer returns an issuer for the key that keeps to DefaultMaxTTL.
func NewTokenIssuer(key ed25519.PrivateKey) *TokenIssuer {
	return &TokenIssuer{key: key, maxTTL: DefaultMaxTTL}
}

// WithMaxTTL makes the issuer keep to other maximum lifetimes.
func (i *TokenIssuer) WithMaxTTL(m MaxTTL) *TokenIssuer {
	i.maxTTL = m
	return i
}

// Issue returns a signed token valid for ttl.
func (i *TokenIssuer) Issue(c Caller, ttl time.Duration, now time.Time) (string, error) {
	tok, _, err := i.IssueWithID(c, ttl, now)
	return tok, err
}

// IssueWithID returns a signed token valid for ttl and its id (the jti claim, 128 random
// bits), by which an admin can revoke it. A ttl beyond the role's maximum lifetime is
// refused (see MaxTTL).
func (i *TokenIssuer) IssueWithID(c Caller, ttl time.Duration, now time.Time) (token, id string, err error) {
	if err := validateCaller(c); err != nil {
		return "", "", err
	}
	if ttl <= 0 {
		return "", "", errors.New("ttl must be positive")
	}
	if limit := i.maxTTL.For(c.Role); ttl > limit {
		return "", "", fmt.Errorf("ttl %s is longer than the maximum lifetime of a %s token, %s (--token-max-ttl)", ttl, c.Role, limit)
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", err
	}
	id = hex.EncodeToString(b[:])
	claims := tokenClaims{
		System: c.System, Role: string(c.Role), Unit: c.Unit,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    tokenIssuer,
			Subject:   c.System,
			ID:        id,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	}
	token, err = jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims).SignedString(i.key)
	return token, id, err
}

func validateCaller(c Caller) error {
	if c.System == "" || len(c.System) > 200 {
		return errors.New("system must be 1–200 characters")
	}
	if _, err := ParseRole(string(c.Role)); err != nil {
		return err
	}
	switch c.Role {
	case RoleProvince:
		if !provinceCodeRE.MatchString(c.Unit) {
			return fmt.Errorf("a province token needs --unit with a 2-digit province code, got %q", c.Unit)
		}
	case RoleAgency:
		if !IsAgencyCode(c.Agency()) {
			return fmt.Errorf("an agency token needs a system starting with an agency code NNN.NN.NN.XNN or XNN.NN (e.g. 000.00.00.H31, H26.107), got %q", c.System)
		}
	}
	if c.Unit != "" && !provinceCodeRE.MatchString(c.Unit) {
		return fmt.Errorf("unit must be a 2-digit province code, got %q", c.Unit)
	}
	return nil
}

// TokenVerifier checks tokens with an Ed25519 public key. Tokens it has verified are
// remembered (up to verifiedCacheSize) until they expire, so a system that calls many
// times with one token pays for one signature check.
//
// Beyond the signature it checks the token's lifetime against its role's maximum (MaxTTL),
// whether its system belongs to its unit or agency (SetSystemCheck, once per token) and,
// at every call, whether it was revoked (Revocations).
type TokenVerifier struct {
	key         ed25519.PublicKey
	now         func() time.Time
	maxTTL      MaxTTL
	revocations *Revocations

	mu          sync.Mutex
	verified    map[string]*Caller
	checkSystem SystemCheck
}

const verifiedCacheSize = 10000

// SystemCheck says whether a verified token's system belongs to its unit or agency; it
// returns an *Error for the client (UNAUTHENTICATED when it does not, UNAVAILABLE when it
// cannot tell).
type SystemCheck func(ctx context.Context, c *Caller) error

// NewTokenVerifier returns a verifier for the key that keeps to DefaultMaxTTL, with an
// empty revocation set and no system check.
func NewTokenVerifier(key ed25519.PublicKey) *TokenVerifier {
	return &TokenVerifier{key: key, now: time.Now, maxTTL: DefaultMaxTTL, revocations: NewRevocations(), verified: map[string]*Caller{}}
}

// WithMaxTTL makes the verifier refuse tokens whose lifetime exceeds m; set it before use.
func (v *TokenVerifier) WithMaxTTL(m MaxTTL) *TokenVerifier {
	v.maxTTL = m
	return v
}

// Revocations is the set of revoked tokens and systems the verifier consults at every call.
func (v *TokenVerifier) Revocations() *Revocations { return v.revocations }

// SetSystemCheck makes the verifier check each token's system once (tokens already
// remembered are forgotten, so they are checked too).
func (v *TokenVerifier) SetSystemCheck(f SystemCheck) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.checkSystem = f
	clear(v.verified)
}

// Verify checks a token as VerifyContext does, for callers without a request context.
func (v *TokenVerifier) Verify(token string) (*Caller, error) {
	return v.VerifyContext(context.Background(), token)
}

// VerifyLocal checks what needs nothing but this process: signature, expiry, lifetime,
// claims and revocation. It never waits on the network, so a connection's tap (which runs
// in the connection's reader, where a wait would hold up every call on it) uses it; the
// call itself then checks the system's owner with VerifyContext.
func (v *TokenVerifier) VerifyLocal(token string) (*Caller, error) {
	v.mu.Lock()
	c, ok := v.verified[token]
	v.mu.Unlock()
	if !ok || !v.now().Before(c.ExpiresAt) {
		var err error
		if c, err = v.verify(token); err != nil {
			return nil, Unauthenticated(err.Error())
		}
	}
	if err := v.revocations.Check(c); err != nil {
		return nil, err
	}
	cc := *c
	return &cc, nil
}

// VerifyContext checks signature, expiry, lifetime, claims, the system's owner and
// revocation, and returns the caller. Errors are *Error values for the client.
func (v *TokenVerifier) VerifyContext(ctx context.Context, token string) (*Caller, error) {
	v.mu.Lock()
	c, ok := v.verified[token]
	check := v.checkSystem
	v.mu.Unlock()
	if ok && v.now().Before(c.ExpiresAt) {
		if err := v.revocations.Check(c); err != nil {
			return nil, err
		}
		cc := *c
		return &cc, nil
	}
	c, err := v.verify(token)
	if err != nil {
		return nil, Unauthenticated(err.Error())
	}
	if err := v.revocations.Check(c); err != nil {
		return nil, err
	}
	if check != nil {
		if err := check(ctx, c); err != nil {
			return nil, err
		}
	}
	v.mu.Lock()
	if len(v.verified) >= verifiedCacheSize {
		clear(v.verified)
	}
	v.verified[token] = c
	v.mu.Unlock()
	cc := *c
	return &cc, nil
}

func (v *TokenVerifier) verify(token string) (*Caller, error) {
	var claims tokenClaims
	_, err := jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return v.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(tokenIssuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(v.now),
	)
	if err != nil {
		switch {
		case errors.Is(err, jwt.ErrTokenExpired):
			return nil, errors.New("token expired")
		case errors.Is(err, jwt.ErrTokenSignatureInvalid):
			return nil, errors.New("token signature invalid")
		default:
			return nil, errors.New("token malformed or not valid")
		}
	}
	if claims.IssuedAt == nil {
		return nil, errors.New("token has no issue time (iat)")
	}
	c := Caller{System: claims.System, Role: Role(claims.Role), Unit: claims.Unit, TokenID: claims.ID,
		ExpiresAt: claims.ExpiresAt.Time, IssuedAt: claims.IssuedAt.Time}
	if err := validateCaller(c); err != nil {
		return nil, fmt.Errorf("token claims: %w", err)
	}
	if err := v.maxTTL.check(c.Role, c.ExpiresAt.Sub(c.IssuedAt)); err != nil {
		return nil, err
	}
	return &c, nil
}

// Key files: the private key signs tokens (kept by whoever issues them), the public key is
// all a part needs to check them.
const (
	PrivateKeyFile = "token-signing.key"
	PublicKeyFile  = "token-signing.pub"
)

// EnsureSigningKey loads the key pair from dir, creating it (0600) when absent.
func EnsureSigningKey(dir string) (ed25519.PrivateKey, error) {
	priv, err := LoadPrivateKey(filepath.Join(dir, PrivateKeyFile))
	if err == nil {
		return priv, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create key folder: %w", err)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	if err := WriteFileAtomic(filepath.Join(dir, PublicKeyFile), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		return nil, err
	}
	if err := WriteFileAtomic(filepath.Join(dir, PrivateKeyFile), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}), 0o600); err != nil {
		return nil, err
	}
	return priv, nil
}

// LoadPrivateKey reads a PEM PKCS#8 Ed25519 private key.
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an Ed25519 key", path)
	}
	return priv, nil
}

// LoadPublicKey reads a PEM PKIX Ed25519 public key.
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an Ed25519 key", path)
	}
	return pub, nil
}

// WriteFileAtomic writes a file through a synced temporary file and a rename.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

type callerKey struct{}

// WithCaller stores the caller in the context.
func WithCaller(ctx context.Context, c *Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the authenticated caller, or nil for an anonymous call.
func CallerFrom(ctx context.Context) *Caller {
	c, _ := ctx.Value(callerKey{}).(*Caller)
	return c
}

// RequireRole checks that the caller has one of the roles.
func RequireRole(ctx context.Context, roles ...Role) (*Caller, error) {
	c := CallerFrom(ctx)
	if c == nil {
		return nil, Unauthenticated("this call needs a bearer token")
	}
	for _, r := range roles {
		if c.Role == r {
			return c, nil
		}
	}
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	return nil, PermissionDenied(
		fmt.Sprintf("role %q may not do this; it needs %s", c.Role, strings.Join(names, " or ")),
		"Vai trò của mã truy cập không được phép thực hiện thao tác này.")
}

// MayWriteUnit checks that the caller may write data of a province unit: admin anywhere,
// a province token only for its own unit.
func MayWriteUnit(ctx context.Context, unit string) (*Caller, error) {
	return mayUseUnit(ctx, unit, "write", "ghi", RoleAdmin, RoleProvince)
}

// MayReadUnit checks that the caller may read non-public data of a unit: admin and ministry
// everywhere, a province only its own unit.
func MayReadUnit(ctx context.Context, unit string) (*Caller, error) {
	return mayUseUnit(ctx, unit, "read", "đọc", RoleAdmin, RoleMinistry, RoleProvince)
}

// mayUseUnit checks the role, then keeps a province token to its own unit.
func mayUseUnit(ctx context.Context, unit, verb, verbVI string, roles ...Role) (*Caller, error) {
	c, err := RequireRole(ctx, roles...)
	if err != nil {
		return nil, err
	}
	if c.Role == RoleProvince && c.Unit != unit {
		return nil, PermissionDenied(
			fmt.Sprintf("a token of unit %s may not %s data of unit %s", c.Unit, verb, unit),
			fmt.Sprintf("Mã truy cập của đơn vị %s không được %s dữ liệu của đơn vị %s.", c.Unit, verbVI, unit))
	}
	return c, nil
}

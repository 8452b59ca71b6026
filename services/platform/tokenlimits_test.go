package platform

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc/codes"
)

// claimsFor is a province token's claims with the given issue and expiry times (nil: left out).
func claimsFor(iat, exp *time.Time) tokenClaims {
	c := tokenClaims{System: "000.00.00.H31/motcua", Role: string(RoleProvince), Unit: "33",
		RegisteredClaims: jwt.RegisteredClaims{Issuer: tokenIssuer, ID: "0123456789abcdef0123456789abcdef"}}
	if iat != nil {
		c.IssuedAt = jwt.NewNumericDate(*iat)
	}
	if exp != nil {
		c.ExpiresAt = jwt.NewNumericDate(*exp)
	}
	return c
}

func TestVerifierRefusesTokensBeyondTheirRoleLifetime(t *testing.T) {
	priv, pub := newKeyPair(t)
	now := time.Now()
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	tests := []struct {
		name    string
		claims  tokenClaims
		maxTTL  MaxTTL
		wantErr string // "" for accepted
	}{
		{"90 days", claimsFor(at(0), at(90*24*time.Hour)), nil, ""},
		{"90 days and a minute", claimsFor(at(0), at(90*24*time.Hour+time.Minute)), nil, "longer than the maximum of a province token, 2160h0m0s"},
		{"ten years, issued long ago", claimsFor(at(-9*365*24*time.Hour), at(365*24*time.Hour)), nil, "longer than the maximum"},
		{"no issue time", claimsFor(nil, at(time.Hour)), nil, "no issue time (iat)"},
		{"no expiry", claimsFor(at(0), nil), nil, "malformed or not valid"},
		{"expires before issued", claimsFor(at(time.Hour), at(time.Minute)), nil, "expires before it was issued"},
		{"within a configured maximum", claimsFor(at(0), at(47*time.Hour)), MaxTTL{RoleProvince: 48 * time.Hour}, ""},
		{"beyond a configured maximum", claimsFor(at(0), at(49*time.Hour)), MaxTTL{RoleProvince: 48 * time.Hour}, "maximum of a province token, 48h0m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := NewTokenVerifier(pub)
			if tt.maxTTL != nil {
				v.WithMaxTTL(tt.maxTTL)
			}
			_, err := v.Verify(signClaims(t, priv, tt.claims))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Verify: %v, want accepted", err)
				}
				return
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Code != codes.Unauthenticated || !strings.Contains(ce.Message, tt.wantErr) {
				t.Fatalf("Verify: got %v, want UNAUTHENTICATED containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestIssuerRefusesTTLBeyondMaximum(t *testing.T) {
	priv, pub := newKeyPair(t)
	now := time.Now()
	c := Caller{System: "000.00.00.H31/motcua", Role: RoleProvince, Unit: "33"}
	if _, err := NewTokenIssuer(priv).Issue(c, 91*24*time.Hour, now); err == nil || !strings.Contains(err.Error(), "maximum lifetime of a province token") {
		t.Errorf("Issue 91 days: got %v, want the maximum named", err)
	}
	admin := Caller{System: "lienthong/admin", Role: RoleAdmin}
	if _, err := NewTokenIssuer(priv).Issue(admin, 31*24*time.Hour, now); err == nil {
		t.Error("an admin token of 31 days was issued")
	}
	tok, id, err := NewTokenIssuer(priv).WithMaxTTL(MaxTTL{RoleProvince: 48 * time.Hour}).IssueWithID(c, 48*time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	got, err := NewTokenVerifier(pub).WithMaxTTL(MaxTTL{RoleProvince: 48 * time.Hour}).Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if len(id) != 32 || got.TokenID != id || !got.IssuedAt.Equal(now.Truncate(time.Second)) {
		t.Errorf("verified caller: id %q issued %v; want id %q issued %v", got.TokenID, got.IssuedAt, id, now.Truncate(time.Second))
	}
	_, id2, _ := NewTokenIssuer(priv).IssueWithID(c, time.Hour, now)
	if id2 == id {
		t.Error("two tokens got the same id")
	}
}

func TestParseMaxTTL(t *testing.T) {
	tests := []struct {
		in      string
		want    MaxTTL
		wantErr string
	}{
		{in: "", want: DefaultMaxTTL},
		{in: "admin=720h,ministry=2160h,province=2160h,agency=2160h", want: DefaultMaxTTL},
		{in: "province=48h", want: MaxTTL{RoleAdmin: 720 * time.Hour, RoleMinistry: 2160 * time.Hour, RoleProvince: 48 * time.Hour, RoleAgency: 2160 * time.Hour}},
		{in: " admin = 24h ", want: MaxTTL{RoleAdmin: 24 * time.Hour, RoleMinistry: 2160 * time.Hour, RoleProvince: 2160 * time.Hour, RoleAgency: 2160 * time.Hour}},
		{in: "king=1h", wantErr: "unknown role"},
		{in: "province", wantErr: "want role=duration"},
		{in: "province=soon", wantErr: "invalid duration"},
		{in: "province=1m", wantErr: "below the floor of 1h0m0s"},
		{in: "ministry=12h", wantErr: "below the floor of 24h0m0s"},
		{in: "admin=1h,admin=2h", wantErr: "given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseMaxTTL(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseMaxTTL(%q): got %v, %v; want error %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got.String() != tt.want.String() {
				t.Fatalf("ParseMaxTTL(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

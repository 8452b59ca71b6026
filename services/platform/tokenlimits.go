package platform

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// MaxTTL is the longest lifetime (exp − iat) a token of each role may have. A token beyond
// it is refused by every part, and the issuer refuses to sign one: a leaked token is
// useful for a bounded time even if nobody revokes it.
type MaxTTL map[Role]time.Duration

// DefaultMaxTTL: admin tokens, which may do everything, at most 30 days (`lienthong up`
// writes one of exactly that lifetime at every start); the tokens of calling systems
// (ministry, province, agency) at most 90 days, so that a province rotates its systems'
// tokens once a quarter, the same period as the reporting cycle.
var DefaultMaxTTL = MaxTTL{
	RoleAdmin:    30 * 24 * time.Hour,
	RoleMinistry: 90 * 24 * time.Hour,
	RoleProvince: 90 * 24 * time.Hour,
	RoleAgency:   90 * 24 * time.Hour,
}

// Floors of the configurable maxima: lienthong's own service tokens must fit (scoring
// calls the other parts with a ministry token of 24 hours, services/scoring/figures.go).
var minMaxTTL = MaxTTL{
	RoleAdmin:    time.Hour,
	RoleMinistry: 24 * time.Hour,
	RoleProvince: time.Hour,
	RoleAgency:   time.Hour,
}

// For is the maximum lifetime of a role (the default for a role not in m).
func (m MaxTTL) For(r Role) time.Duration {
	if d, ok := m[r]; ok {
		return d
	}
	return DefaultMaxTTL[r]
}

// check refuses a lifetime beyond the role's maximum.
func (m MaxTTL) check(r Role, lifetime time.Duration) error {
	if limit := m.For(r); lifetime > limit {
		return fmt.Errorf("token lifetime %s (exp − iat) is longer than the maximum of a %s token, %s; issue a shorter one", lifetime, r, limit)
	}
	if lifetime <= 0 {
		return fmt.Errorf("token expires before it was issued")
	}
	return nil
}

// String lists the maxima as role=duration,… in a fixed order.
func (m MaxTTL) String() string {
	var parts []string
	for _, r := range []Role{RoleAdmin, RoleMinistry, RoleProvince, RoleAgency} {
		parts = append(parts, string(r)+"="+m.For(r).String())
	}
	return strings.Join(parts, ",")
}

// ParseMaxTTL reads role=duration,… (e.g. admin=720h,province=2160h); roles not named
// keep their default.
func ParseMaxTTL(s string) (MaxTTL, error) {
	m := MaxTTL{}
	for r, d := range DefaultMaxTTL {
		m[r] = d
	}
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	var seen []Role
	for _, item := range strings.Split(s, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			return nil, fmt.Errorf("token max ttl %q: want role=duration, e.g. province=2160h", item)
		}
		r, err := ParseRole(strings.TrimSpace(name))
		if err != nil {
			return nil, fmt.Errorf("token max ttl: %w", err)
		}
		if slices.Contains(seen, r) {
			return nil, fmt.Errorf("token max ttl: role %s given twice", r)
		}
		seen = append(seen, r)
		d, err := time.ParseDuration(strings.TrimSpace(value))
		if err != nil {
			return nil, fmt.Errorf("token max ttl of %s: %w", r, err)
		}
		if d < minMaxTTL[r] {
			return nil, fmt.Errorf("token max ttl of %s: %s is below the floor of %s", r, d, minMaxTTL[r])
		}
		m[r] = d
	}
	return m, nil
}

// MaxTTLFlag is a flag.Value for --token-max-ttl.
type MaxTTLFlag struct{ M MaxTTL }

func (f *MaxTTLFlag) String() string {
	if f == nil || f.M == nil {
		return DefaultMaxTTL.String()
	}
	return f.M.String()
}

// Set parses role=duration,….
func (f *MaxTTLFlag) Set(s string) error {
	m, err := ParseMaxTTL(s)
	if err != nil {
		return err
	}
	f.M = m
	return nil
}

// Get is the maxima (DefaultMaxTTL when the flag was not set).
func (f *MaxTTLFlag) Get() MaxTTL {
	if f.M == nil {
		return DefaultMaxTTL
	}
	return f.M
}

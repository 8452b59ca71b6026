package docexchange

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"
)

// RevocationLists are the certificate revocation lists (CRL files, DER or PEM) agencies'
// certificates are checked against. A file is read again when its modification time or
// size changes, at most once per poll interval; a file that cannot be read then keeps the
// lists read before (docs/domain.md, "Document signatures").
type RevocationLists struct {
	paths []string
	lg    *zap.Logger
	poll  time.Duration
	now   func() time.Time

	mu       sync.Mutex
	polledAt time.Time
	files    map[string]*crlFile
	// issuerOK caches which list was checked to be signed by which issuer certificate.
	issuerOK map[crlIssuer]bool
}

type crlFile struct {
	mtime time.Time
	size  int64
	lists []*x509.RevocationList
}

type crlIssuer struct {
	list   *x509.RevocationList
	issuer [32]byte // SHA-256 of the issuer certificate
}

// DefaultCRLPoll is how often the CRL files are looked at for a change.
const DefaultCRLPoll = 2 * time.Second

// LoadRevocationLists reads the CRL files; each must hold at least one CRL. poll ≤ 0
// looks at the files at every check.
func LoadRevocationLists(paths []string, poll time.Duration, lg *zap.Logger) (*RevocationLists, error) {
	if lg == nil {
		lg = zap.NewNop()
	}
	r := &RevocationLists{paths: paths, lg: lg, poll: poll, now: time.Now, files: map[string]*crlFile{}, issuerOK: map[crlIssuer]bool{}}
	for _, p := range paths {
		f, err := readCRLFile(p)
		if err != nil {
			return nil, err
		}
		r.files[p] = f
	}
	r.polledAt = r.now()
	return r, nil
}

func readCRLFile(path string) (*crlFile, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f := &crlFile{mtime: st.ModTime(), size: st.Size()}
	var ders [][]byte
	if bytes.Contains(raw, []byte("-----BEGIN")) {
		rest := raw
		for {
			var blk *pem.Block
			blk, rest = pem.Decode(rest)
			if blk == nil {
				break
			}
			if blk.Type == "X509 CRL" {
				ders = append(ders, blk.Bytes)
			}
		}
	} else {
		ders = [][]byte{raw}
	}
	for i, der := range ders {
		l, err := x509.ParseRevocationList(der)
		if err != nil {
			return nil, fmt.Errorf("%s: CRL %d: %v", path, i+1, err)
		}
		f.lists = append(f.lists, l)
	}
	if len(f.lists) == 0 {
		return nil, fmt.Errorf("%s: no CRL (DER, or PEM blocks \"X509 CRL\")", path)
	}
	return f, nil
}

// refresh reads again the files that changed, at most once per poll interval. Caller holds mu.
func (r *RevocationLists) refresh() {
	now := r.now()
	if r.poll > 0 && now.Sub(r.polledAt) < r.poll {
		return
	}
	r.polledAt = now
	for _, p := range r.paths {
		old := r.files[p]
		st, err := os.Stat(p)
		if err != nil {
			r.lg.Warn("CRL file not readable: its last lists stay in force", zap.String("file", p), zap.Error(err))
			continue
		}
		if old != nil && st.ModTime().Equal(old.mtime) && st.Size() == old.size {
			continue
		}
		f, err := readCRLFile(p)
		if err != nil {
			r.lg.Warn("CRL file changed but cannot be read: its last lists stay in force", zap.String("file", p), zap.Error(err))
			continue
		}
		r.files[p] = f
		for _, l := range f.lists {
			if !l.NextUpdate.IsZero() && now.After(l.NextUpdate) {
				r.lg.Warn("CRL is past its next update: still used", zap.String("file", p), zap.Time("next_update", l.NextUpdate))
			}
		}
		r.lg.Info("CRL file reloaded", zap.String("file", p), zap.Int("lists", len(f.lists)))
	}
}

// revocation is a certificate found in a CRL.
type revocation struct {
	cert   *x509.Certificate
	at     time.Time
	reason int
}

// revokedAt answers whether a certificate of a verified chain (leaf first, root last) is
// revoked for a signature made at signedAt. A list counts only if its signature verifies
// with the certificate's issuer in the chain. Revocations for affiliation changed (3),
// superseded (4), cessation of operation (5) and privilege withdrawn (9) take effect at
// their revocation time (RFC 5280 §5.3.1): a signature made before stays good. Any other
// reason (unspecified, key or CA compromise, certificate hold) holds whatever the signing
// time, as a compromised key can sign with any date.
func (r *RevocationLists) revokedAt(chain []*x509.Certificate, signedAt time.Time) *revocation {
	if r == nil || len(r.paths) == 0 {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refresh()
	for i := 0; i+1 < len(chain); i++ {
		c, issuer := chain[i], chain[i+1]
		for _, p := range r.paths {
			f := r.files[p]
			if f == nil {
				continue
			}
			for _, l := range f.lists {
				if !bytes.Equal(l.RawIssuer, c.RawIssuer) || !r.signedBy(l, issuer) {
					continue
				}
				if e := findEntry(l, c.SerialNumber); e != nil && e.ReasonCode != 8 { // 8: removed (delta CRLs)
					rv := &revocation{cert: c, at: e.RevocationTime, reason: e.ReasonCode}
					if effectiveFromRevocation(e.ReasonCode) && signedAt.Before(e.RevocationTime) {
						continue
					}
					return rv
				}
			}
		}
	}
	return nil
}

func effectiveFromRevocation(reason int) bool {
	switch reason {
	case 3, 4, 5, 9:
		return true
	}
	return false
}

func findEntry(l *x509.RevocationList, serial *big.Int) *x509.RevocationListEntry {
	for i := range l.RevokedCertificateEntries {
		if l.RevokedCertificateEntries[i].SerialNumber.Cmp(serial) == 0 {
			return &l.RevokedCertificateEntries[i]
		}
	}
	return nil
}

// signedBy checks, once per list and issuer, that the issuer signed the list. Caller holds mu.
func (r *RevocationLists) signedBy(l *x509.RevocationList, issuer *x509.Certificate) bool {
	k := crlIssuer{list: l, issuer: sha256.Sum256(issuer.Raw)}
	ok, seen := r.issuerOK[k]
	if !seen {
		ok = l.CheckSignatureFrom(issuer) == nil
		if len(r.issuerOK) > 4096 {
			clear(r.issuerOK)
		}
		r.issuerOK[k] = ok
	}
	return ok
}

// reasonNames are the CRL reason codes of RFC 5280 §5.3.1.
var reasonNames = map[int]string{0: "unspecified", 1: "keyCompromise", 2: "cACompromise", 3: "affiliationChanged",
	4: "superseded", 5: "cessationOfOperation", 6: "certificateHold", 8: "removeFromCRL", 9: "privilegeWithdrawn", 10: "aACompromise"}

func (rv *revocation) String() string {
	name := reasonNames[rv.reason]
	if name == "" {
		name = fmt.Sprintf("reason %d", rv.reason)
	}
	return fmt.Sprintf("certificate %s (serial %x) was revoked on %s (%s)", rv.cert.Subject, rv.cert.SerialNumber, rfc3339(rv.at), name)
}

var errNoRoots = errors.New("this service has no trusted root configured (--trusted-roots); register a bare public key instead")

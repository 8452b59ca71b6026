package docexchange

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"sort"
	"strings"

	// The hashes of the algorithms below, registered for crypto.Hash.
	_ "crypto/sha256"
	_ "crypto/sha512"
)

// Signature algorithms, as a signature and a key name them (docs/domain.md, "Document
// signatures").
const (
	AlgEd25519        = "ED25519"
	AlgECDSAP256      = "ECDSA_P256"
	AlgECDSAP384      = "ECDSA_P384"
	AlgRSAPKCS1SHA256 = "RSA_PKCS1_SHA256"
	AlgRSAPKCS1SHA384 = "RSA_PKCS1_SHA384"
	AlgRSAPKCS1SHA512 = "RSA_PKCS1_SHA512"
	AlgRSAPSSSHA256   = "RSA_PSS_SHA256"
	AlgRSAPSSSHA384   = "RSA_PSS_SHA384"
	AlgRSAPSSSHA512   = "RSA_PSS_SHA512"
)

// RSA keys shorter than minRSABits are refused (NIST SP 800-131A: 2048 bits and up since
// 2014); longer than maxRSABits too, as a bound on the cost of one verification.
const (
	minRSABits = 2048
	maxRSABits = 8192
)

// algorithm is what verifying and signing with a named algorithm need.
type algorithm struct {
	// family groups the algorithms one key may sign with: a key's algorithm and a
	// signature's must be of the same family.
	family string
	hash   crypto.Hash // 0 for Ed25519 (it hashes the message itself)
	pss    bool
}

var algorithms = map[string]algorithm{
	AlgEd25519:        {family: AlgEd25519},
	AlgECDSAP256:      {family: AlgECDSAP256, hash: crypto.SHA256},
	AlgECDSAP384:      {family: AlgECDSAP384, hash: crypto.SHA384},
	AlgRSAPKCS1SHA256: {family: "RSA", hash: crypto.SHA256},
	AlgRSAPKCS1SHA384: {family: "RSA", hash: crypto.SHA384},
	AlgRSAPKCS1SHA512: {family: "RSA", hash: crypto.SHA512},
	AlgRSAPSSSHA256:   {family: "RSA", hash: crypto.SHA256, pss: true},
	AlgRSAPSSSHA384:   {family: "RSA", hash: crypto.SHA384, pss: true},
	AlgRSAPSSSHA512:   {family: "RSA", hash: crypto.SHA512, pss: true},
}

// AlgorithmNames lists the algorithms, sorted.
func AlgorithmNames() []string {
	out := make([]string, 0, len(algorithms))
	for n := range algorithms {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func unknownAlgorithm(alg string) error {
	return fmt.Errorf("algorithm must be one of %s, got %q", strings.Join(AlgorithmNames(), ", "), alg)
}

// parsePublicKey reads a registered key as its algorithm keeps it: 32 raw bytes for
// Ed25519, PKIX DER for ECDSA and RSA.
func parsePublicKey(alg string, pub []byte) (crypto.PublicKey, error) {
	a, ok := algorithms[alg]
	if !ok {
		return nil, unknownAlgorithm(alg)
	}
	if a.family == AlgEd25519 {
		if len(pub) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("an Ed25519 public key is %d raw bytes, got %d", ed25519.PublicKeySize, len(pub))
		}
		return ed25519.PublicKey(pub), nil
	}
	k, err := x509.ParsePKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("a %s public key is PKIX DER (SubjectPublicKeyInfo): %v", alg, err)
	}
	fam, err := keyFamily(k)
	if err != nil {
		return nil, err
	}
	if fam != a.family {
		return nil, fmt.Errorf("the key is %s, not a key for %s", fam, alg)
	}
	return k, nil
}

// keyFamily names the family of a public key, refusing curves and sizes not supported.
func keyFamily(k crypto.PublicKey) (string, error) {
	switch k := k.(type) {
	case ed25519.PublicKey:
		return AlgEd25519, nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return AlgECDSAP256, nil
		case elliptic.P384():
			return AlgECDSAP384, nil
		}
		return "", fmt.Errorf("the ECDSA key is on %s; P-256 and P-384 are supported", k.Curve.Params().Name)
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n < minRSABits || n > maxRSABits {
			return "", fmt.Errorf("the RSA key has %d bits; %d to %d are accepted", n, minRSABits, maxRSABits)
		}
		return "RSA", nil
	}
	return "", fmt.Errorf("a %T key is neither Ed25519, ECDSA nor RSA", k)
}

// keyAlgorithm answers the algorithm a key registered from a certificate takes and the key
// in its kept form: the family's own algorithm, or for RSA the RSA algorithm named (default
// RSA_PKCS1_SHA256).
func keyAlgorithm(k crypto.PublicKey, named string) (string, []byte, error) {
	fam, err := keyFamily(k)
	if err != nil {
		return "", nil, err
	}
	alg := fam
	if fam == "RSA" {
		alg = AlgRSAPKCS1SHA256
		if named != "" {
			if algorithms[named].family != "RSA" {
				return "", nil, fmt.Errorf("the certificate's key is RSA, not a key for %q", named)
			}
			alg = named
		}
	} else if named != "" && named != alg {
		return "", nil, fmt.Errorf("the certificate's key is %s, not %q", alg, named)
	}
	if fam == AlgEd25519 {
		return alg, []byte(k.(ed25519.PublicKey)), nil
	}
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return "", nil, err
	}
	return alg, der, nil
}

// signatureAlgorithm is the algorithm a signature is checked with: the one it names, which
// must be of the key's family, or else the key's.
func signatureAlgorithm(keyAlg, sigAlg string) (string, error) {
	if sigAlg == "" {
		return keyAlg, nil
	}
	a, ok := algorithms[sigAlg]
	if !ok {
		return "", unknownAlgorithm(sigAlg)
	}
	if a.family != algorithms[keyAlg].family {
		return "", fmt.Errorf("the key is %s, the signature says %s", keyAlg, sigAlg)
	}
	return sigAlg, nil
}

// verifyWith checks a signature made with alg by the key pub (kept as keyAlg keeps it).
func verifyWith(keyAlg, alg string, pub, msg, sig []byte) error {
	k, err := parsePublicKey(keyAlg, pub)
	if err != nil {
		return err
	}
	a := algorithms[alg]
	if a.family != algorithms[keyAlg].family {
		return fmt.Errorf("the key is %s, the signature says %s", keyAlg, alg)
	}
	var digest []byte
	if a.hash != 0 {
		h := a.hash.New()
		h.Write(msg)
		digest = h.Sum(nil)
	}
	ok := false
	switch k := k.(type) {
	case ed25519.PublicKey:
		ok = ed25519.Verify(k, msg, sig)
	case *ecdsa.PublicKey:
		ok = ecdsa.VerifyASN1(k, digest, sig)
	case *rsa.PublicKey:
		if a.pss {
			ok = rsa.VerifyPSS(k, a.hash, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
		} else {
			ok = rsa.VerifyPKCS1v15(k, a.hash, digest, sig) == nil
		}
	}
	if !ok {
		return errors.New("the signature does not verify")
	}
	return nil
}

// verifyBytes checks one signature with the key's own algorithm.
func verifyBytes(alg string, pub, msg, sig []byte) bool {
	return verifyWith(alg, alg, pub, msg, sig) == nil
}

// signWith signs msg with alg (lienthong doc sign, tests).
func signWith(alg string, key crypto.Signer, msg []byte) ([]byte, error) {
	a, ok := algorithms[alg]
	if !ok {
		return nil, unknownAlgorithm(alg)
	}
	if fam, err := keyFamily(key.Public()); err != nil {
		return nil, err
	} else if fam != a.family {
		return nil, fmt.Errorf("a %s key cannot sign with %s", fam, alg)
	}
	if a.hash == 0 {
		return key.Sign(rand.Reader, msg, crypto.Hash(0))
	}
	h := a.hash.New()
	h.Write(msg)
	var opts crypto.SignerOpts = a.hash
	if a.pss {
		opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: a.hash}
	}
	return key.Sign(rand.Reader, h.Sum(nil), opts)
}

// DefaultAlgorithm is the algorithm a key signs with unless told: its family's, and
// RSA_PKCS1_SHA256 for RSA.
func DefaultAlgorithm(pub crypto.PublicKey) (string, error) {
	alg, _, err := keyAlgorithm(pub, "")
	return alg, err
}

// GenerateSigningKey makes a key for an algorithm (RSA: 3072 bits) and answers it with its
// public key as a registered key keeps it (lienthong doc keygen).
func GenerateSigningKey(alg string) (crypto.Signer, []byte, error) {
	var key crypto.Signer
	var err error
	switch algorithms[alg].family {
	case AlgEd25519:
		_, key, err = ed25519.GenerateKey(rand.Reader)
	case AlgECDSAP256:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case AlgECDSAP384:
		key, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "RSA":
		key, err = rsa.GenerateKey(rand.Reader, 3072)
	default:
		return nil, nil, unknownAlgorithm(alg)
	}
	if err != nil {
		return nil, nil, err
	}
	_, pub, err := keyAlgorithm(key.Public(), "")
	return key, pub, err
}

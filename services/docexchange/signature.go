package docexchange

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"regexp"
	"time"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// Signature algorithms.
const (
	AlgEd25519   = "ED25519"
	AlgECDSAP256 = "ECDSA_P256"
)

var keyIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// checkPublicKey checks that a registered key is usable for its algorithm.
func checkPublicKey(alg string, pub []byte) error {
	switch alg {
	case AlgEd25519:
		if len(pub) != ed25519.PublicKeySize {
			return fmt.Errorf("an Ed25519 public key is %d raw bytes, got %d", ed25519.PublicKeySize, len(pub))
		}
		return nil
	case AlgECDSAP256:
		_, err := parseP256(pub)
		return err
	}
	return fmt.Errorf("algorithm must be %s or %s, got %q", AlgEd25519, AlgECDSAP256, alg)
}

func parseP256(der []byte) (*ecdsa.PublicKey, error) {
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("an ECDSA P-256 public key is PKIX DER: %v", err)
	}
	ek, ok := k.(*ecdsa.PublicKey)
	if !ok || ek.Curve != elliptic.P256() {
		return nil, fmt.Errorf("not an ECDSA P-256 key")
	}
	return ek, nil
}

// signatureError refuses a document whose signature does not hold.
func signatureError(reason, field, msg, msgVI string) *platform.Error {
	return &platform.Error{Code: codes.InvalidArgument, Reason: reason, Message: "document refused",
		MessageVI:  "Văn bản bị từ chối: " + msgVI,
		Violations: []platform.FieldViolation{{Field: field, Description: msg}}}
}

// verifySignature checks a document's signature against the sender's registered keys.
func verifySignature(tx *bolt.Tx, d *docv1.Document, roots *x509.CertPool, now time.Time) error {
	sig := d.GetSignature()
	if sig.GetKeyId() == "" {
		return signatureError("SIGNATURE_INVALID", "signature.key_id", "the signature has no key_id", "chữ ký thiếu key_id")
	}
	raw := tx.Bucket(bucketKeys).Get([]byte(sig.GetKeyId()))
	if raw == nil {
		return signatureError("SIGNING_KEY_UNKNOWN", "signature.key_id",
			fmt.Sprintf("no signing key %q is registered", sig.GetKeyId()),
			fmt.Sprintf("khóa ký %q chưa được đăng ký", sig.GetKeyId()))
	}
	var key docv1.SigningKey
	if err := proto.Unmarshal(raw, &key); err != nil {
		return fmt.Errorf("signing key %s: %w", sig.GetKeyId(), err)
	}
	if key.GetAgencyCode() != d.GetFrom() {
		return &platform.Error{Code: codes.PermissionDenied, Reason: "SIGNING_KEY_NOT_OF_SENDER",
			Message: "document refused",
			MessageVI: fmt.Sprintf("Văn bản bị từ chối: khóa %q thuộc cơ quan %s, không phải cơ quan gửi %s.",
				sig.GetKeyId(), key.GetAgencyCode(), d.GetFrom()),
			Violations: []platform.FieldViolation{{Field: "signature.key_id", Description: fmt.Sprintf("key %q belongs to agency %s, not to the sender %s",
				sig.GetKeyId(), key.GetAgencyCode(), d.GetFrom())}}}
	}
	if key.GetCertificateChain() != "" {
		// The chain was checked at registration; the leaf must still be valid now.
		if _, _, _, err := chainKey(roots, key.GetCertificateChain(), now); err != nil {
			return signatureError("CERTIFICATE_INVALID", "signature.key_id",
				fmt.Sprintf("the certificate of key %q is no longer valid: %v", sig.GetKeyId(), err),
				fmt.Sprintf("chứng thư số của khóa %q không còn hiệu lực", sig.GetKeyId()))
		}
	}
	if sig.GetAlgorithm() != "" && sig.GetAlgorithm() != key.GetAlgorithm() {
		return signatureError("SIGNATURE_INVALID", "signature.algorithm",
			fmt.Sprintf("key %q is %s, the signature says %s", sig.GetKeyId(), key.GetAlgorithm(), sig.GetAlgorithm()),
			"thuật toán chữ ký không khớp với khóa")
	}
	msg, err := CanonicalBytes(d)
	if err != nil {
		return signatureError("SIGNATURE_INVALID", "document", err.Error(), "không chuẩn hóa được văn bản")
	}
	if !verifyBytes(key.GetAlgorithm(), key.GetPublicKey(), msg, sig.GetValue()) {
		return signatureError("SIGNATURE_INVALID", "signature.value",
			"the signature does not match the canonical document (RFC 8785) and the key",
			"chữ ký không khớp với nội dung văn bản")
	}
	return nil
}

// verifyBytes checks one signature.
func verifyBytes(alg string, pub, msg, sig []byte) bool {
	switch alg {
	case AlgEd25519:
		return len(pub) == ed25519.PublicKeySize && ed25519.Verify(ed25519.PublicKey(pub), msg, sig)
	case AlgECDSAP256:
		k, err := parseP256(pub)
		if err != nil {
			return false
		}
		h := sha256.Sum256(msg)
		return ecdsa.VerifyASN1(k, h[:], sig)
	}
	return false
}

// Sign signs a document in place with an Ed25519 key (lienthong doc sign).
func Sign(d *docv1.Document, keyID string, key ed25519.PrivateKey) error {
	msg, err := CanonicalBytes(d)
	if err != nil {
		return err
	}
	d.Signature = &docv1.Signature{KeyId: keyID, Algorithm: AlgEd25519, Value: ed25519.Sign(key, msg)}
	return nil
}

package docexchange

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"errors"
	"fmt"
	"regexp"
	"time"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

var keyIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// checkPublicKey checks that a registered key is usable for its algorithm.
func checkPublicKey(alg string, pub []byte) error {
	_, err := parsePublicKey(alg, pub)
	return err
}

// signatureError refuses a document whose signature does not hold.
func signatureError(reason, field, msg, msgVI string) *platform.Error {
	return &platform.Error{Code: codes.InvalidArgument, Reason: reason, Message: "document refused",
		MessageVI:  "Văn bản bị từ chối: " + msgVI,
		Violations: []platform.FieldViolation{{Field: field, Description: msg}}}
}

// signingTimeSkew is how far after its arrival a document's signing time may be.
const signingTimeSkew = 5 * time.Minute

// signingTime is when a document says it was signed (signed_at), or else its arrival.
func signingTime(d *docv1.Document, arrival time.Time) (time.Time, error) {
	if d.GetSignedAt() == "" {
		return arrival, nil
	}
	t, err := time.Parse(time.RFC3339, d.GetSignedAt())
	if err != nil {
		return time.Time{}, platform.Invalid(platform.FieldViolation{Field: "signed_at", Description: "must be an RFC 3339 time, e.g. 2026-11-23T09:30:00+07:00"})
	}
	if t.After(arrival.Add(signingTimeSkew)) {
		return time.Time{}, platform.Invalid(platform.FieldViolation{Field: "signed_at",
			Description: fmt.Sprintf("%s is after the document's arrival (%s)", d.GetSignedAt(), rfc3339(arrival))})
	}
	return t, nil
}

// verifySignature checks a document's signature against the sender's registered keys: a
// certificate key's chain at the document's signing time (valid, not revoked, bound to the
// sender), then the signature over the canonical proto JSON or, failing that, over the
// JSON as sent (signature.signed_json), which is kept only when it is what was signed.
func (s *Service) verifySignature(tx *bolt.Tx, d *docv1.Document, arrival time.Time) error {
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
		reason, what := "SIGNING_KEY_NOT_OF_SENDER", "key"
		if key.GetCertificateChain() != "" {
			reason, what = "CERTIFICATE_NOT_OF_SENDER", "the certificate of key"
		}
		return &platform.Error{Code: codes.PermissionDenied, Reason: reason,
			Message: "document refused",
			MessageVI: fmt.Sprintf("Văn bản bị từ chối: khóa %q thuộc cơ quan %s, không phải cơ quan gửi %s.",
				sig.GetKeyId(), key.GetAgencyCode(), d.GetFrom()),
			Violations: []platform.FieldViolation{{Field: "signature.key_id", Description: fmt.Sprintf("%s %q belongs to agency %s, not to the sender %s",
				what, sig.GetKeyId(), key.GetAgencyCode(), d.GetFrom())}}}
	}
	signedAt, err := signingTime(d, arrival)
	if err != nil {
		return err
	}
	if key.GetCertificateChain() != "" {
		ck, err := s.checkCertificate(key.GetCertificateChain(), d.GetFrom(), "", "signature.key_id", signedAt)
		if err != nil {
			return err
		}
		if !bytes.Equal(ck.pub, key.GetPublicKey()) {
			return fmt.Errorf("signing key %s: its public key is not its certificate's", sig.GetKeyId())
		}
	}
	alg, err := signatureAlgorithm(key.GetAlgorithm(), sig.GetAlgorithm())
	if err != nil {
		return signatureError("SIGNATURE_INVALID", "signature.algorithm", fmt.Sprintf("key %q: %v", sig.GetKeyId(), err),
			"thuật toán chữ ký không khớp với khóa")
	}
	msg, err := CanonicalBytes(d)
	if err != nil {
		return signatureError("SIGNATURE_INVALID", "document", err.Error(), "không chuẩn hóa được văn bản")
	}
	if verifyWith(key.GetAlgorithm(), alg, key.GetPublicKey(), msg, sig.GetValue()) == nil {
		sig.SignedJson = nil // the canonical proto JSON is what was signed
		return nil
	}
	if asSent := sig.GetSignedJson(); len(asSent) > 0 {
		if err := sameDocument(asSent, msg); err != nil {
			return signatureError("SIGNATURE_INVALID", "signature.signed_json", err.Error(),
				"nội dung đã ký không khớp với văn bản")
		}
		if verifyWith(key.GetAlgorithm(), alg, key.GetPublicKey(), asSent, sig.GetValue()) == nil {
			return nil
		}
		return signatureError("SIGNATURE_INVALID", "signature.value",
			fmt.Sprintf("the %s signature matches neither the canonical document (RFC 8785 of the proto JSON) nor the JSON as sent, with key %q", alg, sig.GetKeyId()),
			"chữ ký không khớp với nội dung văn bản")
	}
	return signatureError("SIGNATURE_INVALID", "signature.value",
		fmt.Sprintf("the %s signature does not match the canonical document (RFC 8785) and key %q", alg, sig.GetKeyId()),
		"chữ ký không khớp với nội dung văn bản")
}

// sameDocument checks that the JSON as sent (RFC 8785 form, without the fields the
// signature leaves out) says exactly what the document's canonical proto JSON says: read
// as a document, both are the same message. So a signature over the JSON as sent covers
// this document and no other.
func sameDocument(asSent, canonical []byte) error {
	c, err := Canonicalize(asSent)
	if err != nil {
		return err
	}
	if !bytes.Equal(c, asSent) {
		return errors.New("signed_json is not in RFC 8785 canonical form")
	}
	var got, want docv1.Document
	if err := protojson.Unmarshal(asSent, &got); err != nil {
		return fmt.Errorf("signed_json is not a document: %v", err)
	}
	if err := protojson.Unmarshal(canonical, &want); err != nil {
		return fmt.Errorf("canonical document: %v", err)
	}
	if !proto.Equal(&got, &want) {
		return errors.New("signed_json says something other than the document (or holds a field the signature leaves out)")
	}
	return nil
}

// Sign signs a document in place with an Ed25519 key (lienthong doc sign).
func Sign(d *docv1.Document, keyID string, key ed25519.PrivateKey) error {
	return SignWith(d, keyID, AlgEd25519, key)
}

// SignWith signs a document in place with a key and one of the algorithms of its family
// (algorithms.go), over the canonical proto JSON.
func SignWith(d *docv1.Document, keyID, alg string, key crypto.Signer) error {
	msg, err := CanonicalBytes(d)
	if err != nil {
		return err
	}
	v, err := signWith(alg, key, msg)
	if err != nil {
		return err
	}
	d.Signature = &docv1.Signature{KeyId: keyID, Algorithm: alg, Value: v}
	return nil
}

package docexchange

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"

	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/store/v1"
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// Policy: every method needs a token; the methods check roles and scope themselves.
var Policy = platform.Policy{}

// ServerOptions are the part's gRPC flow-control windows: fixed and small, so that an upload
// sent faster than it is written waits in the sender instead of in this part's memory (the
// default, bandwidth-estimated windows grow to 16 MiB per stream).
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.InitialWindowSize(1 << 20), grpc.InitialConnWindowSize(4 << 20)}
}

// Register adds the document service to a part's server.
func Register(s *platform.Server, svc *Service) {
	docv1.RegisterDocumentServiceServer(s, svc)
}

// SendDocument checks, stores and delivers a document.
func (s *Service) SendDocument(ctx context.Context, r *docv1.SendDocumentRequest) (*docv1.SendDocumentResponse, error) {
	resp, err := s.send(ctx, r.GetDocument(), sendOptions{})
	if err != nil {
		return nil, err
	}
	if err := s.applyBusiness(ctx, resp.GetDocument()); err != nil {
		return nil, err
	}
	return resp, nil
}

// GetDocument answers a document with every recipient's status.
func (s *Service) GetDocument(ctx context.Context, r *docv1.GetDocumentRequest) (*docv1.Document, error) {
	sd, err := s.readableDoc(ctx, r.GetId())
	if err != nil {
		return nil, err
	}
	return sd.GetDocument(), nil
}

// PutSigningKey registers an agency's public key (admin). The same key again is a success
// that changes nothing; another key under a used key id is ALREADY_EXISTS.
func (s *Service) PutSigningKey(ctx context.Context, r *docv1.PutSigningKeyRequest) (*docv1.SigningKey, error) {
	c, err := platform.RequireRole(ctx, platform.RoleAdmin)
	if err != nil {
		return nil, err
	}
	k := r.GetSigningKey()
	var v platform.Violations
	if !platform.IsAgencyCode(r.GetAgencyCode()) {
		v.Add("agency_code", "must be an agency code NNN.NN.NN.XNN or XNN.NN (e.g. 000.00.00.H31, H26.107)")
	}
	if !keyIDRE.MatchString(r.GetKeyId()) {
		v.Add("key_id", "1–64 letters, digits, '.', '_' or '-'")
	}
	if k == nil {
		v.Add("signing_key", "required: {\"algorithm\": \"ED25519\", \"public_key\": \"<base64>\"}")
	} else {
		if k.GetAgencyCode() != "" && k.GetAgencyCode() != r.GetAgencyCode() {
			v.Add("agency_code", "the body names another agency than the path")
		}
		if k.GetKeyId() != "" && k.GetKeyId() != r.GetKeyId() {
			v.Add("key_id", "the body names another key id than the path")
		}
		if k.GetCreatedAt() != "" || k.GetCertificateSubject() != "" || k.GetCertificateNotAfter() != "" || k.GetCertificateSerial() != "" || k.GetCertificateIssuer() != "" {
			v.Add("created_at", "set by the service; leave created_at and certificate_* out")
		}
		if k.GetCertificateChain() == "" {
			if err := checkPublicKey(k.GetAlgorithm(), k.GetPublicKey()); err != nil {
				v.Add("public_key", "%s", err.Error())
			}
		} else if a := k.GetAlgorithm(); a != "" && algorithms[a].family == "" {
			v.Add("algorithm", "%s", unknownAlgorithm(a).Error())
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	alg, pub := k.GetAlgorithm(), k.GetPublicKey()
	var subject, notAfter, serial, issuer string
	var leaf *x509.Certificate
	if k.GetCertificateChain() != "" {
		// Valid now, to a trusted root, not revoked, bound to the agency (certificates.go).
		ck, err := s.checkCertificate(k.GetCertificateChain(), r.GetAgencyCode(), alg, "certificate_chain", s.now())
		if err != nil {
			return nil, err
		}
		if len(pub) > 0 && !bytes.Equal(pub, ck.pub) {
			return nil, platform.Invalid(platform.FieldViolation{Field: "public_key", Description: "differs from the leaf certificate's key; leave it out"})
		}
		leaf = ck.leaf
		alg, pub, subject, notAfter = ck.alg, ck.pub, leaf.Subject.String(), rfc3339(leaf.NotAfter)
		serial, issuer = leaf.SerialNumber.Text(16), leaf.Issuer.String()
	}
	units, err := s.refs.agencyUnits(ctx, []string{r.GetAgencyCode()})
	if err != nil {
		return nil, err
	}
	if _, ok := units[r.GetAgencyCode()]; !ok {
		e := platform.Invalid(platform.FieldViolation{Field: "agency_code", Description: "agency " + r.GetAgencyCode() + " is not in the catalog"})
		e.Reason = "UNKNOWN_REFERENCE"
		return nil, e
	}
	key := &docv1.SigningKey{AgencyCode: r.GetAgencyCode(), KeyId: r.GetKeyId(), Algorithm: alg, PublicKey: pub,
		CreatedAt: rfc3339(s.now()), CertificateChain: k.GetCertificateChain(), CertificateSubject: subject, CertificateNotAfter: notAfter,
		CertificateSerial: serial, CertificateIssuer: issuer}
	err = s.db.Update(func(tx *bolt.Tx) error {
		if leaf != nil {
			if err := certificateOfOneAgency(tx, leaf, key.AgencyCode); err != nil {
				return err
			}
		}
		if raw := tx.Bucket(bucketKeys).Get([]byte(key.KeyId)); raw != nil {
			var old docv1.SigningKey
			if err := proto.Unmarshal(raw, &old); err != nil {
				return err
			}
			if old.GetAgencyCode() == key.AgencyCode && old.GetAlgorithm() == key.Algorithm && bytes.Equal(old.GetPublicKey(), key.PublicKey) &&
				old.GetCertificateChain() == key.CertificateChain {
				key = &old
				return nil
			}
			return platform.AlreadyExists("signing key", key.KeyId)
		}
		val, err := proto.Marshal(key)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketKeys).Put([]byte(key.KeyId), val); err != nil {
			return err
		}
		return s.appendEvidence(tx, &storev1.EvidenceRecord{Kind: kindKey, AgencyCode: key.AgencyCode, Reason: key.KeyId,
			PayloadSha256: payloadHash(key.PublicKey), Actor: c.System}, s.now())
	})
	if err != nil {
		return nil, err
	}
	return key, nil
}

// ListSigningKeys answers an agency's keys (any token).
func (s *Service) ListSigningKeys(ctx context.Context, r *docv1.ListSigningKeysRequest) (*docv1.ListSigningKeysResponse, error) {
	if _, err := platform.RequireRole(ctx, platform.RoleAdmin, platform.RoleMinistry, platform.RoleProvince, platform.RoleAgency); err != nil {
		return nil, err
	}
	out := &docv1.ListSigningKeysResponse{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketKeys).ForEach(func(_, v []byte) error {
			var k docv1.SigningKey
			if err := proto.Unmarshal(v, &k); err != nil {
				return err
			}
			if k.GetAgencyCode() == r.GetAgencyCode() {
				out.SigningKeys = append(out.SigningKeys, &k)
			}
			return nil
		})
	})
	return out, err
}

// VerifyEvidence walks the evidence log (admin and ministry).
func (s *Service) VerifyEvidence(ctx context.Context, r *docv1.VerifyEvidenceRequest) (*docv1.VerifyEvidenceResponse, error) {
	if _, err := platform.RequireRole(ctx, platform.RoleAdmin, platform.RoleMinistry); err != nil {
		return nil, err
	}
	var out *docv1.VerifyEvidenceResponse
	err := s.db.View(func(tx *bolt.Tx) error {
		out = s.verifyEvidence(tx)
		if out.GetOk() && r.GetAttachments() {
			return s.verifyAttachments(ctx, tx, out)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("verify evidence: %w", err)
	}
	return out, nil
}

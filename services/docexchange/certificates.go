package docexchange

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// LoadTrustedRoots reads the PEM certificates that agencies' certificate chains must lead to.
func LoadTrustedRoots(path string) (*x509.CertPool, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(raw) {
		return nil, fmt.Errorf("%s: no PEM certificate", path)
	}
	return pool, nil
}

// parseChain reads PEM certificates, leaf first.
func parseChain(pemText string) ([]*x509.Certificate, error) {
	rest := []byte(pemText)
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("a %s block is not a certificate", blk.Type)
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %v", len(out)+1, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM certificate")
	}
	return out, nil
}

// certificateKey is a registered certificate chain checked at a time: the leaf, the chain
// up to a trusted root, the algorithm the key takes and the key in its kept form.
type certificateKey struct {
	leaf  *x509.Certificate
	chain []*x509.Certificate // verified: leaf first, root last
	alg   string
	pub   []byte
}

// certError refuses a certificate: reason CERTIFICATE_INVALID, CERTIFICATE_REVOKED or
// CERTIFICATE_NOT_OF_SENDER (the last one PERMISSION_DENIED).
func certError(reason, field, msg, msgVI string) *platform.Error {
	code := codes.InvalidArgument
	if reason == "CERTIFICATE_NOT_OF_SENDER" {
		code = codes.PermissionDenied
	}
	return &platform.Error{Code: code, Reason: reason, Message: "certificate refused",
		MessageVI:  "Chứng thư số bị từ chối: " + msgVI,
		Violations: []platform.FieldViolation{{Field: field, Description: msg}}}
}

// checkCertificate checks a PEM chain (leaf first) for an agency at a time: it leads to a
// trusted root with every certificate valid at that time, nothing in it is revoked for a
// signature made then (CRL files), and the leaf is bound to the agency (a subject that
// names agency codes names this one). named is the RSA algorithm asked for, if any.
// Refusals are platform errors naming field.
func (s *Service) checkCertificate(pemText, agency, named, field string, at time.Time) (*certificateKey, error) {
	if s.roots == nil {
		return nil, certError("CERTIFICATE_INVALID", field, errNoRoots.Error(), "dịch vụ chưa cấu hình chứng thư gốc tin cậy")
	}
	certs, err := parseChain(pemText)
	if err != nil {
		return nil, certError("CERTIFICATE_INVALID", field, err.Error(), "chuỗi chứng thư số không đọc được")
	}
	leaf := certs[0]
	if at.Before(leaf.NotBefore) || at.After(leaf.NotAfter) {
		return nil, certError("CERTIFICATE_INVALID", field,
			fmt.Sprintf("the certificate %s is valid from %s to %s, not at %s", leaf.Subject, rfc3339(leaf.NotBefore), rfc3339(leaf.NotAfter), rfc3339(at)),
			fmt.Sprintf("chứng thư số có hiệu lực từ %s đến %s, không có hiệu lực lúc %s", rfc3339(leaf.NotBefore), rfc3339(leaf.NotAfter), rfc3339(at)))
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{Roots: s.roots, Intermediates: inter, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return nil, certError("CERTIFICATE_INVALID", field, fmt.Sprintf("the chain does not lead to a trusted root at %s: %v", rfc3339(at), err),
			"chuỗi chứng thư số không dẫn tới chứng thư gốc tin cậy")
	}
	if leaf.KeyUsage != 0 && leaf.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return nil, certError("CERTIFICATE_INVALID", field, "the certificate's key usage allows neither digitalSignature nor nonRepudiation",
			"chứng thư số không dùng để ký")
	}
	for _, chain := range chains {
		if rv := s.crls.revokedAt(chain, at); rv != nil {
			return nil, certError("CERTIFICATE_REVOKED", field, rv.String(),
				fmt.Sprintf("chứng thư số %s đã bị thu hồi ngày %s", rv.cert.Subject, rfc3339(rv.at)))
		}
	}
	if bound := subjectAgencyCodes(leaf); len(bound) > 0 && !slices.Contains(bound, agency) {
		return nil, certError("CERTIFICATE_NOT_OF_SENDER", field,
			fmt.Sprintf("the certificate %s names agency %s in its subject, not %s", leaf.Subject, strings.Join(bound, ", "), agency),
			fmt.Sprintf("chứng thư số cấp cho cơ quan %s, không phải cơ quan %s", strings.Join(bound, ", "), agency))
	}
	alg, pub, err := keyAlgorithm(leaf.PublicKey, named)
	if err != nil {
		return nil, certError("CERTIFICATE_INVALID", field, err.Error(), "khóa của chứng thư số không được hỗ trợ")
	}
	return &certificateKey{leaf: leaf, chain: chains[0], alg: alg, pub: pub}, nil
}

// Subject attributes that may carry an agency code: serialNumber (2.5.4.5), UID
// (0.9.2342.19200300.100.1.1) and OU (2.5.4.11).
var (
	oidSerialNumber = asn1.ObjectIdentifier{2, 5, 4, 5}
	oidUID          = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}
	oidOU           = asn1.ObjectIdentifier{2, 5, 4, 11}
	agencyCodeInRE  = regexp.MustCompile(`\b(?:\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}|[A-Z]\d{2}(?:\.\d{2,3}){1,3})\b`)
)

// subjectAgencyCodes are the agency codes (NNN.NN.NN.XNN or XNN.NN) a certificate's subject names in
// serialNumber, UID or OU, e.g. "UID=MCQ:000.02.00.H33".
func subjectAgencyCodes(c *x509.Certificate) []string {
	var out []string
	for _, n := range c.Subject.Names {
		if !n.Type.Equal(oidSerialNumber) && !n.Type.Equal(oidUID) && !n.Type.Equal(oidOU) {
			continue
		}
		v, ok := n.Value.(string)
		if !ok {
			continue
		}
		for _, m := range agencyCodeInRE.FindAllString(v, -1) {
			if !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	return out
}

// certificateOfOneAgency refuses a certificate already registered for another agency: a
// certificate binds its key to one agency.
func certificateOfOneAgency(tx *bolt.Tx, leaf *x509.Certificate, agency string) error {
	return tx.Bucket(bucketKeys).ForEach(func(_, raw []byte) error {
		var k docv1.SigningKey
		if err := proto.Unmarshal(raw, &k); err != nil {
			return err
		}
		if k.GetAgencyCode() == agency || k.GetCertificateChain() == "" {
			return nil
		}
		if chain, err := parseChain(k.GetCertificateChain()); err == nil && chain[0].Equal(leaf) {
			return certError("CERTIFICATE_NOT_OF_SENDER", "certificate_chain",
				fmt.Sprintf("the certificate %s is already registered for agency %s (key %s)", leaf.Subject, k.GetAgencyCode(), k.GetKeyId()),
				fmt.Sprintf("chứng thư số đã được đăng ký cho cơ quan %s", k.GetAgencyCode()))
		}
		return nil
	})
}

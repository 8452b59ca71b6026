package docexchange

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/beevik/etree"
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	dsig "github.com/russellhaering/goxmldsig"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/lienthong/lienthong/services/platform"
)

// XMLDSigNamespace is the namespace of XML signatures.
const XMLDSigNamespace = "http://www.w3.org/2000/09/xmldsig#"

// xmlSignatureElement is the signature a package carries in its header: an element
// Signature (or DigitalSignature) with a SignatureValue. An empty DigitalSignature, as the
// SDK writes for unsigned packages, is no signature.
func xmlSignatureElement(root *xnode) *xnode {
	var found *xnode
	var walk func(n *xnode)
	walk = func(n *xnode) {
		if found != nil {
			return
		}
		if (n.local == "Signature" || n.local == "DigitalSignature") && n.find("SignatureValue") != nil {
			found = n
			return
		}
		for _, k := range n.kids {
			walk(k)
		}
	}
	walk(root)
	return found
}

// verifyXMLSignature checks the enveloped XML signature of a package, when it has one: the
// signature (goxmldsig over etree) with the certificate of its KeyInfo, that certificate
// valid now, chaining to the trusted roots, and bound to the sending agency (registered as
// a certificate chain of one of its signing keys, or naming the agency code in its
// subject). It answers the certificate's subject. A package whose signature fails is
// refused as a document whose JSON signature fails (docs/security.md).
func (s *Service) verifyXMLSignature(ctx context.Context, data []byte, root *xnode, from string) (string, error) {
	sigEl := xmlSignatureElement(root)
	if sigEl == nil {
		return "", nil
	}
	refuse := func(reason, msg, vi string) error {
		return signatureError(reason, "edXMLHeader.Signature", msg, vi)
	}
	if sigEl.space != XMLDSigNamespace {
		return "", refuse("SIGNATURE_INVALID", fmt.Sprintf("the package's %s is not an XML signature (namespace %s)", sigEl.local, XMLDSigNamespace),
			"chữ ký của gói edXML không theo chuẩn XML-DSig")
	}
	var certs []*x509.Certificate
	for _, x := range sigEl.path("KeyInfo", "X509Data").children("X509Certificate") {
		der, err := base64.StdEncoding.DecodeString(stripSpace(x.text.String()))
		if err != nil {
			return "", refuse("CERTIFICATE_INVALID", "KeyInfo/X509Data/X509Certificate is not base64", "chứng thư số không đọc được")
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return "", refuse("CERTIFICATE_INVALID", "KeyInfo/X509Data/X509Certificate is not a certificate: "+err.Error(), "chứng thư số không đọc được")
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return "", refuse("CERTIFICATE_INVALID", "the XML signature carries no certificate (KeyInfo/X509Data/X509Certificate)", "chữ ký không kèm chứng thư số")
	}
	leaf := certs[0]
	now := s.now()
	if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return "", refuse("CERTIFICATE_INVALID", fmt.Sprintf("the signing certificate is valid from %s to %s, not now",
			leaf.NotBefore.Format("2006-01-02"), leaf.NotAfter.Format("2006-01-02")), "chứng thư số đã hết hoặc chưa có hiệu lực")
	}
	registered, err := s.registeredCertificate(from, leaf)
	if err != nil {
		return "", err
	}
	if !registered {
		if s.roots == nil {
			return "", refuse("CERTIFICATE_INVALID", "no trusted roots are configured and the certificate is not registered for agency "+from,
				"chứng thư số chưa được đăng ký cho cơ quan gửi")
		}
		inter := x509.NewCertPool()
		for _, c := range certs[1:] {
			inter.AddCert(c)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: s.roots, Intermediates: inter, CurrentTime: now,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			return "", refuse("CERTIFICATE_INVALID", "the signing certificate does not chain to a trusted root: "+err.Error(),
				"chứng thư số không thuộc tổ chức chứng thực được tin cậy")
		}
		if !strings.Contains(leaf.Subject.String(), from) {
			return "", &platform.Error{Code: codes.PermissionDenied, Reason: "SIGNING_KEY_NOT_OF_SENDER", Message: "document refused",
				MessageVI: "Văn bản bị từ chối: chứng thư số không thuộc cơ quan gửi " + from + ".",
				Violations: []platform.FieldViolation{{Field: "edXMLHeader.Signature",
					Description: fmt.Sprintf("the certificate of %q is neither registered for agency %s nor names it in its subject", leaf.Subject, from)}}}
		}
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(data); err != nil {
		return "", refuse("SIGNATURE_INVALID", "the package cannot be read for its signature: "+err.Error(), "không đọc được chữ ký")
	}
	vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{leaf}})
	vc.Clock = dsig.NewFakeClockAt(now)
	if _, err := vc.Validate(doc.Root()); err != nil {
		return "", refuse("SIGNATURE_INVALID", "the XML signature does not verify: "+err.Error(), "chữ ký số của gói edXML không hợp lệ")
	}
	return leaf.Subject.String(), nil
}

// registeredCertificate says whether cert is the leaf of a certificate chain registered
// for a signing key of agency.
func (s *Service) registeredCertificate(agency string, cert *x509.Certificate) (bool, error) {
	found := false
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketKeys).ForEach(func(_, raw []byte) error {
			var k docv1.SigningKey
			if err := proto.Unmarshal(raw, &k); err != nil {
				return err
			}
			if found || k.GetAgencyCode() != agency || k.GetCertificateChain() == "" {
				return nil
			}
			chain, err := parseChain(k.GetCertificateChain())
			if err == nil && len(chain) > 0 && chain[0].Equal(cert) {
				found = true
			}
			return nil
		})
	})
	return found, err
}

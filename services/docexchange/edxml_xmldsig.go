package docexchange

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"slices"

	"github.com/beevik/etree"
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	dsig "github.com/russellhaering/goxmldsig"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
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
// certificates of its KeyInfo (leaf first) pass the check a registered certificate chain
// passes for a JSON signature (checkCertificate: a chain to the trusted roots with every
// certificate valid at the signing time, nothing revoked then by the CRL files, a subject
// naming agency codes naming the sender), the leaf is bound to the sending agency
// (registered as the certificate of one of its signing keys, or naming its code in its
// subject; a certificate registered for another agency is refused), and the signature
// verifies (goxmldsig over etree). The signing time is the document's signed_at, else its
// arrival (signingTime). It answers the certificate's subject. A package whose signature
// fails is refused as a document whose JSON signature fails, with the same reasons
// (docs/security.md).
func (s *Service) verifyXMLSignature(ctx context.Context, data []byte, root *xnode, d *docv1.Document) (string, error) {
	sigEl := xmlSignatureElement(root)
	if sigEl == nil {
		return "", nil
	}
	const field = "edXMLHeader.Signature"
	from := d.GetFrom()
	refuse := func(reason, msg, vi string) error {
		return signatureError(reason, field, msg, vi)
	}
	if sigEl.space != XMLDSigNamespace {
		return "", refuse("SIGNATURE_INVALID", fmt.Sprintf("the package's %s is not an XML signature (namespace %s)", sigEl.local, XMLDSigNamespace),
			"chữ ký của gói edXML không theo chuẩn XML-DSig")
	}
	var chainPEM []byte
	var leaf *x509.Certificate
	for _, x := range sigEl.path("KeyInfo", "X509Data").children("X509Certificate") {
		der, err := base64.StdEncoding.DecodeString(stripSpace(x.text.String()))
		if err != nil {
			return "", refuse("CERTIFICATE_INVALID", "KeyInfo/X509Data/X509Certificate is not base64", "chứng thư số không đọc được")
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return "", refuse("CERTIFICATE_INVALID", "KeyInfo/X509Data/X509Certificate is not a certificate: "+err.Error(), "chứng thư số không đọc được")
		}
		if leaf == nil {
			leaf = c
		}
		chainPEM = append(chainPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	if leaf == nil {
		return "", refuse("CERTIFICATE_INVALID", "the XML signature carries no certificate (KeyInfo/X509Data/X509Certificate)", "chữ ký không kèm chứng thư số")
	}
	signedAt, err := signingTime(d, s.now())
	if err != nil {
		return "", err
	}
	if _, err := s.checkCertificate(string(chainPEM), from, "", field, signedAt); err != nil {
		return "", err
	}
	owner, err := s.certificateOwner(leaf)
	if err != nil {
		return "", err
	}
	switch {
	case owner != "" && owner != from:
		return "", certError("CERTIFICATE_NOT_OF_SENDER", field,
			fmt.Sprintf("the certificate %s is registered for agency %s, not for the sender %s", leaf.Subject, owner, from),
			fmt.Sprintf("chứng thư số đã được đăng ký cho cơ quan %s, không phải cơ quan gửi %s", owner, from))
	case owner == "" && !slices.Contains(subjectAgencyCodes(leaf), from):
		return "", certError("CERTIFICATE_NOT_OF_SENDER", field,
			fmt.Sprintf("the certificate %s is neither registered for agency %s nor names it in its subject", leaf.Subject, from),
			fmt.Sprintf("chứng thư số không thuộc cơ quan gửi %s", from))
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(data); err != nil {
		return "", refuse("SIGNATURE_INVALID", "the package cannot be read for its signature: "+err.Error(), "không đọc được chữ ký")
	}
	vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{leaf}})
	vc.Clock = dsig.NewFakeClockAt(signedAt)
	if _, err := vc.Validate(doc.Root()); err != nil {
		return "", refuse("SIGNATURE_INVALID", "the XML signature does not verify: "+err.Error(), "chữ ký số của gói edXML không hợp lệ")
	}
	return readableSubject(leaf), nil
}

// certificateOwner is the agency a signing key registered with cert as its leaf belongs
// to, or "" when no key has it.
func (s *Service) certificateOwner(cert *x509.Certificate) (string, error) {
	owner := ""
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketKeys).ForEach(func(_, raw []byte) error {
			var k docv1.SigningKey
			if err := proto.Unmarshal(raw, &k); err != nil {
				return err
			}
			if owner != "" || k.GetCertificateChain() == "" {
				return nil
			}
			chain, err := parseChain(k.GetCertificateChain())
			if err == nil && len(chain) > 0 && chain[0].Equal(cert) {
				owner = k.GetAgencyCode()
			}
			return nil
		})
	})
	return owner, err
}

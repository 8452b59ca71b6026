package docexchange

import (
	"crypto/rsa"
	"errors"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// SignEdxml signs an edXML package with an enveloped XML signature (XMLDSig, RSA-SHA256,
// exclusive C14N) whose KeyInfo carries the certificate chain (DER, leaf first), and puts
// the signature in edXMLHeader, where QCVN 102:2016 has it (at the end of the root when the
// package has no header). It is what verifyXMLSignature checks (lienthong edxml sign).
func SignEdxml(pkg []byte, key *rsa.PrivateKey, chain [][]byte) ([]byte, error) {
	if key == nil || len(chain) == 0 {
		return nil, errors.New("an XML signature needs a key and its certificate")
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(pkg); err != nil {
		return nil, err
	}
	if doc.Root() == nil {
		return nil, errors.New("the package has no root element")
	}
	ctx, err := dsig.NewSigningContext(key, chain)
	if err != nil {
		return nil, err
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	sig, err := ctx.ConstructSignature(doc.Root(), true)
	if err != nil {
		return nil, err
	}
	parent := doc.FindElement("//edXMLHeader")
	if parent == nil {
		parent = doc.Root()
	}
	parent.AddChild(sig)
	return doc.WriteToBytes()
}

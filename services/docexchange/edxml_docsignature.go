package docexchange

import (
	"encoding/base64"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
)

// documentSignature writes lienthong's JSON signature of a document into the header of its
// own edXML variant: key id, algorithm, value, the signing time the document gives
// (signed_at) and, for a signature over the JSON as sent, the signed bytes (signed_json),
// so that the document and its signature survive export and import (README.md, edXML).
func (w *xw) documentSignature(d *docv1.Document) {
	s := d.GetSignature()
	if s == nil && d.GetSignedAt() == "" {
		return
	}
	w.open("DocumentSignature")
	if s != nil {
		w.leaf("KeyId", s.GetKeyId())
		w.leaf("Algorithm", s.GetAlgorithm())
		w.leaf("Value", base64.StdEncoding.EncodeToString(s.GetValue()))
	}
	if d.GetSignedAt() != "" {
		w.leaf("SignedAt", d.GetSignedAt())
	}
	if len(s.GetSignedJson()) > 0 {
		w.leaf("SignedJson", base64.StdEncoding.EncodeToString(s.GetSignedJson()))
	}
	w.close("DocumentSignature")
}

// readDocumentSignature reads what documentSignature writes.
func readDocumentSignature(root *xnode, d *docv1.Document) error {
	s := root.find("DocumentSignature")
	if s == nil {
		return nil
	}
	d.SignedAt = s.str("SignedAt")
	if s.find("KeyId") == nil && s.find("Value") == nil {
		return nil
	}
	v, err := base64.StdEncoding.DecodeString(stripSpace(s.str("Value")))
	if err != nil {
		return edxmlInvalid("edXMLHeader.DocumentSignature.Value", "not base64")
	}
	d.Signature = &docv1.Signature{KeyId: s.str("KeyId"), Algorithm: s.str("Algorithm"), Value: v}
	if j := stripSpace(s.str("SignedJson")); j != "" {
		if d.Signature.SignedJson, err = base64.StdEncoding.DecodeString(j); err != nil {
			return edxmlInvalid("edXMLHeader.DocumentSignature.SignedJson", "not base64")
		}
	}
	return nil
}

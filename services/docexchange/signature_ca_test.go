package docexchange

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// rsaCA is a CA hierarchy built in code as a government CA's is: an RSA root, an RSA
// intermediate, and agency certificates issued by the intermediate, all with one leaf key.
type rsaCA struct {
	root, inter       *x509.Certificate
	rootKey, interKey *rsa.PrivateKey
	leafKey           *rsa.PrivateKey
	serial            int64
}

func newRSACA(t *testing.T) *rsaCA {
	t.Helper()
	gen := func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	ca := &rsaCA{rootKey: gen(), interKey: gen(), leafKey: gen(), serial: 100}
	ca.root = issue(t, &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Root CA", Organization: []string{"Ban Cơ yếu Chính phủ (test)"}, Country: []string{"VN"}},
		NotBefore: testStart.AddDate(-5, 0, 0), NotAfter: testStart.AddDate(10, 0, 0), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}, nil, &ca.rootKey.PublicKey, ca.rootKey)
	ca.inter = issue(t, &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Test Government CA", Country: []string{"VN"}},
		NotBefore: testStart.AddDate(-5, 0, 0), NotAfter: testStart.AddDate(5, 0, 0), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}, ca.root, &ca.interKey.PublicKey, ca.rootKey)
	return ca
}

// agencyCert issues a certificate of the leaf key valid from notBefore to notAfter, with
// extra subject attributes; it answers the chain in PEM (leaf, intermediate).
func (ca *rsaCA) agencyCert(t *testing.T, cn string, notBefore, notAfter time.Time, extra ...pkix.AttributeTypeAndValue) (string, *x509.Certificate) {
	t.Helper()
	ca.serial++
	c := issue(t, &x509.Certificate{SerialNumber: big.NewInt(ca.serial), Subject: pkix.Name{CommonName: cn, Country: []string{"VN"}, ExtraNames: extra},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment}, ca.inter, &ca.leafKey.PublicKey, ca.interKey)
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.inter.Raw})...)
	return string(out), c
}

// writeCRL writes a CRL of the intermediate listing the certificates (PEM).
func (ca *rsaCA) writeCRL(t *testing.T, path string, number int64, entries ...x509.RevocationListEntry) {
	t.Helper()
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(number), ThisUpdate: testStart.Add(-time.Hour),
		NextUpdate: testStart.AddDate(0, 0, 7), RevokedCertificateEntries: entries}, ca.inter, ca.interKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// caFixture serves the part trusting the CA's root and reading the CRL file crl.
func caFixture(t *testing.T, ca *rsaCA, crl string) *fixture {
	t.Helper()
	f := newFixture(t)
	f.closeFn()
	f.roots = x509.NewCertPool()
	f.roots.AddCert(ca.root)
	f.open(f.verifier)
	if crl != "" {
		lists, err := LoadRevocationLists([]string{crl}, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		f.svc.crls = lists
	}
	return f
}

func (f *fixture) setNow(t time.Time) {
	f.nowMu.Lock()
	f.now = t
	f.nowMu.Unlock()
}

// withDigests fills in the attachments' digests, as a signer does.
func withDigests(d *docv1.Document) *docv1.Document {
	for _, a := range d.Attachments {
		sum := sha256.Sum256(a.Content)
		a.Sha256, a.Size = hex.EncodeToString(sum[:]), int64(len(a.Content))
	}
	return d
}

func (f *fixture) sendSigned(d *docv1.Document, keyID, alg string, key crypto.Signer) error {
	f.t.Helper()
	if alg == "" {
		alg = AlgRSAPKCS1SHA256
	}
	if err := SignWith(withDigests(d), keyID, alg, key); err != nil {
		f.t.Fatal(err)
	}
	_, err := f.client.SendDocument(f.agency(d.From), &docv1.SendDocumentRequest{Document: d})
	return err
}

func putChain(f *fixture, agency, keyID, chain, alg string) (*docv1.SigningKey, error) {
	return f.client.PutSigningKey(f.admin(), &docv1.PutSigningKeyRequest{AgencyCode: agency, KeyId: keyID,
		SigningKey: &docv1.SigningKey{CertificateChain: chain, Algorithm: alg}})
}

// TestRSACertificatesAndAlgorithms: a key registered as a chain RSA root → intermediate →
// agency certificate takes its algorithm from the leaf and signs with PKCS#1 v1.5 and PSS
// over SHA-256, -384 and -512; a signature naming another family, or PKCS#1 bytes named
// PSS, is refused; ECDSA P-384 keys work; RSA keys under 2048 bits are refused.
func TestRSACertificatesAndAlgorithms(t *testing.T) {
	ca := newRSACA(t)
	f := caFixture(t, ca, "")
	chain, leaf := ca.agencyCert(t, "Sở Tư pháp tỉnh Hưng Yên", testStart.Add(-time.Hour), testStart.AddDate(1, 0, 0))
	k, err := putChain(f, agTuPhap33, "stp-rsa", chain, "")
	if err != nil {
		t.Fatalf("RSA chain: %v", err)
	}
	if k.GetAlgorithm() != AlgRSAPKCS1SHA256 || k.GetCertificateSerial() != leaf.SerialNumber.Text(16) || !strings.Contains(k.GetCertificateIssuer(), "Test Government CA") {
		t.Fatalf("registered key: algorithm %s, serial %s, issuer %s", k.GetAlgorithm(), k.GetCertificateSerial(), k.GetCertificateIssuer())
	}
	for i, alg := range []string{AlgRSAPKCS1SHA256, AlgRSAPKCS1SHA384, AlgRSAPKCS1SHA512, AlgRSAPSSSHA256, AlgRSAPSSSHA384, AlgRSAPSSSHA512} {
		if err := f.sendSigned(letter(string(rune('a'+i))), "stp-rsa", alg, ca.leafKey); err != nil {
			t.Errorf("%s: %v", alg, err)
		}
	}
	// PKCS#1 v1.5 bytes named PSS.
	d := withDigests(letter("x1"))
	if err := SignWith(d, "stp-rsa", AlgRSAPKCS1SHA256, ca.leafKey); err != nil {
		t.Fatal(err)
	}
	d.Signature.Algorithm = AlgRSAPSSSHA256
	if _, err := f.client.SendDocument(f.agency(agTuPhap33), &docv1.SendDocumentRequest{Document: d}); reason(err) != "SIGNATURE_INVALID" {
		t.Errorf("PKCS#1 signature named PSS: %v", err)
	}
	d.Signature.Algorithm = AlgECDSAP256
	if _, err := f.client.SendDocument(f.agency(agTuPhap33), &docv1.SendDocumentRequest{Document: d}); reason(err) != "SIGNATURE_INVALID" {
		t.Errorf("RSA key, signature named ECDSA_P256: %v", err)
	}
	// An RSA leaf may be registered with an RSA algorithm, not another family's.
	if k, err := putChain(f, agTuPhap33, "stp-rsa-pss", chain, AlgRSAPSSSHA512); err != nil || k.GetAlgorithm() != AlgRSAPSSSHA512 {
		t.Errorf("RSA chain named RSA_PSS_SHA512: %v, %v", k.GetAlgorithm(), err)
	}
	if _, err := putChain(f, agTuPhap33, "stp-rsa-ed", chain, AlgEd25519); reason(err) != "CERTIFICATE_INVALID" {
		t.Errorf("RSA chain named ED25519: %v", err)
	}
	// A bare ECDSA P-384 key.
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	if _, err := f.client.PutSigningKey(f.admin(), &docv1.PutSigningKeyRequest{AgencyCode: agTuPhap33, KeyId: "stp-p384",
		SigningKey: &docv1.SigningKey{Algorithm: AlgECDSAP384, PublicKey: der}}); err != nil {
		t.Fatal(err)
	}
	if err := f.sendSigned(letter("p384"), "stp-p384", AlgECDSAP384, p384); err != nil {
		t.Errorf("ECDSA P-384: %v", err)
	}
	// A P-384 key is not a P-256 key.
	if _, err := f.client.PutSigningKey(f.admin(), &docv1.PutSigningKeyRequest{AgencyCode: agTuPhap33, KeyId: "stp-p384b",
		SigningKey: &docv1.SigningKey{Algorithm: AlgECDSAP256, PublicKey: der}}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("P-384 key registered as ECDSA_P256: %v", err)
	}
	// RSA keys under 2048 bits.
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	der, _ = x509.MarshalPKIXPublicKey(&small.PublicKey)
	_, err = f.client.PutSigningKey(f.admin(), &docv1.PutSigningKeyRequest{AgencyCode: agTuPhap33, KeyId: "stp-rsa1024",
		SigningKey: &docv1.SigningKey{Algorithm: AlgRSAPKCS1SHA256, PublicKey: der}})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).String(), "2048") {
		t.Errorf("1024-bit RSA key: %v", err)
	}
}

// TestCertificateValidityAndRevocation: certificates are checked at registration and at the
// document's signing time (signed_at): expired and revoked certificates are refused with
// their reason, a CRL file is read again when it changes, a revocation for a superseded
// certificate leaves earlier signatures good while one for a compromised key does not.
func TestCertificateValidityAndRevocation(t *testing.T) {
	ca := newRSACA(t)
	crl := filepath.Join(t.TempDir(), "intermediate.crl")
	validChain, valid := ca.agencyCert(t, "Sở Tư pháp (2 h)", testStart.Add(-time.Hour), testStart.Add(2*time.Hour))
	laterChain, later := ca.agencyCert(t, "Sở Tư pháp (later revoked)", testStart.Add(-time.Hour), testStart.AddDate(1, 0, 0))
	revokedChain, revoked := ca.agencyCert(t, "Sở Tư pháp (revoked)", testStart.Add(-time.Hour), testStart.AddDate(1, 0, 0))
	expiredChain, _ := ca.agencyCert(t, "Sở Tư pháp (expired)", testStart.AddDate(-1, 0, 0), testStart.Add(-time.Hour))
	ca.writeCRL(t, crl, 1, x509.RevocationListEntry{SerialNumber: revoked.SerialNumber, RevocationTime: testStart.Add(-30 * time.Minute), ReasonCode: 1})
	f := caFixture(t, ca, crl)

	if _, err := putChain(f, agTuPhap33, "expired", expiredChain, ""); status.Code(err) != codes.InvalidArgument || reason(err) != "CERTIFICATE_INVALID" {
		t.Errorf("expired certificate registered: %v", err)
	}
	if _, err := putChain(f, agTuPhap33, "revoked", revokedChain, ""); status.Code(err) != codes.InvalidArgument || reason(err) != "CERTIFICATE_REVOKED" {
		t.Errorf("revoked certificate registered: %v", err)
	}
	for id, chain := range map[string]string{"valid": validChain, "later": laterChain} {
		if _, err := putChain(f, agTuPhap33, id, chain, ""); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
	if err := f.sendSigned(letter("1"), "valid", "", ca.leafKey); err != nil {
		t.Fatalf("valid certificate: %v", err)
	}

	// Three hours on: "valid" has expired, "later" is revoked as superseded from +1 h, and
	// "valid" for a compromised key from +90 min.
	f.setNow(testStart.Add(3 * time.Hour))
	ca.writeCRL(t, crl, 2,
		x509.RevocationListEntry{SerialNumber: revoked.SerialNumber, RevocationTime: testStart.Add(-30 * time.Minute), ReasonCode: 1},
		x509.RevocationListEntry{SerialNumber: later.SerialNumber, RevocationTime: testStart.Add(time.Hour), ReasonCode: 4})
	at := func(d time.Duration) string { return rfc3339(testStart.Add(d)) }
	cases := []struct {
		name, key, signedAt string
		wantReason          string
	}{
		{"expired now, valid when signed", "valid", at(time.Hour), ""},
		{"expired now, no signing time", "valid", "", "CERTIFICATE_INVALID"},
		{"expired when signed", "valid", at(150 * time.Minute), "CERTIFICATE_INVALID"},
		{"signed before it was superseded", "later", at(30 * time.Minute), ""},
		{"signed after it was superseded", "later", at(90 * time.Minute), "CERTIFICATE_REVOKED"},
		{"signing time after the arrival", "later", at(5 * time.Hour), "INVALID_ARGUMENT"},
	}
	for i, c := range cases {
		d := letter("2" + string(rune('a'+i)))
		d.SignedAt = c.signedAt
		err := f.sendSigned(d, c.key, "", ca.leafKey)
		if got := reason(err); got != c.wantReason {
			t.Errorf("%s: got %q (%v), want %q", c.name, got, err, c.wantReason)
		}
	}
	// A compromised key: whatever the signing time.
	ca.writeCRL(t, crl, 3,
		x509.RevocationListEntry{SerialNumber: valid.SerialNumber, RevocationTime: testStart.Add(90 * time.Minute), ReasonCode: 1})
	d := letter("3")
	d.SignedAt = at(time.Hour)
	err := f.sendSigned(d, "valid", "", ca.leafKey)
	if reason(err) != "CERTIFICATE_REVOKED" || !strings.Contains(status.Convert(err).String(), "keyCompromise") {
		t.Errorf("compromised key, signed before its revocation: %v", err)
	}
	// A CRL not signed by the certificate's issuer does not count.
	other := newRSACA(t)
	other.inter = ca.inter // same name, other key: its signature does not verify
	other.writeCRL(t, crl, 4, x509.RevocationListEntry{SerialNumber: later.SerialNumber, RevocationTime: testStart, ReasonCode: 1})
	d = letter("4")
	d.SignedAt = at(30 * time.Minute)
	if err := f.sendSigned(d, "later", "", ca.leafKey); err != nil {
		t.Errorf("a CRL signed by another key revoked a certificate: %v", err)
	}
}

// TestCertificateBoundToSender: a certificate whose subject names an agency code binds to
// that agency; a certificate registered for one agency is refused for another; a document
// signed with another agency's certificate is CERTIFICATE_NOT_OF_SENDER.
func TestCertificateBoundToSender(t *testing.T) {
	ca := newRSACA(t)
	f := caFixture(t, ca, "")
	ubndChain, _ := ca.agencyCert(t, "UBND tỉnh Hưng Yên", testStart.Add(-time.Hour), testStart.AddDate(1, 0, 0),
		pkix.AttributeTypeAndValue{Type: oidUID, Value: "MCQ:" + agUBND33})
	_, err := putChain(f, agTuPhap33, "wrong", ubndChain, "")
	if status.Code(err) != codes.PermissionDenied || reason(err) != "CERTIFICATE_NOT_OF_SENDER" {
		t.Errorf("certificate naming %s registered for %s: %v", agUBND33, agTuPhap33, err)
	}
	if _, err := putChain(f, agUBND33, "ubnd", ubndChain, ""); err != nil {
		t.Fatalf("certificate naming its own agency: %v", err)
	}
	plain, _ := ca.agencyCert(t, "Sở Tư pháp", testStart.Add(-time.Hour), testStart.AddDate(1, 0, 0))
	if _, err := putChain(f, agTuPhap33, "stp", plain, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := putChain(f, agUBND33, "stp-again", plain, ""); reason(err) != "CERTIFICATE_NOT_OF_SENDER" {
		t.Errorf("one certificate registered for two agencies: %v", err)
	}
	d := letter("1")
	d.From, d.To = agUBND33, []string{agTuPhap33}
	err = f.sendSigned(d, "stp", "", ca.leafKey)
	if status.Code(err) != codes.PermissionDenied || reason(err) != "CERTIFICATE_NOT_OF_SENDER" {
		t.Errorf("document of %s signed with the certificate of %s: %v", agUBND33, agTuPhap33, err)
	}
	if err := f.sendSigned(d, "ubnd", "", ca.leafKey); err != nil {
		t.Errorf("document signed with its sender's certificate: %v", err)
	}
}

// TestSignatureOverJSONAsSent: a REST client that signs exactly the JSON it sends
// (lowerCamel names, defaults written out, numbers as numbers) is accepted, and the signed
// bytes are kept with the document; the same signature with other content, or the signed
// JSON alone over gRPC with a document that says something else, is refused.
func TestSignatureOverJSONAsSent(t *testing.T) {
	f := newFixture(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if _, err := f.client.PutSigningKey(f.admin(), &docv1.PutSigningKeyRequest{AgencyCode: agTuPhap33, KeyId: "stp-rest",
		SigningKey: &docv1.SigningKey{Algorithm: AlgECDSAP256, PublicKey: der}}); err != nil {
		t.Fatal(err)
	}
	content := []byte("%PDF-1.4 văn bản gửi qua REST")
	sum := sha256.Sum256(content)
	body := map[string]any{
		"from": agTuPhap33, "to": []string{agUBND33}, "codeNumber": "15", "codeNotation": "STP-VP",
		"promulgationDate": "2026-11-20", "documentType": "Công văn", "subject": "Về việc gửi văn bản qua REST",
		"priority": 1, "dueDate": "", "businessType": "BUSINESS_TYPE_NEW", "messageId": "",
		"signedAt": rfc3339(testStart.Add(-time.Minute)),
		"attachments": []map[string]any{{"name": "vb.pdf", "contentType": "application/pdf",
			"content": base64.StdEncoding.EncodeToString(content), "sha256": hex.EncodeToString(sum[:]), "size": len(content)}},
	}
	sign := func(body map[string]any) []byte {
		raw, _ := json.Marshal(body)
		msg, err := AsSentBytes(raw)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(msg, []byte(`"content"`)) || !bytes.Contains(msg, []byte(`"priority":1`)) || !bytes.Contains(msg, []byte(`"dueDate":""`)) {
			t.Fatalf("JSON as sent: %s", msg)
		}
		sig, err := signWith(AlgECDSAP256, key, msg)
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	sig := sign(body)
	body["signature"] = map[string]any{"keyId": "stp-rest", "algorithm": AlgECDSAP256, "value": sig}

	mux := runtime.NewServeMux(runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.JSONPb{
		MarshalOptions: protojson.MarshalOptions{UseProtoNames: true}}))
	if err := mux.HandlePath(http.MethodPost, sendDocumentPattern, handleSendAsSent(mux, f.client)); err != nil {
		t.Fatal(err)
	}
	tok := f.tokenOf(agTuPhap33)
	post := func(body map[string]any) (int, []byte) {
		raw, _ := json.Marshal(body)
		r := httptest.NewRequest(http.MethodPost, "/v1/documents", bytes.NewReader(raw))
		r.Header.Set("Authorization", "Bearer "+tok)
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w.Code, w.Body.Bytes()
	}
	// Changed after signing: refused.
	body["subject"] = "Về việc khác"
	if code, out := post(body); code != http.StatusBadRequest || !bytes.Contains(out, []byte("SIGNATURE_INVALID")) {
		t.Errorf("altered after signing: %d %s", code, out)
	}
	body["subject"] = "Về việc gửi văn bản qua REST"
	code, out := post(body)
	if code != http.StatusOK {
		t.Fatalf("signed as sent: %d %s", code, out)
	}
	var resp docv1.SendDocumentResponse
	if err := protojson.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	stored, err := f.client.GetDocument(f.agency(agTuPhap33), &docv1.GetDocumentRequest{Id: resp.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	signedJSON := stored.GetSignature().GetSignedJson()
	if len(signedJSON) == 0 || verifyWith(AlgECDSAP256, AlgECDSAP256, der, signedJSON, stored.GetSignature().GetValue()) != nil {
		t.Fatalf("the stored document does not keep the JSON its signature covers: %q", signedJSON)
	}
	// The same signed JSON over gRPC with a document that says something else.
	d := proto2(t, stored, content)
	d.Id, d.Recipients, d.SentAt = "", nil, ""
	d.CodeNumber, d.Subject = "16", "Nội dung khác"
	_, err = f.client.SendDocument(f.agency(agTuPhap33), &docv1.SendDocumentRequest{Document: d})
	if reason(err) != "SIGNATURE_INVALID" || !strings.Contains(status.Convert(err).String(), "signed_json") {
		t.Errorf("signed JSON carried to other content: %v", err)
	}
	// Without the JSON as sent, the signature does not cover the proto JSON.
	d = proto2(t, stored, content)
	d.Id, d.Recipients, d.SentAt, d.CodeNumber = "", nil, "", "17"
	d.Signature.SignedJson = nil
	if _, err := f.client.SendDocument(f.agency(agTuPhap33), &docv1.SendDocumentRequest{Document: d}); reason(err) != "SIGNATURE_INVALID" {
		t.Errorf("as-sent signature checked over the proto JSON: %v", err)
	}
	// Signed JSON that is not in RFC 8785 form.
	d = proto2(t, stored, content)
	d.Id, d.Recipients, d.SentAt = "", nil, ""
	d.MessageId = "m-18"
	d.Signature.SignedJson = append([]byte(" "), signedJSON...)
	if _, err := f.client.SendDocument(f.agency(agTuPhap33), &docv1.SendDocumentRequest{Document: d}); reason(err) != "SIGNATURE_INVALID" {
		t.Errorf("signed JSON not canonical: %v", err)
	}
	// A body signed over the proto JSON (lienthong doc sign) keeps no signed_json.
	d2 := f.signed(letter("19"))
	raw, _ := protojson.MarshalOptions{UseProtoNames: true}.Marshal(d2)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	if code, out := post(m); code != http.StatusOK || bytes.Contains(out, []byte("signed_json")) {
		t.Errorf("proto JSON signature over REST: %d %s", code, out)
	}
}

// tokenOf is the bearer token of an agency's system.
func (f *fixture) tokenOf(agency string) string {
	f.t.Helper()
	tok, err := f.issuer.Issue(platform.Caller{System: agency + "/qlvb", Role: platform.RoleAgency}, time.Hour, time.Now())
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

// proto2 is a copy of a stored document with its attachments' content back.
func proto2(_ *testing.T, d *docv1.Document, content []byte) *docv1.Document {
	c := proto.Clone(d).(*docv1.Document)
	c.Attachments[0].Content = content
	return c
}

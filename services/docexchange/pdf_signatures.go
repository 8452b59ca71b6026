package docexchange

import (
	"bytes"
	"crypto"
	_ "crypto/sha1" // SHA-1 digests of old signatures
	_ "crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"time"

	"github.com/digitorus/pdf"
	"github.com/digitorus/pkcs7"
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
)

// The signatures embedded in a PDF attachment (ISO 32000 signature fields, PAdES / CMS) are
// inspected on arrival (docs/domain.md, "Signed PDF attachments"): the PDF is read with
// github.com/digitorus/pdf, the CMS blob with github.com/digitorus/pkcs7; the chain and
// the revocation are checked against the roots and CRLs the document signatures use
// (certificates.go, crl.go). Inspection is bounded so that a hostile PDF costs little.
const (
	// pdfMaxSignatures is how many signatures of one PDF are inspected.
	pdfMaxSignatures = 16
	// pdfMaxFields is how many form fields are looked at to find them.
	pdfMaxFields = 2000
	// pdfMaxFieldDepth is how deep the field tree is walked.
	pdfMaxFieldDepth = 16
	// pdfMaxCMSBytes is the largest CMS blob (/Contents) parsed.
	pdfMaxCMSBytes = 512 << 10
	// pdfMaxVerifyBytes is the largest signed byte range whose CMS signature is verified: the
	// CMS library needs the signed bytes in memory. Larger ones have their digest checked
	// (streamed) only.
	pdfMaxVerifyBytes = 64 << 20
	// pdfInspectTimeout bounds the time one PDF's inspection reads its file.
	pdfInspectTimeout = 5 * time.Second
)

// The sub-filters whose CMS signature is inspected.
const (
	subFilterPKCS7Detached = "adbe.pkcs7.detached"
	subFilterCAdESDetached = "ETSI.CAdES.detached"
)

var errPDFTimeout = errors.New("the inspection took longer than its time bound")

// pdfInspector inspects PDFs against a service's trust roots and CRLs.
type pdfInspector struct {
	roots *x509.CertPool
	crls  *RevocationLists
	now   time.Time // signing time assumed when the signature gives none
}

// deadlineReader fails every read after its deadline, so that the PDF reader gives up.
type deadlineReader struct {
	r        io.ReaderAt
	deadline time.Time
}

func (d deadlineReader) ReadAt(p []byte, off int64) (int, error) {
	if time.Now().After(d.deadline) {
		return 0, errPDFTimeout
	}
	return d.r.ReadAt(p, off)
}

// inspect reads the PDF r of size bytes and answers what its signatures are. It never
// panics: a file that does not parse is reported in the answer's error.
func (in *pdfInspector) inspect(r io.ReaderAt, size int64) (out *docv1.PdfInspection) {
	out = &docv1.PdfInspection{}
	r = deadlineReader{r: r, deadline: time.Now().Add(pdfInspectTimeout)}
	defer func() {
		if p := recover(); p != nil {
			out.Error = fmt.Sprintf("the file does not parse as a PDF: %v", p)
		}
		for _, s := range out.Signatures {
			out.Broken = out.Broken || s.Broken
		}
	}()
	if !hasPDFHeader(r, size) {
		out.Error = "the file does not parse as a PDF: no %PDF- header"
		return out
	}
	// The reader's own search for the end and its cross-reference table are bounded
	// (pdf_xref_bound.go).
	if err := checkPDFReaderBounds(r, size); err != nil {
		out.Error = "the file does not parse as a PDF: " + err.Error()
		return out
	}
	// The reader sees no hexadecimal string longer than a /Contents inspected
	// (pdf_contents_bound.go); the signatures' bytes are read from r itself.
	view, err := withoutLongHexStrings(r, size)
	if err != nil {
		out.Error = "the file does not parse as a PDF: " + err.Error()
		return out
	}
	rd, err := pdf.NewReader(view, size)
	if err != nil {
		out.Error = "the file does not parse as a PDF: " + err.Error()
		return out
	}
	var sigs []pdfSigField
	visited := 0
	truncated := collectSigFields(rd.Trailer().Key("Root").Key("AcroForm").Key("Fields"), "", "", 0, &visited, &sigs)
	out.Truncated = truncated
	for _, f := range sigs {
		out.Signatures = append(out.Signatures, in.signature(f, r, size))
	}
	return out
}

// hasPDFHeader: the file starts with %PDF- within its first 1024 bytes (ISO 32000-1 §7.5.2
// and the tolerance readers have).
func hasPDFHeader(r io.ReaderAt, size int64) bool {
	head := make([]byte, min(size, 1024))
	n, _ := r.ReadAt(head, 0)
	return bytes.Contains(head[:n], []byte("%PDF-"))
}

// pdfSigField is a signature field with its value (the /Sig dictionary).
type pdfSigField struct {
	name string
	v    pdf.Value
}

// collectSigFields walks the field tree (Kids), inheriting /FT and the partial names, and
// collects the signature fields that have a value; it answers true when a bound stopped it.
func collectSigFields(fields pdf.Value, parentName, parentFT string, depth int, visited *int, out *[]pdfSigField) bool {
	if depth > pdfMaxFieldDepth {
		return true
	}
	for i := 0; i < fields.Len(); i++ {
		*visited++
		if *visited > pdfMaxFields || len(*out) >= pdfMaxSignatures {
			return true
		}
		f := fields.Index(i)
		if f.Kind() != pdf.Dict {
			continue
		}
		name := f.Key("T").Text()
		if parentName != "" && name != "" {
			name = parentName + "." + name
		} else if name == "" {
			name = parentName
		}
		ft := f.Key("FT").Name()
		if ft == "" {
			ft = parentFT
		}
		if v := f.Key("V"); ft == "Sig" && v.Kind() == pdf.Dict {
			*out = append(*out, pdfSigField{name: name, v: v})
		}
		if kids := f.Key("Kids"); kids.Kind() == pdf.Array {
			if collectSigFields(kids, name, ft, depth+1, visited, out) {
				return true
			}
		}
	}
	return false
}

// signature inspects one signature dictionary.
func (in *pdfInspector) signature(f pdfSigField, r io.ReaderAt, size int64) *docv1.PdfSignature {
	v := f.v
	s := &docv1.PdfSignature{FieldName: f.name, SubFilter: v.Key("SubFilter").Name()}
	// A broken signature is never trusted, whatever its chain: its signer did not sign
	// these bytes.
	broken := func(format string, args ...any) *docv1.PdfSignature {
		s.Broken, s.Unchanged, s.Trusted, s.Error = true, false, false, fmt.Sprintf(format, args...)
		s.TrustError = "the signature is broken: " + s.Error
		return s
	}
	if m := v.Key("M").Text(); m != "" {
		if t, err := parsePDFDate(m); err == nil {
			s.SigningTime, s.SigningTimeSource = rfc3339(t), "M"
		}
	}
	if s.SubFilter != subFilterPKCS7Detached && s.SubFilter != subFilterCAdESDetached {
		s.TrustError = fmt.Sprintf("sub-filter %q is not inspected (only %s and %s)", s.SubFilter, subFilterPKCS7Detached, subFilterCAdESDetached)
		return s
	}
	ranges, err := byteRange(v.Key("ByteRange"), size)
	if err != nil {
		return broken("%v", err)
	}
	s.CoversWholeFile = ranges[2]+ranges[3] == size
	if gap := ranges[2] - ranges[1]; gap > pdfMaxContentsGap {
		// Such a /Contents was blanked for the reader (pdf_contents_bound.go).
		return broken("the CMS signature (/Contents) has %d bytes, more than the %d inspected", (gap-2)/2, pdfMaxCMSBytes)
	}
	contents := []byte(v.Key("Contents").RawString())
	if len(contents) == 0 {
		return broken("the CMS signature (/Contents) is empty or has more than the %d bytes inspected", pdfMaxCMSBytes)
	}
	if err := contentsFillsGap(r, ranges, len(contents)); err != nil {
		return broken("%v", err)
	}
	if len(contents) > pdfMaxCMSBytes {
		return broken("the CMS signature (/Contents) has %d bytes, more than the %d inspected", len(contents), pdfMaxCMSBytes)
	}
	p7, err := parseCMS(contents)
	if err != nil {
		return broken("the CMS signature (/Contents) does not parse: %v", err)
	}
	leaf := p7.GetOnlySigner()
	if leaf == nil {
		return broken("the CMS signature has %d signers and the certificate of exactly one is needed", len(p7.Signers))
	}
	s.SignerName, s.SignerSerial, s.SignerSubject = leaf.Subject.CommonName, leaf.SerialNumber.Text(16), readableSubject(leaf)
	at := in.now
	var signedAt time.Time
	if err := p7.UnmarshalSignedAttribute(pkcs7.OIDAttributeSigningTime, &signedAt); err == nil && !signedAt.IsZero() {
		s.SigningTime, s.SigningTimeSource = rfc3339(signedAt), "signed_attribute"
		at = signedAt
	} else if s.SigningTimeSource == "M" {
		at, _ = parsePDFDate(v.Key("M").Text())
	}
	in.trust(s, leaf, p7.Certificates, at)
	if err := in.unchanged(s, p7, r, ranges, signedAt); err != nil {
		return broken("%v", err)
	}
	return s
}

// byteRange reads /ByteRange [0 a b c]: two ranges from the start of the file around one
// gap, inside the file.
func byteRange(v pdf.Value, size int64) ([4]int64, error) {
	var br [4]int64
	if v.Kind() != pdf.Array || v.Len() != 4 {
		return br, errors.New("the /ByteRange is not an array of four integers")
	}
	for i := range br {
		e := v.Index(i)
		if e.Kind() != pdf.Integer {
			return br, errors.New("the /ByteRange is not an array of four integers")
		}
		br[i] = e.Int64()
	}
	if br[0] != 0 || br[1] <= 0 || br[2] <= br[1]+1 || br[3] < 0 || br[2]+br[3] > size || br[2]+br[3] < br[2] {
		return br, fmt.Errorf("the /ByteRange %v does not cover the file from its start around one gap (file of %d bytes)", br, size)
	}
	return br, nil
}

// contentsFillsGap checks that the gap between the two ranges is exactly the hexadecimal
// /Contents string, so that no other bytes escape the signature.
func contentsFillsGap(r io.ReaderAt, br [4]int64, n int) error {
	gap := br[2] - br[1]
	if gap != int64(2*n+2) {
		return fmt.Errorf("the /ByteRange leaves a gap of %d bytes, not the %d of the /Contents string", gap, 2*n+2)
	}
	var open, closing [1]byte
	if _, err := r.ReadAt(open[:], br[1]); err != nil {
		return fmt.Errorf("reading the gap: %v", err)
	}
	if _, err := r.ReadAt(closing[:], br[2]-1); err != nil {
		return fmt.Errorf("reading the gap: %v", err)
	}
	if open[0] != '<' || closing[0] != '>' {
		return errors.New("the /ByteRange gap is not the hexadecimal /Contents string")
	}
	return nil
}

// parseCMS parses the CMS blob (zero padding after it allowed), never panicking.
func parseCMS(b []byte) (p7 *pkcs7.PKCS7, err error) {
	defer func() {
		if p := recover(); p != nil {
			p7, err = nil, fmt.Errorf("%v", p)
		}
	}()
	b = bytes.TrimRight(b, "\x00")
	p7, err = pkcs7.Parse(b)
	if err == nil && len(p7.Signers) == 0 {
		err = errors.New("no signer")
	}
	return p7, err
}

// trust checks the signer's certificate: a chain to a trusted root valid at the signing
// time (the CMS certificates as intermediates), nothing revoked for a signature made then.
func (in *pdfInspector) trust(s *docv1.PdfSignature, leaf *x509.Certificate, certs []*x509.Certificate, at time.Time) {
	if in.roots == nil {
		s.TrustError = "this service has no trusted root configured (--trusted-roots)"
		return
	}
	inter := x509.NewCertPool()
	for _, c := range certs {
		if !c.Equal(leaf) {
			inter.AddCert(c)
		}
	}
	chains, err := leaf.Verify(x509.VerifyOptions{Roots: in.roots, Intermediates: inter, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		s.TrustError = fmt.Sprintf("the signer's certificate chain does not lead to a trusted root at %s: %v", rfc3339(at), err)
		return
	}
	for _, chain := range chains {
		if rv := in.crls.revokedAt(chain, at); rv != nil {
			s.TrustError = rv.String()
			return
		}
	}
	s.Trusted = true
}

// unchanged checks the signed bytes: their digest (streamed from the file) equals the
// signed messageDigest, then the CMS signature verifies. An error means the signature is
// broken; a signature the library cannot verify for another reason is reported untrusted.
func (in *pdfInspector) unchanged(s *docv1.PdfSignature, p7 *pkcs7.PKCS7, r io.ReaderAt, br [4]int64, signedAt time.Time) error {
	signer := p7.Signers[0]
	h, err := hashForOID(signer.DigestAlgorithm.Algorithm)
	if err != nil {
		return err
	}
	var digest []byte
	if len(signer.AuthenticatedAttributes) > 0 {
		if err := p7.UnmarshalSignedAttribute(pkcs7.OIDAttributeMessageDigest, &digest); err != nil {
			return fmt.Errorf("the CMS signature has no messageDigest attribute: %v", err)
		}
		hh := h.New()
		for _, rg := range [][2]int64{{br[0], br[1]}, {br[2], br[3]}} {
			if _, err := io.Copy(hh, io.NewSectionReader(r, rg[0], rg[1])); err != nil {
				return fmt.Errorf("reading the signed bytes: %v", err)
			}
		}
		if sum := hh.Sum(nil); !bytes.Equal(sum, digest) {
			return fmt.Errorf("the signed bytes changed: their %s digest is %s, the signature's messageDigest %s",
				h, hex.EncodeToString(sum), hex.EncodeToString(digest))
		}
	}
	leaf := p7.GetOnlySigner()
	if !signedAt.IsZero() && (signedAt.Before(leaf.NotBefore) || signedAt.After(leaf.NotAfter)) {
		// The CMS library refuses such a signature before checking it.
		s.TrustError = fmt.Sprintf("signed at %s, outside the certificate's validity (%s to %s): the CMS signature was not verified",
			rfc3339(signedAt), rfc3339(leaf.NotBefore), rfc3339(leaf.NotAfter))
		s.Trusted = false
		return nil
	}
	n := br[1] + br[3]
	if n > pdfMaxVerifyBytes {
		if s.TrustError == "" {
			s.TrustError = fmt.Sprintf("%d signed bytes, more than the %d whose CMS signature is verified: only their digest was checked", n, pdfMaxVerifyBytes)
		}
		s.Trusted = false
		return nil
	}
	content := make([]byte, n)
	if _, err := r.ReadAt(content[:br[1]], br[0]); err != nil {
		return fmt.Errorf("reading the signed bytes: %v", err)
	}
	if _, err := r.ReadAt(content[br[1]:], br[2]); err != nil && !(errors.Is(err, io.EOF) && br[3] == 0) {
		return fmt.Errorf("reading the signed bytes: %v", err)
	}
	p7.Content = content
	if err := verifyCMS(p7); err != nil {
		return fmt.Errorf("the CMS signature does not verify: %v", err)
	}
	s.Unchanged = true
	return nil
}

func verifyCMS(p7 *pkcs7.PKCS7) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	return p7.Verify()
}

// pdfDateRE is a PDF date (ISO 32000-1 §7.9.4): D:YYYYMMDDHHmmSSOHH'mm', every part after
// the year optional.
var pdfDateRE = regexp.MustCompile(`^(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:([Zz+\-])(?:(\d{2})'?(?:(\d{2})'?)?)?)?$`)

// parsePDFDate reads a PDF date; without an offset it is taken as UTC.
func parsePDFDate(s string) (time.Time, error) {
	m := pdfDateRE.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, fmt.Errorf("not a PDF date: %q", s)
	}
	num := func(i, def int) int {
		if m[i] == "" {
			return def
		}
		n, _ := strconv.Atoi(m[i])
		return n
	}
	off := (num(8, 0)*60 + num(9, 0)) * 60
	if m[7] == "-" {
		off = -off
	}
	t := time.Date(num(1, 0), time.Month(num(2, 1)), num(3, 1), num(4, 0), num(5, 0), num(6, 0), 0, time.FixedZone("", off))
	if t.Month() != time.Month(num(2, 1)) || t.Day() != num(3, 1) || num(4, 0) > 23 || num(5, 0) > 59 || num(6, 0) > 59 {
		return time.Time{}, fmt.Errorf("not a PDF date: %q", s)
	}
	return t, nil
}

// hashForOID is the digest a CMS signer names (SHA-1 is read, as old signatures use it;
// the signature check then refuses it as Go does).
func hashForOID(oid asn1.ObjectIdentifier) (crypto.Hash, error) {
	switch {
	case oid.Equal(pkcs7.OIDDigestAlgorithmSHA1):
		return crypto.SHA1, nil
	case oid.Equal(pkcs7.OIDDigestAlgorithmSHA256):
		return crypto.SHA256, nil
	case oid.Equal(pkcs7.OIDDigestAlgorithmSHA384):
		return crypto.SHA384, nil
	case oid.Equal(pkcs7.OIDDigestAlgorithmSHA512):
		return crypto.SHA512, nil
	}
	return 0, fmt.Errorf("the CMS signature's digest algorithm %v is not supported", oid)
}

package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/lienthong/lienthong/services/platform"
	"go.uber.org/zap"
)

const certsUsage = `Usage:
  lienthong certs ca --dir DIR        make a test CA: an RSA root and an intermediate it signs
  lienthong certs issue --ca DIR --agency CODE --name NAME --out PREFIX
                                      issue an agency's RSA certificate from DIR's intermediate:
                                      PREFIX.key (PKCS#8, 0600), PREFIX.pem (leaf, intermediate),
                                      and print the body that registers it as a signing key

Test certificates only: a real agency's certificate comes from the Government's CA, whose
roots the suite trusts with --trusted-roots.`

// Files of a test CA folder.
const (
	caRootCert  = "root.pem"
	caRootKey   = "root.key"
	caInterCert = "intermediate.pem"
	caInterKey  = "intermediate.key"
)

func cmdCerts(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "ca" && args[0] != "issue") {
		fmt.Fprintln(stderr, certsUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return errors.New("certs needs the subcommand ca or issue")
	}
	if args[0] == "ca" {
		fs := newFlags("certs ca --dir DIR", "Makes a test CA hierarchy in DIR: an RSA root (root.pem, root.key) and an RSA intermediate it signs (intermediate.pem, intermediate.key). Give DIR/root.pem to --trusted-roots.", stderr)
		dir := fs.String("dir", "", "folder of the CA's certificates and keys (must not hold a CA yet)")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		if *dir == "" {
			return errors.New("certs ca needs --dir DIR")
		}
		if _, err := os.Stat(filepath.Join(*dir, caRootCert)); err == nil {
			return fmt.Errorf("%s already holds a CA", *dir)
		}
		if _, err := ensureTestCA(*dir, time.Now()); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "test CA in %s: %s (root), %s (intermediate)\n", *dir, caRootCert, caInterCert)
		return nil
	}
	return cmdCertsIssue(args[1:], stdout, stderr)
}

// testCA is a CA folder read back: the root, the intermediate and its key.
type testCA struct {
	root, inter *x509.Certificate
	interKey    *rsa.PrivateKey
}

// ensureTestCA reads the test CA of dir, making it first when dir has none: an RSA root
// valid 20 years and an RSA intermediate valid 10 years, keys in PKCS#8 PEM (0600).
func ensureTestCA(dir string, now time.Time) (*testCA, error) {
	if _, err := os.Stat(filepath.Join(dir, caInterKey)); err == nil {
		return readTestCA(dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	rootKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	interKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	start := now.Add(-time.Hour).Truncate(time.Second)
	rootTpl := &x509.Certificate{SerialNumber: randomSerial(), NotBefore: start, NotAfter: start.AddDate(20, 0, 0),
		Subject: pkix.Name{Country: []string{"VN"}, Organization: []string{"lienthong test CA (not for production)"}, CommonName: "lienthong Test Root CA"},
		IsCA:    true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTpl, rootTpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		return nil, err
	}
	root, _ := x509.ParseCertificate(rootDER)
	interTpl := &x509.Certificate{SerialNumber: randomSerial(), NotBefore: start, NotAfter: start.AddDate(10, 0, 0),
		Subject: pkix.Name{Country: []string{"VN"}, Organization: []string{"lienthong test CA (not for production)"}, CommonName: "lienthong Test Agency CA"},
		IsCA:    true, BasicConstraintsValid: true, MaxPathLenZero: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	interDER, err := x509.CreateCertificate(rand.Reader, interTpl, root, &interKey.PublicKey, rootKey)
	if err != nil {
		return nil, err
	}
	inter, _ := x509.ParseCertificate(interDER)
	for name, blk := range map[string]*pem.Block{caRootKey: keyBlock(rootKey), caInterKey: keyBlock(interKey)} {
		if err := platform.WriteFileAtomic(filepath.Join(dir, name), pem.EncodeToMemory(blk), 0o600); err != nil {
			return nil, err
		}
	}
	// The certificates last: a folder with root.pem holds a whole CA.
	for name, der := range map[string][]byte{caInterCert: interDER, caRootCert: rootDER} {
		if err := platform.WriteFileAtomic(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
			return nil, err
		}
	}
	return &testCA{root: root, inter: inter, interKey: interKey}, nil
}

func keyBlock(k *rsa.PrivateKey) *pem.Block {
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	return &pem.Block{Type: "PRIVATE KEY", Bytes: der}
}

func randomSerial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n.Add(n, big.NewInt(1))
}

func readTestCA(dir string) (*testCA, error) {
	root, err := readCert(filepath.Join(dir, caRootCert))
	if err != nil {
		return nil, err
	}
	inter, err := readCert(filepath.Join(dir, caInterCert))
	if err != nil {
		return nil, err
	}
	k, err := readRSAKey(filepath.Join(dir, caInterKey))
	if err != nil {
		return nil, err
	}
	return &testCA{root: root, inter: inter, interKey: k}, nil
}

func readCert(path string) (*x509.Certificate, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(raw)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s: not a PEM certificate", path)
	}
	return x509.ParseCertificate(blk.Bytes)
}

func readRSAKey(path string) (*rsa.PrivateKey, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(raw)
	if blk == nil {
		return nil, fmt.Errorf("%s: not a PEM key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		if k1, err1 := x509.ParsePKCS1PrivateKey(blk.Bytes); err1 == nil {
			return k1, nil
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an RSA key", path)
	}
	return rk, nil
}

// oidUID is the subject attribute UID (0.9.2342.19200300.100.1.1) where the certificate
// names its agency as "MCQ:<code>" (docs/domain.md, "Document signatures").
var oidUID = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}

// cmdCertsIssue issues an agency's certificate: an RSA key, a certificate of the CA's
// intermediate whose subject names the agency (UID MCQ:<code>), valid from an hour ago for
// --days, for signatures (digitalSignature, nonRepudiation).
func cmdCertsIssue(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("certs issue --ca DIR --agency CODE --name NAME --out PREFIX", "Issues an agency's RSA signing certificate from the test CA in DIR: writes PREFIX.key (PKCS#8 PEM, 0600) and PREFIX.pem (the certificate, then the intermediate) and prints the JSON body that registers the chain (PUT /v1/agencies/{code}/signing-keys/{key_id}).", stderr)
	caDir := fs.String("ca", "", "folder of a test CA (lienthong certs ca, or DATA_DIR/demo-ca of up --demo)")
	agency := fs.String("agency", "", "electronic identifier of the agency, e.g. 000.02.00.H31")
	name := fs.String("name", "", "the agency's name (the certificate's common name)")
	org := fs.String("org", "", "the organisation the agency belongs to (optional)")
	out := fs.String("out", "", "path prefix of the files written; they must not exist")
	days := fs.Int("days", 365, "how many days the certificate is valid")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *caDir == "" || *out == "" || *name == "" || !platform.IsAgencyCode(*agency) {
		return errors.New("certs issue needs --ca DIR, --agency CODE (000.00.00.H31 or H26.107), --name NAME and --out PREFIX")
	}
	for _, p := range []string{*out + ".key", *out + ".pem"} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("%s exists; refusing to overwrite it", p)
		}
	}
	ca, err := readTestCA(*caDir)
	if err != nil {
		return err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	subject := pkix.Name{Country: []string{"VN"}, CommonName: *name,
		ExtraNames: []pkix.AttributeTypeAndValue{{Type: oidUID, Value: "MCQ:" + *agency}}}
	if *org != "" {
		subject.Organization = []string{*org}
	}
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	tpl := &x509.Certificate{SerialNumber: randomSerial(), Subject: subject, NotBefore: start, NotAfter: start.AddDate(0, 0, *days),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment}
	der, err := x509.CreateCertificate(rand.Reader, tpl, ca.inter, &key.PublicKey, ca.interKey)
	if err != nil {
		return err
	}
	chain := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.inter.Raw})...)
	if err := platform.WriteFileAtomic(*out+".key", pem.EncodeToMemory(keyBlock(key)), 0o600); err != nil {
		return err
	}
	if err := platform.WriteFileAtomic(*out+".pem", chain, 0o644); err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]string{"certificate_chain": string(chain)})
	fmt.Fprintln(stdout, string(body))
	return nil
}

// demoCADir is the folder of the test CA that up --demo trusts when no --trusted-roots is
// given.
const demoCADir = "demo-ca"

// demoTrustedRoots makes (once) the test CA of DATA_DIR/demo-ca and answers its root file,
// for up --demo without --trusted-roots: agencies' test certificates issued from it
// (lienthong certs issue --ca DATA_DIR/demo-ca) can then be registered and sign.
func demoTrustedRoots(dataDir string, lg *zap.Logger) (string, error) {
	dir := filepath.Join(dataDir, demoCADir)
	if _, err := ensureTestCA(dir, time.Now()); err != nil {
		return "", fmt.Errorf("demo CA: %w", err)
	}
	root := filepath.Join(dir, caRootCert)
	lg.Info("demo: agencies' certificates are trusted when they chain to the test CA (not for production; --trusted-roots replaces it)", zap.String("root", root))
	return root, nil
}

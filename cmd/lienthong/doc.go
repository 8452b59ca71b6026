package main

import (
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/lienthong/lienthong/services/docexchange"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/protobuf/encoding/protojson"
)

const docUsage = `Usage:
  lienthong doc keygen --out FILE [--algorithm ALG]     make a key pair for signing documents (default ED25519)
  lienthong doc sign --key FILE --key-id ID [--algorithm ALG] [--in doc.json]   sign a document JSON (stdin by default)

ALG: ED25519, ECDSA_P256, ECDSA_P384, RSA_PKCS1_SHA256|384|512, RSA_PSS_SHA256|384|512.`

func cmdDoc(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "keygen" && args[0] != "sign") {
		fmt.Fprintln(stderr, docUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return errors.New("doc needs the subcommand keygen or sign")
	}
	if args[0] == "keygen" {
		return cmdDocKeygen(args[1:], stdout, stderr)
	}
	return cmdDocSign(args[1:], stdin, stdout, stderr)
}

// cmdDocKeygen writes the private key (PKCS#8 PEM, 0600) and prints the body that registers
// the public key: PUT /v1/agencies/{code}/signing-keys/{key_id}.
func cmdDocKeygen(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("doc keygen --out FILE [--algorithm ALG]", "Makes a key pair for signing documents: writes the private key to FILE (PKCS#8 PEM, 0600) and prints the JSON body that registers the public key.", stderr)
	out := fs.String("out", "", "file for the private key (PEM); must not exist")
	alg := fs.String("algorithm", docexchange.AlgEd25519, "ED25519, ECDSA_P256, ECDSA_P384 or an RSA algorithm (a 3072-bit key; it signs with any RSA algorithm)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("doc keygen needs --out FILE")
	}
	if _, err := os.Stat(*out); err == nil {
		return fmt.Errorf("%s exists; refusing to overwrite a key", *out)
	}
	priv, pub, err := docexchange.GenerateSigningKey(*alg)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return err
	}
	if err := platform.WriteFileAtomic(*out, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]string{"algorithm": *alg, "public_key": base64.StdEncoding.EncodeToString(pub)})
	fmt.Fprintln(stdout, string(body))
	return nil
}

// cmdDocSign reads a document JSON, fills in each attachment's sha256 and size from its
// content, signs the canonical form (RFC 8785; docs/api.md, "Documents") and prints the
// signed document.
func cmdDocSign(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("doc sign --key FILE --key-id ID [--algorithm ALG] [--in doc.json]", "Signs a document JSON (its canonical proto JSON, RFC 8785) and prints it with its signature.", stderr)
	alg := fs.String("algorithm", "", "signature algorithm (default: the key's; RSA_PKCS1_SHA256 for an RSA key)")
	keyFile := fs.String("key", "", "private key made by `lienthong doc keygen`")
	keyID := fs.String("key-id", "", "id under which the public key is registered for the sending agency")
	in := fs.String("in", "", "document JSON file (default standard input)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *keyFile == "" || *keyID == "" {
		return errors.New("doc sign needs --key FILE and --key-id ID")
	}
	raw, err := os.ReadFile(*keyFile)
	if err != nil {
		return err
	}
	blk, _ := pem.Decode(raw)
	if blk == nil {
		return fmt.Errorf("%s: not a PEM key", *keyFile)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return fmt.Errorf("%s: %w", *keyFile, err)
	}
	priv, ok := k.(crypto.Signer)
	if !ok {
		return fmt.Errorf("%s: not a signing key", *keyFile)
	}
	if *alg == "" {
		if *alg, err = docexchange.DefaultAlgorithm(priv.Public()); err != nil {
			return fmt.Errorf("%s: %w", *keyFile, err)
		}
	}
	d, err := readDocumentJSON(*in, stdin)
	if err != nil {
		return err
	}
	for _, a := range d.GetAttachments() {
		if len(a.GetContent()) > 0 || a.GetSha256() == "" {
			setDigest(a)
		}
	}
	if err := docexchange.SignWith(d, *keyID, *alg, priv); err != nil {
		return err
	}
	js, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(d)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, string(js))
	return nil
}

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/docexchange"
	"google.golang.org/protobuf/encoding/protojson"
)

const edxmlUsage = `Usage:
  lienthong edxml build [--in doc.json]                 a document JSON as a QCVN 102:2016 edXML package
                                                         (national form, attachments zipped then base64)
  lienthong edxml sign --key KEY --cert CHAIN [--in pkg.edxml]
                                                         sign a package: enveloped XMLDSig, RSA-SHA256,
                                                         the certificate chain in KeyInfo
Both read standard input without --in and write the package to standard output.`

func cmdEdxml(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "build" && args[0] != "sign") {
		fmt.Fprintln(stderr, edxmlUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return errors.New("edxml needs the subcommand build or sign")
	}
	if args[0] == "build" {
		return cmdEdxmlBuild(args[1:], stdin, stdout, stderr)
	}
	return cmdEdxmlSign(args[1:], stdin, stdout, stderr)
}

// readInput reads the file at path, or standard input when path is empty.
func readInput(path string, stdin io.Reader) ([]byte, error) {
	if path == "" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(path)
}

// readDocumentJSON reads a document JSON (as POST /v1/documents takes it) from the file at
// path, or standard input when path is empty.
func readDocumentJSON(path string, stdin io.Reader) (*docv1.Document, error) {
	src, err := readInput(path, stdin)
	if err != nil {
		return nil, err
	}
	var d docv1.Document
	if err := protojson.Unmarshal(src, &d); err != nil {
		return nil, fmt.Errorf("document JSON: %w", err)
	}
	return &d, nil
}

// setDigest sets an attachment's sha256 and size from its content.
func setDigest(a *docv1.Attachment) {
	sum := sha256.Sum256(a.GetContent())
	a.Sha256, a.Size = hex.EncodeToString(sum[:]), int64(len(a.GetContent()))
}

// cmdEdxmlBuild writes a document JSON (as POST /v1/documents takes it, attachments with
// their content) as the national SDKs build a package.
func cmdEdxmlBuild(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("edxml build [--in doc.json]", "Writes a document JSON as a QCVN 102:2016 edXML package in the national form: the envelope's header and manifest, then each attachment zipped and base64-encoded.", stderr)
	in := fs.String("in", "", "document JSON file (default standard input)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	d, err := readDocumentJSON(*in, stdin)
	if err != nil {
		return err
	}
	var contents [][]byte
	for _, a := range d.GetAttachments() {
		setDigest(a)
		contents = append(contents, a.GetContent())
	}
	out, err := docexchange.MarshalNationalEdxml(d, contents)
	if err != nil {
		return err
	}
	_, err = stdout.Write(out)
	return err
}

// cmdEdxmlSign signs a package with an agency's RSA key and certificate chain (PEM, leaf
// first, as lienthong certs issue writes it).
func cmdEdxmlSign(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("edxml sign --key KEY --cert CHAIN [--in pkg.edxml]", "Signs an edXML package with an enveloped XML signature (XMLDSig, RSA-SHA256, exclusive C14N) in edXMLHeader, the certificate chain in KeyInfo.", stderr)
	keyFile := fs.String("key", "", "the agency's RSA private key (PEM, PKCS#8 or PKCS#1)")
	certFile := fs.String("cert", "", "the agency's certificate, then its intermediates (PEM)")
	in := fs.String("in", "", "package file (default standard input)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *keyFile == "" || *certFile == "" {
		return errors.New("edxml sign needs --key KEY and --cert CHAIN")
	}
	key, err := readRSAKey(*keyFile)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(*certFile)
	if err != nil {
		return err
	}
	var chain [][]byte
	for {
		var blk *pem.Block
		if blk, raw = pem.Decode(raw); blk == nil {
			break
		}
		if blk.Type == "CERTIFICATE" {
			chain = append(chain, blk.Bytes)
		}
	}
	if len(chain) == 0 {
		return fmt.Errorf("%s: no PEM certificate", *certFile)
	}
	pkg, err := readInput(*in, stdin)
	if err != nil {
		return err
	}
	out, err := docexchange.SignEdxml(pkg, key, chain)
	if err != nil {
		return err
	}
	_, err = stdout.Write(out)
	return err
}

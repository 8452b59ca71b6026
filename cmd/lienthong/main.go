// Command lienthong runs the lienthong suite, or any part of it, and its tools.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `lienthong: interchange for provincial e-government systems.

Usage:
  lienthong up [--data-dir DIR] [--demo]          every part on this machine, gateway on 127.0.0.1:8080
  lienthong serve PART [flags]                     one part: catalog, dossier, docexchange, scoring or gateway
  lienthong token issue --system ID --role ROLE [--unit CODE] [--ttl 24h]
  lienthong token revoke --id ID | --system ID     refuse a token, or a system's tokens so far, in every part
  lienthong keys init [--keys-dir DIR]             make the token signing key pair
  lienthong backup --part PART --out FILE          consistent online copy of a part's bbolt file
  lienthong verify --part PART                     check every page of a part's file (dossier: replay the event log and compare)
  lienthong health [--health-addr HOST:PORT]       exit 0 when the gRPC health check says SERVING
  lienthong bench [--mode all] [--duration 20s]    load generator: events/s, latency percentiles, memory
  lienthong doc keygen --out FILE                  an Ed25519 key pair for signing documents
  lienthong doc sign --key FILE --key-id ID        sign a document JSON (stdin); see docs/api.md, "Documents"
  lienthong certs ca|issue                         a test CA, and agencies' RSA certificates it issues
  lienthong edxml build|sign                       a document JSON as a national edXML package; sign one (XMLDSig)

Every command has --help. Every flag can also be set as LIENTHONG_<FLAG> in the environment
(--data-dir is LIENTHONG_DATA_DIR); a flag on the command line wins.
`

func main() {
	// A file that may grow no more (RLIMIT_FSIZE) must fail the write that would grow it,
	// as a full disk does, not kill the process with SIGXFSZ.
	signal.Ignore(syscall.SIGXFSZ)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "lienthong:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "up":
		return cmdUp(ctx, rest, stdout, stderr)
	case "serve":
		return cmdServe(ctx, rest, stdout, stderr)
	case "token":
		return cmdToken(ctx, rest, stdout, stderr)
	case "keys":
		return cmdKeys(rest, stdout, stderr)
	case "backup":
		return cmdBackup(ctx, rest, stdout, stderr)
	case "verify":
		return cmdVerify(rest, stdout, stderr)
	case "health":
		return cmdHealth(ctx, rest, stdout, stderr)
	case "bench":
		return cmdBench(ctx, rest, stdout, stderr)
	case "doc":
		return cmdDoc(rest, os.Stdin, stdout, stderr)
	case "certs":
		return cmdCerts(rest, stdout, stderr)
	case "edxml":
		return cmdEdxml(rest, os.Stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// newFlags makes a flag set whose --help prints a summary, the flags and their variables.
func newFlags(name, summary string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "%s\n\nUsage: lienthong %s\n\nFlags (each also LIENTHONG_<NAME>):\n", summary, name)
		fs.PrintDefaults()
	}
	return fs
}

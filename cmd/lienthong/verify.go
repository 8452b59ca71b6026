package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/lienthong/lienthong/services/dossier"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
)

// cmdVerify checks every page of a part's bbolt file; for the dossier part it then replays
// the log and compares what it rebuilds with what is stored.
func cmdVerify(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify --part PART [flags]", "Checks every page of a part's bbolt file (each reachable once, of the right kind, keys in order, the rest free); "+
		"for the dossier part it then recomputes every dossier and statistic from the stored events and compares. Exits 1 on any damage or difference. "+
		"Reads the file: stop the part first, or verify a backup.", stderr)
	name := fs.String("part", "dossier", "part to verify: "+strings.TrimSuffix(partNames(), ", gateway"))
	dataDir := fs.String("data-dir", "./data", "data folder")
	file := fs.String("file", "", "a bbolt file to verify instead (e.g. a backup)")
	memory := fs.Int("memory-mib", dossier.DefaultVerifyMemoryMiB, "memory for the dossiers rebuilt at once; when they need more, the log is read once per share of them")
	var c commonFlags
	fs.StringVar(&c.holidays, "holidays", "", "working-day calendar file the part runs with")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	p, ok := findPart(*name)
	if !ok {
		return fmt.Errorf("--part must be one of %s", strings.TrimSuffix(partNames(), ", gateway"))
	}
	path := *file
	if path == "" {
		path = platform.DBPath(*dataDir, p.name)
	}
	if _, err := os.Stat(path); err != nil {
		return err
	}
	inUse := fmt.Errorf("%s is in use: stop the part, or verify a copy made with `lienthong backup --part %s --out FILE` (--file FILE)", path, p.name)
	start := time.Now()
	err := platform.CheckPath(path, p.name)
	var damage *platform.DamageError
	switch {
	case errors.Is(err, platform.ErrLocked):
		return inUse
	case errors.As(err, &damage):
		for _, d := range damage.Problems {
			fmt.Fprintln(stdout, "DAMAGED", d)
		}
		return err
	case err != nil:
		return err
	}
	fmt.Fprintf(stdout, "checked every page of %s in %v: no damage\n", path, time.Since(start).Round(time.Millisecond))
	if p.name != dossier.Part {
		return nil
	}
	cal, err := c.calendar()
	if err != nil {
		return err
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 500 * time.Millisecond})
	if errors.Is(err, bolt.ErrTimeout) {
		return inUse
	}
	if err != nil {
		return err
	}
	defer db.Close()
	start = time.Now()
	rep, err := dossier.VerifyWith(db, dossier.VerifyOptions{Calendar: cal, MemoryMiB: *memory})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "verified %s: %d events, %d dossiers, %d statistics cells in %v (%d %s of the log)\n", path, rep.Events, rep.Dossiers, rep.Cells,
		time.Since(start).Round(time.Millisecond), rep.Passes, plural(rep.Passes, "read", "reads"))
	if rep.OK() {
		fmt.Fprintln(stdout, "no differences")
		return nil
	}
	for _, d := range rep.Differences {
		fmt.Fprintln(stdout, "DIFF", d)
	}
	if rep.MoreDiffered > 0 {
		fmt.Fprintf(stdout, "... and %d more differences\n", rep.MoreDiffered)
	}
	return fmt.Errorf("%d differences", len(rep.Differences)+rep.MoreDiffered)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

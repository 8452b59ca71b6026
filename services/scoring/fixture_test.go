package scoring

import (
	"context"
	"encoding/csv"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap/zaptest"
)

// provinceTables reads the catalog's 63- and 34-province tables.
func provinceTables(t testing.TB) (before, after []UnitInfo, merged map[string]string) {
	t.Helper()
	read := func(path string) [][]string {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		recs, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return recs[1:]
	}
	for _, r := range read("../catalog/data/provinces-before-2025-07-01.csv") {
		before = append(before, UnitInfo{Code: r[0], Name: r[1]})
	}
	merged = map[string]string{}
	for _, r := range read("../catalog/data/provinces-from-2025-07-01.csv") {
		after = append(after, UnitInfo{Code: r[0], Name: r[1]})
		for _, old := range strings.Fields(r[3]) {
			merged[old] = r[0]
		}
	}
	return before, after, merged
}

// fakeCatalog answers the 63 provinces before 2025-07-01 and the 34 after.
type fakeCatalog struct {
	before, after []UnitInfo
	merged        map[string]string
	shares        map[string][2]float64
	online        map[string][]string
	procs         map[string][]ProcedureFacts
	down          bool
}

func newFakeCatalog(t testing.TB) *fakeCatalog {
	b, a, m := provinceTables(t)
	return &fakeCatalog{before: b, after: a, merged: m, shares: map[string][2]float64{}, online: map[string][]string{}}
}

func (f *fakeCatalog) Provinces(_ context.Context, date string) ([]UnitInfo, error) {
	if f.down {
		return nil, &UnavailableError{Reason: "catalog down"}
	}
	if date < "2025-07-01" {
		return f.before, nil
	}
	return f.after, nil
}

func (f *fakeCatalog) CurrentCodes(_ context.Context, codes []string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, c := range codes {
		if n, ok := f.merged[c]; ok {
			out[c] = []string{n}
		}
	}
	return out, nil
}

// testLevel1Units is the unit of each level-1 code the tests name (docs/domain.md,
// Identifiers): 000.00.00.H31 is of Hưng Yên, 33.
var testLevel1Units = map[string]string{"H31": "33", "H40": "36", "H41": "40", "H42": "37", "H26": "01",
	"H22": "02", "H11": "60", "H60": "08", "H17": "48"}

// AgencyUnit takes the unit from the code's level-1 code; one not in testLevel1Units (H99)
// is unknown.
func (f *fakeCatalog) AgencyUnit(_ context.Context, agency string) (string, bool, error) {
	if f.down {
		return "", false, &UnavailableError{Reason: "catalog down"}
	}
	u, ok := testLevel1Units[agency[len(agency)-3:]]
	return u, ok, nil
}

func (f *fakeCatalog) OnlineProcedures(_ context.Context, unit string) ([]string, error) {
	if f.down {
		return nil, &UnavailableError{Reason: "catalog down"}
	}
	return f.online[unit], nil
}

func (f *fakeCatalog) Procedures(_ context.Context, unit string) ([]ProcedureFacts, error) {
	if f.down {
		return nil, &UnavailableError{Reason: "catalog down"}
	}
	return f.procs[unit], nil
}

func (f *fakeCatalog) ProcedureShares(_ context.Context, unit string) (float64, float64, bool, error) {
	s, ok := f.shares[unit]
	return s[0], s[1], ok, nil
}

// fakeDossier answers fixed statistics rows per "from|geography".
type fakeDossier struct {
	mu     sync.Mutex
	rows   map[string]map[string]*dossierv1.StatsRow
	byProc map[string]map[string]int64 // "unit|from|geography" -> procedure -> received online
	// "unit|from|geography" -> procedure -> row
	procRows map[string]map[string]*dossierv1.StatsRow
	err      error
	calls    int
}

func (f *fakeDossier) OnlineByProcedure(_ context.Context, unit, from, geo string) (map[string]int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	return f.byProc[unit+"|"+from+"|"+geo], nil
}

func (f *fakeDossier) ByProcedure(_ context.Context, unit, from, geo string) (map[string]*dossierv1.StatsRow, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	return f.procRows[unit+"|"+from+"|"+geo], nil
}

func (f *fakeDossier) UnitStats(_ context.Context, from, _, geo string) (map[string]*dossierv1.StatsRow, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	return f.rows[from+"|"+geo], nil
}

// fakeActivity is a fixed dossier activity.
type fakeActivity struct {
	last    map[string]time.Time
	refused map[string]RefusalCount
	err     error
}

func (f *fakeActivity) Activity(context.Context) (map[string]SystemActivity, error) {
	out := map[string]SystemActivity{}
	for sys, t := range f.last {
		a := out[sys]
		a.LastAccepted = t
		out[sys] = a
	}
	for sys, rc := range f.refused {
		a := out[sys]
		a.RefusalCount = rc
		out[sys] = a
	}
	return out, f.err
}

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	svc      *Service
	db       *bolt.DB
	catalog  *fakeCatalog
	dossier  *fakeDossier
	activity *fakeActivity
	clock    *clock
	dir      string
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{catalog: newFakeCatalog(t), dossier: &fakeDossier{rows: map[string]map[string]*dossierv1.StatsRow{}},
		activity: &fakeActivity{last: map[string]time.Time{}, refused: map[string]RefusalCount{}}, clock: &clock{t: time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)}, dir: dir}
	f.open(t)
	return f
}

func (f *fixture) open(t testing.TB) {
	t.Helper()
	db, err := platform.OpenDB(f.dir, Part)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := Open(db, Options{Catalog: f.catalog, Dossier: f.dossier, Activity: f.activity, Logger: zaptest.NewLogger(t), Now: f.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	f.db, f.svc = db, svc
	t.Cleanup(func() { db.Close() })
}

// reopen closes and opens the data file again, as a restart does.
func (f *fixture) reopen(t testing.TB) {
	t.Helper()
	f.db.Close()
	f.open(t)
}

func as(role platform.Role, unit, system string) context.Context {
	return platform.WithCaller(context.Background(), &platform.Caller{System: system, Role: role, Unit: unit, ExpiresAt: time.Now().Add(time.Hour)})
}

var (
	admin    = as(platform.RoleAdmin, "", "lienthong/admin")
	ministry = as(platform.RoleMinistry, "", "000.00.00.G22/bo")
	namdinh  = as(platform.RoleProvince, "36", "000.00.00.H40/cong")
	hungyen  = as(platform.RoleProvince, "33", "000.00.00.H31/motcua")
	anon     = context.Background()
)

// eventually waits, up to 10 s, until cond holds; what names it in the failure.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting: %s", what)
		}
	}
}

// Package catalog is the catalog part of lienthong: administrative units with their history,
// agencies by electronic identifier and public-service procedures.
//
// The catalog is small (tens of thousands of records at most) and read far more than it is
// written, so the whole of it is kept in memory behind a read-write lock and every write goes
// to bbolt first (fsynced by the commit) and to memory only after the commit returned.
package catalog

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
)

// Part is the name of this part: its bbolt file, its logs and metrics label.
const Part = "catalog"

// vietnam is UTC+7, the time zone dates default in.
var vietnam = time.FixedZone("ICT", 7*3600)

// Catalog holds the catalog's state.
type Catalog struct {
	catalogv1.UnimplementedCatalogServiceServer

	db  *bolt.DB
	lg  *zap.Logger
	now func() time.Time

	mu         sync.RWMutex
	units      map[string]*catalogv1.Unit
	unitCodes  []string // sorted
	agencies   map[string]*catalogv1.Agency
	agCodes    []string // sorted
	procedures map[string]*procEntry
	procCodes  []string // sorted
	// rootAgencies has the codes of level-1 agencies (000.00.00.XNN) by unit and letter,
	// the People's Committees and Councils that answer for a merged unit's agencies.
	rootAgencies map[string][]string

	// level1 is the table of level-1 codes, built at Open and never changed.
	level1 *level1Table
}

// procEntry is a procedure with its search form, computed once per write.
type procEntry struct {
	p          *catalogv1.Procedure
	foldedText string // code and name, folded
	foldField  string
}

// Open loads the catalog from db, seeding the province tables on first use.
func Open(ctx context.Context, db *bolt.DB, lg *zap.Logger) (*Catalog, error) {
	c := &Catalog{db: db, lg: lg, now: time.Now}
	if err := c.init(); err != nil {
		return nil, err
	}
	if err := c.load(); err != nil {
		return nil, err
	}
	seeded, err := c.seedProvinces(ctx)
	if err != nil {
		return nil, err
	}
	if seeded {
		lg.Info("province tables loaded", zap.Int("units", len(c.units)))
	}
	if n, err := c.applyUnitChanges(ctx); err != nil {
		return nil, err
	} else if n > 0 {
		lg.Info("unit changes applied", zap.Int("units", n))
	}
	if n, err := c.seedCommunes(ctx); err != nil {
		return nil, err
	} else if n > 0 {
		lg.Info("commune table loaded", zap.Int("units", n))
	}
	c.mu.RLock()
	c.level1, err = newLevel1Table(level1CodesCSV, level1SuccessorsCSV, c.units)
	c.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	if n, err := c.seedCommuneAgencies(ctx); err != nil {
		return nil, err
	} else if n > 0 {
		lg.Info("commune People's Committees loaded", zap.Int("agencies", n))
	}
	return c, nil
}

// today is the current date in Vietnam, YYYY-MM-DD.
func (c *Catalog) today() string { return c.now().In(vietnam).Format(dateLayout) }

func (c *Catalog) load() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.units = map[string]*catalogv1.Unit{}
	c.agencies = map[string]*catalogv1.Agency{}
	c.procedures = map[string]*procEntry{}
	err := c.db.View(func(tx *bolt.Tx) error {
		if err := eachRecord(tx, bucketUnits, func() *catalogv1.Unit { return &catalogv1.Unit{} }, func(u *catalogv1.Unit) {
			c.units[u.GetCode()] = u
		}); err != nil {
			return err
		}
		if err := eachRecord(tx, bucketAgencies, func() *catalogv1.Agency { return &catalogv1.Agency{} }, func(a *catalogv1.Agency) {
			c.agencies[a.GetCode()] = a
		}); err != nil {
			return err
		}
		return eachRecord(tx, bucketProcedures, func() *catalogv1.Procedure { return &catalogv1.Procedure{} }, func(p *catalogv1.Procedure) {
			c.procedures[p.GetCode()] = newProcEntry(p)
		})
	})
	if err != nil {
		return fmt.Errorf("load catalog: %w", err)
	}
	c.unitCodes = sortedKeys(c.units)
	c.agCodes = sortedKeys(c.agencies)
	c.rootAgencies = map[string][]string{}
	for _, a := range c.agencies {
		c.indexRoot(a)
	}
	c.procCodes = sortedKeys(c.procedures)
	return nil
}

func newProcEntry(p *catalogv1.Procedure) *procEntry {
	return &procEntry{p: p, foldedText: platform.Fold(p.GetCode() + " " + p.GetName()), foldField: platform.Fold(p.GetField())}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// insertSorted adds key to a sorted slice if it is not there.
func insertSorted(keys []string, key string) []string {
	i := sort.SearchStrings(keys, key)
	if i < len(keys) && keys[i] == key {
		return keys
	}
	keys = append(keys, "")
	copy(keys[i+1:], keys[i:])
	keys[i] = key
	return keys
}

// page walks sorted keys after a page token, keeping those that match, and returns one page,
// the token of the next page ("" on the last) and the number of matches over every page.
func page[T any](keys []string, after string, size int, query string, get func(string) (T, bool)) ([]T, string, int) {
	start := 0
	if after != "" {
		start = sort.Search(len(keys), func(i int) bool { return keys[i] > after })
	}
	var out []T
	lastKey, more, total := "", false, 0
	for i, k := range keys {
		v, ok := get(k)
		if !ok {
			continue
		}
		total++
		if i < start {
			continue
		}
		if len(out) < size {
			out = append(out, v)
			lastKey = k
		} else {
			more = true
		}
	}
	next := ""
	if more {
		next = platform.EncodePageToken(query, lastKey)
	}
	return out, next, total
}

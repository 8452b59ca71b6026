package dossier

import (
	"fmt"
	"maps"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// bucketSystems keeps, per sending system, the stored_at of its last stored event: the
// writer puts it in the transaction that stores the events, so it is as durable as they
// are. Interconnection status reads it (ListSystemActivity) instead of following the
// whole event feed.
var bucketSystems = []byte("systems") // system -> stored_at (RFC 3339) of its last stored event

// lastStored is bucketSystems in memory.
type lastStored struct {
	mu sync.RWMutex
	m  map[string]string
}

// set records that systems had events stored at stamp.
func (l *lastStored) set(systems []string, stamp string) {
	if len(systems) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range systems {
		l.m[s] = stamp
	}
}

// all returns a copy.
func (l *lastStored) all() map[string]string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return maps.Clone(l.m)
}

// storedSystems are the systems of the jobs of a commit that had at least one event
// stored (duplicates and refusals store nothing).
func storedSystems(batch []*job) []string {
	var out []string
	seen := map[string]bool{}
	for _, j := range batch {
		sys := j.system()
		if sys == "" || seen[sys] {
			continue
		}
		for i, it := range j.items {
			if r := j.results[i]; it != nil && r.err == nil && !r.dup {
				seen[sys] = true
				out = append(out, sys)
				break
			}
		}
	}
	return out
}

// putSystems writes stamp for systems in tx.
func putSystems(tx *bolt.Tx, systems []string, stamp string) error {
	b := tx.Bucket(bucketSystems)
	for _, s := range systems {
		if err := b.Put([]byte(s), []byte(stamp)); err != nil {
			return err
		}
	}
	return nil
}

// readSystems reads bucketSystems.
func readSystems(tx *bolt.Tx) map[string]string {
	m := map[string]string{}
	if b := tx.Bucket(bucketSystems); b != nil {
		_ = b.ForEach(func(k, v []byte) error {
			m[string(k)] = string(v)
			return nil
		})
	}
	return m
}

// lastStoredFromLog finds each system's last stored event by reading the whole log: once,
// for a data file written before bucketSystems existed.
func lastStoredFromLog(tx *bolt.Tx) (map[string]string, error) {
	m := map[string]string{}
	err := tx.Bucket(bucketEvents).ForEach(func(k, v []byte) error {
		stamp, ok := storedEventField(v, fEventStoredAt)
		if !ok {
			return fmt.Errorf("event %d: no stored_at", beUint64(k))
		}
		if sys, ok := storedEventField(v, fEventSystem); ok && len(sys) > 0 {
			m[string(sys)] = string(stamp)
		}
		return nil
	})
	return m, err
}

package dossier

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// The commune series (docs/domain.md, "A dossier's commune"). A dossier's commune is not a
// dimension of the cells: a province receives a procedure's dossiers from a hundred
// communes, and agency × procedure × channel cells multiplied by them would not fit a small
// machine. The communes are kept instead in one small series per (unit, commune), by
// month, with the same counters, and their own live figures and due instants; dossiers
// without a commune are in their unit's series of the empty commune. It answers
// group_by=commune with the unit filter, periods and either geography; filters on agency
// or procedure would need the cross product and are refused (parseStatsQuery).
//
// On disk the series are in their own bucket, keyed as cells with only the month, the
// unit and the commune. Files of earlier versions kept the commune at the end of the
// cells' keys: they are converted when the part opens them (convertCommuneCells).

var bucketCommuneCells = []byte("communecells") // commune series key -> counters

// communeMask is what the commune series keep.
const communeMask = keepUnit | keepCommune

// communeKey is the key, in the commune series, of cell k's month, unit and commune.
func communeKey(k cellKey) cellKey {
	return cellKey{month: k.month, unit: k.unit, commune: k.commune}
}

// communeID is the id of k's commune series, made (with its live figures) if new.
func (s *Stats) communeID(k cellKey) int32 {
	id := s.communes.id(k)
	if int(id) == len(s.comLive.agg[0]) {
		s.comLive.agg[0] = append(s.comLive.agg[0], liveAgg{})
	}
	return id
}

func (d *delta) communeCell(k cellKey) *counters {
	k = communeKey(k)
	c := d.communes[k]
	if c == nil {
		c = &counters{}
		d.communes[k] = c
	}
	return c
}

// freshCommunes is the keys of the delta whose commune series do not exist yet. Called by
// the writer without the lock (it alone makes series).
func (s *Stats) freshCommunes(d *delta) []cellKey {
	var fresh []cellKey
	for k := range d.communes {
		if _, ok := s.communes.ids[dimsOf(k)]; !ok {
			fresh = append(fresh, k)
		}
	}
	for _, e := range d.liveAdd {
		k := communeKey(e.key)
		if _, ok := s.communes.ids[dimsOf(k)]; !ok {
			fresh = append(fresh, k)
		}
	}
	return fresh
}

// communeSums is the delta's change of the commune series by series and month.
func (s *Stats) communeSums(d *delta) map[seriesMonth]*counters {
	sums := make(map[seriesMonth]*counters, len(d.communes))
	for k, v := range d.communes {
		if v.zero() {
			continue
		}
		sums[seriesMonth{id: s.communes.ids[dimsOf(k)], month: k.month}] = v
	}
	return sums
}

// writeCommunes stores the value every commune series' month the delta changes will have
// after it (as writeCells for the cells).
func (s *Stats) writeCommunes(b *bolt.Bucket, d *delta) error {
	return writeSeries(b, s.communes, d.communes)
}

// addCommuneCell adds v to month k.month of k's commune series (when loading).
func (s *Stats) addCommuneCell(k cellKey, v *counters) {
	s.communes.add(s.communeID(k), k.month, v)
}

// foldCells reads a cells bucket written by any version: the cells without their commune
// (summed), and, when communes is not nil, the commune series they make (the cells of
// earlier versions held the commune).
func foldCells(cells *bolt.Bucket, communes map[cellKey]*counters) (map[cellKey]*counters, error) {
	base := map[cellKey]*counters{}
	add := func(m map[cellKey]*counters, k cellKey, c *counters) {
		if m[k] == nil {
			m[k] = &counters{}
		}
		m[k].add(c, 1)
	}
	err := eachCell(cells, func(k cellKey, c *counters) {
		if communes != nil {
			add(communes, communeKey(k), c)
		}
		k.commune = ""
		add(base, k, c)
	})
	return base, err
}

// convertCommuneCells converts the cells of a file of an earlier version (no commune
// bucket yet), inside the transaction that opens it: the commune series are made from
// the cells, and the cells that held a commune are summed into the cell without it.
func convertCommuneCells(tx *bolt.Tx) error {
	if tx.Bucket(bucketCommuneCells) != nil {
		return nil
	}
	cells := tx.Bucket(bucketCells)
	communes := map[cellKey]*counters{}
	base, err := foldCells(cells, communes)
	if err != nil {
		return fmt.Errorf("convert statistics cells: %w", err)
	}
	var withCommune [][]byte
	if err := cells.ForEach(func(k, _ []byte) error {
		if ck, err := decodeCellKey(k); err == nil && ck.commune != "" {
			withCommune = append(withCommune, append([]byte(nil), k...))
		}
		return nil
	}); err != nil {
		return err
	}
	for _, k := range withCommune {
		if err := cells.Delete(k); err != nil {
			return err
		}
	}
	if len(withCommune) > 0 {
		for k, c := range base {
			if err := cells.Put(encodeCellKey(k), encodeCounters(c)); err != nil {
				return err
			}
		}
	}
	cb, err := tx.CreateBucket(bucketCommuneCells)
	if err != nil {
		return err
	}
	for k, c := range communes {
		if !c.zero() {
			if err := cb.Put(encodeCellKey(k), encodeCounters(c)); err != nil {
				return err
			}
		}
	}
	return nil
}

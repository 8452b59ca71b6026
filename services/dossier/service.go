// Package dossier is the dossier part of lienthong: it takes the events that provincial
// one-stop software pushes, keeps each dossier's state, decides on time or late, and keeps
// live statistics and an ordered feed.
//
// Every write goes through one writer goroutine that groups the events of concurrent
// requests into one bbolt transaction (group commit): a request is answered only after the
// commit that holds its events returned, so an acknowledged event is on disk.
package dossier

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/store/v1"
	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
)

// Part is the name of this part.
const Part = "dossier"

// Buckets of dossier.db.
var (
	bucketEvents   = []byte("events")    // seq (8 bytes, big-endian) -> StoredEvent
	bucketIDs      = []byte("event_ids") // system \x00 event_id -> seq (8) + content hash (16)
	bucketDossiers = []byte("dossiers")  // code -> DossierState
	bucketCells    = []byte("cells")     // cell key -> counters
	bucketOpen     = []byte("open")      // code -> live entry of an open dossier
)

// Limits.
const (
	MaxBatch        = 1000 // events in one request or stream message
	maxCommitEvents = 4000 // events in one transaction

	// DefaultIDFlushEvents is how many events' idempotency keys the writer holds in
	// memory before it starts writing them into the event_ids index in its pauses; at
	// twice that it writes them all whatever the load (idindex.go).
	DefaultIDFlushEvents = 50_000
	DefaultIDPause       = 5 * time.Millisecond
)

// Service is the dossier part.
type Service struct {
	dossierv1.UnimplementedDossierServiceServer

	db    *bolt.DB
	lg    *zap.Logger
	cal   *Calendar
	refs  *refs
	stats *Stats
	now   func() time.Time
	// activity counts accepted and refused events per sending system (activity.go).
	activity *activity
	last     lastStored // per system, its last stored event (laststored.go)

	jobs    chan *job
	lastSeq atomic.Int64
	// ids holds the idempotency keys of the events not yet in the event_ids index; only
	// the writer (and load, before it starts) touches it.
	ids     *idIndex
	touched touched // the dossiers the writer changed lately (prefetch.go)
	// idPause: see Options.IDPause; idRetry: no chunk before then (after a failure).
	idPause time.Duration
	idRetry time.Time
	stop    chan struct{}
	stopMu  sync.RWMutex // held (read) while a job is handed to the writer; Close takes it to close stop
	stopped chan struct{}

	// sendTimeout: see Options.SendTimeout.
	sendTimeout time.Duration
	// feedRead counts the events the feed's reads decoded (feed.go).
	feedRead atomic.Int64

	// liveFrom says where the last load took the open dossiers from.
	liveFrom string

	notifyMu sync.Mutex
	notify   chan struct{} // closed and replaced after every commit
}

// Options configure the service.
type Options struct {
	Catalog  CatalogClient
	Calendar *Calendar
	Logger   *zap.Logger
	Now      func() time.Time
	// IDFlushEvents: see DefaultIDFlushEvents (0: the default).
	IDFlushEvents int
	// IDPause is how long the writer has nothing to do before it writes a chunk of the
	// idempotency keys it holds (0: DefaultIDPause).
	IDPause time.Duration
	// SendTimeout bounds each message of a server stream (feed watches, the answers of an
	// event stream): a client that does not take one within it has its stream ended
	// (0: platform.DefaultSendTimeout).
	SendTimeout time.Duration
}

// Open loads the dossier part from db (buckets, sequence, statistics, open dossiers) and
// starts its writer. Close stops the writer.
func Open(db *bolt.DB, o Options) (*Service, error) {
	if o.Calendar == nil {
		o.Calendar = DefaultCalendar()
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Service{
		db: db, lg: o.Logger, cal: o.Calendar, refs: newRefs(o.Catalog), stats: newStats(), now: o.Now,
		jobs: make(chan *job, 1024), stop: make(chan struct{}), stopped: make(chan struct{}), notify: make(chan struct{}),
	}
	s.refs.now = o.Now
	if o.IDFlushEvents <= 0 {
		o.IDFlushEvents = DefaultIDFlushEvents
	}
	if o.IDPause <= 0 {
		o.IDPause = DefaultIDPause
	}
	s.ids = newIDIndex(o.IDFlushEvents)
	s.sendTimeout = o.SendTimeout
	if s.sendTimeout <= 0 {
		s.sendTimeout = platform.DefaultSendTimeout
	}
	s.idPause = o.IDPause
	s.touched.m = map[string]int64{}
	s.activity = newActivity(o.Now())
	began := time.Now()
	if err := s.load(); err != nil {
		return nil, err
	}
	s.lg.Info("dossier data loaded", zap.Int64("events", s.lastSeq.Load()), zap.Int64("ids_upto", s.ids.upto),
		zap.Int("idempotency_keys_read_back", s.ids.held()), zap.Duration("took", time.Since(began).Round(time.Millisecond)))
	go s.writer()
	return s, nil
}

// Close stops the writer after the jobs already queued.
func (s *Service) Close() {
	// Under the lock, no enqueue is between its check of stop and its send: every job
	// queued before stop closes is drained by the writer, every later one is refused.
	s.stopMu.Lock()
	first := false
	select {
	case <-s.stop:
	default:
		close(s.stop)
		first = true
	}
	s.stopMu.Unlock()
	<-s.stopped
	if first {
		s.snapshotLive()
	}
}

// snapshotLive writes the open-dossier snapshot the next start reads (livesnap.go). A
// failure costs only time at that start.
func (s *Service) snapshotLive() {
	began := time.Now()
	n, err := writeLiveSnapshot(s.db, s.stats)
	if err != nil {
		s.lg.Warn("dossier open-dossier snapshot not written; the next start reads the index instead", zap.Error(err))
		return
	}
	s.lg.Info("dossier open-dossier snapshot written", zap.Int("open", n), zap.Duration("took", time.Since(began).Round(time.Millisecond)))
}

// loadSystems reads each system's last stored event (laststored.go); a data file written
// before that bucket existed has it built from the log, once.
func (s *Service) loadSystems(tx *bolt.Tx, seq int64) error {
	if tx.Bucket(bucketSystems) != nil {
		s.last.m = readSystems(tx)
		return nil
	}
	m := map[string]string{}
	if seq > 0 {
		began := time.Now()
		var err error
		if m, err = lastStoredFromLog(tx); err != nil {
			return err
		}
		s.lg.Info("dossier: last stored event of each system read from the log, once", zap.Int("systems", len(m)),
			zap.Duration("took", time.Since(began).Round(time.Millisecond)))
	}
	b, err := tx.CreateBucket(bucketSystems)
	if err != nil {
		return err
	}
	for k, v := range m {
		if err := b.Put([]byte(k), []byte(v)); err != nil {
			return err
		}
	}
	s.last.m = m
	return nil
}

func (s *Service) load() error {
	var sum [32]byte // of the last stored event, which the open-dossier snapshot must name
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketEvents, bucketIDs, bucketDossiers, bucketCells, bucketOpen, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		if err := convertCommuneCells(tx); err != nil { // communes.go
			return err
		}
		var seq int64
		seq, sum = lastEvent(tx)
		s.lastSeq.Store(seq)
		if err := s.loadSystems(tx, seq); err != nil {
			return err
		}
		if err := loadFeedIndex(tx, seq); err != nil {
			return err
		}
		return s.ids.load(tx, seq)
	})
	if err != nil {
		return fmt.Errorf("dossier buckets: %w", err)
	}
	if err := s.buildFeedIndex(); err != nil {
		return err
	}
	// The open dossiers: from the snapshot of the last clean stop if it is current
	// (livesnap.go), else from the open-dossier bucket, its pages read ahead (warm.go).
	loadNow := s.nowMillis()
	began := time.Now()
	var ids [][2]int32 // the set of dimensions and commune series of each key of the snapshot, found once
	n, snapErr := readLiveSnapshot(liveSnapPath(s.db), s.lastSeq.Load(), sum, func(k int, e liveEntry) {
		for len(ids) <= k {
			ids = append(ids, [2]int32{-1, -1})
		}
		if ids[k][0] < 0 {
			ids[k] = [2]int32{s.stats.dimsID(e.key), s.stats.communeID(e.key)}
		}
		s.stats.liveLoadID(ids[k][0], ids[k][1], normalizeLive(e), loadNow)
	})
	warm := [][]byte{bucketCells, bucketCommuneCells}
	if snapErr != nil {
		warm = append(warm, bucketOpen)
	}
	pages := warmBuckets(s.db, warm...)
	err = s.db.View(func(tx *bolt.Tx) error {
		if err := eachCell(tx.Bucket(bucketCells), s.stats.addCell); err != nil {
			return fmt.Errorf("load statistics: %w", err)
		}
		if err := eachCell(tx.Bucket(bucketCommuneCells), s.stats.addCommuneCell); err != nil {
			return fmt.Errorf("load commune statistics: %w", err)
		}
		if snapErr == nil {
			return nil
		}
		return tx.Bucket(bucketOpen).ForEach(func(k, v []byte) error {
			e, err := decodeLive(v)
			if err != nil {
				return fmt.Errorf("open dossier %s: %w", k, err)
			}
			n++
			s.stats.liveLoad(normalizeLive(e), loadNow)
			return nil
		})
	})
	s.stats.liveLoaded()
	from := "snapshot of the last clean stop"
	if snapErr != nil {
		from = "open-dossier index (" + snapErr.Error() + ")"
	}
	s.liveFrom = from
	s.lg.Info("dossier open dossiers loaded", zap.Int("open", n), zap.String("from", from),
		zap.Int("pages_read_ahead", pages), zap.Duration("took", time.Since(began).Round(time.Millisecond)))
	return err
}

func seqKey(seq int64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], uint64(seq))
	return k[:]
}

func loadState(tx *bolt.Tx, code string) (*storev1.DossierState, error) {
	v := tx.Bucket(bucketDossiers).Get([]byte(code))
	if v == nil {
		return nil, nil
	}
	st := &storev1.DossierState{}
	if err := proto.Unmarshal(v, st); err != nil {
		return nil, fmt.Errorf("dossier %s: %w", code, err)
	}
	return st, nil
}

func loadEvent(tx *bolt.Tx, seq int64) (*storev1.StoredEvent, error) {
	v := tx.Bucket(bucketEvents).Get(seqKey(seq))
	if v == nil {
		return nil, fmt.Errorf("event %d missing", seq)
	}
	se := &storev1.StoredEvent{}
	if err := proto.Unmarshal(v, se); err != nil {
		return nil, fmt.Errorf("event %d: %w", seq, err)
	}
	return se, nil
}

// changed returns a channel closed at the next commit.
func (s *Service) changed() <-chan struct{} {
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	return s.notify
}

func (s *Service) broadcast() {
	s.notifyMu.Lock()
	close(s.notify)
	s.notify = make(chan struct{})
	s.notifyMu.Unlock()
}

// nowMillis is the current time in Unix milliseconds.
func (s *Service) nowMillis() int64 { return s.now().UnixMilli() }

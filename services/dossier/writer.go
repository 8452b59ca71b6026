package dossier

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/store/v1"
	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// result is the outcome of one event.
type result struct {
	dup    bool
	status int32
	seq    int64
	err    error
}

// job is one request's events on their way to the writer. items[i] is nil for an event
// already refused (results[i] says why).
type job struct {
	ctx        context.Context // carries the caller
	items      []*checked
	results    []result
	catalogErr error // the catalog could not be asked
	done       chan struct{}
}

// system is the sending system of the job's caller ("" without one).
func (j *job) system() string {
	if c := platform.CallerFrom(j.ctx); c != nil {
		return c.System
	}
	return ""
}

// errStopped is answered when the part is shutting down.
var errStopped = &platform.Error{Code: codes.Unavailable, Reason: "SHUTTING_DOWN", Message: "the dossier part is shutting down; try again",
	MessageVI: "Dịch vụ hồ sơ đang dừng; vui lòng thử lại."}

// submit checks events, asks the catalog for what they refer to, queues them for the
// writer and waits until they are committed.
func (s *Service) submit(ctx context.Context, events []*dossierv1.DossierEvent) *job {
	j := s.prepare(ctx, events)
	s.enqueue(ctx, j)
	<-j.done
	return j
}

// prepare checks each event's own fields and fills the catalog cache for the codes they
// carry (one call for the whole batch).
func (s *Service) prepare(ctx context.Context, events []*dossierv1.DossierEvent) *job {
	j := &job{ctx: ctx, items: make([]*checked, len(events)), results: make([]result, len(events)), done: make(chan struct{})}
	now := s.now()
	var procs, ags, units []string
	for i, ev := range events {
		c, err := checkEvent(ev, now)
		if err != nil {
			j.results[i].err = err
			continue
		}
		j.items[i] = c
		if c.ev.ProcedureCode != "" {
			procs = append(procs, c.ev.ProcedureCode)
		}
		if c.ev.AgencyCode != "" {
			ags = append(ags, c.ev.AgencyCode)
		}
		if a := ownerAgencies(c.ev); a != "" {
			ags = append(ags, a)
		}
		if c.ev.UnitCode != "" {
			units = append(units, c.ev.UnitCode)
		}
		if c.ev.CommuneCode != "" {
			units = append(units, c.ev.CommuneCode)
		}
	}
	if err := s.refs.ensure(ctx, procs, ags, units); err != nil {
		j.catalogErr = err
	} else if err := s.ensureAgencyUnits(ctx, ags); err != nil {
		j.catalogErr = err
	}
	s.prefetch(j)
	return j
}

// enqueue hands a job to the writer; when the part stops first, every event gets
// errStopped.
func (s *Service) enqueue(ctx context.Context, j *job) {
	pending := false
	for _, it := range j.items {
		if it != nil {
			pending = true
			break
		}
	}
	if !pending {
		s.activity.record(j, s.now())
		close(j.done)
		return
	}
	// Checked first and under the read lock: with both cases ready a select picks at
	// random, and a job sent after the writer's last drain would never be answered.
	s.stopMu.RLock()
	defer s.stopMu.RUnlock()
	select {
	case <-s.stop:
		j.fail(errStopped)
		return
	default:
	}
	select {
	case s.jobs <- j:
	case <-s.stop:
		j.fail(errStopped)
	case <-ctx.Done():
		// Not queued: nothing of it is stored.
		j.fail(&platform.Error{Code: codes.Canceled, Reason: "CANCELED", Message: "request canceled before it was stored"})
	}
}

func (j *job) fail(err error) {
	for i, it := range j.items {
		if it != nil {
			j.results[i].err = err
		}
	}
	close(j.done)
}

// writer takes jobs and commits them in groups until the part stops. In its pauses it
// writes the idempotency keys it holds (idindex.go).
func (s *Service) writer() {
	defer close(s.stopped)
	pause := time.NewTimer(time.Hour)
	defer pause.Stop()
	for {
		var idle <-chan time.Time
		if s.ids.sealed != nil {
			pause.Reset(max(s.idPause, time.Until(s.idRetry)))
			idle = pause.C
		}
		var first *job
		select {
		case first = <-s.jobs:
		case <-idle:
			s.writeIDChunk()
			continue
		case <-s.stop:
			// Finish what is queued, then refuse.
			for {
				select {
				case j := <-s.jobs:
					s.commit([]*job{j})
				default:
					s.writeIDs()
					return
				}
			}
		}
		batch := []*job{first}
		n := len(first.items)
	gather:
		for n < maxCommitEvents {
			select {
			case j := <-s.jobs:
				batch = append(batch, j)
				n += len(j.items)
			default:
				break gather
			}
		}
		s.commit(batch)
	}
}

// writeIDs writes the idempotency keys held in memory into the index, so that the next
// start has none to read back from the log. A failure loses nothing: they are read back.
func (s *Service) writeIDs() {
	if s.ids.held() == 0 {
		return
	}
	seq := s.lastSeq.Load()
	if err := s.db.Update(func(tx *bolt.Tx) error { return s.ids.writeAll(tx, nil, seq) }); err != nil {
		s.lg.Warn("dossier idempotency keys not written at stop; they are read back from the log at the next start", zap.Error(err))
		return
	}
	s.ids.wroteAll(seq)
}

// writeIDChunk writes the next chunk of the sealed group of idempotency keys. After a
// failure it is tried again a second later (the keys stay held; the log has them anyway).
func (s *Service) writeIDChunk() {
	var n int
	if err := s.db.Update(func(tx *bolt.Tx) (err error) { n, err = s.ids.writeChunk(tx); return err }); err != nil {
		s.lg.Warn("dossier idempotency keys not written; tried again in a second", zap.Error(err))
		s.idRetry = time.Now().Add(time.Second)
		return
	}
	s.ids.wroteChunk(n, s.lastSeq.Load())
}

// txState is what one transaction changes, per dossier: its state (changed in place) and
// what its state before the transaction contributed to the statistics and the live index.
type txState struct {
	cur      *storev1.DossierState
	existed  bool
	before   []contribution
	live     liveEntry
	wasOpen  bool
	modified bool
}

func newTxState(st *storev1.DossierState) *txState {
	ts := &txState{cur: st, existed: st != nil}
	if st != nil {
		ts.before = contributions(st)
		ts.live, ts.wasOpen = liveOf(st)
	}
	return ts
}

// commit applies a group of jobs in one transaction and answers them after the commit.
func (s *Service) commit(batch []*job) {
	start := s.lastSeq.Load()
	seq := start
	var d *delta
	var ids pendingIDs
	var flushIDs bool
	var changed, systems []string
	var stamp string
	err := s.db.Update(func(tx *bolt.Tx) error {
		seq = start
		d = newDelta()
		states := map[string]*txState{}
		ids = pendingIDs{}
		stamp = s.now().In(Vietnam).Format(time.RFC3339Nano)
		for _, j := range batch {
			for i, it := range j.items {
				if it == nil {
					continue
				}
				r, err := s.applyOne(tx, j, it, states, ids, &seq, stamp)
				if err != nil {
					return err // storage failure: the whole transaction is abandoned
				}
				j.results[i] = r
			}
		}
		if flushIDs = s.ids.due(ids); flushIDs {
			if err := s.ids.writeAll(tx, ids, seq); err != nil {
				return err
			}
		}
		systems = storedSystems(batch)
		if err := putSystems(tx, systems, stamp); err != nil {
			return err
		}
		var err error
		changed, err = s.writeStates(tx, states, d)
		return err
	})
	if err != nil {
		s.lg.Error("dossier commit failed", zap.Error(err))
		failed := storageError(err)
		for _, j := range batch {
			for i, it := range j.items {
				if it != nil {
					j.results[i] = result{err: failed}
				}
			}
		}
	} else {
		s.ids.committed(ids, flushIDs, seq)
		s.touched.committed(changed, seq)
		s.stats.apply(d)
		s.last.set(systems, stamp)
		s.lastSeq.Store(seq)
		if seq != start {
			s.broadcast()
		}
	}
	now := s.now()
	for _, j := range batch {
		s.activity.record(j, now)
		close(j.done)
	}
}

// writeStates stores every changed dossier once, its open entry when it changed, and the
// changed cells. It returns the codes of the dossiers changed.
func (s *Service) writeStates(tx *bolt.Tx, states map[string]*txState, d *delta) ([]string, error) {
	dossiers, open, cells := tx.Bucket(bucketDossiers), tx.Bucket(bucketOpen), tx.Bucket(bucketCells)
	mo := proto.MarshalOptions{Deterministic: true}
	codes := make([]string, 0, len(states))
	for code, ts := range states {
		if ts.modified {
			codes = append(codes, code)
		}
	}
	slices.Sort(codes) // in key order, as for the event ids
	for _, code := range codes {
		ts := states[code]
		v, err := mo.Marshal(ts.cur) // a new slice each time: bbolt keeps values until the commit
		if err != nil {
			return nil, err
		}
		if err := dossiers.Put([]byte(code), v); err != nil {
			return nil, err
		}
		e, isOpen := liveOf(ts.cur)
		switch {
		case isOpen && (!ts.wasOpen || e != ts.live):
			if err := open.Put([]byte(code), encodeLive(e)); err != nil {
				return nil, err
			}
		case !isOpen && ts.wasOpen:
			if err := open.Delete([]byte(code)); err != nil {
				return nil, err
			}
		}
		d.changeFrom(ts.before, ts.live, ts.wasOpen, ts.cur, e, isOpen)
	}
	return codes, s.stats.writeCells(cells, d)
}

// storageError is what the callers of a failed commit are told: nothing of their request
// was stored, and why in words an operator can act on.
func storageError(err error) error {
	if platform.StorageFull(err) {
		return platform.ErrStorageFull(Part)
	}
	return &platform.Error{Code: codes.Unavailable, Reason: "STORAGE_FAILED",
		Message:   "the dossier part could not write to its data file: nothing of this request was stored; try again",
		MessageVI: "Không ghi được tệp dữ liệu hồ sơ: chưa lưu gì của yêu cầu này; vui lòng thử lại."}
}

// Refusals of the rules.
func refuse(reason, msg, vi string) error { return platform.FailedPrecondition(reason, msg, vi) }

// applyOne judges one event against the dossier's state and, if it passes, stores it. A
// refusal is the result's error; the returned error is a storage failure.
func (s *Service) applyOne(tx *bolt.Tx, j *job, c *checked, states map[string]*txState, pending pendingIDs, seq *int64, stamp string) (result, error) {
	system := j.system()
	ev := c.ev
	ids := tx.Bucket(bucketIDs)
	key := idKey(system, ev.EventId)
	ts := states[ev.DossierCode]
	if ts == nil {
		var st *storev1.DossierState
		var err error
		if s.touched.stateCurrent(c.pre, ev.DossierCode) {
			st = c.pre.state
		} else if st, err = loadState(tx, ev.DossierCode); err != nil {
			return result{}, err
		}
		ts = newTxState(st)
		states[ev.DossierCode] = ts
	}
	if v := s.ids.get(ids, pending, key, c.pre); v != nil {
		if len(v) == 24 && bytes.Equal(v[8:], c.hash) {
			r := result{dup: true, seq: int64(beUint64(v[:8]))}
			if ts.cur != nil {
				r.status = ts.cur.GetStatus()
			}
			return r, nil
		}
		return result{err: &platform.Error{Code: codes.AlreadyExists, Reason: "EVENT_ID_REUSED",
			Message:   fmt.Sprintf("event %q was stored before with other content", ev.EventId),
			MessageVI: fmt.Sprintf("Sự kiện %q đã được lưu trước đó với nội dung khác.", ev.EventId),
			Metadata:  map[string]string{"event_id": ev.EventId}}}, nil
	}
	if err := s.judge(j, c, ts.cur); err != nil {
		return result{err: err}, nil
	}
	days := uint32(0)
	if ts.cur == nil {
		days = s.refs.procedure(ev.ProcedureCode).days
		ts.cur = &storev1.DossierState{}
	}
	*seq++
	// The state is changed in place: what it contributed before the transaction was taken
	// when it was loaded, and a storage failure abandons the whole transaction.
	applyEvent(ts.cur, ev, c.at, c.due, *seq, days, s.cal)
	ts.modified = true
	unit := ""
	if ev.UnitCode == "" {
		unit = ts.cur.GetUnitCode()
	}
	body := appendStoredExtras(c.body, *seq, stamp, system, unit, days)
	events := tx.Bucket(bucketEvents)
	events.FillPercent = 1.0 // keys only ever grow: full pages, not half-empty ones (half the file)
	if err := events.Put(seqKey(*seq), body); err != nil {
		return result{}, err
	}
	feed := tx.Bucket(bucketFeedUnits)
	feed.FillPercent = 1.0 // a unit's keys only ever grow, as the log's
	if err := putFeedUnit(feed, cmp.Or(ev.UnitCode, unit), *seq); err != nil {
		return result{}, err
	}
	pending[string(key)] = idValue(*seq, c.hash)
	return result{status: ts.cur.GetStatus(), seq: *seq}, nil
}

func beUint64(b []byte) uint64 {
	var v uint64
	for _, x := range b[:8] {
		v = v<<8 | uint64(x)
	}
	return v
}

// judge applies the rules of docs/api.md ("Dossier events") that need the dossier's state: the caller's unit,
// the first event's fields and the catalog, the order and the transitions.
func (s *Service) judge(j *job, c *checked, st *storev1.DossierState) error {
	ev := c.ev
	if st == nil {
		var v platform.Violations
		if ev.UnitCode == "" {
			v.Add("unit_code", "is required on a dossier's first event")
		}
		if ev.AgencyCode == "" {
			v.Add("agency_code", "is required on a dossier's first event")
		}
		if ev.ProcedureCode == "" {
			v.Add("procedure_code", "is required on a dossier's first event")
		}
		if ev.Channel == 0 {
			v.Add("channel", "is required on a dossier's first event")
		}
		checkDue(&v, c.due, c.at)
		if err := v.Err(); err != nil {
			return err
		}
		if _, err := platform.MayWriteUnit(j.ctx, ev.UnitCode); err != nil {
			return err
		}
		if !firstStatus(int32(ev.Status)) {
			return refuse("DOSSIER_FIRST_STATUS",
				fmt.Sprintf("a dossier starts as NEW (1) or ACCEPTED (2), not %s; dossier %s is unknown", ev.Status, ev.DossierCode),
				"Hồ sơ phải bắt đầu ở trạng thái Mới đăng ký (1) hoặc Được tiếp nhận (2).")
		}
		return s.checkCatalog(j, c)
	}
	if _, err := platform.MayWriteUnit(j.ctx, st.GetUnitCode()); err != nil {
		return err
	}
	var v platform.Violations
	if ev.UnitCode != "" && ev.UnitCode != st.GetUnitCode() {
		v.Add("unit_code", "dossier %s belongs to unit %s", st.GetCode(), st.GetUnitCode())
	}
	if ev.AgencyCode != "" && ev.AgencyCode != st.GetAgencyCode() {
		v.Add("agency_code", "dossier %s belongs to agency %s", st.GetCode(), st.GetAgencyCode())
	}
	if ev.ProcedureCode != "" && ev.ProcedureCode != st.GetProcedureCode() {
		v.Add("procedure_code", "dossier %s is of procedure %s", st.GetCode(), st.GetProcedureCode())
	}
	if ev.Channel != 0 && int32(ev.Channel) != st.GetChannel() {
		v.Add("channel", "dossier %s came by channel %s", st.GetCode(), dossierv1.Channel(st.GetChannel()))
	}
	laterCommune(&v, ev.CommuneCode, st)
	checkDue(&v, c.due, st.GetReceivedAt())
	if err := v.Err(); err != nil {
		return err
	}
	if c.at < st.GetLastEventAt() {
		return refuse("DOSSIER_OUT_OF_ORDER",
			fmt.Sprintf("event occurred at %s, before the last applied event of dossier %s (%s)", ev.OccurredAt, st.GetCode(), fmtMillis(st.GetLastEventAt())),
			"Sự kiện xảy ra trước sự kiện đã ghi nhận gần nhất của hồ sơ.")
	}
	if !allowedFor(st, int32(ev.Status)) {
		return refuse("TRANSITION_NOT_ALLOWED",
			fmt.Sprintf("dossier %s cannot move from %s to %s", st.GetCode(), dossierv1.DossierStatus(st.GetStatus()), ev.Status),
			"Không được chuyển hồ sơ sang trạng thái này từ trạng thái hiện tại.")
	}
	return s.judgeDueChange(c, st)
}

// checkCatalog checks a first event's procedure, agency and unit against the catalog's
// answers (already in the cache: the writer never calls out).
func (s *Service) checkCatalog(j *job, c *checked) error {
	ev := c.ev
	p, a, u := s.refs.procedure(ev.ProcedureCode), s.refs.agency(ev.AgencyCode), s.refs.unit(ev.UnitCode)
	if j.catalogErr != nil && (!p.found || !a.found || !u.found) {
		var ce *platform.Error
		if errors.As(j.catalogErr, &ce) {
			return ce
		}
		return errCatalogDown
	}
	var v platform.Violations
	if !p.found {
		v.Add("procedure_code", "procedure %s is not in the catalog", ev.ProcedureCode)
	}
	if !a.found {
		v.Add("agency_code", "agency %s is not in the catalog", ev.AgencyCode)
	}
	date := time.UnixMilli(c.at).In(Vietnam).Format("2006-01-02")
	switch {
	case !u.found:
		v.Add("unit_code", "unit %s is not in the catalog", ev.UnitCode)
	case date < u.from || (u.to != "" && date > u.to):
		v.Add("unit_code", "unit %s is not in force on %s (in force %s to %s)", ev.UnitCode, date, u.from, orNow(u.to))
	}
	if err := v.Err(); err != nil {
		e := err.(*platform.Error)
		e.Reason = "UNKNOWN_REFERENCE"
		return e
	}
	if err := s.checkCommune(j, c); err != nil {
		return err
	}
	return s.checkOwner(j, c)
}

func orNow(s string) string {
	if s == "" {
		return "now"
	}
	return s
}

func fmtMillis(ms int64) string {
	if ms == 0 {
		return ""
	}
	return time.UnixMilli(ms).In(Vietnam).Format(time.RFC3339)
}

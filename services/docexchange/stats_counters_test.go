package docexchange

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/store/v1"
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
)

// referenceStats is how GetDocumentStats answered before the counters: every stored document
// of the period read and judged at each call. The counters must give the same answers (the
// median within the histogram's precision).
func referenceStats(ctx context.Context, s *Service, q statsQuery) (*docv1.DocumentStats, error) {
	var docs []*storev1.StoredDocument
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDocs).ForEach(func(_, raw []byte) error {
			var sd storev1.StoredDocument
			if err := proto.Unmarshal(raw, &sd); err != nil {
				return err
			}
			if m := monthOfDate(sd.GetDocument().GetPromulgationDate()); m >= q.fromM && m <= q.toM {
				docs = append(docs, &sd)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	unitOf := func(u string) string { return u }
	if q.geo == "current" {
		set := map[string]bool{}
		for _, sd := range docs {
			set[sd.GetFromUnit()] = true
			for _, u := range sd.GetRecipientUnits() {
				set[u] = true
			}
		}
		list := make([]string, 0, len(set))
		for u := range set {
			list = append(list, u)
		}
		cur, err := s.refs.currentUnits(ctx, list)
		if err != nil {
			return nil, err
		}
		unitOf = func(u string) string { return cur[u] }
	}
	type refRow struct {
		sent, received, electronic, fullyOnline int64
		hours                                   []float64
	}
	rows := map[string]*refRow{}
	total := &refRow{}
	row := func(key string) *refRow {
		if rows[key] == nil {
			rows[key] = &refRow{}
		}
		return rows[key]
	}
	keep := func(ag, u string) (string, bool) {
		if q.agency != "" && ag != q.agency {
			return "", false
		}
		if q.unit != "" && unitOf(u) != q.unit {
			return "", false
		}
		if q.group == "unit" {
			return unitOf(u), true
		}
		return ag, true
	}
	for _, sd := range docs {
		d := sd.GetDocument()
		allElectronic := true
		for i, rc := range d.GetRecipients() {
			// The recipient judged as before: accepted electronically, hours to the first 03.
			hours, electronic := -1.0, false
			var arrived, accepted time.Time
			paper := false
			for j, h := range rc.GetHistory() {
				t, _ := time.Parse(time.RFC3339Nano, h.GetUpdatedAt())
				if j == 0 {
					arrived = t
				}
				paper = paper || h.GetPaper()
				if atLeastAccepted(h.GetStatus()) && accepted.IsZero() {
					accepted = t
				}
			}
			if !accepted.IsZero() {
				hours, electronic = max(0, accepted.Sub(arrived).Hours()), !paper
			}
			allElectronic = allElectronic && electronic
			ru := ""
			if i < len(sd.GetRecipientUnits()) {
				ru = sd.GetRecipientUnits()[i]
			}
			if key, ok := keep(rc.GetAgencyCode(), ru); ok {
				for _, r := range []*refRow{row(key), total} {
					r.received++
					if electronic {
						r.electronic++
					}
					if hours >= 0 {
						r.hours = append(r.hours, hours)
					}
				}
			}
		}
		if key, ok := keep(d.GetFrom(), sd.GetFromUnit()); ok {
			for _, r := range []*refRow{row(key), total} {
				r.sent++
				if allElectronic && !d.GetBusiness().GetPaper() {
					r.fullyOnline++
				}
			}
		}
	}
	toProto := func(r *refRow, key string) *docv1.DocumentStatsRow {
		out := &docv1.DocumentStatsRow{Key: key, Sent: r.sent, Received: r.received, ReceivedElectronically: r.electronic, SentFullyOnline: r.fullyOnline}
		if r.received > 0 {
			out.ElectronicShare = float64(r.electronic) / float64(r.received)
		}
		if r.sent > 0 {
			out.FullyOnlineShare = float64(r.fullyOnline) / float64(r.sent)
		}
		if n := len(r.hours); n > 0 {
			sort.Float64s(r.hours)
			if n%2 == 1 {
				out.MedianHoursToAcceptance = r.hours[n/2]
			} else {
				out.MedianHoursToAcceptance = (r.hours[n/2-1] + r.hours[n/2]) / 2
			}
		}
		return out
	}
	out := &docv1.DocumentStats{Total: toProto(total, "")}
	keys := make([]string, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out.Rows = append(out.Rows, toProto(rows[k], k))
	}
	return out, nil
}

// statsCase is one request asked of both computations, by one caller.
type statsCase struct {
	caller *platform.Caller
	req    *docv1.GetDocumentStatsRequest
}

func statsCases() []statsCase {
	admin := &platform.Caller{System: "lienthong/admin", Role: platform.RoleAdmin}
	var out []statsCase
	for _, group := range []string{"agency", "unit"} {
		for _, geo := range []string{"current", "historical"} {
			for _, p := range [][2]string{{"", ""}, {"2018", ""}, {"2024", "2026"}, {"2025-Q3", ""}, {"2026-11", ""}, {"2025-07", "2026-Q1"}} {
				out = append(out, statsCase{admin, &docv1.GetDocumentStatsRequest{From: p[0], To: p[1], GroupBy: group, Geography: geo}})
			}
			for _, u := range []string{"33", "36", "37"} {
				out = append(out, statsCase{admin, &docv1.GetDocumentStatsRequest{Unit: u, GroupBy: group, Geography: geo}})
			}
		}
	}
	out = append(out,
		statsCase{&platform.Caller{System: agUBND33 + "/qlvb", Role: platform.RoleAgency}, &docv1.GetDocumentStatsRequest{}},
		statsCase{&platform.Caller{System: agTuPhap36 + "/qlvb", Role: platform.RoleAgency}, &docv1.GetDocumentStatsRequest{GroupBy: "unit"}},
		statsCase{&platform.Caller{System: "000.00.00.H31/qlvb", Role: platform.RoleProvince, Unit: "33"}, &docv1.GetDocumentStatsRequest{From: "2024", To: "2026"}},
		statsCase{&platform.Caller{System: "000.00.00.H42/qlvb", Role: platform.RoleProvince, Unit: "37"}, &docv1.GetDocumentStatsRequest{GroupBy: "unit"}},
	)
	return out
}

// compareStats asks every case of both computations: counts and shares must be equal, the
// median equal (exact) or within the histogram's 1/128.
func compareStats(t *testing.T, s *Service, exactMedian bool) {
	t.Helper()
	for _, c := range statsCases() {
		ctx := platform.WithCaller(context.Background(), c.caller)
		got, err := s.GetDocumentStats(ctx, c.req)
		if err != nil {
			t.Fatalf("%v: %v", c.req, err)
		}
		q, err := checkStatsRequest(ctx, c.req)
		if err != nil {
			t.Fatal(err)
		}
		want, err := referenceStats(ctx, s, q)
		if err != nil {
			t.Fatal(err)
		}
		rowsOK := len(got.GetRows()) == len(want.GetRows())
		for i := 0; rowsOK && i < len(want.GetRows()); i++ {
			rowsOK = sameStatsRow(got.GetRows()[i], want.GetRows()[i], exactMedian)
		}
		if !rowsOK || !sameStatsRow(got.GetTotal(), want.GetTotal(), exactMedian) {
			t.Fatalf("%s %v: counters answer\n%v\nthe stored documents say\n%v", c.caller.Role, c.req, got, want)
		}
	}
}

func sameStatsRow(got, want *docv1.DocumentStatsRow, exactMedian bool) bool {
	g := proto.Clone(got).(*docv1.DocumentStatsRow)
	w := proto.Clone(want).(*docv1.DocumentStatsRow)
	gm, wm := g.MedianHoursToAcceptance, w.MedianHoursToAcceptance
	g.MedianHoursToAcceptance, w.MedianHoursToAcceptance = 0, 0
	if !proto.Equal(g, w) {
		return false
	}
	if exactMedian {
		return gm == wm
	}
	return math.Abs(gm-wm) <= wm/histSub+1e-9
}

// checkStoredCounters says whether the counters stored in a file are exactly the sum of its
// stored documents' contributions.
func checkStoredCounters(t *testing.T, db *bolt.DB) {
	t.Helper()
	err := db.View(func(tx *bolt.Tx) error {
		want := map[string]*counterRow{}
		if err := tx.Bucket(bucketDocs).ForEach(func(_, raw []byte) error {
			var sd storev1.StoredDocument
			if err := proto.Unmarshal(raw, &sd); err != nil {
				return err
			}
			contribution(&sd, want, 1)
			return nil
		}); err != nil {
			return err
		}
		got := map[string][]byte{}
		if err := tx.Bucket(bucketStats).ForEach(func(k, v []byte) error {
			got[string(k)] = bytes.Clone(v)
			return nil
		}); err != nil {
			return err
		}
		for k, r := range want {
			if r.zero() {
				continue
			}
			if !bytes.Equal(got[k], r.encode()) {
				m, ag, u, _ := splitStatsKey([]byte(k))
				return fmt.Errorf("counters of month %d, %s, unit %s: stored %x, the documents say %x", m, ag, u, got[k], r.encode())
			}
			delete(got, k)
		}
		for k := range got {
			return fmt.Errorf("counters of %q stored for no document", k)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// statsWorkload sends documents and reports statuses, recalls and revocations at random.
type statsWorkload struct {
	f        *fixture
	rng      *rand.Rand
	agencies []string
	docs     []*docv1.Document
	n        int
}

var statsAgencies = map[string]string{
	agTuPhap33: "33", agUBND33: "33", agTNMT33: "33", "000.03.00.H31": "33", agTuPhap36: "36", "000.00.00.H40": "36", "000.05.00.H42": "37",
}

func newStatsWorkload(f *fixture, seed uint64) *statsWorkload {
	f.cat.mu.Lock()
	for a, u := range statsAgencies {
		f.cat.agencies[a] = u
	}
	f.cat.mu.Unlock()
	w := &statsWorkload{f: f, rng: rand.New(rand.NewPCG(seed, 15))}
	for a := range statsAgencies {
		w.agencies = append(w.agencies, a)
	}
	sort.Strings(w.agencies)
	return w
}

func (w *statsWorkload) admin() context.Context { return w.f.admin() }

// step does one random thing; refusals (a transition not allowed) are part of the game.
func (w *statsWorkload) step(t *testing.T) {
	rng := w.rng
	switch k := rng.IntN(10); {
	case k < 4 || len(w.docs) == 0:
		w.n++
		from := w.agencies[rng.IntN(len(w.agencies))]
		var to []string
		for _, i := range rng.Perm(len(w.agencies))[:1+rng.IntN(3)] {
			if w.agencies[i] != from {
				to = append(to, w.agencies[i])
			}
		}
		if len(to) == 0 {
			return
		}
		day := time.Date(2024+rng.IntN(3), time.Month(1+rng.IntN(10)), 1+rng.IntN(28), 0, 0, 0, 0, vietnam)
		d := &docv1.Document{From: from, To: to, CodeNumber: fmt.Sprint(w.n), CodeNotation: "TK", PromulgationDate: day.Format("2006-01-02"),
			DocumentType: "Công văn", Subject: "Thống kê"}
		if rng.IntN(3) == 0 {
			d.Business = &docv1.Business{Paper: true}
		}
		resp, err := w.f.client.SendDocument(w.admin(), &docv1.SendDocumentRequest{Document: d})
		if err != nil {
			t.Fatalf("send: %v", err)
		}
		w.docs = append(w.docs, resp.GetDocument())
	case k < 8:
		d := w.docs[rng.IntN(len(w.docs))]
		ag := d.GetTo()[rng.IntN(len(d.GetTo()))]
		sts := []docv1.DocumentStatus{stAccepted, stAccepted, stProcessing, stDone, stRejected, stAssigned, stRecallOK, stRecallNo}
		st := sts[rng.IntN(len(sts))]
		w.f.advance(time.Duration(rng.Int64N(120*3600)) * time.Second)
		r := &docv1.ReportStatusRequest{Id: d.GetId(), AgencyCode: ag, Status: st, Paper: rng.IntN(4) == 0}
		if needsReason(st) {
			r.Reason = "Lý do"
		}
		_, _ = w.f.client.ReportStatus(w.admin(), r)
	case k < 9:
		d := w.docs[rng.IntN(len(w.docs))]
		_, _ = w.f.client.RecallDocument(w.admin(), &docv1.RecallDocumentRequest{Id: d.GetId(), Reason: "Gửi nhầm"})
	default:
		d := w.docs[rng.IntN(len(w.docs))]
		w.n++
		rev := &docv1.Document{From: d.GetFrom(), To: d.GetTo(), CodeNumber: fmt.Sprint(w.n), CodeNotation: "TK", PromulgationDate: d.GetPromulgationDate(),
			Subject: "Thu hồi", BusinessType: docv1.BusinessType_BUSINESS_TYPE_REVOKE, ResponseFor: &docv1.ResponseFor{DocumentId: d.GetId()},
			Business: &docv1.Business{Reason: "Thu hồi văn bản"}}
		resp, err := w.f.client.SendDocument(w.admin(), &docv1.SendDocumentRequest{Document: rev})
		if err != nil {
			t.Fatalf("revoke: %v", err)
		}
		w.docs = append(w.docs, resp.GetDocument())
	}
}

// The counters follow every write: sends (with and without a paper copy), statuses (on
// paper or not), recalls and revocations, refusals that change nothing. At every point the
// stored counters are the sum of the stored documents and GetDocumentStats answers what the
// stored documents say (the computation it had before).
func TestStatsCountersFollowDocuments(t *testing.T) {
	f := newFixture(t)
	w := newStatsWorkload(f, 1)
	for i := 1; i <= 400; i++ {
		w.step(t)
		if i%50 == 0 {
			checkStoredCounters(t, f.db)
			compareStats(t, f.svc, false)
		}
	}
	// The workload reached what it is meant to test.
	st, err := f.svc.GetDocumentStats(platform.WithCaller(context.Background(), &platform.Caller{Role: platform.RoleAdmin}), &docv1.GetDocumentStatsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	tot := st.GetTotal()
	if tot.GetSent() < 100 || tot.GetReceivedElectronically() < 20 || tot.GetSentFullyOnline() < 5 || tot.GetReceived() == tot.GetReceivedElectronically() {
		t.Fatalf("workload too thin: %v", tot)
	}
}

// The median read from the histogram: exact for one distinct value per middle bucket, within
// 1/128 otherwise, for odd and even counts.
func TestStatsHistogramMedian(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for round := 0; round < 300; round++ {
		n := 1 + rng.IntN(60)
		r := &counterRow{}
		var hours []float64
		for i := 0; i < n; i++ {
			v := rng.Int64N(1 << (1 + rng.IntN(26)))
			if round%3 == 0 {
				v = 3600 * (1 + rng.Int64N(72)) // whole hours: exact
			}
			r.addSeconds(v, 1)
			hours = append(hours, (time.Duration(v) * time.Second).Hours())
		}
		sort.Float64s(hours)
		want := hours[n/2]
		if n%2 == 0 {
			want = (hours[n/2-1] + hours[n/2]) / 2
		}
		got := r.medianHours()
		if round%3 == 0 && got != want || math.Abs(got-want) > want/histSub+1e-12 {
			t.Fatalf("round %d: median %v, exact %v (%v)", round, got, want, hours)
		}
		dec, err := decodeCounterRow(r.encode())
		if err != nil || dec.medianHours() != got {
			t.Fatalf("encoded and decoded: %v %v", dec, err)
		}
	}
}

// The demo data answer exactly what the stored documents say, median included.
func TestStatsCountersDemo(t *testing.T) {
	f := newFixture(t)
	for u := 0; u < demoAgenciesPerUnit; u++ {
		for _, unit := range append([]string{"33", "08", "37", "68"}, demoUnits...) {
			f.cat.agencies[demoAgency(unit, u)] = unit
		}
	}
	f.cat.current["01"], f.cat.current["02"], f.cat.current["60"] = "01", "08", "56"
	if err := f.svc.LoadDemo(t.Context()); err != nil {
		t.Fatal(err)
	}
	checkStoredCounters(t, f.db)
	compareStats(t, f.svc, true)
	st, err := f.client.GetDocumentStats(f.admin(), &docv1.GetDocumentStatsRequest{Unit: "33", From: "2018", Geography: "historical"})
	if err != nil {
		t.Fatal(err)
	}
	if tot := st.GetTotal(); tot.GetSent() != demoHungYenDocs || tot.GetElectronicShare() != 0.89 || tot.GetFullyOnlineShare() != 0.45 ||
		tot.GetMedianHoursToAcceptance() <= 0 {
		t.Fatalf("Hưng Yên 2018: %v", tot)
	}
}

// A file written before the counters were kept (no counters, no mark) gets them built from
// its stored documents at start; so does a file whose counters have another layout.
func TestStatsCountersBuiltForOlderFile(t *testing.T) {
	f := newFixture(t)
	w := newStatsWorkload(f, 2)
	for i := 0; i < 120; i++ {
		w.step(t)
	}
	before, err := f.client.GetDocumentStats(f.admin(), &docv1.GetDocumentStatsRequest{GroupBy: "unit"})
	if err != nil {
		t.Fatal(err)
	}
	for _, older := range []func(tx *bolt.Tx) error{
		func(tx *bolt.Tx) error { // before the counters
			if err := tx.DeleteBucket(bucketStats); err != nil {
				return err
			}
			return tx.Bucket(bucketMeta).Delete([]byte(statsCountersKey))
		},
		func(tx *bolt.Tx) error { // another layout, with rows that mean nothing now
			if err := tx.Bucket(bucketStats).Put([]byte(statsKey(2026*12, agUBND33, "33")), (&counterRow{sent: 1000}).encode()); err != nil {
				return err
			}
			return tx.Bucket(bucketMeta).Put([]byte(statsCountersKey), []byte("0"))
		},
	} {
		f.closeFn()
		db, err := bolt.Open(filepath.Join(f.dir, "docexchange.db"), 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Update(older); err != nil {
			t.Fatal(err)
		}
		db.Close()
		f.open(f.verifier)
		checkStoredCounters(t, f.db)
		compareStats(t, f.svc, false)
		after, err := f.client.GetDocumentStats(f.admin(), &docv1.GetDocumentStatsRequest{GroupBy: "unit"})
		if err != nil || !proto.Equal(before, after) {
			t.Fatalf("after the rebuild %v (%v), before %v", after, err, before)
		}
	}
	w.step(t) // and they follow writes again
	checkStoredCounters(t, f.db)
}

// The counters are written in the transaction of the document or status that changes them:
// a copy of the file taken at any moment (what a crash would leave) has counters that are
// exactly the sum of its documents.
func TestStatsCountersCrashSafe(t *testing.T) {
	f := newFixture(t)
	w := newStatsWorkload(f, 3)
	for i := 0; i < 30; i++ {
		w.step(t)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 4)
	sent := make(chan struct{}, 1024)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 99))
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				d := &docv1.Document{From: agTuPhap33, To: []string{agUBND33, agTNMT33}, CodeNumber: fmt.Sprintf("%d%05d", g, n), CodeNotation: "CR",
					PromulgationDate: "2026-10-01", Subject: "Sự cố"}
				resp, err := f.client.SendDocument(f.admin(), &docv1.SendDocumentRequest{Document: d})
				if err != nil {
					errs <- err
					return
				}
				_, _ = f.client.ReportStatus(f.admin(), &docv1.ReportStatusRequest{Id: resp.GetId(), AgencyCode: agUBND33, Status: stAccepted, Paper: rng.IntN(2) == 0})
				select {
				case sent <- struct{}{}:
				default:
				}
			}
		}()
	}
	var snaps []string
	for i := 0; i < 8; i++ {
		for n := 0; n < 10; n++ { // a few writes between two copies
			select {
			case <-sent:
			case err := <-errs:
				t.Fatal(err)
			}
		}
		p := filepath.Join(t.TempDir(), "snap.db")
		if err := f.db.View(func(tx *bolt.Tx) error { return tx.CopyFile(p, 0o600) }); err != nil {
			t.Fatal(err)
		}
		snaps = append(snaps, p)
	}
	close(stop)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	for _, p := range snaps {
		db, err := bolt.Open(p, 0o600, &bolt.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		checkStoredCounters(t, db)
		db.Close()
	}
	checkStoredCounters(t, f.db)
}

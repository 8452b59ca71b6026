package main

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/docexchange"
)

// edXML bench modes (over REST, as the national platform's clients post them):
//   - edxml: small national-form packages (the letter of benchDocument, its 2 KiB attachment
//     zipped and base64-encoded) imported with POST /v1/documents:importEdxml;
//   - status-packages: status packages (03, 04, 05, 06 for each recipient, in order) of
//     documents sent beforehand over gRPC, imported the same way;
//   - edxml-large: one national-form package of just under the 20 MiB document limit with
//     10 attachments of random (incompressible) bytes, with the server's memory above idle.

// largeEdxmlAttachments is the number of attachments of the edxml-large package.
const largeEdxmlAttachments = 10

// postXML posts an edXML package; it answers the refusal's reason (empty when accepted).
func (b *bencher) postXML(ctx context.Context, hc *http.Client, body []byte, out any) (string, error) {
	return b.postAs(ctx, hc, "/v1/documents:importEdxml", "application/xml", body, out)
}

// importAnswer is what the bench reads of ImportEdxml's answer.
type importAnswer struct {
	ID             string `json:"id"`
	Duplicate      bool   `json:"duplicate"`
	StatusReported bool   `json:"status_reported"`
}

// timedWorkers runs conc workers until the deadline; each calls job(worker) until it answers
// false (no more work). It answers every successful call's latency and the failures.
func timedWorkers(ctx context.Context, conc int, d time.Duration, job func(w int) (time.Duration, bool, error)) ([]time.Duration, int64, time.Duration) {
	var failed atomic.Int64
	var first sync.Once
	var mu sync.Mutex
	var lat []time.Duration
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(deadline) && ctx.Err() == nil {
				took, more, err := job(w)
				if err != nil {
					failed.Add(1)
					first.Do(func() { fmt.Fprintf(os.Stderr, "bench: first failure: %v\n", err) })
				} else if took > 0 {
					mine = append(mine, took)
				}
				if !more {
					break
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return lat, failed.Load(), time.Since(start)
}

func (b *bencher) restClient(conc int) (*http.Client, func()) {
	tr := &http.Transport{MaxIdleConns: conc, MaxIdleConnsPerHost: conc, DisableCompression: true}
	return &http.Client{Transport: tr, Timeout: 120 * time.Second}, tr.CloseIdleConnections
}

// runEdxmlImports imports small national-form packages for --duration.
func (b *bencher) runEdxmlImports(ctx context.Context, modeNo int) (*docBenchResult, error) {
	conc := b.o.concurrency
	if conc <= 0 {
		conc = 16
	}
	hc, done := b.restClient(conc)
	defer done()
	stopMem := b.startMemory(ctx, b.o.memInterval)
	var next atomic.Int64
	lat, failed, elapsed := timedWorkers(ctx, conc, b.o.duration, func(int) (time.Duration, bool, error) {
		d := benchDocument(b.o.runID, modeNo, int(next.Add(1)))
		contents := [][]byte{d.Attachments[0].Content}
		pkg, err := docexchange.MarshalNationalEdxml(d, contents)
		if err != nil {
			return 0, false, err
		}
		t0 := time.Now()
		var out importAnswer
		reason, err := b.postXML(ctx, hc, pkg, &out)
		if err == nil && (reason != "" || out.ID == "" || out.Duplicate) {
			err = fmt.Errorf("refused: %s", reason)
		}
		return time.Since(t0), true, err
	})
	mem := stopMem()
	return &docBenchResult{Mode: "edxml", Concurrency: conc, Seconds: elapsed.Seconds(), Documents: int64(len(lat)), Failed: failed,
		DocsPerSec: float64(len(lat)) / elapsed.Seconds(), Latency: summarize(lat), Memory: mem}, nil
}

// runStatusPackages sends documents over gRPC (not timed), then imports their recipients'
// status packages for --duration: each recipient's 03, 04, 05 and 06 in order.
func (b *bencher) runStatusPackages(ctx context.Context, modeNo int) (*docBenchResult, error) {
	conc := b.o.concurrency
	if conc <= 0 {
		conc = 16
	}
	conn, err := b.docConn()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	client := docv1.NewDocumentServiceClient(conn)
	// Enough documents for 8 packages each at up to 6,000 packages/s.
	want := int(b.o.duration.Seconds()*750) + 100
	fmt.Fprintf(b.stderr, "bench: status-packages: sending %d documents first\n", want)
	docs := make([]*docv1.Document, want)
	var next atomic.Int64
	var prepErr atomic.Value
	_, _, _ = timedWorkers(ctx, 16, time.Hour, func(int) (time.Duration, bool, error) {
		n := int(next.Add(1)) - 1
		if n >= want {
			return 0, false, nil
		}
		resp, err := client.SendDocument(b.outgoing(ctx), &docv1.SendDocumentRequest{Document: benchDocument(b.o.runID, modeNo, n)})
		if err != nil {
			prepErr.Store(err)
			return 0, false, err
		}
		docs[n] = resp.GetDocument()
		return 0, true, nil
	})
	if err, _ := prepErr.Load().(error); err != nil {
		return nil, fmt.Errorf("sending the documents: %w", err)
	}
	type job struct {
		d         *docv1.Document
		recipient int
	}
	jobs := make(chan job, 2*want)
	for _, d := range docs {
		for i := range d.GetTo() {
			jobs <- job{d, i}
		}
	}
	close(jobs)
	hc, done := b.restClient(conc)
	defer done()
	stopMem := b.startMemory(ctx, b.o.memInterval)
	steps := []docv1.DocumentStatus{docv1.DocumentStatus_DOCUMENT_STATUS_ACCEPTED, docv1.DocumentStatus_DOCUMENT_STATUS_ASSIGNED,
		docv1.DocumentStatus_DOCUMENT_STATUS_PROCESSING, docv1.DocumentStatus_DOCUMENT_STATUS_DONE}
	// Each worker carries one recipient through its four statuses.
	cur := make([]*job, conc)
	stepOf := make([]int, conc)
	var exhausted atomic.Bool
	lat, failed, elapsed := timedWorkers(ctx, conc, b.o.duration, func(w int) (time.Duration, bool, error) {
		if cur[w] == nil || stepOf[w] == len(steps) {
			j, ok := <-jobs
			if !ok {
				exhausted.Store(true)
				return 0, false, nil
			}
			cur[w], stepOf[w] = &j, 0
		}
		j := cur[w]
		st := steps[stepOf[w]]
		stepOf[w]++
		pkg, err := docexchange.MarshalEdxmlStatus(j.d, j.recipient, &docv1.StatusChange{Status: st, Reason: "Văn thư: " + st.String()})
		if err != nil {
			return 0, false, err
		}
		t0 := time.Now()
		var out importAnswer
		reason, err := b.postXML(ctx, hc, pkg, &out)
		if err == nil && (reason != "" || !out.StatusReported) {
			err = fmt.Errorf("refused: %s", reason)
		}
		if err != nil {
			stepOf[w] = len(steps) // the next statuses of this recipient would be refused too
		}
		return time.Since(t0), true, err
	})
	mem := stopMem()
	if exhausted.Load() {
		fmt.Fprintf(b.stderr, "bench: status-packages: every prepared document's statuses were imported before --duration ended\n")
	}
	return &docBenchResult{Mode: "status-packages", Concurrency: conc, Seconds: elapsed.Seconds(), Documents: int64(len(lat)), Failed: failed,
		DocsPerSec: float64(len(lat)) / elapsed.Seconds(), Latency: summarize(lat), Memory: mem}, nil
}

// largeEdxmlPackage builds a national-form package of at most limit bytes with
// largeEdxmlAttachments attachments of random bytes (which zip to their own size).
func largeEdxmlPackage(run, modeNo, n int, limit int) ([]byte, error) {
	size := limit * 3 / 4 / largeEdxmlAttachments // base64 makes 4 bytes of 3
	for {
		d := benchDocument(run, modeNo, n)
		d.Attachments = nil
		var contents [][]byte
		for i := 0; i < largeEdxmlAttachments; i++ {
			c := make([]byte, size)
			_, _ = crand.Read(c)
			contents = append(contents, c)
			d.Attachments = append(d.Attachments, &docv1.Attachment{Name: fmt.Sprintf("phu-luc-%02d.pdf", i+1), ContentType: "application/pdf"})
		}
		pkg, err := docexchange.MarshalNationalEdxml(d, contents)
		if err != nil {
			return nil, err
		}
		if len(pkg) <= limit {
			return pkg, nil
		}
		size -= (len(pkg)-limit)*3/4/largeEdxmlAttachments + 1024
	}
}

// runLargeEdxml imports large packages one after another (at least one, for --duration at
// most) and reports the server's memory above idle.
func (b *bencher) runLargeEdxml(ctx context.Context, modeNo int) (*docBenchResult, error) {
	hc, done := b.restClient(1)
	defer done()
	pkg, err := largeEdxmlPackage(b.o.runID, modeNo, 0, 20<<20)
	if err != nil {
		return nil, err
	}
	r := &docBenchResult{Mode: "edxml-large", Concurrency: 1}
	if s, err := b.readMetrics(ctx); err == nil {
		r.IdleRSS = s["process_resident_memory_bytes"]
	}
	if b.o.serverPID > 0 {
		r.IdleAnon, _ = rssAnon(b.o.serverPID)
	}
	stopMem := b.startMemory(ctx, 20*time.Millisecond)
	var lat []time.Duration
	var failed int64
	start := time.Now()
	for n := 1; n == 1 || time.Since(start) < b.o.duration; n++ {
		if n > 1 { // another document: the next code number, the same attachments
			pkg = bytes.Replace(pkg, []byte(fmt.Sprintf("%d%d%07d", b.o.runID, modeNo, n-1)), []byte(fmt.Sprintf("%d%d%07d", b.o.runID, modeNo, n)), -1)
		}
		t0 := time.Now()
		var out importAnswer
		reason, err := b.postXML(ctx, hc, pkg, &out)
		if err == nil && (reason != "" || out.ID == "") {
			err = fmt.Errorf("refused: %s", reason)
		}
		if err != nil {
			fmt.Fprintf(b.stderr, "bench: edxml-large: %v\n", err)
			failed++
			continue
		}
		lat = append(lat, time.Since(t0))
	}
	elapsed := time.Since(start)
	r.Memory = stopMem()
	r.Seconds, r.Documents, r.Failed, r.UploadBytes = elapsed.Seconds(), int64(len(lat)), failed, int64(len(pkg))*int64(len(lat))
	r.DocsPerSec = float64(len(lat)) / elapsed.Seconds()
	r.MiBPerSecond = float64(r.UploadBytes) / (1 << 20) / elapsed.Seconds()
	r.Latency = summarize(lat)
	fmt.Fprintf(b.stderr, "bench: edxml-large: package of %d bytes (%.2f MiB), %d attachments\n", len(pkg), float64(len(pkg))/(1<<20), largeEdxmlAttachments)
	return r, nil
}

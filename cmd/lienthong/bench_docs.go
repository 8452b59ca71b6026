package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
)

// Document bench modes: small documents over gRPC and REST (documents/s and latency), and
// one large attachment streamed with UploadAttachment (throughput and the server's memory
// above idle); edXML packages and status packages over REST (bench_edxml.go). `--mode
// documents` runs them all.
var docBenchModes = []string{"doc-grpc", "doc-rest", "doc-upload", "edxml", "status-packages", "edxml-large"}

// docBenchResult is one document mode's figures.
type docBenchResult struct {
	Mode         string    `json:"mode"`
	Concurrency  int       `json:"concurrency"`
	Seconds      float64   `json:"seconds"`
	Documents    int64     `json:"documents"`
	Failed       int64     `json:"failed"`
	DocsPerSec   float64   `json:"documents_per_second"`
	Latency      latencies `json:"latency_ms"`
	UploadBytes  int64     `json:"upload_bytes,omitempty"`
	MiBPerSecond float64   `json:"upload_mib_per_second,omitempty"`
	IdleRSS      int64     `json:"idle_rss_bytes,omitempty"`
	IdleAnon     int64     `json:"idle_rss_anon_bytes,omitempty"`
	Memory       memory    `json:"memory"`
}

func (b *bencher) docConn() (*grpc.ClientConn, error) {
	return grpc.NewClient(b.o.addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20), grpc.MaxCallSendMsgSize(64<<20)))
}

// benchDocument is a small unsigned letter with a 2 KiB attachment, unique per run and n.
func benchDocument(run, mode, n int) *docv1.Document {
	return &docv1.Document{
		From: "000.02.00.H31", To: []string{"000.00.00.H31", "000.06.00.H31"},
		CodeNumber: fmt.Sprintf("%d%d%07d", run, mode, n), CodeNotation: "BENCH-VP", PromulgationDate: time.Now().Format("2006-01-02"),
		DocumentType: "Công văn", Subject: "Văn bản đo tải", Signer: &docv1.Signer{Name: "Nguyễn Văn A", Position: "Chánh Văn phòng"},
		Attachments: []*docv1.Attachment{{Name: "cv.pdf", ContentType: "application/pdf", Content: bytes.Repeat([]byte("%PDF lienthong "), 2048/15)}},
	}
}

// runDocMode runs one document mode.
func (b *bencher) runDocMode(ctx context.Context, mode string, modeNo int) (*docBenchResult, error) {
	switch mode {
	case "doc-upload":
		return b.runUpload(ctx)
	case "edxml":
		return b.runEdxmlImports(ctx, modeNo)
	case "status-packages":
		return b.runStatusPackages(ctx, modeNo)
	case "edxml-large":
		return b.runLargeEdxml(ctx, modeNo)
	}
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
	tr := &http.Transport{MaxIdleConns: conc, MaxIdleConnsPerHost: conc, DisableCompression: true}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	stopMem := b.startMemory(ctx, b.o.memInterval)

	var next, failed atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	deadline := time.Now().Add(b.o.duration)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(deadline) && ctx.Err() == nil {
				d := benchDocument(b.o.runID, modeNo, int(next.Add(1)))
				t0 := time.Now()
				var err error
				if mode == "doc-grpc" {
					_, err = client.SendDocument(b.outgoing(ctx), &docv1.SendDocumentRequest{Document: d})
				} else {
					body, _ := protojson.Marshal(d)
					var out map[string]any
					var reason string
					reason, err = b.post(ctx, hc, "/v1/documents", body, &out)
					if err == nil && reason != "" {
						err = fmt.Errorf("refused: %s", reason)
					}
				}
				if err != nil {
					failed.Add(1)
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	mem := stopMem()
	r := &docBenchResult{Mode: mode, Concurrency: conc, Seconds: elapsed.Seconds(), Documents: int64(len(lat)), Failed: failed.Load(),
		DocsPerSec: float64(len(lat)) / elapsed.Seconds(), Latency: summarize(lat), Memory: mem}
	return r, nil
}

// runUpload streams --upload-mib of data in 1 MiB messages and samples the server's memory
// every 50 ms, after taking the idle figures.
func (b *bencher) runUpload(ctx context.Context) (*docBenchResult, error) {
	conn, err := b.docConn()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	client := docv1.NewDocumentServiceClient(conn)
	r := &docBenchResult{Mode: "doc-upload", Concurrency: 1}
	if s, err := b.readMetrics(ctx); err == nil {
		r.IdleRSS = s["process_resident_memory_bytes"]
	}
	if b.o.serverPID > 0 {
		r.IdleAnon, _ = rssAnon(b.o.serverPID)
	}
	stopMem := b.startMemory(ctx, 50*time.Millisecond)

	total := int64(b.o.uploadMiB) << 20
	chunk := make([]byte, 1<<20)
	h := sha256.New()
	start := time.Now()
	stream, err := client.UploadAttachment(b.outgoing(ctx))
	if err != nil {
		stopMem()
		return nil, err
	}
	if err := stream.Send(&docv1.UploadAttachmentRequest{Header: &docv1.UploadHeader{Name: "bench.bin", ContentType: "application/octet-stream"}}); err != nil {
		stopMem()
		return nil, err
	}
	for sent := int64(0); sent < total; sent += int64(len(chunk)) {
		for i := range chunk {
			chunk[i] = byte(sent>>20) ^ byte(i)
		}
		h.Write(chunk)
		if err := stream.Send(&docv1.UploadAttachmentRequest{Chunk: chunk}); err != nil {
			stopMem()
			_, rerr := stream.CloseAndRecv()
			return nil, fmt.Errorf("upload: %v (%v)", err, rerr)
		}
	}
	up, err := stream.CloseAndRecv()
	elapsed := time.Since(start)
	r.Memory = stopMem()
	if err != nil {
		return nil, fmt.Errorf("upload: %w", err)
	}
	if up.GetSize() != total || up.GetSha256() != hex.EncodeToString(h.Sum(nil)) {
		return nil, fmt.Errorf("upload stored %d bytes with SHA-256 %s; sent %d", up.GetSize(), up.GetSha256(), total)
	}
	r.Seconds, r.Documents, r.UploadBytes = elapsed.Seconds(), 1, total
	r.MiBPerSecond = float64(total) / (1 << 20) / elapsed.Seconds()
	r.Latency = summarize([]time.Duration{elapsed})
	return r, nil
}

// printDocBenchTable prints one row per document mode.
func printDocBenchTable(w io.Writer, rows []*docBenchResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\tconc\tdocuments\tfailed\tdocs/s\tp50 ms\tp90 ms\tp99 ms\tMiB/s\tidle RSS MiB\tmax RSS MiB\tRSS above idle MiB\tmax anon MiB\tanon above idle MiB\tmax heap MiB\t")
	for _, r := range rows {
		above, anonAbove := "", ""
		if r.IdleRSS > 0 {
			above = mib(r.Memory.RSS - r.IdleRSS)
		}
		if r.IdleAnon > 0 {
			anonAbove = mib(r.Memory.RSSAnon - r.IdleAnon)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.0f\t%s\t%s\t%s\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Mode, r.Concurrency, r.Documents, r.Failed, r.DocsPerSec,
			ms(r.Latency.P50), ms(r.Latency.P90), ms(r.Latency.P99), r.MiBPerSecond, mib(r.IdleRSS), mib(r.Memory.RSS), above,
			mib(r.Memory.RSSAnon), anonAbove, mib(r.Memory.HeapInuse))
	}
	tw.Flush()
}

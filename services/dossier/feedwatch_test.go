package dossier

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"github.com/lienthong/lienthong/services/platform/platformtest"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// tcpFixture is the dossier part on a real loopback listener (flow control as on a
// network), counting the feed watches its handlers are serving.
type tcpFixture struct {
	*fixture
	addr      string
	watching  atomic.Int64
	streaming atomic.Int64 // StreamDossierEvents handlers running
}

func newTCPFixture(t *testing.T, sendTimeout time.Duration) *tcpFixture {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db, err := bolt.Open(filepath.Join(dir, "dossier.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	tf := &tcpFixture{fixture: &fixture{t: t, dir: dir, db: db, cat: newFakeCatalog(), clock: newFakeClock(testNow), issuer: platform.NewTokenIssuer(priv)}}
	f := tf.fixture
	f.svc, err = Open(db, Options{Catalog: f.cat, Calendar: DefaultCalendar(), Logger: zap.NewNop(), Now: f.clock.Now, SendTimeout: sendTimeout})
	if err != nil {
		t.Fatal(err)
	}
	count := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		if strings.HasSuffix(info.FullMethod, "/WatchDossierEvents") {
			tf.watching.Add(1)
			defer tf.watching.Add(-1)
		}
		if strings.HasSuffix(info.FullMethod, "/StreamDossierEvents") {
			tf.streaming.Add(1)
			defer tf.streaming.Add(-1)
		}
		return h(srv, ss)
	}
	srv := platform.NewServer(platform.ServerOptions{Part: Part, Logger: zap.NewNop(), Verifier: platform.NewTokenVerifier(pub), Policy: Policy,
		GRPCOptions: []grpc.ServerOption{grpc.ChainStreamInterceptor(count)}})
	Register(srv, f.svc)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tf.addr = lis.Addr().String()
	sctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Serve(sctx, lis, time.Second); close(done) }()
	conn, err := grpc.NewClient(tf.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		stop()
		<-done
		f.svc.Close()
		db.Close()
	})
	f.client = dossierv1.NewDossierServiceClient(conn)
	return tf
}

// stalledConn is a connection of its own whose client keeps the smallest flow-control
// windows grpc-go allows (64 KiB); it is closed before the fixture's own cleanup.
func (tf *tcpFixture) stalledConn(t *testing.T) dossierv1.DossierServiceClient {
	t.Helper()
	conn, err := grpc.NewClient(tf.addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return dossierv1.NewDossierServiceClient(conn)
}

// stalledWatch opens a watch of the whole feed on a connection of its own whose client
// keeps the smallest flow-control windows grpc-go allows (64 KiB) and never reads. The
// stream is ended (and its connection closed) before the fixture's own cleanup.
func (tf *tcpFixture) stalledWatch(t *testing.T) dossierv1.DossierService_WatchDossierEventsClient {
	t.Helper()
	client := tf.stalledConn(t)
	ctx, cancel := context.WithCancel(tf.admin())
	t.Cleanup(cancel)
	s, err := client.WatchDossierEvents(ctx, &dossierv1.WatchDossierEventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// While several clients hold watches open and never read them, sustained writing that
// grows the data file (bbolt then remaps it, which waits for every open read transaction)
// keeps committing with normal latency, by every writer, and another caller's reads keep
// answering. Before the watches sent with their read transaction closed, the first remap
// stalled the writer, and every reader behind it, for as long as the clients did not read.
func TestStalledWatchesDoNotHoldTheWriter(t *testing.T) {
	tf := newTCPFixture(t, time.Minute) // the watches stay stalled for the whole test
	f := tf.fixture
	manyOf33(f, 2000) // more than the watches' flow-control windows hold
	size0 := fileSize(t, f.db.Path())

	const stalled = 4
	began := f.db.Stats().TxN
	for range stalled {
		tf.stalledWatch(t)
	}
	platformtest.WaitFor(t, 10*time.Second, "the watches to start reading the feed", func() bool {
		return tf.watching.Load() == stalled && f.db.Stats().TxN-began >= stalled
	})

	// Well above a commit's latency on a loaded machine, far below "until the client reads".
	const bound = 5 * time.Second
	nb := f.province("37")
	timed := func(what string, call func(ctx context.Context) error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(nb, bound)
		defer cancel()
		start := time.Now()
		if err := call(ctx); err != nil {
			t.Fatalf("%s, after %s, with %d watches stalled: %v", what, time.Since(start).Round(time.Millisecond), stalled, err)
		}
	}
	stream, err := f.client.StreamDossierEvents(nb)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.CloseSend()
	at := vn(2026, 11, 10, 8, 0)
	next := 0
	newDossiers := func(n int) []*dossierv1.DossierEvent {
		evs := make([]*dossierv1.DossierEvent, n)
		for i := range evs {
			next++
			evs[i] = mkFirst(fmt.Sprintf("w-%d", next), dcode(agency37, "261109", next), sNew, at, "37", agency37, procCivil, chOnline)
		}
		return evs
	}
	refused := func(rs []*dossierv1.EventResult) error {
		for _, r := range rs {
			if r.GetError() != nil {
				return fmt.Errorf("event %s refused: %v", r.GetEventId(), r.GetError())
			}
		}
		return nil
	}
	rounds := 0
	for fileSize(t, f.db.Path()) < 4*size0 { // at least one remap of the file
		if rounds++; rounds > 500 {
			t.Fatalf("the file did not grow from %d bytes", size0)
		}
		timed("a batch", func(ctx context.Context) error {
			resp, err := f.client.BatchCreateDossierEvents(ctx, &dossierv1.BatchCreateDossierEventsRequest{Events: newDossiers(300)})
			if err != nil {
				return err
			}
			return refused(resp.GetResults())
		})
		timed("a single event", func(ctx context.Context) error {
			_, err := f.client.CreateDossierEvent(ctx, &dossierv1.CreateDossierEventRequest{Event: newDossiers(1)[0]})
			return err
		})
		timed("a batch on an event stream", func(ctx context.Context) error {
			id := fmt.Sprint(rounds)
			if err := stream.Send(&dossierv1.StreamDossierEventsRequest{BatchId: id, Events: newDossiers(100)}); err != nil {
				return err
			}
			got := make(chan error, 1)
			go func() {
				resp, err := stream.Recv()
				if err == nil {
					err = refused(resp.GetResults())
				}
				got <- err
			}()
			select {
			case err := <-got:
				return err
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		timed("another caller's page of the feed", func(ctx context.Context) error {
			_, err := f.client.ListDossierEvents(ctx, &dossierv1.ListDossierEventsRequest{PageSize: 10})
			return err
		})
		timed("another caller's dossier", func(ctx context.Context) error {
			_, err := f.client.GetDossier(ctx, &dossierv1.GetDossierRequest{Code: dcode(agency37, "261109", next)})
			return err
		})
	}
	if got := tf.watching.Load(); got != stalled {
		t.Errorf("%d watches still open, want the %d stalled ones (the send timeout is a minute)", got, stalled)
	}
	t.Logf("%d rounds of writes, file %d → %d bytes, with %d watches stalled", rounds, size0, fileSize(t, f.db.Path()), stalled)
}

// A watch whose client stops reading is ended once a send has waited the send timeout: the
// server lets it go, and the client, reading at last, gets what was sent before, then
// DEADLINE_EXCEEDED with the reason SEND_TIMEOUT.
func TestStalledWatchIsEndedAfterTheSendTimeout(t *testing.T) {
	tf := newTCPFixture(t, 300*time.Millisecond)
	f := tf.fixture
	manyOf33(f, 2000)

	s := tf.stalledWatch(t)
	platformtest.WaitFor(t, 10*time.Second, "the watch to start", func() bool { return tf.watching.Load() == 1 })
	platformtest.WaitFor(t, 10*time.Second, "the server to end the stalled watch", func() bool { return tf.watching.Load() == 0 })

	got := 0
	for {
		e, err := s.Recv()
		if err != nil {
			st := status.Convert(err)
			if st.Code() != codes.DeadlineExceeded {
				t.Fatalf("after %d events: %v, want DEADLINE_EXCEEDED", got, err)
			}
			reason := ""
			for _, d := range st.Details() {
				if info, ok := d.(*errdetails.ErrorInfo); ok {
					reason = info.GetReason()
				}
			}
			if reason != "SEND_TIMEOUT" {
				t.Errorf("reason %q, want SEND_TIMEOUT", reason)
			}
			break
		}
		if got++; e.GetSequence() != int64(got) {
			t.Fatalf("event %d has sequence %d", got, e.GetSequence())
		}
	}
	if got == 0 || got >= 2002 {
		t.Errorf("the client got %d of 2002 events before the end, want some but not all", got)
	}
}

// An event stream whose client sends batches but stops reading their answers is ended
// once an answer has waited the send timeout: the call returns, the client's later sends
// fail, and reading at last it gets the answers sent before, then SEND_TIMEOUT.
func TestEventStreamThatStopsReadingIsEnded(t *testing.T) {
	tf := newTCPFixture(t, 300*time.Millisecond)
	ctx, cancel := context.WithCancel(tf.province("33"))
	defer cancel()
	s, err := tf.stalledConn(t).StreamDossierEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	at := vn(2026, 11, 10, 8, 0)
	batch := make([]*dossierv1.DossierEvent, MaxBatch)
	for i := range batch {
		batch[i] = mkFirst(fmt.Sprintf("s-%d", i), dcode(agency33a, "261110", i+1), sNew, at, "33", agency33a, procLand, chOnline)
	}
	// The same batch again and again: stored once, then answered as duplicates, each answer
	// about 30 KiB, so a few fill the client's window.
	sent := make(chan int, 1)
	go func() {
		n := 0
		for ; n < 40; n++ {
			if err := s.Send(&dossierv1.StreamDossierEventsRequest{BatchId: fmt.Sprint(n), Events: batch}); err != nil {
				break // the server ended the stream
			}
		}
		sent <- n
	}()
	platformtest.WaitFor(t, 10*time.Second, "the stream to start", func() bool { return tf.streaming.Load() == 1 })
	platformtest.WaitFor(t, 10*time.Second, "the server to end the stream whose answers are not read", func() bool { return tf.streaming.Load() == 0 })

	answers := 0
	for {
		resp, err := s.Recv()
		if err != nil {
			st := status.Convert(err)
			if st.Code() != codes.DeadlineExceeded || !strings.Contains(st.Message(), "did not read") {
				t.Fatalf("after %d answers: %v, want DEADLINE_EXCEEDED for the send timeout", answers, err)
			}
			break
		}
		if resp.GetBatchId() != fmt.Sprint(answers) || len(resp.GetResults()) != MaxBatch {
			t.Fatalf("answer %d: batch %q with %d results", answers, resp.GetBatchId(), len(resp.GetResults()))
		}
		answers++
	}
	n := <-sent
	if answers == 0 || answers >= n {
		t.Errorf("%d answers of the %d batches sent, want some but not all", answers, n)
	}
	// What was sent is stored all the same (once: the rest were duplicates).
	if got := len(tf.feed()); got != MaxBatch {
		t.Errorf("%d events stored, want %d", got, MaxBatch)
	}
}

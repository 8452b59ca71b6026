package docexchange

import (
	"bytes"
	"context"
	"fmt"
	"github.com/lienthong/lienthong/services/platform/platformtest"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// serveOnLoopback serves the fixture's part on a real loopback listener too (flow control
// as on a network) and returns its address and the number of calls of a method running.
func serveOnLoopback(t *testing.T, f *fixture) (string, func(method string) int) {
	t.Helper()
	var mu sync.Mutex
	running := map[string]int{}
	count := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		m := info.FullMethod[strings.LastIndex(info.FullMethod, "/")+1:]
		mu.Lock()
		running[m]++
		mu.Unlock()
		defer func() {
			mu.Lock()
			running[m]--
			mu.Unlock()
		}()
		return h(srv, ss)
	}
	srv := platform.NewServer(platform.ServerOptions{Part: Part, Logger: zap.NewNop(), Verifier: f.verifier, Policy: Policy, MaxMessageBytes: 8 << 20,
		GRPCOptions: []grpc.ServerOption{grpc.ChainStreamInterceptor(count)}})
	Register(srv, f.svc)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Serve(ctx, lis, time.Second); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	return lis.Addr().String(), func(m string) int {
		mu.Lock()
		defer mu.Unlock()
		return running[m]
	}
}

// An inbox subscription and a download whose client stops reading are ended once a send
// has waited the send timeout, while the part keeps taking documents; the client, reading
// at last, gets what was sent before, then DEADLINE_EXCEEDED with the reason SEND_TIMEOUT.
func TestStalledInboxAndDownloadAreEnded(t *testing.T) {
	f := newFixture(t)
	f.svc.sendTimeout = 300 * time.Millisecond // before any stream: Options.SendTimeout in a deployment
	addr, running := serveOnLoopback(t, f)

	big := letter("big")
	big.Attachments[0].Content = bytes.Repeat([]byte("x"), 3*blobChunk) // three messages
	id := f.send(big).GetId()
	for i := range 4 { // more than the client's flow-control window holds: 100 KiB of entry each
		l := letter(fmt.Sprint(i))
		l.Subject = strings.Repeat("ệ", 2000)
		for j := range 30 {
			l.Attachments = append(l.Attachments, &docv1.Attachment{Name: fmt.Sprintf("pl%d.pdf", j), ContentType: "application/pdf",
				Description: strings.Repeat("ệ", 1000), Content: []byte("%PDF-1.4 phụ lục")})
		}
		f.send(l)
	}

	// A client with the smallest flow-control windows grpc-go allows, that never reads.
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(8<<20)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := docv1.NewDocumentServiceClient(conn)
	ctx, cancel := context.WithCancel(f.agency(agUBND33))
	defer cancel()
	inbox, err := client.SubscribeInbox(ctx, &docv1.SubscribeInboxRequest{AgencyCode: agUBND33})
	if err != nil {
		t.Fatal(err)
	}
	dl, err := client.DownloadAttachment(ctx, &docv1.DownloadAttachmentRequest{Id: id, Index: 0})
	if err != nil {
		t.Fatal(err)
	}
	platformtest.WaitFor(t, 10*time.Second, "both streams to start", func() bool { return running("SubscribeInbox") == 1 && running("DownloadAttachment") == 1 })
	f.send(letter("during")) // the part keeps taking documents
	platformtest.WaitFor(t, 10*time.Second, "the server to end both stalled streams", func() bool {
		return running("SubscribeInbox") == 0 && running("DownloadAttachment") == 0
	})

	for name, recv := range map[string]func() error{
		"inbox":    func() error { _, err := inbox.Recv(); return err },
		"download": func() error { _, err := dl.Recv(); return err },
	} {
		n := 0
		for {
			err := recv()
			if err == nil {
				n++
				continue
			}
			if status.Code(err) != codes.DeadlineExceeded || reason(err) != "SEND_TIMEOUT" {
				t.Errorf("%s after %d messages: %v, want DEADLINE_EXCEEDED SEND_TIMEOUT", name, n, err)
			}
			break
		}
	}
}

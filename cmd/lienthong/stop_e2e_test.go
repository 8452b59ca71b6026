package main

import (
	"context"
	binenc "encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
)

// TestStopWithStuckStreams opens streams of every kind that never finish (a watch whose
// client never reads, through the gateway and straight to the part; a stream the gateway
// serves itself, reflection, left open; a REST body that stops halfway; an upload that
// stops mid-way; a gRPC message cut in the middle, at the gateway's flow gate), then sends
// SIGTERM: the process must exit, cleanly, within
// --grace plus a few seconds.
func TestStopWithStuckStreams(t *testing.T) {
	const grace = 2 * time.Second
	s := startUp(t, t.TempDir(), "--grace", grace.String())
	token := s.token()
	ctx, cancel := context.WithCancel(metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token))
	defer cancel()
	dial := func(addr string) *grpc.ClientConn {
		c, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	gw, part := dial(s.addr), dial(s.parts["dossier"])

	// Watches that are never read, through the gateway and straight to the part.
	for _, c := range []*grpc.ClientConn{gw, part} {
		if _, err := dossierv1.NewDossierServiceClient(c).WatchDossierEvents(ctx, &dossierv1.WatchDossierEventsRequest{}); err != nil {
			t.Fatalf("watch: %v", err)
		}
	}
	// A reflection stream (served by the gateway itself) that asks once and never again.
	refl, err := reflectionv1.NewServerReflectionClient(gw).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatalf("reflection: %v", err)
	}
	if err := refl.Send(&reflectionv1.ServerReflectionRequest{MessageRequest: &reflectionv1.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatalf("reflection request: %v", err)
	}
	if _, err := refl.Recv(); err != nil {
		t.Fatalf("reflection answer: %v", err)
	}
	// An upload that sends its header and one chunk, then nothing.
	up, err := docv1.NewDocumentServiceClient(gw).UploadAttachment(ctx)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	if err := up.Send(&docv1.UploadAttachmentRequest{Header: &docv1.UploadHeader{Name: "a.pdf", ContentType: "application/pdf"}}); err != nil {
		t.Fatalf("upload header: %v", err)
	}
	if err := up.Send(&docv1.UploadAttachmentRequest{Chunk: make([]byte, 64<<10)}); err != nil {
		t.Fatalf("upload chunk: %v", err)
	}
	// A gRPC message whose frame announces 1 MiB and carries 10 bytes.
	h2 := halfGRPCMessage(t, s.addr, token)
	defer h2.Close()
	// A REST body that announces 1000 bytes and stops after 10.
	rest, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer rest.Close()
	fmt.Fprintf(rest, "POST /v1/dossier-events HTTP/1.1\r\nHost: lienthong\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"event_id", token)

	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.exited:
	case <-time.After(grace + 5*time.Second):
		t.Fatalf("still running %v after SIGTERM with --grace %v; logs:\n%s", time.Since(start).Round(time.Millisecond), grace, tail(s.logs.String(), 4000))
	}
	t.Logf("stopped %v after SIGTERM (grace %v)", time.Since(start).Round(time.Millisecond), grace)
	if !s.cmd.ProcessState.Success() {
		t.Errorf("exit %v after SIGTERM, want 0; logs:\n%s", s.cmd.ProcessState, tail(s.logs.String(), 4000))
	}
}

// halfGRPCMessage opens an HTTP/2 (cleartext) gRPC call to UploadAttachment and sends the
// start of a message that never ends; the request stays open until the connection closes.
func halfGRPCMessage(t *testing.T, addr, token string) io.Closer {
	t.Helper()
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: &protocols}
	pr, pw := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/lienthong.docexchange.v1.DocumentService/UploadAttachment", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	req.Header.Set("Authorization", "Bearer "+token)
	go func() {
		resp, err := tr.RoundTrip(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	var frame [5]byte
	binenc.BigEndian.PutUint32(frame[1:], 1<<20)
	if _, err := pw.Write(append(frame[:], make([]byte, 10)...)); err != nil {
		t.Fatalf("write the start of a message: %v", err)
	}
	return closerFunc(func() error {
		pw.Close()
		tr.CloseIdleConnections()
		return nil
	})
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// tail is the end of s, at most n bytes.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

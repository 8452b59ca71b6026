package gateway_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/lienthong/lienthong/gateway"
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
	"github.com/lienthong/lienthong/services/platform/platformtest"
	"google.golang.org/grpc"
)

// fakeDocs is a document part that records how edXML packages reach it.
type fakeDocs struct {
	docv1.UnimplementedDocumentServiceServer
	mu        sync.Mutex
	unary     [][]byte
	streamed  [][]byte
	maxChunk  int
	cancelled int
}

func (f *fakeDocs) ImportEdxml(_ context.Context, r *docv1.ImportEdxmlRequest) (*docv1.SendDocumentResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unary = append(f.unary, r.GetEdxml())
	if bytes.Contains(r.GetEdxml(), []byte("<bad")) {
		return nil, platform.Invalid(platform.FieldViolation{Field: "edxml", Description: "not well-formed XML"})
	}
	return &docv1.SendDocumentResponse{Id: "unary"}, nil
}

func (f *fakeDocs) ImportEdxmlStream(st grpc.ClientStreamingServer[docv1.ImportEdxmlStreamRequest, docv1.SendDocumentResponse]) error {
	var got []byte
	for {
		m, err := st.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			f.mu.Lock()
			f.cancelled++
			f.mu.Unlock()
			return err
		}
		f.mu.Lock()
		f.maxChunk = max(f.maxChunk, len(m.GetChunk()))
		f.mu.Unlock()
		got = append(got, m.GetChunk()...)
	}
	f.mu.Lock()
	f.streamed = append(f.streamed, got)
	f.mu.Unlock()
	if bytes.Contains(got, []byte("<bad")) {
		return platform.Invalid(platform.FieldViolation{Field: "edxml", Description: "not well-formed XML"})
	}
	return st.SendAndClose(&docv1.SendDocumentResponse{Id: "streamed"})
}

// An edXML body that is not JSON reaches the part as a stream of chunks of at most 64 KiB,
// byte for byte; a JSON body takes the unary call; the part's errors keep their HTTP
// mapping; a body over the limit is 413 and the part's call is cancelled.
func TestRESTEdxmlBodyIsStreamed(t *testing.T) {
	fake := &fakeDocs{}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	docv1.RegisterDocumentServiceServer(srv, fake)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	const docLimit = 1 << 20
	e := newEnvConfig(t, func(c *gateway.Config) {
		c.MaxDocumentBytes = docLimit
		c.Parts = append(c.Parts, gateway.Part{
			Name: "docexchange", Addr: lis.Addr().String(),
			Services: []string{docv1.DocumentService_ServiceDesc.ServiceName},
			Policy:   platform.Policy{},
			RegisterREST: func(ctx context.Context, mux *runtime.ServeMux, cc grpc.ClientConnInterface) error {
				return docv1.RegisterDocumentServiceHandlerClient(ctx, mux, docv1.NewDocumentServiceClient(cc))
			},
		})
	})
	auth := map[string]string{"Authorization": "Bearer " + e.token(), "Content-Type": "application/xml"}
	pkg := "<edXML>" + strings.Repeat("QUJDRA==", 300<<10/8) + "</edXML>"

	r := e.do(request{method: http.MethodPost, path: "/v1/documents:importEdxml", body: pkg, header: auth, chunked: true})
	if r.code != http.StatusOK || !strings.Contains(string(r.body), `"streamed"`) {
		t.Fatalf("XML body: got %d %.300s", r.code, r.body)
	}
	fake.mu.Lock()
	if len(fake.unary) != 0 || len(fake.streamed) != 1 || string(fake.streamed[0]) != pkg || fake.maxChunk > 64<<10 {
		t.Errorf("XML body: %d unary calls, %d streams, %d bytes streamed (want %d), largest chunk %d",
			len(fake.unary), len(fake.streamed), len(fake.streamed[0]), len(pkg), fake.maxChunk)
	}
	fake.mu.Unlock()

	js := `{"edxml": "` + base64.StdEncoding.EncodeToString([]byte("<edXML/>")) + `"}`
	r = e.do(request{method: http.MethodPost, path: "/v1/documents:importEdxml", body: "\n " + js,
		header: map[string]string{"Authorization": auth["Authorization"], "Content-Type": "application/json"}})
	if r.code != http.StatusOK || !strings.Contains(string(r.body), `"unary"`) {
		t.Fatalf("JSON body: got %d %.300s", r.code, r.body)
	}

	// A small package (one chunk) goes as the bytes of one unary call; a large malformed
	// one is streamed: both keep the part's 400.
	small := "<edXML>lá thư</edXML>"
	r = e.do(request{method: http.MethodPost, path: "/v1/documents:importEdxml", body: small, header: auth})
	fake.mu.Lock()
	if r.code != http.StatusOK || len(fake.unary) != 2 || string(fake.unary[1]) != small {
		t.Errorf("small XML body: got %d, %d unary calls", r.code, len(fake.unary))
	}
	fake.mu.Unlock()
	for _, bad := range []string{"<bad", "<bad" + strings.Repeat(" ", 100<<10)} {
		r = e.do(request{method: http.MethodPost, path: "/v1/documents:importEdxml", body: bad, header: auth})
		if r.code != http.StatusBadRequest {
			t.Errorf("malformed package of %d bytes: got %d, want 400\n%.300s", len(bad), r.code, r.body)
		}
		checkDetails(t, restStatus(t, r.body), "INVALID_ARGUMENT")
	}

	over := "<edXML>" + strings.Repeat("A", docLimit+1) + "</edXML>"
	r = e.do(request{method: http.MethodPost, path: "/v1/documents:importEdxml", body: over, header: auth, chunked: true})
	if r.code != http.StatusRequestEntityTooLarge {
		t.Errorf("body over the limit: got %d, want 413\n%.300s", r.code, r.body)
	}
	platformtest.WaitFor(t, 5*time.Second, "the part's stream to be cancelled after a body over the limit", func() bool {
		fake.mu.Lock()
		defer fake.mu.Unlock()
		return fake.cancelled == 1
	})
}

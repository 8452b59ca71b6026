package gateway

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// An edXML body that is not JSON is passed to the document part as it is read, in chunks of
// edxmlChunk bytes (ImportEdxmlStream): no io.ReadAll, no JSON or base64 wrapping, so a
// large package costs the gateway a chunk, not ten copies of itself (docs/benchmarks.md).
// A body that fits in one chunk goes as the bytes of one unary ImportEdxml (fewer frames
// than a stream of one message; still no JSON).
// The checks of guard (token, declared length, body limit, read deadline) apply before and
// while it is read; a body over the limit is answered 413 and the part's call cancelled.
// A JSON body ({"edxml": "<base64>"}, with any Content-Type but an XML one) takes the
// unary ImportEdxml as before.

const (
	edxmlPath  = "/v1/documents:importEdxml"
	edxmlChunk = 64 << 10
)

// readCloser is a body read through a buffer, closed underneath.
type readCloser struct {
	io.Reader
	io.Closer
}

// streamEdxml streams an edXML body to the part and writes its answer, unless the body is
// a JSON object: then it puts the body back for the unary path and answers false.
func (g *Gateway) streamEdxml(w http.ResponseWriter, r *http.Request, refuse func(*status.Status)) bool {
	if g.edxmlConn == nil || g.mux == nil || r.Body == nil || r.Body == http.NoBody {
		return false
	}
	// A JSON object is told by its first byte unless the Content-Type says XML (curl -d
	// sends a form's): an XML package never starts with "{".
	br := bufio.NewReaderSize(r.Body, 4096)
	if !xmlContentType(r.Header.Get("Content-Type")) && firstNonSpace(br) == '{' {
		r.Body = readCloser{br, r.Body}
		return false
	}
	var body io.Reader = br
	ctx, err := runtime.AnnotateContext(r.Context(), g.mux, r, docv1.DocumentService_ImportEdxmlStream_FullMethodName,
		runtime.WithHTTPPathPattern(edxmlPath))
	if err != nil {
		refuse(status.Convert(err))
		return true
	}
	_, outbound := runtime.MarshalerForRequest(g.mux, r)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	bp := edxmlBuffers.Get().(*[]byte)
	defer edxmlBuffers.Put(bp)
	buf := *bp
	bodyFailed := func(rerr error) {
		cancel() // the part removes what it wrote
		var tooBig *http.MaxBytesError
		if errors.As(rerr, &tooBig) {
			refuse(status.New(codes.ResourceExhausted, "request body larger than the limit"))
		} else {
			refuse(status.New(codes.InvalidArgument, "request body not received in full"))
		}
	}
	complete := func(err error) bool { return err == io.EOF }
	client := docv1.NewDocumentServiceClient(g.edxmlConn)
	var md runtime.ServerMetadata
	opts := []grpc.CallOption{grpc.Header(&md.HeaderMD), grpc.Trailer(&md.TrailerMD)}
	n, rerr := readChunk(body, buf)
	if rerr != nil && !complete(rerr) {
		bodyFailed(rerr)
		return true
	}
	if complete(rerr) {
		// The whole package is one chunk: one unary call carries it, as bytes (no JSON,
		// no base64), with fewer frames than a stream.
		resp, err := client.ImportEdxml(ctx, &docv1.ImportEdxmlRequest{Edxml: buf[:n]}, opts...)
		g.answer(ctx, w, r, outbound, md, resp, err)
		return true
	}
	stream, err := client.ImportEdxmlStream(ctx, opts...)
	if err != nil {
		runtime.HTTPError(ctx, g.mux, outbound, w, r, err)
		return true
	}
	for {
		// A body that failed is answered as such before its last bytes are sent: net/http
		// cancels the call's context on the same read error, and a Send failing on that
		// would answer the part's CANCELED (499) to a client that is still there (a body
		// past its deadline).
		if rerr != nil && !complete(rerr) {
			bodyFailed(rerr)
			return true
		}
		if n > 0 {
			// Send encodes the message before it returns: buf may be reused.
			if err := stream.Send(&docv1.ImportEdxmlStreamRequest{Chunk: buf[:n]}); err != nil {
				break // the part ended the call: CloseAndRecv says why
			}
		}
		if complete(rerr) {
			break
		}
		n, rerr = readChunk(body, buf)
	}
	resp, err := stream.CloseAndRecv()
	g.answer(ctx, w, r, outbound, md, resp, err)
	return true
}

// readChunk fills buf from body as io.ReadFull does, except at the end: it answers io.EOF
// (with what it read) only when the body ended as it said it would. A body cut short (the
// client closed its connection before its Content-Length, or before the last chunk of a
// chunked body) is io.ErrUnexpectedEOF from net/http, which io.ReadFull cannot tell from a
// short last chunk: taken as the end, it would import a package whose request never
// arrived in full.
func readChunk(body io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := body.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// answer writes the part's answer (or error) as grpc-gateway writes a unary call's.
func (g *Gateway) answer(ctx context.Context, w http.ResponseWriter, r *http.Request, m runtime.Marshaler, md runtime.ServerMetadata, resp *docv1.SendDocumentResponse, err error) {
	ctx = runtime.NewServerMetadataContext(ctx, md)
	if err != nil {
		runtime.HTTPError(ctx, g.mux, m, w, r, err)
		return
	}
	runtime.ForwardResponseMessage(ctx, g.mux, m, w, r, resp)
}

// edxmlBuffers are the chunk buffers of streamed bodies, reused from one request to the next.
var edxmlBuffers = sync.Pool{New: func() any { b := make([]byte, edxmlChunk); return &b }}

// xmlContentType says whether a Content-Type names XML (application/xml, text/xml,
// application/...+xml).
func xmlContentType(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.TrimSpace(strings.ToLower(mt))
	return mt == "application/xml" || mt == "text/xml" || strings.HasSuffix(mt, "+xml")
}

// firstNonSpace is the first byte of a body that is not white space (0: none in the first
// buffer), read without consuming it.
func firstNonSpace(br *bufio.Reader) byte {
	data, _ := br.Peek(br.Size())
	for _, c := range data {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c
	}
	return 0
}

// restMux is grpc-gateway's mux, as the gateway keeps it.
type restMux = runtime.ServeMux

// servesDocuments says whether a part serves the document service.
func servesDocuments(p Part) bool {
	return slices.Contains(p.Services, docv1.DocumentService_ServiceDesc.ServiceName)
}

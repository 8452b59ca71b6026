package gateway

import (
	"context"
	"encoding/binary"
	"io"
	"sync"
)

// gRPC calls reach the gateway through net/http's HTTP/2 server, and grpc-go's handler
// transport reads a request body as fast as the client sends it, into an unbounded buffer:
// a client streaming to a part slower than itself (a large upload, written with an fsync
// per chunk) would pile its whole stream up in the gateway's memory. flowGate puts the
// backpressure back: the body is read message by message (gRPC length-prefixed framing),
// and the next message is not read while maxPendingMessages that were read have not been
// taken by the proxy, which takes one only after the part has accepted the previous.

const maxPendingMessages = 2

type flowGate struct {
	mu      sync.Mutex
	cond    *sync.Cond
	pending int
	closed  bool
}

func newFlowGate() *flowGate {
	g := &flowGate{}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// read counts a whole message read from the body.
func (g *flowGate) read() {
	g.mu.Lock()
	g.pending++
	g.mu.Unlock()
}

// taken counts a message the proxy took.
func (g *flowGate) taken() {
	g.mu.Lock()
	if g.pending > 0 {
		g.pending--
	}
	g.cond.Broadcast()
	g.mu.Unlock()
}

// wait blocks while too many messages wait for the proxy, until the call ends.
func (g *flowGate) wait() {
	g.mu.Lock()
	for g.pending >= maxPendingMessages && !g.closed {
		g.cond.Wait()
	}
	g.mu.Unlock()
}

func (g *flowGate) close() {
	g.mu.Lock()
	g.closed = true
	g.cond.Broadcast()
	g.mu.Unlock()
}

// gatedBody reads a gRPC request body through a gate.
type gatedBody struct {
	io.ReadCloser
	g    *flowGate
	hdr  [5]byte
	hdrN int
	left uint64 // payload bytes left in the current message
}

func (b *gatedBody) Read(p []byte) (int, error) {
	// A read never goes past the end of the current message, so each message's end is seen
	// at the end of a read and the next one starts at the gate.
	switch {
	case b.hdrN == 0 && b.left == 0:
		b.g.wait()
		p = p[:min(len(p), len(b.hdr))]
	case b.left == 0:
		p = p[:min(len(p), len(b.hdr)-b.hdrN)]
	default:
		p = p[:min(uint64(len(p)), b.left)]
	}
	n, err := b.ReadCloser.Read(p)
	b.scan(p[:n])
	return n, err
}

// scan follows the framing: 1 byte flag, 4 bytes length, payload.
func (b *gatedBody) scan(p []byte) {
	for len(p) > 0 {
		if b.left > 0 {
			k := uint64(len(p))
			if k > b.left {
				k = b.left
			}
			b.left -= k
			p = p[k:]
			if b.left == 0 {
				b.g.read()
			}
			continue
		}
		k := copy(b.hdr[b.hdrN:], p)
		b.hdrN += k
		p = p[k:]
		if b.hdrN == len(b.hdr) {
			b.hdrN = 0
			b.left = uint64(binary.BigEndian.Uint32(b.hdr[1:]))
			if b.left == 0 {
				b.g.read()
			}
		}
	}
}

type gateKey struct{}

// withFlowGate puts a gate on a gRPC request's body and in its context.
func withFlowGate(ctx context.Context, body io.ReadCloser) (context.Context, io.ReadCloser, *flowGate) {
	g := newFlowGate()
	return context.WithValue(ctx, gateKey{}, g), &gatedBody{ReadCloser: body, g: g}, g
}

// gateFrom returns the gate of a call, if it has one.
func gateFrom(ctx context.Context) *flowGate {
	g, _ := ctx.Value(gateKey{}).(*flowGate)
	return g
}

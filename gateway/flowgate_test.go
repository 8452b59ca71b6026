package gateway

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"
	"time"
)

func framed(sizes ...int) []byte {
	var b bytes.Buffer
	for _, n := range sizes {
		var hdr [5]byte
		binary.BigEndian.PutUint32(hdr[1:], uint32(n))
		b.Write(hdr[:])
		b.Write(bytes.Repeat([]byte{'x'}, n))
	}
	return b.Bytes()
}

// The gate lets the body be read message by message and holds the next message back while
// maxPendingMessages wait for the proxy.
func TestFlowGate(t *testing.T) {
	body := framed(10, 0, 70000, 3)
	_, gb, g := withFlowGate(t.Context(), io.NopCloser(bytes.NewReader(body)))
	got := make(chan []byte)
	go func() {
		out, _ := io.ReadAll(struct{ io.Reader }{readerOf(gb, 7)})
		got <- out
	}()
	waitPending := func(want int) {
		t.Helper()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		deadline := time.After(5 * time.Second)
		for {
			g.mu.Lock()
			p := g.pending
			g.mu.Unlock()
			if p == want {
				return
			}
			select {
			case <-tick.C:
			case <-deadline:
				t.Fatalf("pending %d, want %d", p, want)
			}
		}
	}
	waitPending(2) // two messages read; the reader waits at the boundary
	select {
	case <-got:
		t.Fatal("the whole body was read with two messages not taken")
	case <-time.After(50 * time.Millisecond):
	}
	g.taken()
	waitPending(2) // the third (70000 bytes) is read whole
	g.taken()
	g.taken()
	out := <-got
	if !bytes.Equal(out, body) {
		t.Fatalf("read %d bytes, want %d", len(out), len(body))
	}
}

// readerOf reads in pieces of at most n bytes, as a transport reads frames.
func readerOf(r io.Reader, n int) io.Reader { return &small{r, n} }

type small struct {
	r io.Reader
	n int
}

func (s *small) Read(p []byte) (int, error) {
	if len(p) > s.n {
		p = p[:s.n]
	}
	return s.r.Read(p)
}

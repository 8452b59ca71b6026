package platform

import (
	"context"
	"crypto/ed25519"
	"errors"
	"github.com/lienthong/lienthong/services/platform/platformtest"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// A client address over its cap has its extra connections closed at once, without a byte
// read; a place comes back when one of its connections closes.
func TestLimitConnsPerIP(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lis := LimitConnsPerIP(raw, 2, nil)
	defer lis.Close()
	accepted := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// closedByServer says whether the server closed c (EOF or reset) rather than keeping it open.
	closedByServer := func(c net.Conn) bool {
		_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		_, err := c.Read(make([]byte, 1))
		var ne net.Error
		return !(errors.As(err, &ne) && ne.Timeout())
	}
	c1, c2 := dial(), dial()
	s1, s2 := <-accepted, <-accepted
	c3 := dial()
	if !closedByServer(c3) {
		t.Fatalf("third connection from one address stayed open, want it closed at once")
	}
	if closedByServer(c1) || closedByServer(c2) {
		t.Fatalf("a connection within the cap was closed")
	}
	if n := lis.(*connLimitListener).openConns("127.0.0.1"); n != 2 {
		t.Errorf("open connections counted %d, want 2", n)
	}
	// One closes: a new one is accepted and kept.
	s1.Close()
	c4 := dial()
	s4 := <-accepted
	if _, err := s4.Write([]byte("x")); err != nil {
		t.Fatalf("write to the accepted fourth connection: %v", err)
	}
	if _, err := io.ReadFull(c4, make([]byte, 1)); err != nil {
		t.Fatalf("fourth connection after one closed: %v", err)
	}
	s2.Close()
	s4.Close()
}

// holdDesc is a service whose one stream stays open, after sending its headers, until the
// client ends it.
var holdDesc = grpc.ServiceDesc{
	ServiceName: "lienthong.test.Hold",
	HandlerType: (*any)(nil),
	Streams: []grpc.StreamDesc{{StreamName: "Hold", ServerStreams: true, ClientStreams: true,
		Handler: func(_ any, ss grpc.ServerStream) error {
			if err := ss.SendHeader(metadata.Pairs("held", "yes")); err != nil {
				return err
			}
			<-ss.Context().Done()
			return nil
		}}},
}

// startHoldServer serves holdDesc (and the test service) with the options changed by mod.
func startHoldServer(t *testing.T, mod func(*ServerOptions)) (*grpc.ClientConn, ed25519.PrivateKey) {
	t.Helper()
	o, priv, _ := testOptions(t)
	if mod != nil {
		mod(&o)
	}
	srv := NewServer(o)
	srv.GRPC.RegisterService(&holdDesc, struct{}{})
	testgrpc.RegisterTestServiceServer(srv.GRPC, &testService{calls: make(chan handlerCall, 16)})
	return serve(t, srv), priv
}

// hold opens a Hold stream with the token and waits for its headers: nil when the stream
// is open, else the status it was refused with.
func hold(t *testing.T, conn *grpc.ClientConn, auth string) (context.CancelFunc, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(callCtx(t, "authorization", auth))
	st, err := conn.NewStream(ctx, &holdDesc.Streams[0], "/lienthong.test.Hold/Hold")
	if err == nil {
		var h metadata.MD
		if h, err = st.Header(); err == nil && len(h.Get("held")) > 0 {
			return cancel, nil
		}
	}
	if err = st.RecvMsg(&testgrpc.Empty{}); err == nil || errors.Is(err, io.EOF) {
		t.Fatalf("refused stream ended with %v, want a status", err)
	}
	cancel()
	return nil, err
}

// Beyond MaxStreamsPerSystem open streams, a system's next stream is refused
// RESOURCE_EXHAUSTED TOO_MANY_STREAMS with a clear message; another system is not
// affected, and a place comes back when a stream ends.
func TestStreamsPerSystemCapped(t *testing.T) {
	conn, priv := startHoldServer(t, func(o *ServerOptions) { o.MaxStreamsPerSystem = 2 })
	a := "Bearer " + issue(t, priv, Caller{System: "000.00.00.H29/a", Role: RoleProvince, Unit: "01"}, time.Hour, time.Now())
	b := "Bearer " + issue(t, priv, Caller{System: "000.00.00.H29/b", Role: RoleProvince, Unit: "01"}, time.Hour, time.Now())
	var cancels []context.CancelFunc
	for i := 0; i < 2; i++ {
		c, err := hold(t, conn, a)
		if err != nil {
			t.Fatalf("stream %d of system a: %v", i+1, err)
		}
		cancels = append(cancels, c)
	}
	_, err := hold(t, conn, a)
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("third stream of system a: %v, want RESOURCE_EXHAUSTED", err)
	}
	if info := errorInfo(err); info.GetReason() != "TOO_MANY_STREAMS" {
		t.Errorf("reason %q, want TOO_MANY_STREAMS", info.GetReason())
	}
	if msg := status.Convert(err).Message(); !strings.Contains(msg, "000.00.00.H29/a") || !strings.Contains(msg, "2 streams open") {
		t.Errorf("message %q does not name the system and the cap", msg)
	}
	if c, err := hold(t, conn, b); err != nil {
		t.Fatalf("system b while a is at its cap: %v", err)
	} else {
		cancels = append(cancels, c)
	}
	// Unary calls are not streams: a is still served.
	if _, err := testgrpc.NewTestServiceClient(conn).UnaryCall(callCtx(t, "authorization", a), &testgrpc.SimpleRequest{}); err != nil {
		t.Errorf("unary call of a system at its stream cap: %v", err)
	}
	cancels[0]()
	platformtest.WaitFor(t, 5*time.Second, "a place freed when a stream ends", func() bool {
		c, err := hold(t, conn, a)
		if err != nil {
			return false
		}
		cancels = append(cancels, c)
		return true
	})
	for _, c := range cancels[1:] {
		c()
	}
}

// rawCodec sends bytes as they are, so a test can send a message that does not decode.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// A call without a token (or with a bad one) is refused UNAUTHENTICATED before its message
// is decoded: a body that does not decode does not turn it into another error, and the
// refusal is counted and logged.
func TestUnauthenticatedRefusedBeforeDecode(t *testing.T) {
	s := startTestServer(t, nil)
	garbage := []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f} // a length past the end
	for _, auth := range []string{"", "Bearer not-a-token", "Basic x"} {
		md := []string{}
		if auth != "" {
			md = []string{"authorization", auth}
		}
		var out []byte
		err := s.conn.Invoke(callCtx(t, md...), methodUnary, &garbage, &out, grpc.ForceCodec(rawCodec{}))
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("auth %q with an undecodable body: %v, want UNAUTHENTICATED", auth, err)
		}
		if s.lastCall() != nil {
			t.Errorf("auth %q: the handler ran", auth)
		}
	}
	// The same body with a valid token reaches decoding (and fails there).
	var out []byte
	err := s.conn.Invoke(callCtx(t, "authorization", s.bearer(t, Caller{System: "sys/a", Role: RoleAdmin})), methodUnary, &garbage, &out, grpc.ForceCodec(rawCodec{}))
	if c := status.Code(err); c == codes.OK || c == codes.Unauthenticated {
		t.Errorf("valid token with an undecodable body: %v, want a decoding error", err)
	}
	if n := len(s.logs.FilterMessage("call refused").FilterField(zap.String("code", "Unauthenticated")).All()); n != 3 {
		t.Errorf("refusals logged: %d, want 3", n)
	}
}

// An error never echoes unbounded input: ids are cut to MaxEchoRunes, every other text to
// maxTextRunes, wherever the error was made.
func TestErrorsDoNotEchoUnboundedInput(t *testing.T) {
	id := strings.Repeat("é", 1<<20)
	for name, err := range map[string]*Error{
		"not found":      NotFound("unit", id),
		"already exists": AlreadyExists("agency", id),
		"any message":    Invalid(FieldViolation{Field: id, Description: "bad " + id}).WithMetadata("id", id),
	} {
		st := err.GRPCStatus()
		b, perr := proto.Marshal(st.Proto())
		if perr != nil {
			t.Fatal(perr)
		}
		if len(b) > 16<<10 {
			t.Errorf("%s: status of %d bytes for a 2 MiB id, want a few KiB at most", name, len(b))
		}
	}
	if got, want := NotFound("unit", id).Message, "unit \""+strings.Repeat("é", MaxEchoRunes)+"…\" not found"; got != want {
		t.Errorf("message %.100q…, want %.100q…", got, want)
	}
	if got := Clip("H29.22"); got != "H29.22" {
		t.Errorf("Clip of a short id = %q", got)
	}
}

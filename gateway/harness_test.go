package gateway_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/lienthong/lienthong/gateway"
	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"github.com/lienthong/lienthong/services/platform"
	"go.uber.org/zap"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// fakeCatalog is a stand-in for the catalog part: the gateway must not depend on the real one.
type fakeCatalog struct {
	catalogv1.UnimplementedCatalogServiceServer

	mu         sync.Mutex
	created    []*catalogv1.Procedure
	imports    []*catalogv1.ImportProceduresRequest
	requestIDs []string // x-request-id metadata seen by GetUnit
	auths      []string // authorization metadata seen by GetCatalogStats

	// hold, when set, keeps GetUnit of code "hold" waiting until it is closed; holding
	// counts those waiting and maxHolding the most at once.
	hold       chan struct{}
	holding    int
	maxHolding int
}

// abolishedCode is the procedure code the fake refuses with FAILED_PRECONDITION.
const abolishedCode = "1.000001"

func unit80() *catalogv1.Unit {
	return &catalogv1.Unit{
		Code: "80", Name: "Tây Ninh", Kind: catalogv1.UnitKind_UNIT_KIND_PROVINCE,
		ValidFrom: "2025-07-01", Predecessors: []string{"72", "80"}, InForce: true,
	}
}

func firstMD(ctx context.Context, key string) string {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

func (f *fakeCatalog) GetUnit(ctx context.Context, r *catalogv1.GetUnitRequest) (*catalogv1.Unit, error) {
	f.mu.Lock()
	f.requestIDs = append(f.requestIDs, firstMD(ctx, platform.RequestIDHeader))
	hold := f.hold
	f.mu.Unlock()
	if r.GetCode() == "hold" && hold != nil {
		f.mu.Lock()
		f.holding++
		f.maxHolding = max(f.maxHolding, f.holding)
		f.mu.Unlock()
		<-hold
		f.mu.Lock()
		f.holding--
		f.mu.Unlock()
		return unit80(), nil
	}
	if r.GetCode() != "80" {
		return nil, platform.NotFound("unit", r.GetCode())
	}
	return unit80(), nil
}

func (f *fakeCatalog) ListUnits(context.Context, *catalogv1.ListUnitsRequest) (*catalogv1.ListUnitsResponse, error) {
	return &catalogv1.ListUnitsResponse{Units: []*catalogv1.Unit{unit80()}, TotalSize: 1}, nil
}

func (f *fakeCatalog) CreateProcedure(_ context.Context, r *catalogv1.CreateProcedureRequest) (*catalogv1.Procedure, error) {
	f.mu.Lock()
	f.created = append(f.created, proto.Clone(r.GetProcedure()).(*catalogv1.Procedure))
	f.mu.Unlock()
	if r.GetProcedure().GetCode() == abolishedCode {
		return nil, platform.FailedPrecondition("PROCEDURE_ABOLISHED",
			"procedure "+abolishedCode+" is abolished", "Thủ tục "+abolishedCode+" đã bị bãi bỏ.")
	}
	return r.GetProcedure(), nil
}

func (f *fakeCatalog) ImportProcedures(_ context.Context, r *catalogv1.ImportProceduresRequest) (*catalogv1.ImportProceduresResponse, error) {
	f.mu.Lock()
	f.imports = append(f.imports, proto.Clone(r).(*catalogv1.ImportProceduresRequest))
	f.mu.Unlock()
	return &catalogv1.ImportProceduresResponse{Created: int32(len(r.GetProcedures())), ValidatedOnly: r.GetValidateOnly()}, nil
}

// GetCatalogStats needs a token (it is not in the fake's public policy) and answers the
// caller's unit, which proves the part verified the token the gateway passed on.
func (f *fakeCatalog) GetCatalogStats(ctx context.Context, _ *catalogv1.GetCatalogStatsRequest) (*catalogv1.CatalogStats, error) {
	f.mu.Lock()
	f.auths = append(f.auths, firstMD(ctx, "authorization"))
	f.mu.Unlock()
	c := platform.CallerFrom(ctx)
	if c == nil {
		return nil, errors.New("no caller although the policy requires a token")
	}
	return &catalogv1.CatalogStats{Unit: c.Unit, Total: 7}, nil
}

func (f *fakeCatalog) lastImport() *catalogv1.ImportProceduresRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.imports) == 0 {
		return nil
	}
	return f.imports[len(f.imports)-1]
}

func (f *fakeCatalog) counts() (created, imports int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.created), len(f.imports)
}

func (f *fakeCatalog) lastRequestID() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requestIDs) == 0 {
		return ""
	}
	return f.requestIDs[len(f.requestIDs)-1]
}

// part is a running fake catalog part.
type part struct {
	fake   *fakeCatalog
	addr   string
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

var catalogPolicy = platform.Policy{
	catalogv1.CatalogService_GetUnit_FullMethodName:          platform.Public,
	catalogv1.CatalogService_ListUnits_FullMethodName:        platform.Public,
	catalogv1.CatalogService_CreateProcedure_FullMethodName:  platform.Public,
	catalogv1.CatalogService_ImportProcedures_FullMethodName: platform.Public,
	// GetCatalogStats is left out: it needs a token.
}

// startPart serves a fresh fake catalog on lis until stop (or the end of the test).
func startPart(t *testing.T, lis net.Listener, verifier *platform.TokenVerifier) *part {
	t.Helper()
	fake := &fakeCatalog{}
	srv := platform.NewServer(platform.ServerOptions{
		Part: "catalog", Logger: zap.NewNop(), Verifier: verifier, Policy: catalogPolicy,
	})
	catalogv1.RegisterCatalogServiceServer(srv.GRPC, fake)
	ctx, cancel := context.WithCancel(context.Background())
	p := &part{fake: fake, addr: lis.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { p.done <- srv.Serve(ctx, lis, time.Second) }()
	t.Cleanup(func() { p.stop(t) })
	return p
}

// stop ends the part and waits until it has stopped.
func (p *part) stop(t *testing.T) {
	t.Helper()
	p.once.Do(func() {
		p.cancel()
		select {
		case err := <-p.done:
			if err != nil {
				t.Errorf("part Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("part did not stop within 10s")
		}
	})
}

// env is a gateway in front of one fake catalog part, both on real loopback listeners.
type env struct {
	t        *testing.T
	gwAddr   string
	base     string
	part     *part
	verifier *platform.TokenVerifier
	issuer   *platform.TokenIssuer
	client   *http.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvConfig(t, nil)
}

// newEnvConfig is newEnv with a change to the gateway's configuration.
func newEnvConfig(t *testing.T, configure func(*gateway.Config)) *env {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, verifier: platform.NewTokenVerifier(pub), issuer: platform.NewTokenIssuer(priv)}

	plis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.part = startPart(t, plis, e.verifier)

	ctx, cancel := context.WithCancel(context.Background())
	cfg := gateway.Config{
		Parts: []gateway.Part{{
			Name: "catalog", Addr: e.part.addr,
			Services: []string{catalogv1.CatalogService_ServiceDesc.ServiceName},
			RegisterREST: func(ctx context.Context, mux *runtime.ServeMux, cc grpc.ClientConnInterface) error {
				return catalogv1.RegisterCatalogServiceHandlerClient(ctx, mux, catalogv1.NewCatalogServiceClient(cc))
			},
			Policy: catalogPolicy,
		}},
		Logger: zap.NewNop(), Metrics: platform.NewMetrics(), MaxBodyBytes: 64 << 10,
		Verifier: e.verifier,
	}
	if configure != nil {
		configure(&cfg)
	}
	g, err := gateway.New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("gateway.New: %v", err)
	}
	glis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- g.Serve(ctx, glis, time.Second) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("gateway Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("gateway did not stop within 10s")
		}
	})
	e.gwAddr = glis.Addr().String()
	e.base = "http://" + e.gwAddr
	tr := &http.Transport{}
	e.client = &http.Client{
		Transport: tr,
		Timeout:   10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return e
}

// token issues a valid province token for unit 80.
func (e *env) token() string {
	e.t.Helper()
	tok, err := e.issuer.Issue(platform.Caller{System: "000.00.00.H53/motcua", Role: platform.RoleProvince, Unit: "80"},
		time.Hour, time.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// grpcConn dials the gateway over cleartext HTTP/2.
func (e *env) grpcConn() *grpc.ClientConn {
	e.t.Helper()
	conn, err := grpc.NewClient(e.gwAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// response is a REST answer read in full.
type response struct {
	code   int
	header http.Header
	body   []byte
}

// request describes one REST call.
type request struct {
	method string
	path   string
	body   string
	header map[string]string
	// chunked sends the body without Content-Length.
	chunked bool
}

func (e *env) do(r request) response {
	e.t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
		if r.chunked {
			body = io.MultiReader(body) // hides the length from net/http
		}
	}
	req, err := http.NewRequest(r.method, e.base+r.path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if r.chunked {
		req.ContentLength = -1
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read body: %v", r.method, r.path, err)
	}
	return response{code: resp.StatusCode, header: resp.Header, body: b}
}

func (e *env) get(path string) response {
	e.t.Helper()
	return e.do(request{method: http.MethodGet, path: path})
}

// restStatus decodes a REST error body as google.rpc.Status.
func restStatus(t *testing.T, body []byte) *status.Status {
	t.Helper()
	var p spb.Status
	if err := protojson.Unmarshal(body, &p); err != nil {
		t.Fatalf("error body is not google.rpc.Status JSON: %v\n%s", err, body)
	}
	return status.FromProto(&p)
}

// details picks the standard error details of a status.
type details struct {
	info *errdetails.ErrorInfo
	bad  *errdetails.BadRequest
	loc  *errdetails.LocalizedMessage
}

func detailsOf(st *status.Status) details {
	var d details
	for _, x := range st.Details() {
		switch v := x.(type) {
		case *errdetails.ErrorInfo:
			d.info = v
		case *errdetails.BadRequest:
			d.bad = v
		case *errdetails.LocalizedMessage:
			d.loc = v
		}
	}
	return d
}

// checkDetails checks ErrorInfo (reason, domain) and the vi-VN message of an error.
func checkDetails(t *testing.T, st *status.Status, wantReason string) details {
	t.Helper()
	d := detailsOf(st)
	if d.info == nil {
		t.Fatalf("no ErrorInfo in %v (details %v)", st.Proto(), st.Details())
	}
	if got := d.info.GetReason(); got != wantReason {
		t.Errorf("ErrorInfo.reason: got %q, want %q", got, wantReason)
	}
	if got, want := d.info.GetDomain(), platform.ErrorDomain; got != want {
		t.Errorf("ErrorInfo.domain: got %q, want %q", got, want)
	}
	if d.loc == nil {
		t.Errorf("no LocalizedMessage in %v", st.Proto())
	} else {
		if got, want := d.loc.GetLocale(), "vi-VN"; got != want {
			t.Errorf("LocalizedMessage.locale: got %q, want %q", got, want)
		}
		if d.loc.GetMessage() == "" {
			t.Errorf("LocalizedMessage.message is empty")
		}
	}
	return d
}

// jsonObject decodes a JSON object body.
func jsonObject(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, body)
	}
	return m
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	last := ""
	for {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %v; last state: %s", what, timeout, last)
		}
		<-tick.C
	}
}

// listenAgain listens on exactly addr, retrying until the port is free.
func listenAgain(t *testing.T, addr string) net.Listener {
	t.Helper()
	var lis net.Listener
	waitFor(t, 10*time.Second, "listen again on "+addr, func() (bool, string) {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return false, err.Error()
		}
		lis = l
		return true, ""
	})
	return lis
}

// bigJSON is a procedure whose JSON is about n bytes.
func bigJSON(n int) string {
	return fmt.Sprintf(`{"code":"1.000002","name":%q}`, strings.Repeat("a", n))
}

package dossier

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
)

// The fixed catalog of the tests.
const (
	procLand  = "1.000001" // 5 working days, field "Đất đai"
	procCivil = "1.000002" // 10 working days, field "Hộ tịch"
	// agency33p is the province's People's Committee: it numbers dossiers it files at its departments.
	agency33p = "000.00.00.H31"
	agency33a = "000.01.00.H31"
	agency33b = "000.02.00.H31"
	agency36  = "000.01.00.H40"
	agency37  = "000.01.00.H42"
)

// testNow is the fixtures' clock at start: Monday 2026-11-23 10:00 Vietnam time.
var testNow = time.Date(2026, 11, 23, 10, 0, 0, 0, Vietnam)

// fakeClock is the service's "now", movable by a test (safe for the service's goroutines).
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.Set(t)
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).In(Vietnam) }
func (c *fakeClock) Set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// fakeCatalog answers LookupReferences from a small fixed catalog. It lists codes it does
// not know in Missing*, counts calls, and can be switched down (UNAVAILABLE).
type fakeCatalog struct {
	mu       sync.Mutex
	down     bool
	calls    int
	requests []*catalogv1.LookupReferencesRequest
	procs    map[string]*catalogv1.Procedure
	agencies map[string]*catalogv1.Agency
	units    map[string]*catalogv1.UnitReference
}

func newFakeCatalog() *fakeCatalog {
	return &fakeCatalog{
		procs: map[string]*catalogv1.Procedure{
			procLand:  {Code: procLand, Name: "Đăng ký đất đai", Field: "Đất đai", ProcessingDays: 5},
			procCivil: {Code: procCivil, Name: "Đăng ký khai sinh", Field: "Hộ tịch", ProcessingDays: 10},
		},
		agencies: map[string]*catalogv1.Agency{
			agency33p: {Code: agency33p, Name: "Ủy ban nhân dân tỉnh Hưng Yên", UnitCode: "33"},
			agency33a: {Code: agency33a, Name: "Sở Tài nguyên và Môi trường Hưng Yên", UnitCode: "33"},
			agency33b: {Code: agency33b, Name: "Sở Tư pháp Hưng Yên", UnitCode: "33"},
			agency36:  {Code: agency36, Name: "Sở Tư pháp Nam Định", UnitCode: "36"},
			agency37:  {Code: agency37, Name: "Sở Tư pháp Ninh Bình", UnitCode: "37"},
		},
		units: map[string]*catalogv1.UnitReference{
			"33": {Unit: &catalogv1.Unit{Code: "33", Name: "Hưng Yên", ValidFrom: "2008-08-01"}, CurrentCodes: []string{"33"}},
			"36": {Unit: &catalogv1.Unit{Code: "36", Name: "Nam Định", ValidFrom: "2008-08-01", ValidTo: "2025-06-30"}, CurrentCodes: []string{"37"}},
			"37": {Unit: &catalogv1.Unit{Code: "37", Name: "Ninh Bình", ValidFrom: "2008-08-01"}, CurrentCodes: []string{"37"}},
		},
	}
}

func (f *fakeCatalog) LookupReferences(_ context.Context, in *catalogv1.LookupReferencesRequest, _ ...grpc.CallOption) (*catalogv1.LookupReferencesResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.requests = append(f.requests, in)
	if f.down {
		return nil, status.Error(codes.Unavailable, "catalog is down")
	}
	out := &catalogv1.LookupReferencesResponse{}
	for _, c := range in.GetProcedureCodes() {
		if p, ok := f.procs[c]; ok {
			out.Procedures = append(out.Procedures, p)
		} else {
			out.MissingProcedures = append(out.MissingProcedures, c)
		}
	}
	for _, c := range in.GetAgencyCodes() {
		if a, ok := f.agencies[c]; ok {
			out.Agencies = append(out.Agencies, a)
		} else {
			out.MissingAgencies = append(out.MissingAgencies, c)
		}
	}
	for _, c := range in.GetUnitCodes() {
		if u, ok := f.units[c]; ok {
			out.Units = append(out.Units, u)
		} else {
			out.MissingUnits = append(out.MissingUnits, c)
		}
	}
	return out, nil
}

func (f *fakeCatalog) SetDown(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
}

func (f *fakeCatalog) Requests() []*catalogv1.LookupReferencesRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

func (f *fakeCatalog) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// fixture is the dossier part served over an in-memory connection with tokens, as the
// gateway and the provinces see it.
type fixture struct {
	t      *testing.T
	dir    string
	db     *bolt.DB
	svc    *Service
	cat    *fakeCatalog
	clock  *fakeClock
	client dossierv1.DossierServiceClient
	issuer *platform.TokenIssuer
}

func newFixture(t *testing.T) *fixture {
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
	f := &fixture{t: t, dir: dir, db: db, cat: newFakeCatalog(), clock: newFakeClock(testNow), issuer: platform.NewTokenIssuer(priv)}
	f.svc, err = Open(db, Options{Catalog: f.cat, Calendar: DefaultCalendar(), Logger: zap.NewNop(), Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := platform.NewServer(platform.ServerOptions{Part: Part, Logger: zap.NewNop(), Verifier: platform.NewTokenVerifier(pub), Policy: Policy})
	Register(srv, f.svc)
	lis := bufconn.Listen(1 << 20)
	sctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Serve(sctx, lis, time.Second); close(done) }()
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
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
	return f
}

// as is a context with a token for system, role and unit.
func (f *fixture) as(system string, role platform.Role, unit string) context.Context {
	f.t.Helper()
	tok, err := f.issuer.Issue(platform.Caller{System: system, Role: role, Unit: unit}, time.Hour, time.Now())
	if err != nil {
		f.t.Fatal(err)
	}
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
}

func (f *fixture) admin() context.Context { return f.as("000.00.00.G22/test", platform.RoleAdmin, "") }
func (f *fixture) ministry() context.Context {
	return f.as("000.00.00.G09/report", platform.RoleMinistry, "")
}
func (f *fixture) province(unit string) context.Context {
	return f.as("000.00.00."+testLevel1[unit]+"/motcua", platform.RoleProvince, unit)
}

// testLevel1 is the level-1 code of the agencies of the units the tests write for
// (docs/domain.md, Identifiers): Hưng Yên, 33, is H31; Ninh Bình, 37, H42.
var testLevel1 = map[string]string{"33": "H31", "37": "H42"}

// vn is y-m-d hh:mm Vietnam time as RFC 3339.
func vn(y int, m time.Month, d, hh, mm int) string {
	return time.Date(y, m, d, hh, mm, 0, 0, Vietnam).Format(time.RFC3339)
}

// mkEv is an event of a known dossier.
func mkEv(id, code string, st dossierv1.DossierStatus, at string) *dossierv1.DossierEvent {
	return &dossierv1.DossierEvent{EventId: id, DossierCode: code, Status: st, OccurredAt: at}
}

// mkFirst is a dossier's first event with its unit, agency, procedure and channel.
func mkFirst(id, code string, st dossierv1.DossierStatus, at, unit, agency, proc string, ch dossierv1.Channel) *dossierv1.DossierEvent {
	e := mkEv(id, code, st, at)
	e.UnitCode, e.AgencyCode, e.ProcedureCode, e.Channel = unit, agency, proc, ch
	return e
}

const (
	sNew         = dossierv1.DossierStatus_DOSSIER_STATUS_NEW
	sAccepted    = dossierv1.DossierStatus_DOSSIER_STATUS_ACCEPTED
	sNotAccepted = dossierv1.DossierStatus_DOSSIER_STATUS_NOT_ACCEPTED
	sProcessing  = dossierv1.DossierStatus_DOSSIER_STATUS_PROCESSING
	sSupplement  = dossierv1.DossierStatus_DOSSIER_STATUS_SUPPLEMENT_REQUESTED
	sFinancial   = dossierv1.DossierStatus_DOSSIER_STATUS_FINANCIAL_OBLIGATION
	sWithdrawn   = dossierv1.DossierStatus_DOSSIER_STATUS_WITHDRAWN
	sStopped     = dossierv1.DossierStatus_DOSSIER_STATUS_STOPPED
	sResolved    = dossierv1.DossierStatus_DOSSIER_STATUS_RESOLVED
	sReturned    = dossierv1.DossierStatus_DOSSIER_STATUS_RESULT_RETURNED

	chDirect = dossierv1.Channel_CHANNEL_DIRECT
	chOnline = dossierv1.Channel_CHANNEL_ONLINE
	chPostal = dossierv1.Channel_CHANNEL_POSTAL
)

// create sends one event.
func (f *fixture) create(ctx context.Context, e *dossierv1.DossierEvent) (*dossierv1.CreateDossierEventResponse, error) {
	return f.client.CreateDossierEvent(ctx, &dossierv1.CreateDossierEventRequest{Event: e})
}

// mustCreate sends events one by one and fails the test on any error.
func (f *fixture) mustCreate(ctx context.Context, evs ...*dossierv1.DossierEvent) {
	f.t.Helper()
	for _, e := range evs {
		if _, err := f.create(ctx, e); err != nil {
			f.t.Fatalf("create %s (%s %s): %v", e.GetEventId(), e.GetDossierCode(), e.GetStatus(), err)
		}
	}
}

// mustBatch sends events in one batch and fails the test on any refused event.
func (f *fixture) mustBatch(ctx context.Context, evs ...*dossierv1.DossierEvent) *dossierv1.BatchCreateDossierEventsResponse {
	f.t.Helper()
	resp, err := f.client.BatchCreateDossierEvents(ctx, &dossierv1.BatchCreateDossierEventsRequest{Events: evs})
	if err != nil {
		f.t.Fatalf("batch: %v", err)
	}
	for i, r := range resp.GetResults() {
		if r.GetError() != nil {
			f.t.Fatalf("batch event %d (%s): %v", i, r.GetEventId(), r.GetError())
		}
	}
	return resp
}

// feed is every stored event in feed order, read as admin.
func (f *fixture) feed() []*dossierv1.DossierEvent {
	f.t.Helper()
	var out []*dossierv1.DossierEvent
	token := ""
	for {
		resp, err := f.client.ListDossierEvents(f.admin(), &dossierv1.ListDossierEventsRequest{PageSize: 1000, PageToken: token})
		if err != nil {
			f.t.Fatalf("ListDossierEvents: %v", err)
		}
		out = append(out, resp.GetEvents()...)
		if token = resp.GetNextPageToken(); token == "" {
			return out
		}
	}
}

// dossier reads a dossier as admin.
func (f *fixture) dossier(code string) *dossierv1.Dossier {
	f.t.Helper()
	d, err := f.client.GetDossier(f.admin(), &dossierv1.GetDossierRequest{Code: code})
	if err != nil {
		f.t.Fatalf("GetDossier %s: %v", code, err)
	}
	return d
}

// eventIDs are the event ids of a timeline.
func eventIDs(evs []*dossierv1.DossierEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.GetEventId()
	}
	return out
}

// wantStatus checks an error's code and ErrorInfo reason (reason "" is not checked) and
// returns the status.
func wantStatus(t *testing.T, err error, code codes.Code, reason string) *status.Status {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != code {
		t.Fatalf("code: got %v, want %v (err %v)", st.Code(), code, err)
	}
	if reason != "" {
		info := errorInfo(st)
		if info == nil {
			t.Fatalf("no ErrorInfo in %v (details %v)", err, st.Details())
		}
		if info.GetReason() != reason {
			t.Fatalf("reason: got %q, want %q (err %v)", info.GetReason(), reason, err)
		}
		if info.GetDomain() != platform.ErrorDomain {
			t.Errorf("domain: got %q, want %q", info.GetDomain(), platform.ErrorDomain)
		}
	}
	return st
}

func errorInfo(st *status.Status) *errdetails.ErrorInfo {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info
		}
	}
	return nil
}

// violationFields are the fields of the BadRequest detail, in order.
func violationFields(st *status.Status) []string {
	var out []string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				out = append(out, v.GetField())
			}
		}
	}
	return out
}

// wantFields checks the BadRequest fields, ignoring order.
func wantFields(t *testing.T, st *status.Status, want ...string) {
	t.Helper()
	got := violationFields(st)
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Fatalf("violations: got %v, want %v (%v)", got, want, st.Message())
	}
}

// dcode makes a dossier code of an agency, a day (yymmdd) and a number.
func dcode(agency, yymmdd string, n int) string { return fmt.Sprintf("%s-%s-%04d", agency, yymmdd, n) }

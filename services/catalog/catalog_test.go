package catalog

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"github.com/lienthong/lienthong/services/platform"
	"go.uber.org/zap"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
)

// fixture is a catalog served over an in-memory connection, as the other parts see it.
type fixture struct {
	t       testing.TB
	cat     *Catalog
	client  catalogv1.CatalogServiceClient
	issuer  *platform.TokenIssuer
	dataDir string
}

func newFixture(t testing.TB, demo bool) *fixture {
	t.Helper()
	return openFixture(t, t.TempDir(), demo)
}

func openFixture(t testing.TB, dataDir string, demo bool) *fixture {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	db, err := platform.OpenDB(dataDir, Part)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cat, err := Open(ctx, db, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	// Tests see a fixed day after the 2025 reorganisation.
	cat.now = func() time.Time { return time.Date(2026, 11, 23, 9, 0, 0, 0, vietnam) }
	if demo {
		if err := cat.LoadDemo(ctx); err != nil {
			t.Fatal(err)
		}
	}
	srv := platform.NewServer(platform.ServerOptions{Part: Part, Logger: zap.NewNop(), Verifier: platform.NewTokenVerifier(pub), Policy: Policy})
	Register(srv, cat)
	lis := bufconn.Listen(1 << 20)
	sctx, stop := context.WithCancel(ctx)
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
		db.Close()
	})
	return &fixture{t: t, cat: cat, client: catalogv1.NewCatalogServiceClient(conn), issuer: platform.NewTokenIssuer(priv), dataDir: dataDir}
}

// as returns a context carrying a token of the role.
func (f *fixture) as(role platform.Role, unit string) context.Context {
	f.t.Helper()
	system := "000.00.00.H31/test"
	tok, err := f.issuer.Issue(platform.Caller{System: system, Role: role, Unit: unit}, time.Hour, time.Now())
	if err != nil {
		f.t.Fatal(err)
	}
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
}

func (f *fixture) admin() context.Context { return f.as(platform.RoleAdmin, "") }

func wantCode(t *testing.T, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Fatalf("code: got %v, want %v (err %v)", got, want, err)
	}
}

func TestOpenTwiceKeepsData(t *testing.T) {
	dir := t.TempDir()
	f := openFixture(t, dir, false)
	ctx := f.admin()
	if _, err := f.client.CreateAgency(ctx, &catalogv1.CreateAgencyRequest{Agency: &catalogv1.Agency{Code: "000.00.00.H31", Name: "Ủy ban nhân dân tỉnh Hưng Yên", UnitCode: "33"}}); err != nil {
		t.Fatal(err)
	}
	// Close by ending the test's first fixture early: open the same folder in a new
	// catalog once the first one's database is closed.
	db := f.cat.db
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2, err := platform.OpenDB(dir, Part)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	c2, err := Open(context.Background(), db2, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	a, err := c2.GetAgency(context.Background(), &catalogv1.GetAgencyRequest{Code: "000.00.00.H31"})
	if err != nil {
		t.Fatalf("agency after reopen: %v", err)
	}
	if a.GetName() != "Ủy ban nhân dân tỉnh Hưng Yên" {
		t.Errorf("name after reopen: got %q", a.GetName())
	}
	if got := len(c2.units); got != 63+3321 {
		t.Errorf("units after reopen: got %d, want 63 provinces and 3,321 communes (seeded once)", got)
	}
}

func TestDemoCatalog(t *testing.T) {
	f := newFixture(t, true)
	ctx := context.Background()
	procs, err := f.client.ListProcedures(ctx, &catalogv1.ListProceduresRequest{PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(procs.GetProcedures()); n < 200 {
		t.Errorf("demo procedures: got %d, want at least 200", n)
	}
	fields := map[string]bool{}
	for _, p := range procs.GetProcedures() {
		fields[p.GetField()] = true
		for _, a := range p.GetAgencyCodes() {
			if _, err := f.client.GetAgency(ctx, &catalogv1.GetAgencyRequest{Code: a}); err != nil {
				t.Errorf("procedure %s names agency %s: %v", p.GetCode(), a, err)
			}
		}
	}
	if len(fields) < 10 {
		t.Errorf("demo fields: got %d, want at least 10", len(fields))
	}
	for _, unit := range []string{"01", "02", "33", "36", "60"} {
		ag, err := f.client.ListAgencies(ctx, &catalogv1.ListAgenciesRequest{Unit: unit})
		if err != nil {
			t.Fatal(err)
		}
		if len(ag.GetAgencies()) < 5 {
			t.Errorf("agencies of seed province %s: got %d, want at least 5", unit, len(ag.GetAgencies()))
		}
	}
	// Loading again changes nothing.
	before := len(f.cat.procedures)
	if err := f.cat.LoadDemo(ctx); err != nil {
		t.Fatal(err)
	}
	if after := len(f.cat.procedures); after != before {
		t.Errorf("second demo load: %d procedures, want %d", after, before)
	}
}

func TestPublicReadsAndAdminWrites(t *testing.T) {
	f := newFixture(t, true)
	agency := &catalogv1.Agency{Code: "000.00.01.H31", Name: "UBND thành phố Hưng Yên (thử)", UnitCode: "33"}
	cases := []struct {
		name string
		ctx  context.Context
		want codes.Code
	}{
		{"no token", context.Background(), codes.Unauthenticated},
		{"bad token", metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer x.y.z"), codes.Unauthenticated},
		{"province token", f.as(platform.RoleProvince, "33"), codes.PermissionDenied},
		{"ministry token", f.as(platform.RoleMinistry, ""), codes.PermissionDenied},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.client.CreateAgency(tc.ctx, &catalogv1.CreateAgencyRequest{Agency: &catalogv1.Agency{Code: "000.77.00.H31", Name: "x", UnitCode: "33"}})
			wantCode(t, err, tc.want)
			_, err = f.client.CreateProcedure(tc.ctx, &catalogv1.CreateProcedureRequest{Procedure: validProcedure("1.888888")})
			wantCode(t, err, tc.want)
			if _, err := f.client.GetProcedure(context.Background(), &catalogv1.GetProcedureRequest{Code: "1.888888"}); status.Code(err) != codes.NotFound {
				t.Errorf("refused create stored something: %v", err)
			}
		})
	}
	// Reads need no token.
	if _, err := f.client.GetAgency(context.Background(), &catalogv1.GetAgencyRequest{Code: agency.GetCode()}); err != nil {
		t.Errorf("public read: %v", err)
	}
}

func TestAgencyValidation(t *testing.T) {
	f := newFixture(t, false)
	ctx := f.admin()
	cases := []struct {
		name   string
		agency *catalogv1.Agency
		field  string
	}{
		{"bad code", &catalogv1.Agency{Code: "H33", Name: "x", UnitCode: "33"}, "agency.code"},
		{"lower-case letter", &catalogv1.Agency{Code: "000.00.00.h33", Name: "x", UnitCode: "33"}, "agency.code"},
		{"no name", &catalogv1.Agency{Code: "000.00.00.H31", UnitCode: "33"}, "agency.name"},
		{"unknown unit", &catalogv1.Agency{Code: "000.00.00.H31", Name: "x", UnitCode: "99"}, "agency.unit_code"},
		{"unknown parent", &catalogv1.Agency{Code: "000.00.00.H31", Name: "x", UnitCode: "33", ParentCode: "000.00.00.H54"}, "agency.parent_code"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.client.CreateAgency(ctx, &catalogv1.CreateAgencyRequest{Agency: tc.agency})
			wantCode(t, err, codes.InvalidArgument)
			if got := violationFields(err); !slices.Contains(got, tc.field) {
				t.Errorf("violations: got %v, want one on %s", got, tc.field)
			}
		})
	}
	ok := &catalogv1.Agency{Code: "000.00.00.H31", Name: "Ủy ban nhân dân tỉnh Hưng Yên", UnitCode: "33"}
	if _, err := f.client.CreateAgency(ctx, &catalogv1.CreateAgencyRequest{Agency: ok}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.CreateAgency(ctx, &catalogv1.CreateAgencyRequest{Agency: ok}); err != nil {
		t.Errorf("same agency again: got %v, want success", err)
	}
	other := &catalogv1.Agency{Code: "000.00.00.H31", Name: "Tên khác", UnitCode: "33"}
	_, err := f.client.CreateAgency(ctx, &catalogv1.CreateAgencyRequest{Agency: other})
	wantCode(t, err, codes.AlreadyExists)
}

func violationFields(err error) []string {
	var out []string
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				out = append(out, v.GetField())
			}
		}
	}
	return out
}

func validProcedure(code string) *catalogv1.Procedure {
	return &catalogv1.Procedure{
		Code: code, Name: "Đăng ký thử nghiệm", Field: "Đất đai",
		ImplementingLevel: catalogv1.ImplementingLevel_IMPLEMENTING_LEVEL_PROVINCE,
		AgencyCodes:       []string{"000.06.00.H31"}, ProcessingDays: 10,
		OnlineLevel: catalogv1.OnlineLevel_ONLINE_LEVEL_PARTIAL,
	}
}

func TestTempDirFileMode(t *testing.T) {
	f := newFixture(t, false)
	fi, err := os.Stat(filepath.Join(f.dataDir, Part+".db"))
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("catalog.db mode: got %o, want 600", got)
	}
}

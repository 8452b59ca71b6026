package catalog

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"github.com/lienthong/lienthong/services/platform/platformtest"
	"net"
	"strings"
	"testing"
	"time"

	adminv1 "github.com/lienthong/lienthong/proto/gen/lienthong/admin/v1"
	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
)

// revFixture is a catalog part with its token revocations, served over an in-memory
// connection, its verifier consulting the revocations as `lienthong up` wires it.
type revFixture struct {
	t        *testing.T
	db       *bolt.DB
	verifier *platform.TokenVerifier
	issuer   *platform.TokenIssuer
	revs     adminv1.TokenRevocationServiceClient
	catalog  catalogv1.CatalogServiceClient
	stop     func()
}

func openRevFixture(t *testing.T, dir string, priv ed25519.PrivateKey) *revFixture {
	t.Helper()
	db, err := platform.OpenDB(dir, Part)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cat, err := Open(ctx, db, zap.NewNop())
	if err == nil {
		err = cat.LoadDemo(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	verifier := platform.NewTokenVerifier(priv.Public().(ed25519.PublicKey))
	verifier.SetSystemCheck(cat.CheckTokenSystem)
	tr, err := OpenTokenRevocations(db, verifier.Revocations(), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	srv := platform.NewServer(platform.ServerOptions{Part: Part, Logger: zap.NewNop(), Verifier: verifier, Policy: Policy})
	Register(srv, cat)
	RegisterTokenRevocations(srv, tr)
	lis := bufconn.Listen(1 << 20)
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = srv.Serve(sctx, lis, time.Second); close(done) }()
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	f := &revFixture{t: t, db: db, verifier: verifier, issuer: platform.NewTokenIssuer(priv),
		revs: adminv1.NewTokenRevocationServiceClient(conn), catalog: catalogv1.NewCatalogServiceClient(conn)}
	stopped := false
	f.stop = func() {
		if stopped {
			return
		}
		stopped = true
		conn.Close()
		cancel()
		<-done
		db.Close()
	}
	t.Cleanup(f.stop)
	return f
}

func (f *revFixture) token(c platform.Caller, now time.Time) (string, string) {
	f.t.Helper()
	tok, id, err := f.issuer.IssueWithID(c, time.Hour, now)
	if err != nil {
		f.t.Fatal(err)
	}
	return tok, id
}

func bearer(tok string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
}

func TestTokenRevocationsStoredAndEnforced(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	dir := t.TempDir()
	f := openRevFixture(t, dir, priv)
	now := time.Now()
	admin, _ := f.token(platform.Caller{System: "lienthong/admin", Role: platform.RoleAdmin}, now)
	adminCtx := bearer(admin)
	province, provinceID := f.token(platform.Caller{System: "000.00.00.H31/motcua", Role: platform.RoleProvince, Unit: "33"}, now.Add(-time.Minute))
	agency, agencyID := f.token(platform.Caller{System: "000.02.00.H31/qlvb", Role: platform.RoleAgency}, now.Add(-time.Minute))

	// Who may revoke, and what a request must name.
	_, err := f.revs.CreateTokenRevocation(bearer(province), &adminv1.CreateTokenRevocationRequest{TokenRevocation: &adminv1.TokenRevocation{TokenId: agencyID}})
	wantCode(t, err, codes.PermissionDenied)
	_, err = f.revs.CreateTokenRevocation(context.Background(), &adminv1.CreateTokenRevocationRequest{TokenRevocation: &adminv1.TokenRevocation{TokenId: agencyID}})
	wantCode(t, err, codes.Unauthenticated)
	for name, bad := range map[string]*adminv1.TokenRevocation{
		"nothing":     {},
		"both":        {TokenId: agencyID, System: "000.02.00.H31/qlvb"},
		"not an id":   {TokenId: "abc"},
		"long reason": {TokenId: agencyID, Reason: strings.Repeat("x", 501)},
	} {
		_, err := f.revs.CreateTokenRevocation(adminCtx, &adminv1.CreateTokenRevocationRequest{TokenRevocation: bad})
		if got := codeOf(err); got != codes.InvalidArgument {
			t.Errorf("%s: %v, want INVALID_ARGUMENT", name, err)
		}
	}

	// A token by id: refused by this part as soon as the call answers.
	if _, err := f.catalog.GetCatalogStats(bearer(province), &catalogv1.GetCatalogStatsRequest{}); err != nil {
		t.Fatalf("province token before revocation: %v", err)
	}
	rv, err := f.revs.CreateTokenRevocation(adminCtx, &adminv1.CreateTokenRevocationRequest{TokenRevocation: &adminv1.TokenRevocation{TokenId: provinceID, Reason: "leaked"}})
	if err != nil {
		t.Fatal(err)
	}
	if rv.GetSequence() != 1 || rv.GetRevokedBy() != "lienthong/admin" || rv.GetRevokedAt() == nil {
		t.Errorf("revocation: %v", rv)
	}
	_, err = f.catalog.GetCatalogStats(bearer(province), &catalogv1.GetCatalogStatsRequest{})
	wantCode(t, err, codes.Unauthenticated)
	again, err := f.revs.CreateTokenRevocation(adminCtx, &adminv1.CreateTokenRevocationRequest{TokenRevocation: &adminv1.TokenRevocation{TokenId: provinceID}})
	if err != nil || again.GetSequence() != 1 {
		t.Errorf("revoking the same token again: %v, %v; want revocation 1", again, err)
	}

	// A whole system: its tokens so far are refused, one issued later works.
	if _, err := f.revs.CreateTokenRevocation(adminCtx, &adminv1.CreateTokenRevocationRequest{TokenRevocation: &adminv1.TokenRevocation{System: "000.02.00.H31/qlvb"}}); err != nil {
		t.Fatal(err)
	}
	_, err = f.catalog.GetCatalogStats(bearer(agency), &catalogv1.GetCatalogStatsRequest{})
	wantCode(t, err, codes.Unauthenticated)
	later, _ := f.token(platform.Caller{System: "000.02.00.H31/qlvb", Role: platform.RoleAgency}, time.Now().Add(time.Second))
	if _, err := f.catalog.GetCatalogStats(bearer(later), &catalogv1.GetCatalogStatsRequest{}); err != nil {
		t.Errorf("token issued after the system's revocation: %v", err)
	}

	// Paged list, admin only.
	_, err = f.revs.ListTokenRevocations(bearer(later), &adminv1.ListTokenRevocationsRequest{})
	wantCode(t, err, codes.PermissionDenied)
	var seqs []uint64
	page := &adminv1.ListTokenRevocationsResponse{}
	for first := true; first || page.GetNextPageToken() != ""; first = false {
		page, err = f.revs.ListTokenRevocations(adminCtx, &adminv1.ListTokenRevocationsRequest{PageSize: 1, PageToken: page.GetNextPageToken()})
		if err != nil {
			t.Fatal(err)
		}
		for _, rv := range page.GetTokenRevocations() {
			seqs = append(seqs, rv.GetSequence())
		}
	}
	if len(seqs) != 2 || seqs[0] != 1 || seqs[1] != 2 {
		t.Errorf("listed sequences %v, want [1 2]", seqs)
	}

	// Kept across a restart.
	f.stop()
	g := openRevFixture(t, dir, priv)
	_, err = g.catalog.GetCatalogStats(bearer(province), &catalogv1.GetCatalogStatsRequest{})
	wantCode(t, err, codes.Unauthenticated)
	_, err = g.catalog.GetCatalogStats(bearer(agency), &catalogv1.GetCatalogStatsRequest{})
	wantCode(t, err, codes.Unauthenticated)
	if _, err := g.catalog.GetCatalogStats(bearer(later), &catalogv1.GetCatalogStatsRequest{}); err != nil {
		t.Errorf("later token after restart: %v", err)
	}
	next, err := g.revs.CreateTokenRevocation(bearer(admin), &adminv1.CreateTokenRevocationRequest{TokenRevocation: &adminv1.TokenRevocation{System: "000.00.00.H41/motcua"}})
	if err != nil || next.GetSequence() != 3 {
		t.Errorf("revocation after restart: %v, %v; want sequence 3", next, err)
	}
}

func codeOf(err error) codes.Code { return status.Code(err) }

func TestWatchTokenRevocationsFeedsFollowers(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	f := openRevFixture(t, t.TempDir(), priv)
	admin, _ := f.token(platform.Caller{System: "lienthong/admin", Role: platform.RoleAdmin}, time.Now())
	revoke := func(system string) {
		t.Helper()
		if _, err := f.revs.CreateTokenRevocation(bearer(admin), &adminv1.CreateTokenRevocationRequest{TokenRevocation: &adminv1.TokenRevocation{System: system, Reason: "secret reason"}}); err != nil {
			t.Fatal(err)
		}
	}
	revoke("000.00.00.H31/a")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	follower := platform.NewRevocations()
	done := make(chan struct{})
	go func() { follower.Follow(ctx, f.revs, zap.NewNop()); close(done) }()
	defer func() { cancel(); <-done }()
	platformtest.WaitFor(t, 5*time.Second, "the follower has the first revocation", func() bool { return follower.Len() == 1 })
	revoke("000.00.00.H31/b")
	platformtest.WaitFor(t, 5*time.Second, "the follower has the second revocation", func() bool { return follower.Len() == 2 })
	if err := follower.Check(&platform.Caller{System: "000.00.00.H31/b", IssuedAt: time.Now().Add(-time.Hour)}); err == nil {
		t.Error("the follower accepts a token of a revoked system")
	}

	// The stream is public and leaves reasons and revokers out.
	stream, err := f.revs.WatchTokenRevocations(ctx, &adminv1.WatchTokenRevocationsRequest{AfterSequence: 1})
	if err != nil {
		t.Fatal(err)
	}
	rv, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if rv.GetSequence() != 2 || rv.GetSystem() != "000.00.00.H31/b" || rv.GetReason() != "" || rv.GetRevokedBy() != "" {
		t.Errorf("watched revocation: %v", rv)
	}
}

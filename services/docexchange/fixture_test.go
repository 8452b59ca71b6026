package docexchange

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
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
	agTuPhap33 = "000.02.00.H31" // Sở Tư pháp Hưng Yên
	agUBND33   = "000.00.00.H31" // UBND Hưng Yên
	agTNMT33   = "000.06.00.H31"
	agTuPhap36 = "000.02.00.H40" // Nam Định, rolled up into Ninh Bình (37) today
)

type fakeCatalog struct {
	mu       sync.Mutex
	down     bool
	agencies map[string]string // code -> unit
	current  map[string]string // unit -> current unit
	parents  map[string]string // commune-level unit -> province
}

func newFakeCatalog() *fakeCatalog {
	return &fakeCatalog{
		agencies: map[string]string{agTuPhap33: "33", agUBND33: "33", agTNMT33: "33", agTuPhap36: "36"},
		current:  map[string]string{"33": "33", "36": "37"},
	}
}

func (f *fakeCatalog) LookupReferences(_ context.Context, in *catalogv1.LookupReferencesRequest, _ ...grpc.CallOption) (*catalogv1.LookupReferencesResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, status.Error(codes.Unavailable, "catalog is down")
	}
	out := &catalogv1.LookupReferencesResponse{}
	for _, c := range in.GetAgencyCodes() {
		if u, ok := f.agencies[c]; ok {
			province := u
			if p, ok := f.parents[u]; ok {
				province = p
			}
			out.Agencies = append(out.Agencies, &catalogv1.Agency{Code: c, UnitCode: u, ProvinceCode: province})
		} else {
			out.MissingAgencies = append(out.MissingAgencies, c)
		}
	}
	for _, c := range in.GetUnitCodes() {
		if cur, ok := f.current[c]; ok {
			out.Units = append(out.Units, &catalogv1.UnitReference{Unit: &catalogv1.Unit{Code: c}, CurrentCodes: []string{cur}})
		} else {
			out.MissingUnits = append(out.MissingUnits, c)
		}
	}
	return out, nil
}

// fixture is the part served over an in-memory connection with tokens.
type fixture struct {
	t      *testing.T
	dir    string
	db     *bolt.DB
	svc    *Service
	cat    *fakeCatalog
	client docv1.DocumentServiceClient
	issuer *platform.TokenIssuer
	now    time.Time
	nowMu  sync.Mutex
	// keys of the agencies, registered as "<agency>-k1".
	keys     map[string]ed25519.PrivateKey
	closeFn  func()
	verifier *platform.TokenVerifier
	roots    *x509.CertPool
}

var testStart = time.Date(2026, 11, 23, 10, 0, 0, 0, vietnam)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: t.TempDir(), cat: newFakeCatalog(), now: testStart, keys: map[string]ed25519.PrivateKey{}}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f.issuer = platform.NewTokenIssuer(priv)
	f.verifier = platform.NewTokenVerifier(pub)
	f.open(f.verifier)
	for _, ag := range []string{agTuPhap33, agUBND33, agTuPhap36} {
		kpub, kpriv, _ := ed25519.GenerateKey(rand.Reader)
		f.keys[ag] = kpriv
		if _, err := f.client.PutSigningKey(f.admin(), &docv1.PutSigningKeyRequest{AgencyCode: ag, KeyId: ag + "-k1",
			SigningKey: &docv1.SigningKey{Algorithm: AlgEd25519, PublicKey: kpub}}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

var evidenceKey = func() ed25519.PrivateKey { _, k, _ := ed25519.GenerateKey(rand.Reader); return k }()

func (f *fixture) clock() time.Time {
	f.nowMu.Lock()
	defer f.nowMu.Unlock()
	f.now = f.now.Add(time.Minute)
	return f.now
}

// open opens the database and serves the part (again, after reopen).
func (f *fixture) open(verifier *platform.TokenVerifier) {
	t := f.t
	db, err := bolt.Open(filepath.Join(f.dir, "docexchange.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.db = db
	f.svc, err = Open(db, Options{Catalog: f.cat, Logger: zap.NewNop(), Now: f.clock, EvidenceKey: evidenceKey, MaxDocumentBytes: 4 << 20, MaxUploadBytes: 64 << 20,
		TrustedRoots: f.roots})
	if err != nil {
		t.Fatal(err)
	}
	srv := platform.NewServer(platform.ServerOptions{Part: Part, Logger: zap.NewNop(), Verifier: verifier, Policy: Policy, MaxMessageBytes: 8 << 20})
	Register(srv, f.svc)
	lis := bufconn.Listen(1 << 20)
	sctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Serve(sctx, lis, time.Second); close(done) }()
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(8<<20), grpc.MaxCallRecvMsgSize(8<<20)))
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	closeAll := func() {
		once.Do(func() {
			conn.Close()
			stop()
			<-done
			db.Close()
		})
	}
	t.Cleanup(closeAll)
	f.closeFn = closeAll
	f.client = docv1.NewDocumentServiceClient(conn)
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

func (f *fixture) admin() context.Context { return f.as("lienthong/admin", platform.RoleAdmin, "") }

func (f *fixture) agency(code string) context.Context {
	return f.as(code+"/qlvb", platform.RoleAgency, "")
}

// letter is a small unsigned document from Sở Tư pháp to UBND and Sở TNMT of Hưng Yên.
func letter(number string) *docv1.Document {
	return &docv1.Document{
		From: agTuPhap33, To: []string{agUBND33, agTNMT33}, CodeNumber: number, CodeNotation: "STP-VP",
		PromulgationDate: "2026-11-02", DocumentType: "Công văn", Subject: "Về việc báo cáo công tác tư pháp",
		Signer:      &docv1.Signer{Name: "Trần Văn B", Position: "Giám đốc"},
		Attachments: []*docv1.Attachment{{Name: "cv.pdf", ContentType: "application/pdf", Content: []byte("%PDF-1.4 công văn " + number)}},
	}
}

// signed signs a document with its sender's test key, filling the attachments' digests.
func (f *fixture) signed(d *docv1.Document) *docv1.Document {
	f.t.Helper()
	for _, a := range d.Attachments {
		sum := sha256.Sum256(a.Content)
		a.Sha256, a.Size = hex.EncodeToString(sum[:]), int64(len(a.Content))
	}
	if err := Sign(d, d.From+"-k1", f.keys[d.From]); err != nil {
		f.t.Fatal(err)
	}
	return d
}

func (f *fixture) send(d *docv1.Document) *docv1.SendDocumentResponse {
	f.t.Helper()
	resp, err := f.client.SendDocument(f.agency(d.From), &docv1.SendDocumentRequest{Document: d})
	if err != nil {
		f.t.Fatalf("send: %v", err)
	}
	return resp
}

// reason is the ErrorInfo reason of an error.
func reason(err error) string {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

// inboxIDs lists the ids in an agency's mailbox.
func (f *fixture) inboxIDs(agency string) []string {
	f.t.Helper()
	resp, err := f.client.ListInbox(f.agency(agency), &docv1.ListInboxRequest{AgencyCode: agency, PageSize: 1000})
	if err != nil {
		f.t.Fatal(err)
	}
	var ids []string
	for _, d := range resp.GetDocuments() {
		ids = append(ids, d.GetId())
	}
	return ids
}

func (f *fixture) evidenceRecords() int64 {
	f.t.Helper()
	v, err := f.client.VerifyEvidence(f.admin(), &docv1.VerifyEvidenceRequest{})
	if err != nil {
		f.t.Fatal(err)
	}
	if !v.GetOk() {
		f.t.Fatalf("evidence log broken: %s", v.GetReason())
	}
	return v.GetRecords()
}

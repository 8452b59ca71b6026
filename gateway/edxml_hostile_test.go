package gateway_test

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lienthong/lienthong/gateway"
	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/docexchange"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
	"google.golang.org/grpc"
)

// The streamed REST edXML import against the real document part, under careless and
// hostile clients (docs/security.md, "Resources"): a body cut halfway, a body sent a few
// bytes a second, many imports at once from one system, bodies with a wrong or no
// Content-Type.

const (
	sender    = "000.02.00.H31" // Sở Tư pháp Hưng Yên
	recipient = "000.00.00.H31" // UBND Hưng Yên
)

// docCatalog knows the two agencies of the packages.
type docCatalog struct{}

func (docCatalog) LookupReferences(_ context.Context, in *catalogv1.LookupReferencesRequest, _ ...grpc.CallOption) (*catalogv1.LookupReferencesResponse, error) {
	out := &catalogv1.LookupReferencesResponse{}
	for _, c := range in.GetAgencyCodes() {
		if c == sender || c == recipient {
			out.Agencies = append(out.Agencies, &catalogv1.Agency{Code: c, UnitCode: "33"})
		} else {
			out.MissingAgencies = append(out.MissingAgencies, c)
		}
	}
	for _, c := range in.GetUnitCodes() {
		out.Units = append(out.Units, &catalogv1.UnitReference{Unit: &catalogv1.Unit{Code: c}, CurrentCodes: []string{c}})
	}
	return out, nil
}

// docEnv is a gateway in front of the real document part, its data in a folder of its own.
type docEnv struct {
	*env
	dir string
	db  *bolt.DB
}

// newDocEnv serves the document part (at most maxStreams streams per system) behind the
// gateway, whose bodies must arrive within bodyTimeout.
func newDocEnv(t *testing.T, maxStreams int, bodyTimeout time.Duration) *docEnv {
	t.Helper()
	d := &docEnv{dir: t.TempDir()}
	d.env = newEnvConfig(t, func(c *gateway.Config) {
		db, err := bolt.Open(filepath.Join(d.dir, docexchange.Part+".db"), 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		d.db = db
		_, key, _ := ed25519.GenerateKey(rand.Reader)
		svc, err := docexchange.Open(db, docexchange.Options{Catalog: docCatalog{}, Logger: zap.NewNop(), EvidenceKey: key, MaxDocumentBytes: 4 << 20})
		if err != nil {
			t.Fatal(err)
		}
		srv := platform.NewServer(platform.ServerOptions{Part: docexchange.Part, Logger: zap.NewNop(), Verifier: c.Verifier,
			Policy: docexchange.Policy, MaxMessageBytes: 5 << 20, MaxStreamsPerSystem: maxStreams, GRPCOptions: docexchange.ServerOptions()})
		docexchange.Register(srv, svc)
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = srv.Serve(ctx, lis, time.Second); close(done) }()
		t.Cleanup(func() { cancel(); <-done; db.Close() })
		c.MaxDocumentBytes = 4 << 20
		c.BodyReadTimeout = bodyTimeout
		c.Parts = append(c.Parts, gateway.Part{Name: docexchange.Part, Addr: lis.Addr().String(),
			Services: []string{docv1.DocumentService_ServiceDesc.ServiceName}, Policy: docexchange.Policy,
			RegisterREST: docexchange.RegisterREST})
	})
	return d
}

// agencyToken is a token of the sending agency's document system.
func (d *docEnv) agencyToken() string {
	d.t.Helper()
	tok, err := d.issuer.Issue(platform.Caller{System: sender + "/qlvb", Role: platform.RoleAgency}, time.Hour, time.Now())
	if err != nil {
		d.t.Fatal(err)
	}
	return tok
}

// edxmlPackage is a national-form package of a letter with one attachment of size bytes
// that do not compress (its base64 makes the package about 4/3 of size).
func edxmlPackage(t *testing.T, number string, size int) []byte {
	t.Helper()
	file := make([]byte, size)
	if _, err := rand.Read(file); err != nil {
		t.Fatal(err)
	}
	doc := &docv1.Document{From: sender, To: []string{recipient}, CodeNumber: number, CodeNotation: "STP-VP",
		PromulgationDate: "2026-11-02", DocumentType: "Công văn", Subject: "Về việc báo cáo công tác tư pháp",
		Signer:      &docv1.Signer{Name: "Trần Văn B", Position: "Giám đốc"},
		Attachments: []*docv1.Attachment{{Name: "bao-cao.bin", ContentType: "application/octet-stream"}}}
	pkg, err := docexchange.MarshalNationalEdxml(doc, [][]byte{file})
	if err != nil {
		t.Fatal(err)
	}
	return pkg
}

// state is what the part holds of imports: documents, blob chunks, uploads, upload marks and
// temporary import files of its data folder.
type state struct{ docs, chunks, uploads, marks, files int }

func (d *docEnv) state() state {
	d.t.Helper()
	var s state
	// The buckets of docexchange.db (services/docexchange/service.go, orphans.go).
	count := func(tx *bolt.Tx, name string) int {
		if b := tx.Bucket([]byte(name)); b != nil {
			return b.Stats().KeyN
		}
		return 0
	}
	if err := d.db.View(func(tx *bolt.Tx) error {
		s.docs, s.chunks, s.uploads, s.marks = count(tx, "documents"), count(tx, "blobs"), count(tx, "uploads"), count(tx, "uploading")
		return nil
	}); err != nil {
		d.t.Fatal(err)
	}
	m, _ := filepath.Glob(filepath.Join(d.dir, "edxml-import-*.tmp"))
	s.files = len(m)
	return s
}

// importing says whether an import is under way in the part: an upload of its attachment
// or a temporary file.
func (s state) importing() bool { return s.uploads+s.marks+s.files > 0 }

// waitState polls until the part holds want.
func (d *docEnv) waitState(what string, want state) {
	d.t.Helper()
	waitFor(d.t, 5*time.Second, what, func() (bool, string) {
		s := d.state()
		return s == want, fmt.Sprintf("%+v, want %+v", s, want)
	})
}

// rawRequest opens a connection and writes the headers of a POST of a package of length
// bytes (a Content-Length); the caller writes the body.
func (d *docEnv) rawRequest(token string, length int, contentType string) net.Conn {
	d.t.Helper()
	conn, err := net.Dial("tcp", d.gwAddr)
	if err != nil {
		d.t.Fatal(err)
	}
	d.t.Cleanup(func() { _ = conn.Close() })
	head := "POST /v1/documents:importEdxml HTTP/1.1\r\nHost: " + d.gwAddr + "\r\nAuthorization: Bearer " + token +
		"\r\nContent-Type: " + contentType + "\r\nContent-Length: " + strconv.Itoa(length) + "\r\n\r\n"
	if _, err := io.WriteString(conn, head); err != nil {
		d.t.Fatal(err)
	}
	return conn
}

// importREST posts a package and answers the status and body.
func (d *docEnv) importREST(token string, pkg []byte, contentType string) (int, string) {
	d.t.Helper()
	h := map[string]string{"Authorization": "Bearer " + token}
	if contentType != "" {
		h["Content-Type"] = contentType
	}
	r := d.do(request{method: http.MethodPost, path: "/v1/documents:importEdxml", body: string(pkg), header: h})
	return r.code, string(r.body)
}

// goroutinesBack polls until the process runs no more goroutines than before.
func goroutinesBack(t *testing.T, before int) {
	t.Helper()
	waitFor(t, 5*time.Second, "goroutines back to their number before", func() (bool, string) {
		n := runtime.NumGoroutine()
		return n <= before, fmt.Sprintf("%d goroutines, %d before", n, before)
	})
}

// TestRESTEdxmlCutBodyLeavesNothing: a client that sends part of a large package and closes
// its connection has the part's import cancelled, which leaves no document, chunk, upload or
// temporary file, and the gateway goroutines go back to what they were. A client that sends
// a whole package but less than the Content-Length it declared has not sent its request:
// nothing is imported either (the body was taken as complete, and the package imported).
func TestRESTEdxmlCutBodyLeavesNothing(t *testing.T) {
	d := newDocEnv(t, 0, 0)
	tok := d.agencyToken()
	// A first import warms the connections (the gateway's to the part, the client's).
	if code, body := d.importREST(tok, edxmlPackage(t, "1", 1<<10), "application/xml"); code != http.StatusOK {
		t.Fatalf("first import: %d %.300s", code, body)
	}
	d.client.CloseIdleConnections()
	base := d.state()
	before := runtime.NumGoroutine()

	pkg := edxmlPackage(t, "2", 1536<<10) // about 2 MiB
	conn := d.rawRequest(tok, len(pkg), "application/xml")
	if _, err := conn.Write(pkg[:len(pkg)/2]); err != nil {
		t.Fatal(err)
	}
	// The part has begun: the attachment is being stored.
	waitFor(t, 5*time.Second, "the import under way", func() (bool, string) {
		s := d.state()
		return s.importing(), fmt.Sprintf("%+v", s)
	})
	_ = conn.Close()
	d.waitState("after a body cut halfway", base)
	goroutinesBack(t, before)

	// The whole package, but the connection closed 100 bytes short of the declared length.
	conn = d.rawRequest(tok, len(pkg)+100, "application/xml")
	if _, err := conn.Write(pkg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the import under way", func() (bool, string) {
		s := d.state()
		return s.importing(), fmt.Sprintf("%+v", s)
	})
	_ = conn.(*net.TCPConn).CloseWrite()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err == nil {
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("package short of its Content-Length: %d %.300s, want 400", resp.StatusCode, body)
		}
	}
	_ = conn.Close()
	d.waitState("after a package short of its Content-Length", base)
	goroutinesBack(t, before)
}

// TestRESTEdxmlSlowBodyIsCut: a body sent a few bytes a second is cut at the body deadline
// (400), and the part's import ends leaving nothing; meanwhile another system imports at
// normal speed.
func TestRESTEdxmlSlowBodyIsCut(t *testing.T) {
	const deadline = 1500 * time.Millisecond
	d := newDocEnv(t, 0, deadline)
	tok := d.agencyToken()
	if code, body := d.importREST(tok, edxmlPackage(t, "1", 1<<10), "application/xml"); code != http.StatusOK {
		t.Fatalf("first import: %d %.300s", code, body)
	}
	d.client.CloseIdleConnections()
	base := d.state()
	before := runtime.NumGoroutine()

	pkg := edxmlPackage(t, "2", 600<<10)
	conn := d.rawRequest(tok, len(pkg), "application/xml")
	start := time.Now()
	if _, err := conn.Write(pkg[:400<<10]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the slow import under way", func() (bool, string) {
		s := d.state()
		return s.importing(), fmt.Sprintf("%+v", s)
	})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // a few bytes every 100 ms
		defer wg.Done()
		for off := 400 << 10; off < len(pkg); off += 4 {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			if _, err := conn.Write(pkg[off : off+4]); err != nil {
				return
			}
		}
	}()
	defer func() { close(stop); wg.Wait() }()

	// Another import, of 1 MiB, while the slow one is open.
	other := edxmlPackage(t, "3", 1<<20)
	t0 := time.Now()
	code, body := d.importREST(tok, other, "application/xml")
	if code != http.StatusOK {
		t.Fatalf("import beside the slow one: %d %.300s", code, body)
	}
	took := time.Since(t0)
	t.Logf("a 1 MiB import beside a slow body took %v", took)
	if took >= deadline {
		t.Errorf("the import beside the slow one took %v: it waited for the slow one", took)
	}

	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("slow body: no answer: %v", err)
	}
	answered := time.Since(start)
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "not received in full") {
		t.Errorf("slow body: %d %.300s, want 400 not received in full", resp.StatusCode, b)
	}
	if answered < deadline || answered > deadline+3*time.Second {
		t.Errorf("slow body answered after %v, want the deadline of %v", answered, deadline)
	}
	_ = conn.Close()
	// The other import's document and its attachment's chunks stay; nothing of the slow one.
	waitFor(t, 5*time.Second, "the slow import's leftovers removed", func() (bool, string) {
		s := d.state()
		return s.docs == base.docs+1 && !s.importing(), fmt.Sprintf("%+v, before %+v", s, base)
	})
	goroutinesBack(t, before)
}

// TestRESTEdxmlStreamsPerSystemCapped: streamed imports of one system beyond the part's
// stream cap are refused at once, 429 TOO_MANY_STREAMS with Retry-After, rather than each
// spooling its package to a temporary file; once the open ones end, imports go through.
func TestRESTEdxmlStreamsPerSystemCapped(t *testing.T) {
	const maxStreams = 2
	d := newDocEnv(t, maxStreams, 0)
	tok := d.agencyToken()
	pkg := edxmlPackage(t, "1", 1<<20)
	held := make([]net.Conn, maxStreams)
	for i := range held {
		held[i] = d.rawRequest(tok, len(pkg), "application/xml")
		if _, err := held[i].Write(pkg[:600<<10]); err != nil {
			t.Fatal(err)
		}
	}
	// Both spool to files (the package's copy and the attachment's): the part holds their
	// streams.
	var heldFiles int
	waitFor(t, 5*time.Second, "the held imports under way", func() (bool, string) {
		s := d.state()
		heldFiles = s.files
		return s.files == 2*maxStreams, fmt.Sprintf("%+v", s)
	})
	const more = 6
	var wg sync.WaitGroup
	codes := make([]int, more)
	bodies := make([]string, more)
	retry := make([]string, more)
	for i := range more {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := d.do(request{method: http.MethodPost, path: "/v1/documents:importEdxml", body: string(pkg),
				header: map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/xml"}})
			codes[i], bodies[i], retry[i] = r.code, string(r.body), r.header.Get("Retry-After")
		}()
	}
	wg.Wait()
	for i := range more {
		if codes[i] != http.StatusTooManyRequests || !strings.Contains(bodies[i], "TOO_MANY_STREAMS") || retry[i] == "" {
			t.Errorf("import %d beyond the cap: %d Retry-After %q %.300s, want 429 TOO_MANY_STREAMS", i, codes[i], retry[i], bodies[i])
		}
	}
	if s := d.state(); s.files > heldFiles || s.docs != 0 {
		t.Errorf("beyond the cap: %+v, want the held imports' %d temporary files and no document", s, heldFiles)
	}
	for _, c := range held {
		_ = c.Close()
	}
	d.waitState("after the held imports were cut", state{})
	if code, body := d.importREST(tok, pkg, "application/xml"); code != http.StatusOK {
		t.Errorf("import once the streams ended: %d %.300s", code, body)
	}
}

// TestRESTEdxmlBodyKinds: an XML body imports whatever its Content-Type says (none, JSON,
// text, form); a JSON object body ({"edxml": base64}) takes the unary call whatever its
// Content-Type says (an XML package never starts with "{"); an empty or blank body is 400.
func TestRESTEdxmlBodyKinds(t *testing.T) {
	d := newDocEnv(t, 0, 0)
	tok := d.agencyToken()
	for i, ct := range []string{"", "application/json", "text/plain", "application/x-www-form-urlencoded", "application/xml; charset=utf-8"} {
		for _, size := range []int{1 << 10, 300 << 10} { // one chunk (unary), several (streamed)
			pkg := edxmlPackage(t, fmt.Sprintf("%d%d", i, size), size)
			if code, body := d.importREST(tok, pkg, ct); code != http.StatusOK || !strings.Contains(body, `"id"`) {
				t.Errorf("XML of %d bytes, Content-Type %q: %d %.300s", len(pkg), ct, code, body)
			}
		}
	}
	for i, ct := range []string{"application/json", "", "text/plain", "application/x-www-form-urlencoded"} {
		pkg := edxmlPackage(t, fmt.Sprintf("9%d", i), 1<<10)
		js := "\n  " + fmt.Sprintf(`{"edxml": %q}`, base64Std(pkg))
		if code, body := d.importREST(tok, []byte(js), ct); code != http.StatusOK || !strings.Contains(body, `"id"`) {
			t.Errorf("JSON body, Content-Type %q: %d %.300s", ct, code, body)
		}
	}
	empty := []request{
		{body: ""},
		{body: " \r\n\t "},
		{body: strings.Repeat(" ", 100<<10)},
		{body: strings.Repeat(" ", 100<<10), chunked: true},
	}
	before := d.state()
	// A chunked body of no chunk at all.
	conn, err := net.Dial("tcp", d.gwAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "POST /v1/documents:importEdxml HTTP/1.1\r\nHost: "+d.gwAddr+"\r\nAuthorization: Bearer "+tok+
		"\r\nContent-Type: application/xml\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("empty chunked body: %d %.300s, want 400", resp.StatusCode, b)
	}
	for _, r := range empty {
		for _, ct := range []string{"application/xml", "", "application/json"} {
			r.method, r.path = http.MethodPost, "/v1/documents:importEdxml"
			r.header = map[string]string{"Authorization": "Bearer " + tok}
			if ct != "" {
				r.header["Content-Type"] = ct
			}
			got := d.do(r)
			if got.code != http.StatusBadRequest {
				t.Errorf("body of %d blanks (chunked %v), Content-Type %q: %d %.300s, want 400", len(r.body), r.chunked, ct, got.code, got.body)
			}
		}
	}
	if s := d.state(); s != before {
		t.Errorf("empty bodies left %+v, before %+v", s, before)
	}
}

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// TestRESTEdxmlH2Bodies: over HTTP/2 (cleartext, as a client library speaks it) a body the
// client resets halfway and a body that trickles past the deadline end as over HTTP/1.1:
// the part's import is ended and leaves nothing, the trickling client is answered 400.
func TestRESTEdxmlH2Bodies(t *testing.T) {
	const deadline = 1500 * time.Millisecond
	d := newDocEnv(t, 0, deadline)
	tok := d.agencyToken()
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: &protocols}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	pkg := edxmlPackage(t, "1", 600<<10)
	post := func(body io.Reader) (*http.Response, error) {
		req, err := http.NewRequest(http.MethodPost, d.base+"/v1/documents:importEdxml", body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/xml")
		return client.Do(req)
	}
	// One import over HTTP/2 warms the connection.
	resp, err := post(strings.NewReader(string(edxmlPackage(t, "2", 1<<10))))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
		t.Fatalf("first import: %d over HTTP/%d", resp.StatusCode, resp.ProtoMajor)
	}
	base := d.state()

	// Reset halfway: the client's body fails, its transport resets the stream.
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		resp, err := post(pr)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	if _, err := pw.Write(pkg[:400<<10]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the import under way", func() (bool, string) {
		s := d.state()
		return s.importing(), fmt.Sprintf("%+v", s)
	})
	pw.CloseWithError(io.ErrClosedPipe)
	<-done
	d.waitState("after a body reset halfway over HTTP/2", base)

	// Trickling: 400 KiB at once, then 4 bytes every 100 ms.
	pr, pw = io.Pipe()
	stop := make(chan struct{})
	go func() {
		defer pw.Close()
		if _, err := pw.Write(pkg[:400<<10]); err != nil {
			return
		}
		for off := 400 << 10; off < len(pkg); off += 4 {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			if _, err := pw.Write(pkg[off : off+4]); err != nil {
				return
			}
		}
	}()
	defer close(stop)
	start := time.Now()
	resp, err = post(pr)
	if err != nil {
		t.Fatalf("trickling body over HTTP/2: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if took := time.Since(start); resp.StatusCode != http.StatusBadRequest || took < deadline || took > deadline+3*time.Second {
		t.Errorf("trickling body over HTTP/2: %d after %v %.300s, want 400 at the deadline of %v", resp.StatusCode, took, b, deadline)
	}
	d.waitState("after a trickling body over HTTP/2", base)
}

package docexchange

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/store/v1"
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/google/go-cmp/cmp"
)

// A signed document goes to two agencies, each reports its statuses, and the sender sees
// every recipient's status and when it changed.
func TestSignedDocumentThroughEveryStatus(t *testing.T) {
	f := newFixture(t)
	resp := f.send(f.signed(letter("125")))
	id := resp.GetId()
	if resp.GetDuplicate() {
		t.Fatal("first send is a duplicate")
	}
	for _, ag := range []string{agUBND33, agTNMT33} {
		if got := f.inboxIDs(ag); !slices.Contains(got, id) {
			t.Fatalf("inbox of %s = %v, want %s", ag, got, id)
		}
	}
	report := func(ag string, st docv1.DocumentStatus, reason string) error {
		_, err := f.client.ReportStatus(f.agency(ag), &docv1.ReportStatusRequest{Id: id, Status: st, Reason: reason})
		return err
	}
	for _, st := range []docv1.DocumentStatus{stAccepted, stAssigned, stProcessing, stDone} {
		if err := report(agUBND33, st, ""); err != nil {
			t.Fatalf("UBND %v: %v", st, err)
		}
	}
	if err := report(agUBND33, stProcessing, ""); status.Code(err) != codes.FailedPrecondition || reason(err) != "TRANSITION_NOT_ALLOWED" {
		t.Fatalf("after 06: %v, want TRANSITION_NOT_ALLOWED", err)
	}
	if err := report(agTNMT33, stRejected, ""); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("02 without a reason: %v, want INVALID_ARGUMENT", err)
	}
	if _, err := f.client.ReportStatus(f.agency(agTNMT33), &docv1.ReportStatusRequest{Id: id, Status: stAccepted,
		UpdatedAt: testStart.Add(48 * time.Hour).Format(time.RFC3339)}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("a report in the future: %v", err)
	}
	if _, err := f.client.ReportStatus(f.agency(agTNMT33), &docv1.ReportStatusRequest{Id: id, Status: stAccepted,
		UpdatedAt: testStart.Add(-48 * time.Hour).Format(time.RFC3339)}); reason(err) != "STATUS_OUT_OF_ORDER" {
		t.Fatalf("a report before the delivery: %v", err)
	}
	if err := report(agTNMT33, stAccepted, ""); err != nil {
		t.Fatal(err)
	}
	// Recall: only the sender; 13 for the recipient still working, 06 stays.
	if _, err := f.client.RecallDocument(f.agency(agTNMT33), &docv1.RecallDocumentRequest{Id: id, Reason: "x"}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("recall by a recipient: %v, want PERMISSION_DENIED", err)
	}
	d, err := f.client.RecallDocument(f.agency(agTuPhap33), &docv1.RecallDocumentRequest{Id: id, Reason: "Gửi nhầm"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]docv1.DocumentStatus{}
	for _, r := range d.GetRecipients() {
		got[r.GetAgencyCode()] = r.GetStatus()
	}
	if got[agUBND33] != stDone || got[agTNMT33] != stRecall {
		t.Fatalf("after recall: %v, want UBND 06 and TNMT 13", got)
	}
	if err := report(agTNMT33, stRecallNo, ""); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("16 without a reason: %v", err)
	}
	if err := report(agTNMT33, stRecallNo, "Đã xử lý một phần"); err != nil {
		t.Fatal(err)
	}
	// After a refused recall, handling goes on from 03.
	if err := report(agTNMT33, stProcessing, ""); err != nil {
		t.Fatalf("05 after 16 (was 03): %v", err)
	}
	if _, err := f.client.RecallDocument(f.agency(agTuPhap33), &docv1.RecallDocumentRequest{Id: id, Reason: "Lần hai"}); err != nil {
		t.Fatal(err)
	}
	if err := report(agTNMT33, stRecallOK, ""); err != nil {
		t.Fatal(err)
	}
	if err := report(agTNMT33, stProcessing, ""); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("after 15: %v, want FAILED_PRECONDITION", err)
	}
	// The sender sees every status with its time.
	d, err = f.client.GetDocument(f.agency(agTuPhap33), &docv1.GetDocumentRequest{Id: id})
	if err != nil {
		t.Fatal(err)
	}
	var hist []int32
	for _, h := range d.GetRecipients()[1].GetHistory() {
		hist = append(hist, int32(h.GetStatus()))
		if h.GetUpdatedAt() == "" {
			t.Fatal("a status without its time")
		}
	}
	if want := []int32{1, 3, 13, 16, 5, 13, 15}; !slices.Equal(hist, want) {
		t.Fatalf("TNMT history %v, want %v", hist, want)
	}
	if n := f.evidenceRecords(); n != 3+1+4+1+1+1+1+1+1 {
		t.Fatalf("evidence records = %d", n)
	}
}

// Tampered documents are refused with a clear reason and delivered to nobody.
func TestTamperedDocumentsAreRefused(t *testing.T) {
	f := newFixture(t)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&p256.PublicKey)
	if _, err := f.client.PutSigningKey(f.admin(), &docv1.PutSigningKeyRequest{AgencyCode: agTuPhap33, KeyId: "stp-p256",
		SigningKey: &docv1.SigningKey{Algorithm: AlgECDSAP256, PublicKey: der}}); err != nil {
		t.Fatal(err)
	}
	before := f.evidenceRecords()
	cases := []struct {
		name   string
		doc    func() *docv1.Document
		code   codes.Code
		reason string
	}{
		{"subject changed after signing", func() *docv1.Document {
			d := f.signed(letter("1"))
			d.Subject += "!"
			return d
		}, codes.InvalidArgument, "SIGNATURE_INVALID"},
		{"attachment content changed", func() *docv1.Document {
			d := f.signed(letter("2"))
			d.Attachments[0].Content = []byte("other")
			return d
		}, codes.InvalidArgument, "ATTACHMENT_DIGEST_MISMATCH"},
		{"recipient added after signing", func() *docv1.Document {
			d := f.signed(letter("3"))
			d.To = append(d.To, agTuPhap36)
			return d
		}, codes.InvalidArgument, "SIGNATURE_INVALID"},
		{"key of another agency", func() *docv1.Document {
			d := f.signed(letter("4"))
			d2 := letter("4")
			d2.From = agUBND33
			d2.To = []string{agTuPhap33}
			f.signed(d2)
			d.Signature = d2.Signature // UBND's key and signature on Sở Tư pháp's document
			return d
		}, codes.PermissionDenied, "SIGNING_KEY_NOT_OF_SENDER"},
		{"unknown key", func() *docv1.Document {
			d := f.signed(letter("5"))
			d.Signature.KeyId = "nobody"
			return d
		}, codes.InvalidArgument, "SIGNING_KEY_UNKNOWN"},
		{"size differs", func() *docv1.Document {
			d := letter("6")
			d.Attachments[0].Size = 3
			return d
		}, codes.InvalidArgument, "ATTACHMENT_SIZE_MISMATCH"},
		{"unsigned digest differs", func() *docv1.Document {
			d := letter("7")
			d.Attachments[0].Sha256 = strings.Repeat("0", 64)
			return d
		}, codes.InvalidArgument, "ATTACHMENT_DIGEST_MISMATCH"},
		{"signed without digest", func() *docv1.Document {
			d := f.signed(letter("8"))
			d.Attachments[0].Sha256 = ""
			return d
		}, codes.InvalidArgument, "INVALID_ARGUMENT"},
		{"ECDSA signature over other bytes", func() *docv1.Document {
			d := f.signed(letter("9"))
			h := sha256.Sum256([]byte("something else"))
			sig, _ := ecdsa.SignASN1(rand.Reader, p256, h[:])
			d.Signature = &docv1.Signature{KeyId: "stp-p256", Algorithm: AlgECDSAP256, Value: sig}
			return d
		}, codes.InvalidArgument, "SIGNATURE_INVALID"},
		{"unknown recipient", func() *docv1.Document {
			d := letter("10")
			d.To = []string{"000.99.00.H31"}
			return d
		}, codes.InvalidArgument, "UNKNOWN_REFERENCE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.client.SendDocument(f.agency(agTuPhap33), &docv1.SendDocumentRequest{Document: tc.doc()})
			if status.Code(err) != tc.code || reason(err) != tc.reason {
				t.Fatalf("got %v (%s), want %v %s", err, reason(err), tc.code, tc.reason)
			}
		})
	}
	for _, ag := range []string{agUBND33, agTNMT33, agTuPhap36} {
		if got := f.inboxIDs(ag); len(got) != 0 {
			t.Errorf("inbox of %s holds %v after refusals", ag, got)
		}
	}
	if after := f.evidenceRecords(); after != before {
		t.Errorf("evidence records %d -> %d after refusals", before, after)
	}
	// A good ECDSA P-256 signature is accepted.
	d := f.signed(letter("11"))
	msg, _ := CanonicalBytes(d)
	h := sha256.Sum256(msg)
	sig, _ := ecdsa.SignASN1(rand.Reader, p256, h[:])
	d.Signature = &docv1.Signature{KeyId: "stp-p256", Algorithm: AlgECDSAP256, Value: sig}
	f.send(d)
}

// The same document sent twice is one document.
func TestDuplicates(t *testing.T) {
	f := newFixture(t)
	first := f.send(f.signed(letter("7")))
	again := f.send(f.signed(letter("7")))
	if !again.GetDuplicate() || again.GetId() != first.GetId() {
		t.Fatalf("second send: duplicate=%v id=%s, want duplicate of %s", again.GetDuplicate(), again.GetId(), first.GetId())
	}
	// Same key, other content: ALREADY_EXISTS.
	other := letter("7")
	other.Subject = "Nội dung khác"
	if _, err := f.client.SendDocument(f.agency(agTuPhap33), &docv1.SendDocumentRequest{Document: other}); status.Code(err) != codes.AlreadyExists {
		t.Fatalf("other content: %v, want ALREADY_EXISTS", err)
	}
	// By message id.
	m := letter("8")
	m.MessageId = "msg-1"
	a := f.send(m)
	m2 := letter("8")
	m2.MessageId = "msg-1"
	if b := f.send(m2); !b.GetDuplicate() || b.GetId() != a.GetId() {
		t.Fatal("same message id is not a duplicate")
	}
	m3 := letter("9")
	m3.MessageId = "msg-1"
	if _, err := f.client.SendDocument(f.agency(agTuPhap33), &docv1.SendDocumentRequest{Document: m3}); status.Code(err) != codes.AlreadyExists {
		t.Fatalf("same message id, other number: %v, want ALREADY_EXISTS", err)
	}
	if got := f.inboxIDs(agUBND33); len(got) != 2 {
		t.Fatalf("inbox holds %d documents, want 2", len(got))
	}
}

// Revoke, update and replace link to the original, sent by the same agency only.
func TestBusinessTypesLinkToOriginal(t *testing.T) {
	f := newFixture(t)
	orig := f.send(letter("1"))
	rep := letter("2")
	rep.BusinessType = docv1.BusinessType_BUSINESS_TYPE_REPLACE
	if _, err := f.client.SendDocument(f.agency(agTuPhap33), &docv1.SendDocumentRequest{Document: rep}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("replace without response_for: %v", err)
	}
	rep.ResponseFor = &docv1.ResponseFor{DocumentId: orig.GetId()}
	r := f.send(rep)
	d, err := f.client.GetDocument(f.admin(), &docv1.GetDocumentRequest{Id: orig.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	want := []*docv1.DocumentLink{{DocumentId: r.GetId(), BusinessType: docv1.BusinessType_BUSINESS_TYPE_REPLACE}}
	if diff := cmp.Diff(want, d.GetLinks(), protocmp.Transform()); diff != "" {
		t.Fatalf("links (-want +got):\n%s", diff)
	}
	other := &docv1.Document{From: agUBND33, To: []string{agTNMT33}, CodeNumber: "9", CodeNotation: "UBND", PromulgationDate: "2026-11-03",
		Subject: "Thu hồi", BusinessType: docv1.BusinessType_BUSINESS_TYPE_REVOKE, ResponseFor: &docv1.ResponseFor{DocumentId: orig.GetId()}}
	if _, err := f.client.SendDocument(f.agency(agUBND33), &docv1.SendDocumentRequest{Document: other}); reason(err) != "NOT_ORIGINAL_SENDER" {
		t.Fatalf("revoke by another agency: %v", err)
	}
}

// Scope: an agency sends only as itself and reads only its mailbox and what it sent.
func TestScope(t *testing.T) {
	f := newFixture(t)
	id := f.send(letter("1")).GetId()
	if _, err := f.client.SendDocument(f.agency(agUBND33), &docv1.SendDocumentRequest{Document: letter("2")}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("send as another agency: %v", err)
	}
	prov36 := f.as("000.00.00.H40/qlvb", platform.RoleProvince, "36")
	if _, err := f.client.SendDocument(prov36, &docv1.SendDocumentRequest{Document: letter("3")}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("province 36 sends for 33: %v", err)
	}
	if _, err := f.client.SendDocument(f.as("000.00.00.H31/qlvb", platform.RoleProvince, "33"), &docv1.SendDocumentRequest{Document: letter("4")}); err != nil {
		t.Fatalf("province 33 sends for its agency: %v", err)
	}
	if _, err := f.client.GetDocument(f.agency(agTuPhap36), &docv1.GetDocumentRequest{Id: id}); status.Code(err) != codes.NotFound {
		t.Fatalf("outsider reads: %v, want NOT_FOUND", err)
	}
	if _, err := f.client.GetDocument(prov36, &docv1.GetDocumentRequest{Id: id}); status.Code(err) != codes.NotFound {
		t.Fatalf("other province reads: %v, want NOT_FOUND", err)
	}
	for _, ctx := range []struct {
		name string
		c    func() (*docv1.Document, error)
	}{
		{"sender", func() (*docv1.Document, error) {
			return f.client.GetDocument(f.agency(agTuPhap33), &docv1.GetDocumentRequest{Id: id})
		}},
		{"recipient", func() (*docv1.Document, error) {
			return f.client.GetDocument(f.agency(agTNMT33), &docv1.GetDocumentRequest{Id: id})
		}},
		{"ministry", func() (*docv1.Document, error) {
			return f.client.GetDocument(f.as("000.00.00.G22/bo", platform.RoleMinistry, ""), &docv1.GetDocumentRequest{Id: id})
		}},
	} {
		if _, err := ctx.c(); err != nil {
			t.Errorf("%s reads: %v", ctx.name, err)
		}
	}
	if _, err := f.client.ListInbox(f.agency(agTNMT33), &docv1.ListInboxRequest{AgencyCode: agUBND33}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("another agency's inbox: %v", err)
	}
	if _, err := f.client.ReportStatus(f.agency(agTuPhap36), &docv1.ReportStatusRequest{Id: id, AgencyCode: agUBND33, Status: stAccepted}); status.Code(err) == codes.OK {
		t.Fatal("an outsider reported a recipient's status")
	}
	if _, err := f.client.ReportStatus(f.agency(agTNMT33), &docv1.ReportStatusRequest{Id: id, AgencyCode: agUBND33, Status: stAccepted}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("one recipient reports for another: %v", err)
	}
	if _, err := f.client.PutSigningKey(f.agency(agTuPhap33), &docv1.PutSigningKeyRequest{AgencyCode: agTuPhap33, KeyId: "x",
		SigningKey: &docv1.SigningKey{Algorithm: AlgEd25519, PublicKey: make([]byte, 32)}}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("agency registers a key: %v", err)
	}
	if _, err := f.client.VerifyEvidence(f.agency(agTuPhap33), &docv1.VerifyEvidenceRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("agency verifies evidence: %v", err)
	}
}

// The inbox pages in delivery order, filters by status, and refuses a foreign token.
func TestInboxPagination(t *testing.T) {
	f := newFixture(t)
	var ids []string
	for _, n := range []string{"1", "2", "3", "4", "5"} {
		ids = append(ids, f.send(letter(n)).GetId())
	}
	if _, err := f.client.ReportStatus(f.agency(agUBND33), &docv1.ReportStatusRequest{Id: ids[1], Status: stAccepted}); err != nil {
		t.Fatal(err)
	}
	var got []string
	token := ""
	for {
		resp, err := f.client.ListInbox(f.agency(agUBND33), &docv1.ListInboxRequest{AgencyCode: agUBND33, PageSize: 2, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range resp.GetDocuments() {
			got = append(got, d.GetId())
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	if !slices.Equal(got, ids) {
		t.Fatalf("pages %v, want %v", got, ids)
	}
	resp, err := f.client.ListInbox(f.agency(agUBND33), &docv1.ListInboxRequest{AgencyCode: agUBND33, Status: stAccepted})
	if err != nil || len(resp.GetDocuments()) != 1 || resp.GetDocuments()[0].GetId() != ids[1] {
		t.Fatalf("status filter: %v %v", resp, err)
	}
	if _, err := f.client.ListInbox(f.agency(agUBND33), &docv1.ListInboxRequest{AgencyCode: agUBND33, PageToken: "nonsense"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("bad token: %v", err)
	}
}

// ListDocuments pages what an agency sent, for that agency only.
func TestListSentDocuments(t *testing.T) {
	f := newFixture(t)
	var ids []string
	for _, n := range []string{"1", "2", "3"} {
		ids = append(ids, f.send(letter(n)).GetId())
	}
	var got []string
	token := ""
	for {
		resp, err := f.client.ListDocuments(f.agency(agTuPhap33), &docv1.ListDocumentsRequest{PageSize: 2, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range resp.GetDocuments() {
			got = append(got, d.GetId())
			if len(d.GetRecipients()) != 2 {
				t.Fatalf("recipients %v", d.GetRecipients())
			}
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	if !slices.Equal(got, ids) {
		t.Fatalf("sent %v, want %v", got, ids)
	}
	if _, err := f.client.ListDocuments(f.agency(agUBND33), &docv1.ListDocumentsRequest{From: agTuPhap33}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("another agency lists: %v", err)
	}
	resp, err := f.client.ListDocuments(f.as("000.00.00.H31/qlvb", platform.RoleProvince, "33"), &docv1.ListDocumentsRequest{From: agTuPhap33})
	if err != nil || len(resp.GetDocuments()) != 3 {
		t.Fatalf("province of the sender: %v %v", resp, err)
	}
}

// SubscribeInbox sends what is stored after the cursor, then new deliveries, and resumes.
func TestSubscribeInbox(t *testing.T) {
	f := newFixture(t)
	first := f.send(letter("1")).GetId()
	ctx, cancel := context.WithCancel(f.agency(agUBND33))
	defer cancel()
	stream, err := f.client.SubscribeInbox(ctx, &docv1.SubscribeInboxRequest{AgencyCode: agUBND33})
	if err != nil {
		t.Fatal(err)
	}
	e1, err := stream.Recv()
	if err != nil || e1.GetDocument().GetId() != first {
		t.Fatalf("first entry %v %v", e1, err)
	}
	second := f.send(letter("2")).GetId()
	e2, err := stream.Recv()
	if err != nil || e2.GetDocument().GetId() != second {
		t.Fatalf("live entry %v %v", e2, err)
	}
	cancel()
	// Resume after the first: the second comes again, nothing before it.
	ctx2, cancel2 := context.WithCancel(f.agency(agUBND33))
	defer cancel2()
	s2, err := f.client.SubscribeInbox(ctx2, &docv1.SubscribeInboxRequest{AgencyCode: agUBND33, After: e1.GetCursor()})
	if err != nil {
		t.Fatal(err)
	}
	if e, err := s2.Recv(); err != nil || e.GetDocument().GetId() != second {
		t.Fatalf("resumed entry %v %v", e, err)
	}
	s3, err := f.client.SubscribeInbox(f.agency(agTNMT33), &docv1.SubscribeInboxRequest{AgencyCode: agUBND33})
	if err == nil {
		_, err = s3.Recv()
	}
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("foreign subscription: %v", err)
	}
}

// Changing one byte of a stored evidence record makes verify fail and name that record.
func TestEvidenceDetectsAlteredByte(t *testing.T) {
	f := newFixture(t)
	id := f.send(f.signed(letter("1"))).GetId()
	for _, st := range []docv1.DocumentStatus{stAccepted, stProcessing} {
		if _, err := f.client.ReportStatus(f.agency(agUBND33), &docv1.ReportStatusRequest{Id: id, Status: st}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.svc.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	v, err := f.client.VerifyEvidence(f.admin(), &docv1.VerifyEvidenceRequest{})
	if err != nil || !v.GetOk() || v.GetRecords() != 6 || v.GetCheckpoints() != 1 {
		t.Fatalf("intact log: %v %v", v, err)
	}
	// Alter one byte of record 5 (the acceptance by UBND): the agency code.
	var original []byte
	err = f.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEvidence)
		original = append([]byte(nil), b.Get(be64(5))...)
		val := append([]byte(nil), original...)
		var r storev1.EvidenceRecord
		if err := proto.Unmarshal(val, &r); err != nil {
			return err
		}
		i := bytes.Index(val, []byte(agUBND33))
		if i < 0 {
			return errors.New("agency not in the record")
		}
		val[i+len(agUBND33)-1] ^= 1 // H31 -> H30
		return b.Put(be64(5), val)
	})
	if err != nil {
		t.Fatal(err)
	}
	v, err = f.client.VerifyEvidence(f.admin(), &docv1.VerifyEvidenceRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if v.GetOk() || v.GetFirstBrokenSequence() != 5 || !strings.Contains(v.GetReason(), "altered") {
		t.Fatalf("after one altered byte: %v", v)
	}
	// Rewriting a record and every later hash is caught by the signed checkpoint: record 5
	// put back, record 2 (a key registration, which no document vouches for) changed.
	err = f.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEvidence)
		if err := b.Put(be64(5), original); err != nil {
			return err
		}
		var r2 storev1.EvidenceRecord
		if err := proto.Unmarshal(b.Get(be64(2)), &r2); err != nil {
			return err
		}
		r2.Reason = "forged-key"
		v2, _ := deterministic.Marshal(&r2)
		if err := b.Put(be64(2), v2); err != nil {
			return err
		}
		var prev []byte
		for seq := uint64(1); seq <= 6; seq++ {
			var r storev1.EvidenceRecord
			if err := proto.Unmarshal(b.Get(be64(seq)), &r); err != nil {
				return err
			}
			r.PrevHash = prev
			r.Hash, _ = recordHash(&r)
			prev = r.Hash
			val, _ := deterministic.Marshal(&r)
			if err := b.Put(be64(seq), val); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	v, _ = f.client.VerifyEvidence(f.admin(), &docv1.VerifyEvidenceRequest{})
	if v.GetOk() || v.GetFirstBrokenSequence() != 6 || !strings.Contains(v.GetReason(), "checkpoint") {
		t.Fatalf("rewritten chain: %v", v)
	}
}

// Changing one byte of a stored document (its envelope or a recipient's history) makes verify
// fail and name the record the document no longer matches.
func TestEvidenceDetectsAlteredDocument(t *testing.T) {
	cases := []struct {
		name    string
		old     string
		new     string
		last    bool // alter the last occurrence instead of the first
		wantSeq int64
	}{
		{"subject", "công tác", "cÔng tác", false, 4},                            // records: 3 keys, 4 the document
		{"recipient's current reason", "Đã phân công", "Đã phân cÔng", false, 6}, // 5 accepted, 6 processing
		{"recipient's history", "Đã phân công", "Đã phân cÔng", true, 6},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			id := f.send(f.signed(letter("1"))).GetId()
			for _, r := range []*docv1.ReportStatusRequest{{Id: id, Status: stAccepted}, {Id: id, Status: stProcessing, Reason: "Đã phân công"}} {
				if _, err := f.client.ReportStatus(f.agency(agUBND33), r); err != nil {
					t.Fatal(err)
				}
			}
			if n := f.evidenceRecords(); n != 6 {
				t.Fatalf("records %d", n)
			}
			err := f.db.Update(func(tx *bolt.Tx) error {
				b := tx.Bucket(bucketDocs)
				val := append([]byte(nil), b.Get([]byte(id))...)
				i := bytes.Index(val, []byte(tc.old))
				if tc.last {
					i = bytes.LastIndex(val, []byte(tc.old))
				}
				if i < 0 {
					return errors.New("text not in the stored document")
				}
				copy(val[i:], tc.new) // same length: one letter's bytes changed
				return b.Put([]byte(id), val)
			})
			if err != nil {
				t.Fatal(err)
			}
			v, err := f.client.VerifyEvidence(f.admin(), &docv1.VerifyEvidenceRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if v.GetOk() || v.GetFirstBrokenSequence() != tc.wantSeq {
				t.Fatalf("after altering the stored document: %v", v)
			}
		})
	}
}

// With attachments=true, verify reads every attachment back: one altered byte is found.
func TestEvidenceChecksAttachments(t *testing.T) {
	f := newFixture(t)
	id := f.send(f.signed(letter("1"))).GetId()
	v, err := f.client.VerifyEvidence(f.admin(), &docv1.VerifyEvidenceRequest{Attachments: true})
	if err != nil || !v.GetOk() || v.GetAttachmentsChecked() != 1 {
		t.Fatalf("intact: %v %v", v, err)
	}
	err = f.db.Update(func(tx *bolt.Tx) error {
		sd, err := loadDoc(tx, id)
		if err != nil {
			return err
		}
		k := chunkKey(sd.GetBlobIds()[0], 0)
		val := append([]byte(nil), tx.Bucket(bucketBlobs).Get(k)...)
		val[3] ^= 1
		return tx.Bucket(bucketBlobs).Put(k, val)
	})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := f.client.VerifyEvidence(f.admin(), &docv1.VerifyEvidenceRequest{}); !v.GetOk() {
		t.Fatalf("without attachments=true the log itself is intact: %v", v)
	}
	v, err = f.client.VerifyEvidence(f.admin(), &docv1.VerifyEvidenceRequest{Attachments: true})
	if err != nil || v.GetOk() || v.GetFirstBrokenSequence() != 4 || !strings.Contains(v.GetReason(), "attachment 0") {
		t.Fatalf("altered attachment: %v %v", v, err)
	}
}

// Acknowledged documents and statuses are there after the file is closed and reopened.
func TestReopenKeepsEverything(t *testing.T) {
	f := newFixture(t)
	id := f.send(f.signed(letter("1"))).GetId()
	if _, err := f.client.ReportStatus(f.agency(agUBND33), &docv1.ReportStatusRequest{Id: id, Status: stAccepted}); err != nil {
		t.Fatal(err)
	}
	f.closeFn()
	f.open(f.verifier)
	d, err := f.client.GetDocument(f.admin(), &docv1.GetDocumentRequest{Id: id})
	if err != nil {
		t.Fatal(err)
	}
	if d.GetRecipients()[0].GetStatus() != stAccepted {
		t.Fatalf("status after reopen: %v", d.GetRecipients()[0].GetStatus())
	}
	if f.evidenceRecords() != 3+1+1 {
		t.Fatal("evidence records lost")
	}
}

// Attachments stream in and out in chunks; a document names the upload.
func TestUploadAndDownload(t *testing.T) {
	f := newFixture(t)
	content := make([]byte, 9<<20+123) // larger than one request may carry
	for i := range content {
		content[i] = byte(i * 7)
	}
	sum := sha256.Sum256(content)
	ctx := f.agency(agTuPhap33)
	up, err := f.client.UploadAttachment(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := up.Send(&docv1.UploadAttachmentRequest{Header: &docv1.UploadHeader{Name: "big.pdf", ContentType: "application/pdf"}}); err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(content); off += 1 << 20 {
		if err := up.Send(&docv1.UploadAttachmentRequest{Chunk: content[off:min(off+1<<20, len(content))]}); err != nil {
			t.Fatal(err)
		}
	}
	u, err := up.CloseAndRecv()
	if err != nil {
		t.Fatal(err)
	}
	if u.GetSize() != int64(len(content)) || u.GetSha256() != hexOf(sum[:]) {
		t.Fatalf("upload %v", u)
	}
	d := letter("1")
	d.Attachments = append(d.Attachments, &docv1.Attachment{Name: "big.pdf", ContentType: "application/pdf", UploadId: u.GetUploadId(), Sha256: u.GetSha256(), Size: u.GetSize()})
	f.signed(d) // sign computes digests from content: give the upload's back
	d.Attachments[1].Sha256, d.Attachments[1].Size = u.GetSha256(), u.GetSize()
	if err := Sign(d, d.From+"-k1", f.keys[d.From]); err != nil {
		t.Fatal(err)
	}
	id := f.send(d).GetId()
	// Another agency cannot use the upload.
	stolen := letter("2")
	stolen.From, stolen.To = agUBND33, []string{agTNMT33}
	stolen.Attachments = []*docv1.Attachment{{Name: "x", UploadId: u.GetUploadId()}}
	if _, err := f.client.SendDocument(f.agency(agUBND33), &docv1.SendDocumentRequest{Document: stolen}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("foreign upload: %v", err)
	}
	dl, err := f.client.DownloadAttachment(f.agency(agUBND33), &docv1.DownloadAttachmentRequest{Id: id, Index: 1})
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	var n int
	for {
		msg, err := dl.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		h.Write(msg.GetData())
		n += len(msg.GetData())
	}
	if n != len(content) || hexOf(h.Sum(nil)) != u.GetSha256() {
		t.Fatalf("downloaded %d bytes, digest %x", n, h.Sum(nil))
	}
	// An upload no document takes is removed after a day; one a document took stays.
	up2, err := f.client.UploadAttachment(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = up2.Send(&docv1.UploadAttachmentRequest{Header: &docv1.UploadHeader{Name: "orphan.bin"}, Chunk: []byte("abc")})
	if _, err := up2.CloseAndRecv(); err != nil {
		t.Fatal(err)
	}
	f.nowMu.Lock()
	f.now = f.now.Add(UploadTTL + time.Hour)
	f.nowMu.Unlock()
	if n, err := f.svc.ExpireUploads(); err != nil || n != 1 {
		t.Fatalf("expired %d uploads (%v), want 1", n, err)
	}
	if v, err := f.client.VerifyEvidence(f.admin(), &docv1.VerifyEvidenceRequest{Attachments: true}); err != nil || !v.GetOk() || v.GetAttachmentsChecked() != 2 {
		t.Fatalf("the document's attachments after expiry: %v %v", v, err)
	}
	// Inline attachments over the limit are refused.
	big := letter("3")
	big.Attachments[0].Content = make([]byte, 4<<20+1)
	if _, err := f.client.SendDocument(ctx, &docv1.SendDocumentRequest{Document: big}); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("over the limit: %v", err)
	}
}

// Statistics: sent, received, electronic and fully online shares, median time to acceptance,
// by agency and by unit in historical or current geography.
func TestDocumentStats(t *testing.T) {
	f := newFixture(t)
	signedDoc := f.send(f.signed(letter("1"))).GetId() // to UBND and TNMT
	unsigned := f.send(letter("2")).GetId()
	for _, id := range []string{signedDoc, unsigned} {
		for _, ag := range []string{agUBND33, agTNMT33} {
			paper := id == unsigned && ag == agTNMT33
			if _, err := f.client.ReportStatus(f.agency(ag), &docv1.ReportStatusRequest{Id: id, Status: stAccepted, Paper: paper}); err != nil {
				t.Fatal(err)
			}
		}
	}
	nd := &docv1.Document{From: agTuPhap36, To: []string{agUBND33}, CodeNumber: "5", CodeNotation: "STP", PromulgationDate: "2024-03-01", Subject: "Nam Định"}
	f.send(nd)
	st, err := f.client.GetDocumentStats(f.admin(), &docv1.GetDocumentStatsRequest{From: "2026", Unit: "33"})
	if err != nil {
		t.Fatal(err)
	}
	tot := st.GetTotal()
	if tot.GetSent() != 2 || tot.GetReceived() != 4 || tot.GetReceivedElectronically() != 3 || tot.GetSentFullyOnline() != 1 {
		t.Fatalf("totals %v", tot)
	}
	if tot.GetElectronicShare() != 0.75 || tot.GetFullyOnlineShare() != 0.5 {
		t.Fatalf("shares %v", tot)
	}
	if tot.GetMedianHoursToAcceptance() <= 0 {
		t.Fatalf("median %v", tot.GetMedianHoursToAcceptance())
	}
	byUnit, err := f.client.GetDocumentStats(f.admin(), &docv1.GetDocumentStatsRequest{From: "2024", GroupBy: "unit"})
	if err != nil || len(byUnit.GetRows()) != 2 || byUnit.GetRows()[0].GetKey() != "33" || byUnit.GetRows()[1].GetKey() != "37" {
		t.Fatalf("2024 by unit, current: %v %v", byUnit, err)
	}
	hist, err := f.client.GetDocumentStats(f.admin(), &docv1.GetDocumentStatsRequest{From: "2024", GroupBy: "unit", Geography: "historical"})
	if err != nil || len(hist.GetRows()) != 2 || hist.GetRows()[1].GetKey() != "36" {
		t.Fatalf("2024 by unit, historical: %v %v", hist, err)
	}
	prov := f.as("000.00.00.H40/qlvb", platform.RoleProvince, "36")
	if _, err := f.client.GetDocumentStats(prov, &docv1.GetDocumentStatsRequest{Unit: "33"}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("province reads another unit: %v", err)
	}
	if _, err := f.client.GetDocumentStats(f.admin(), &docv1.GetDocumentStatsRequest{From: "2026-13"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("bad period: %v", err)
	}
}

// The demo reproduces the articles' figures for Hưng Yên in 2018.
func TestDemoFigures(t *testing.T) {
	f := newFixture(t)
	for u := 0; u < demoAgenciesPerUnit; u++ {
		for _, unit := range append([]string{"33", "08", "37", "68"}, demoUnits...) {
			f.cat.agencies[demoAgency(unit, u)] = unit
		}
	}
	f.cat.current["01"], f.cat.current["02"], f.cat.current["60"] = "01", "08", "56"
	if err := f.svc.LoadDemo(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.LoadDemo(t.Context()); err != nil { // a second start adds nothing
		t.Fatal(err)
	}
	// The agencies of Hà Giang (H22), Nam Định (H40) and Bình Thuận (H11) closed when their
	// provinces merged on 2025-07-01 (docs/domain.md, Agencies): no demo document of theirs is
	// dated from then on; those of the second half of 2025 are between the agencies of the
	// provinces they merged into (Tuyên Quang H60, Ninh Bình H42, Lâm Đồng H36).
	dated := func(from string) (before, after int) {
		resp, err := f.client.ListDocuments(f.admin(), &docv1.ListDocumentsRequest{From: from, PageSize: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range resp.GetDocuments() {
			if d.GetPromulgationDate() >= demoMergedOn {
				after++
			} else {
				before++
			}
		}
		return before, after
	}
	for old, successor := range demoMerged {
		var oldBefore, oldAfter, newBefore, newAfter int
		for u := 0; u < demoAgenciesPerUnit; u++ {
			b, a := dated(demoAgency(old, u))
			oldBefore, oldAfter = oldBefore+b, oldAfter+a
			b, a = dated(demoAgency(successor, u))
			newBefore, newAfter = newBefore+b, newAfter+a
		}
		if oldAfter != 0 || newBefore != 0 || oldBefore == 0 || newAfter == 0 || oldBefore+newAfter != demoOtherDocsPerUnit {
			t.Errorf("unit %s merged into %s: %d documents before the merger and %d after from the old agencies, %d before and %d after from the successor's",
				old, successor, oldBefore, oldAfter, newBefore, newAfter)
		}
	}
	st, err := f.client.GetDocumentStats(f.admin(), &docv1.GetDocumentStatsRequest{Unit: "33", From: "2018", Geography: "historical"})
	if err != nil {
		t.Fatal(err)
	}
	tot := st.GetTotal()
	if tot.GetSent() != demoHungYenDocs || tot.GetElectronicShare() != 0.89 || tot.GetFullyOnlineShare() != 0.45 {
		t.Fatalf("Hưng Yên 2018: %v", tot)
	}
	if f.evidenceRecords() == 0 {
		t.Fatal("no evidence")
	}
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }

package scoring

import (
	"context"
	"errors"
	"testing"
	"time"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// fakeSystems answers ListSystemActivity with a fixed response or error.
type fakeSystems struct {
	DossierStatsClient
	resp *dossierv1.ListSystemActivityResponse
	err  error
	auth []string
}

func (f *fakeSystems) ListSystemActivity(ctx context.Context, _ *dossierv1.ListSystemActivityRequest, _ ...grpc.CallOption) (*dossierv1.ListSystemActivityResponse, error) {
	md, _ := metadata.FromOutgoingContext(ctx)
	f.auth = append(f.auth, md.Get("authorization")...)
	return f.resp, f.err
}

func TestLastAcceptedFromTheDossierPart(t *testing.T) {
	fake := &fakeSystems{resp: &dossierv1.ListSystemActivityResponse{Systems: []*dossierv1.SystemActivity{
		{System: "000.00.00.H31/motcua", Accepted: 4, LastAcceptedAt: "2026-11-20T10:30:00.123+07:00"},
		{System: "000.00.00.H41/motcua", Refused: 2}, // refused only: never had an event stored
		{System: "000.00.00.H17/motcua", LastAcceptedAt: "2026-01-02T03:04:05Z"},
	}}}
	g := GRPCDossier{Client: fake, Token: func() (string, error) { return "tok", nil }}
	all, err := g.Activity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]time.Time{}
	for sys, a := range all {
		if !a.LastAccepted.IsZero() {
			m[sys] = a.LastAccepted
		}
	}
	want := map[string]time.Time{
		"000.00.00.H31/motcua": time.Date(2026, 11, 20, 3, 30, 0, 123e6, time.UTC),
		"000.00.00.H17/motcua": time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	if len(m) != len(want) {
		t.Fatalf("got %v, want %v", m, want)
	}
	for k, w := range want {
		if !m[k].Equal(w) {
			t.Errorf("%s: %v, want %v", k, m[k], w)
		}
	}
	if len(fake.auth) != 1 || fake.auth[0] != "Bearer tok" {
		t.Errorf("the call carried %v, want the service token", fake.auth)
	}

	fake.resp.Systems[0].LastAcceptedAt = "yesterday"
	if _, err := g.Activity(context.Background()); err == nil {
		t.Error("an unreadable time was accepted")
	}

	fake.err = status.Error(codes.Unavailable, "connection refused")
	var u *UnavailableError
	if _, err := g.Activity(context.Background()); !errors.As(err, &u) {
		t.Errorf("with the dossier part down: %v, want unavailable", err)
	}
}

// A data file of an earlier version loses the feed checkpoint scoring no longer uses.
func TestOpenStoreRemovesTheOldFeedCheckpoint(t *testing.T) {
	db, err := platform.OpenDB(t.TempDir(), Part)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(oldBucketFeed)
		if err != nil {
			return err
		}
		return b.Put([]byte{0}, []byte("42"))
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenStore(db); err != nil {
		t.Fatal(err)
	}
	if err := db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(oldBucketFeed) != nil {
			t.Error("the old feed checkpoint is still there")
		}
		if tx.Bucket(bucketReporting) == nil {
			t.Error("the store's own buckets were not created")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

package catalog

import (
	"context"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
)

// FileSystemCheck applies the rule of whose a token's system is (systems.go) with a
// catalog.db that no part holds, opened read-only (`lienthong token issue` offline).
func FileSystemCheck(db *bolt.DB) platform.SystemCheck {
	l := fileLookup{db}
	return func(ctx context.Context, c *platform.Caller) error { return checkTokenSystem(ctx, c, l) }
}

type fileLookup struct{ db *bolt.DB }

func (f fileLookup) agency(_ context.Context, code string) (*catalogv1.Agency, bool, error) {
	a := &catalogv1.Agency{}
	found, err := f.get(bucketAgencies, code, a)
	return a, found, err
}

func (f fileLookup) unit(_ context.Context, code string) (*catalogv1.Unit, bool, error) {
	u := &catalogv1.Unit{}
	found, err := f.get(bucketUnits, code, u)
	return u, found, err
}

func (f fileLookup) get(bucket []byte, key string, m proto.Message) (bool, error) {
	found := false
	err := f.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return nil
		}
		v := b.Get([]byte(key))
		if v == nil {
			return nil
		}
		found = true
		return proto.Unmarshal(v, m)
	})
	return found, err
}

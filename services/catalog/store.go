package catalog

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
)

// Buckets of catalog.db. Keys are codes; values are the API messages, proto-encoded.
var (
	bucketUnits      = []byte("units")
	bucketAgencies   = []byte("agencies")
	bucketProcedures = []byte("procedures")
	bucketMeta       = []byte("meta")
)

// Keys of the meta bucket.
var (
	metaProvincesSeeded = []byte("provinces_seeded")
	metaDemoLoaded      = []byte("demo_loaded")
	metaCommunesSeeded  = []byte("communes_seeded")
)

func (c *Catalog) init() error {
	return c.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketUnits, bucketAgencies, bucketProcedures, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		return nil
	})
}

func eachRecord[M proto.Message](tx *bolt.Tx, bucket []byte, mk func() M, fn func(M)) error {
	return tx.Bucket(bucket).ForEach(func(k, v []byte) error {
		m := mk()
		if err := proto.Unmarshal(v, m); err != nil {
			return fmt.Errorf("bucket %s key %s: %w", bucket, k, err)
		}
		fn(m)
		return nil
	})
}

func putRecord(tx *bolt.Tx, bucket []byte, key string, m proto.Message) error {
	v, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return err
	}
	return tx.Bucket(bucket).Put([]byte(key), v)
}

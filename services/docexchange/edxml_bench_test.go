package docexchange

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
)

// benchService is the part on a fresh file, called in process (no gRPC), as an administrator.
func benchService(b *testing.B) (*Service, context.Context) {
	b.Helper()
	db, err := bolt.Open(filepath.Join(b.TempDir(), "docexchange.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	s, err := Open(db, Options{Catalog: newFakeCatalog(), Logger: zap.NewNop(), EvidenceKey: evidenceKey})
	if err != nil {
		b.Fatal(err)
	}
	return s, platform.WithCaller(context.Background(), &platform.Caller{System: "bench/qlvb", Role: platform.RoleAdmin})
}

// benchLetter is a small letter with a 2 KiB attachment, as `lienthong bench --mode edxml` sends.
func benchLetter(n int64) (*docv1.Document, [][]byte) {
	content := bytes.Repeat([]byte("%PDF lienthong "), 2048/15)
	return &docv1.Document{
		From: agTuPhap33, To: []string{agUBND33, agTNMT33}, CodeNumber: fmt.Sprint(n), CodeNotation: "BENCH-VP", PromulgationDate: "2026-11-02",
		DocumentType: "Công văn", Subject: "Văn bản đo tải", Signer: &docv1.Signer{Name: "Nguyễn Văn A", Position: "Chánh Văn phòng"},
		Attachments: []*docv1.Attachment{{Name: "cv.pdf", ContentType: "application/pdf"}},
	}, [][]byte{content}
}

// Small national-form packages imported in parallel (their commits batched, as over the
// network). The packages are built before the timing.
func BenchmarkImportEdxmlSmall(b *testing.B) {
	s, ctx := benchService(b)
	pkgs := benchPackages(b)
	var n atomic.Int64
	b.SetParallelism(8) // 16 callers on 2 cores, as `lienthong bench` runs
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.ImportEdxml(ctx, &docv1.ImportEdxmlRequest{Edxml: pkgs[n.Add(1)-1]}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Status packages (03, 04, 05, 06 of each recipient in turn) imported in parallel, the
// documents sent beforehand.
func BenchmarkImportStatusPackage(b *testing.B) {
	s, ctx := benchService(b)
	steps := []docv1.DocumentStatus{stAccepted, stAssigned, stProcessing, stDone}
	type pkgs struct{ edxml [][]byte }
	per := 2 * len(steps)
	docs := make([]pkgs, b.N/per+64) // a worker may leave its last document unfinished (16 workers)
	for i := range docs {
		d, contents := benchLetter(int64(i + 1))
		d.Attachments[0].Content = contents[0]
		resp, err := s.send(ctx, d, sendOptions{})
		if err != nil {
			b.Fatal(err)
		}
		for r := range resp.GetDocument().GetTo() {
			for _, st := range steps {
				p, err := MarshalEdxmlStatus(resp.GetDocument(), r, &docv1.StatusChange{Status: st, Reason: "Văn thư"})
				if err != nil {
					b.Fatal(err)
				}
				docs[i].edxml = append(docs[i].edxml, p)
			}
		}
	}
	var next atomic.Int64
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		// Each worker takes a document and imports its packages in order.
		doc, k := -1, per
		for pb.Next() {
			if k == per {
				doc, k = int(next.Add(1))-1, 0
			}
			if _, err := s.ImportEdxml(ctx, &docv1.ImportEdxmlRequest{Edxml: docs[doc].edxml[k]}); err != nil {
				b.Fatal(err)
			}
			k++
		}
	})
}

// benchPackages are b.N small national-form packages, each of its own letter.
func benchPackages(b *testing.B) [][]byte {
	pkgs := make([][]byte, b.N)
	for i := range pkgs {
		d, contents := benchLetter(int64(i + 1))
		pkg, err := MarshalNationalEdxml(d, contents)
		if err != nil {
			b.Fatal(err)
		}
		pkgs[i] = pkg
	}
	return pkgs
}

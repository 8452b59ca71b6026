package docexchange

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/grpc"
)

// RegisterREST registers the part's REST handlers on the gateway's mux: the generated ones,
// POST /v1/documents, which keeps the JSON as sent for its signature (as_sent.go), and GET /v1/documents/{id}/attachments/{index}, which answers an attachment's raw bytes as
// they stream from the part (grpc-gateway's own streaming would put a delimiter between
// chunks).
func RegisterREST(ctx context.Context, mux *runtime.ServeMux, conn grpc.ClientConnInterface) error {
	client := docv1.NewDocumentServiceClient(conn)
	if err := docv1.RegisterDocumentServiceHandlerClient(ctx, mux, client); err != nil {
		return err
	}
	// Registered later, it serves POST /v1/documents in place of the generated handler, so
	// that a signature over the JSON as sent is checked (as_sent.go).
	if err := mux.HandlePath(http.MethodPost, sendDocumentPattern, handleSendAsSent(mux, client)); err != nil {
		return err
	}
	const pattern = "/v1/documents/{id}/attachments/{index}"
	return mux.HandlePath(http.MethodGet, pattern, func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		_, out := runtime.MarshalerForRequest(mux, r)
		fail := func(err error) { runtime.HTTPError(r.Context(), mux, out, w, r, err) }
		idx, err := strconv.ParseInt(params["index"], 10, 32)
		if err != nil {
			fail(platform.Invalid(platform.FieldViolation{Field: "index", Description: "must be a whole number"}))
			return
		}
		actx, err := runtime.AnnotateContext(r.Context(), mux, r, docv1.DocumentService_DownloadAttachment_FullMethodName,
			runtime.WithHTTPPathPattern(pattern))
		if err != nil {
			fail(err)
			return
		}
		stream, err := client.DownloadAttachment(actx, &docv1.DownloadAttachmentRequest{Id: params["id"], Index: int32(idx)})
		if err != nil {
			fail(err)
			return
		}
		first, err := stream.Recv()
		if err != nil { // nothing written yet: a proper error answer
			fail(err)
			return
		}
		w.Header().Set("Content-Type", first.GetContentType())
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(first.GetData())
		for {
			msg, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				// The status line is sent; cutting the body short tells the client.
				panic(http.ErrAbortHandler)
			}
			if _, err := w.Write(msg.GetData()); err != nil {
				return
			}
		}
	})
}

// EvidenceKeyFile is the file, in the data folder, of the key that signs the evidence log's
// checkpoints. It is kept apart from the bbolt file it vouches for.
const EvidenceKeyFile = "docexchange-evidence.key"

// EnsureEvidenceKey loads the evidence key from dataDir, creating it (mode 0600) the first time.
func EnsureEvidenceKey(dataDir string) (ed25519.PrivateKey, error) {
	path := filepath.Join(dataDir, EvidenceKeyFile)
	raw, err := os.ReadFile(path)
	if err == nil {
		blk, _ := pem.Decode(raw)
		if blk == nil {
			return nil, fmt.Errorf("%s: not PEM", path)
		}
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		priv, ok := k.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%s: not an Ed25519 key", path)
		}
		return priv, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	if err := platform.WriteFileAtomic(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	return priv, nil
}

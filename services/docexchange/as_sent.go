package docexchange

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// A REST client may sign the JSON it sends rather than the proto JSON the service derives
// (README.md, "Documents": "the document as sent"): defaults written out, numbers as
// numbers, lowerCamel names. The gateway decodes that JSON into a proto message before the
// part sees it, so POST /v1/documents is served here instead of by the generated handler:
// the same decode, and, when the body is signed, the RFC 8785 form of the body without the
// unsigned fields goes along as signature.signed_json. The part then accepts a signature
// over it only if it says exactly what the decoded document says (signature.go,
// sameDocument), so it cannot carry a signature to other content.

// sendDocumentPattern is the REST path of SendDocument.
const sendDocumentPattern = "/v1/documents"

// handleSendAsSent serves POST /v1/documents.
func handleSendAsSent(mux *runtime.ServeMux, client docv1.DocumentServiceClient) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, _ map[string]string) {
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		in, out := runtime.MarshalerForRequest(mux, r)
		actx, err := runtime.AnnotateContext(ctx, mux, r, docv1.DocumentService_SendDocument_FullMethodName,
			runtime.WithHTTPPathPattern(sendDocumentPattern))
		if err != nil {
			runtime.HTTPError(ctx, mux, out, w, r, err)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			runtime.HTTPError(actx, mux, out, w, r, status.Errorf(codes.InvalidArgument, "%v", err))
			return
		}
		req := &docv1.SendDocumentRequest{Document: &docv1.Document{}}
		if err := in.NewDecoder(bytes.NewReader(body)).Decode(req.Document); err != nil && !errors.Is(err, io.EOF) {
			runtime.HTTPError(actx, mux, out, w, r, status.Errorf(codes.InvalidArgument, "%v", err))
			return
		}
		if sig := req.Document.GetSignature(); sig != nil && len(sig.GetSignedJson()) == 0 {
			if asSent, err := AsSentBytes(body); err == nil {
				sig.SignedJson = asSent
			}
		}
		var md runtime.ServerMetadata
		resp, err := client.SendDocument(actx, req, grpc.Header(&md.HeaderMD), grpc.Trailer(&md.TrailerMD))
		actx = runtime.NewServerMetadataContext(actx, md)
		if err != nil {
			runtime.HTTPError(actx, mux, out, w, r, err)
			return
		}
		runtime.ForwardResponseMessage(actx, mux, out, w, r, resp, mux.GetForwardResponseOptions()...)
	}
}

// AsSentBytes are the bytes a signature over a document's JSON as sent covers: the RFC 8785
// form of the JSON object without the fields the signature leaves out (in either name
// form) and without each attachment's content and upload id.
func AsSentBytes(body []byte) ([]byte, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, err
	}
	fields := (&docv1.Document{}).ProtoReflect().Descriptor().Fields()
	dropNames(top, fields, unsignedFields)
	if raw, ok := top["attachments"]; ok && !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		var atts []map[string]json.RawMessage
		if err := json.Unmarshal(raw, &atts); err != nil {
			return nil, err
		}
		afields := (&docv1.Attachment{}).ProtoReflect().Descriptor().Fields()
		for _, a := range atts {
			dropNames(a, afields, unsignedAttachmentFields)
		}
		b, err := json.Marshal(atts)
		if err != nil {
			return nil, err
		}
		top["attachments"] = b
	}
	js, err := json.Marshal(top)
	if err != nil {
		return nil, err
	}
	return Canonicalize(js)
}

func dropNames(obj map[string]json.RawMessage, fields protoreflect.FieldDescriptors, names []protoreflect.Name) {
	for _, n := range names {
		fd := fields.ByName(n)
		delete(obj, string(fd.Name()))
		delete(obj, fd.JSONName())
	}
}

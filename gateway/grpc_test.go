package gateway_test

import (
	"context"
	"slices"
	"testing"
	"time"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/emptypb"
)

func grpcCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestGRPCCatalogThroughGateway(t *testing.T) {
	e := newEnv(t)
	cat := catalogv1.NewCatalogServiceClient(e.grpcConn())
	ctx := grpcCtx(t)

	t.Run("GetUnit", func(t *testing.T) {
		var hdr metadata.MD
		md := metadata.Pairs("x-request-id", "grpc-req-0001")
		u, err := cat.GetUnit(metadata.NewOutgoingContext(ctx, md), &catalogv1.GetUnitRequest{Code: "80"}, grpc.Header(&hdr))
		if err != nil {
			t.Fatalf("GetUnit: %v", err)
		}
		if !proto.Equal(u, unit80()) {
			t.Errorf("GetUnit: got %v, want %v", u, unit80())
		}
		if got := hdr.Get("x-request-id"); !slices.Equal(got, []string{"grpc-req-0001"}) {
			t.Errorf("x-request-id header: got %q, want [grpc-req-0001]", got)
		}
		if got := e.part.fake.lastRequestID(); got != "grpc-req-0001" {
			t.Errorf("request id at the part: got %q, want grpc-req-0001", got)
		}
	})

	t.Run("GetUnit without request id gets one", func(t *testing.T) {
		var hdr metadata.MD
		if _, err := cat.GetUnit(ctx, &catalogv1.GetUnitRequest{Code: "80"}, grpc.Header(&hdr)); err != nil {
			t.Fatalf("GetUnit: %v", err)
		}
		if got := hdr.Get("x-request-id"); len(got) != 1 || got[0] == "" {
			t.Errorf("x-request-id header: got %q, want one id", got)
		}
	})

	t.Run("ListUnits", func(t *testing.T) {
		resp, err := cat.ListUnits(ctx, &catalogv1.ListUnitsRequest{})
		if err != nil {
			t.Fatalf("ListUnits: %v", err)
		}
		if got := len(resp.GetUnits()); got != 1 {
			t.Errorf("units: got %d, want 1", got)
		}
	})

	t.Run("NotFound keeps its details", func(t *testing.T) {
		_, err := cat.GetUnit(ctx, &catalogv1.GetUnitRequest{Code: "99"})
		st, ok := status.FromError(err)
		if !ok {
			t.Fatalf("not a status error: %v", err)
		}
		if st.Code() != codes.NotFound {
			t.Fatalf("code: got %v, want NOT_FOUND", st.Code())
		}
		d := checkDetails(t, st, "UNIT_NOT_FOUND")
		if got := d.info.GetMetadata()["id"]; got != "99" {
			t.Errorf("ErrorInfo.metadata.id: got %q, want 99", got)
		}
		if got := d.info.GetMetadata()["request_id"]; got == "" {
			t.Errorf("ErrorInfo.metadata.request_id: empty")
		}
	})

	t.Run("FailedPrecondition keeps its reason", func(t *testing.T) {
		_, err := cat.CreateProcedure(ctx, &catalogv1.CreateProcedureRequest{Procedure: &catalogv1.Procedure{Code: abolishedCode}})
		st := status.Convert(err)
		if st.Code() != codes.FailedPrecondition {
			t.Fatalf("code: got %v, want FAILED_PRECONDITION", st.Code())
		}
		checkDetails(t, st, "PROCEDURE_ABOLISHED")
	})

	t.Run("ImportProcedures", func(t *testing.T) {
		req := &catalogv1.ImportProceduresRequest{Csv: "code,name\n1.000201,Thủ tục\n", ValidateOnly: true}
		resp, err := cat.ImportProcedures(ctx, req)
		if err != nil {
			t.Fatalf("ImportProcedures: %v", err)
		}
		if !resp.GetValidatedOnly() {
			t.Errorf("validated_only: got false, want true")
		}
		if got := e.part.fake.lastImport(); !proto.Equal(got, req) {
			t.Errorf("request at the part: got %v, want %v", got, req)
		}
	})
}

func TestGRPCAuthorizationForwarded(t *testing.T) {
	e := newEnv(t)
	other := newEnv(t)
	cat := catalogv1.NewCatalogServiceClient(e.grpcConn())
	ctx := grpcCtx(t)
	tests := []struct {
		name     string
		auth     string
		wantCode codes.Code
		wantUnit string
	}{
		{"no token", "", codes.Unauthenticated, ""},
		{"token of another key", "Bearer " + other.token(), codes.Unauthenticated, ""},
		{"valid token", "Bearer " + e.token(), codes.OK, "80"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cctx := ctx
			if tc.auth != "" {
				cctx = metadata.AppendToOutgoingContext(ctx, "authorization", tc.auth)
			}
			resp, err := cat.GetCatalogStats(cctx, &catalogv1.GetCatalogStatsRequest{})
			if got := status.Code(err); got != tc.wantCode {
				t.Fatalf("code: got %v (%v), want %v", got, err, tc.wantCode)
			}
			if tc.wantCode != codes.OK {
				checkDetails(t, status.Convert(err), "UNAUTHENTICATED")
				return
			}
			if resp.GetUnit() != tc.wantUnit {
				t.Errorf("unit (from the caller the part saw): got %q, want %q", resp.GetUnit(), tc.wantUnit)
			}
		})
	}
}

func TestGRPCHealth(t *testing.T) {
	e := newEnv(t)
	health := healthpb.NewHealthClient(e.grpcConn())
	ctx := grpcCtx(t)
	tests := []struct {
		service  string
		want     healthpb.HealthCheckResponse_ServingStatus
		wantCode codes.Code
	}{
		{"", healthpb.HealthCheckResponse_SERVING, codes.OK},
		{healthpb.Health_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING, codes.OK},
		{catalogv1.CatalogService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING, codes.OK},
		{"lienthong.nothing.v1.NoService", 0, codes.NotFound},
	}
	for _, tc := range tests {
		t.Run("Check "+tc.service, func(t *testing.T) {
			resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{Service: tc.service})
			if got := status.Code(err); got != tc.wantCode {
				t.Fatalf("code: got %v (%v), want %v", got, err, tc.wantCode)
			}
			if err == nil && resp.GetStatus() != tc.want {
				t.Errorf("status: got %v, want %v", resp.GetStatus(), tc.want)
			}
		})
	}
	t.Run("List", func(t *testing.T) {
		resp, err := health.List(ctx, &healthpb.HealthListRequest{})
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		for _, svc := range []string{"", catalogv1.CatalogService_ServiceDesc.ServiceName} {
			if got := resp.GetStatuses()[svc].GetStatus(); got != healthpb.HealthCheckResponse_SERVING {
				t.Errorf("List[%q]: got %v, want SERVING", svc, got)
			}
		}
	})
	t.Run("Watch", func(t *testing.T) {
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		w, err := health.Watch(wctx, &healthpb.HealthCheckRequest{Service: ""})
		if err != nil {
			t.Fatalf("Watch: %v", err)
		}
		resp, err := w.Recv()
		if err != nil {
			t.Fatalf("Watch Recv: %v", err)
		}
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("Watch: got %v, want SERVING", resp.GetStatus())
		}
	})
}

func TestGRPCReflection(t *testing.T) {
	e := newEnv(t)
	client := reflectionv1.NewServerReflectionClient(e.grpcConn())
	ctx := grpcCtx(t)
	stream, err := client.ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatalf("ServerReflectionInfo: %v", err)
	}
	defer func() { _ = stream.CloseSend() }()
	ask := func(req *reflectionv1.ServerReflectionRequest) *reflectionv1.ServerReflectionResponse {
		t.Helper()
		if err := stream.Send(req); err != nil {
			t.Fatalf("send: %v", err)
		}
		resp, err := stream.Recv()
		if err != nil {
			t.Fatalf("recv: %v", err)
		}
		return resp
	}

	t.Run("ListServices", func(t *testing.T) {
		resp := ask(&reflectionv1.ServerReflectionRequest{
			MessageRequest: &reflectionv1.ServerReflectionRequest_ListServices{ListServices: "*"},
		})
		var names []string
		for _, s := range resp.GetListServicesResponse().GetService() {
			names = append(names, s.GetName())
		}
		for _, want := range []string{
			"lienthong.catalog.v1.CatalogService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
		} {
			if !slices.Contains(names, want) {
				t.Errorf("services: got %q, want %s among them", names, want)
			}
		}
	})

	t.Run("FileContainingSymbol", func(t *testing.T) {
		resp := ask(&reflectionv1.ServerReflectionRequest{
			MessageRequest: &reflectionv1.ServerReflectionRequest_FileContainingSymbol{
				FileContainingSymbol: "lienthong.catalog.v1.CatalogService",
			},
		})
		if er := resp.GetErrorResponse(); er != nil {
			t.Fatalf("error response: %v", er)
		}
		files := resp.GetFileDescriptorResponse().GetFileDescriptorProto()
		if len(files) == 0 {
			t.Fatalf("no file descriptors")
		}
		found := false
		for _, b := range files {
			var fd descriptorpb.FileDescriptorProto
			if err := proto.Unmarshal(b, &fd); err != nil {
				t.Fatalf("descriptor: %v", err)
			}
			if fd.GetPackage() != "lienthong.catalog.v1" {
				continue
			}
			for _, s := range fd.GetService() {
				if s.GetName() == "CatalogService" {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("no descriptor of lienthong.catalog.v1 with CatalogService among %d files", len(files))
		}
	})

	t.Run("unknown symbol", func(t *testing.T) {
		resp := ask(&reflectionv1.ServerReflectionRequest{
			MessageRequest: &reflectionv1.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: "no.such.Symbol"},
		})
		if got := codes.Code(resp.GetErrorResponse().GetErrorCode()); got != codes.NotFound {
			t.Errorf("error code: got %v, want NOT_FOUND", got)
		}
	})
}

func TestGRPCUnknownService(t *testing.T) {
	e := newEnv(t)
	conn := e.grpcConn()
	ctx := grpcCtx(t)
	tests := []struct {
		name   string
		method string
	}{
		{"unknown service", "/lienthong.nothing.v1.NoService/Get"},
		{"unknown package", "/no.such.Service/Method"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := conn.Invoke(ctx, tc.method, &emptypb.Empty{}, &emptypb.Empty{})
			if got := status.Code(err); got != codes.Unimplemented {
				t.Errorf("code: got %v (%v), want UNIMPLEMENTED", got, err)
			}
		})
	}
	// An unknown method of a known service is the part's answer: to a caller with a token,
	// UNIMPLEMENTED; without one, UNAUTHENTICATED (methods not in the policy need a token,
	// checked before anything else).
	err := conn.Invoke(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+e.token()),
		"/lienthong.catalog.v1.CatalogService/NoSuchMethod", &emptypb.Empty{}, &emptypb.Empty{})
	if got := status.Code(err); got != codes.Unimplemented {
		t.Errorf("unknown method: got %v (%v), want UNIMPLEMENTED", got, err)
	}
	err = conn.Invoke(ctx, "/lienthong.catalog.v1.CatalogService/NoSuchMethod", &emptypb.Empty{}, &emptypb.Empty{})
	if got := status.Code(err); got != codes.Unauthenticated {
		t.Errorf("unknown method without a token: got %v (%v), want UNAUTHENTICATED", got, err)
	}
}

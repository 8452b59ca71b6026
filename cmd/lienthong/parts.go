package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"

	"github.com/lienthong/lienthong/gateway"
	adminv1 "github.com/lienthong/lienthong/proto/gen/lienthong/admin/v1"
	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
	"github.com/lienthong/lienthong/services/catalog"
	"github.com/lienthong/lienthong/services/docexchange"
	"github.com/lienthong/lienthong/services/dossier"
	"github.com/lienthong/lienthong/services/platform"
	"github.com/lienthong/lienthong/services/scoring"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// partEnv is what a part needs to start.
type partEnv struct {
	dataDir  string
	lg       *zap.Logger
	verifier *platform.TokenVerifier
	limits   limitFlags
	metrics  *platform.Metrics
	demo     bool
	maxMsg   int
	peers    map[string]string // gRPC addresses of the parts this one calls
	// demoDossiers is how many demo dossiers --demo loads in the background.
	demoDossiers int
	calendar     *dossier.Calendar
	// maxDoc is the largest document (attachments included) one request may carry.
	maxDoc int
	// trustedRoots is the PEM file of the roots of agencies' certificate chains ("": none).
	trustedRoots string
	// crls are the CRL files certificates are checked against.
	crls []string
	// refuseBrokenPDF refuses documents whose PDF attachments carry a broken signature.
	refuseBrokenPDF bool
	rateLimit       platform.RateLimit
	partTLS         platform.PartTLS // mutual TLS between parts, when configured
	// issuer signs the tokens a part uses to call other parts (scoring reads dossier
	// statistics as a ministry); nil when the private key is not at hand.
	issuer *platform.TokenIssuer
	// thresholds decide the interconnection status (scoring).
	thresholds scoring.Thresholds
	// checkDB is how the part checks its bbolt file before serving it (--check-db).
	checkDB platform.CheckLevel
}

// part is one part of the suite: how to start it and how the gateway reaches it.
type part struct {
	name     string
	port     int
	services []string
	json     map[protoreflect.FullName]gateway.JSONEncoder
	rest     func(ctx context.Context, mux *runtime.ServeMux, cc grpc.ClientConnInterface) error
	start    func(ctx context.Context, env partEnv) (*platform.Server, func() error, error)
	needs    []string // parts it calls
}

// parts are the services behind the gateway, in start order. A part that other parts call
// starts before them.
var parts = []part{
	{
		name:     catalog.Part,
		port:     9101,
		services: []string{catalogv1.CatalogService_ServiceDesc.ServiceName, adminv1.TokenRevocationService_ServiceDesc.ServiceName},
		rest: func(ctx context.Context, mux *runtime.ServeMux, cc grpc.ClientConnInterface) error {
			if err := adminv1.RegisterTokenRevocationServiceHandlerClient(ctx, mux, adminv1.NewTokenRevocationServiceClient(cc)); err != nil {
				return err
			}
			return catalogv1.RegisterCatalogServiceHandlerClient(ctx, mux, catalogv1.NewCatalogServiceClient(cc))
		},
		start: startCatalog,
	},
	{
		name:     dossier.Part,
		port:     9102,
		services: []string{dossierv1.DossierService_ServiceDesc.ServiceName},
		rest: func(ctx context.Context, mux *runtime.ServeMux, cc grpc.ClientConnInterface) error {
			return dossierv1.RegisterDossierServiceHandlerClient(ctx, mux, dossierv1.NewDossierServiceClient(cc))
		},
		json:  map[protoreflect.FullName]gateway.JSONEncoder{dossier.StatsJSONType: dossier.StatsJSON},
		start: startDossier,
		needs: []string{catalog.Part},
	},
	{
		name:     docexchange.Part,
		port:     9103,
		services: []string{docv1.DocumentService_ServiceDesc.ServiceName},
		rest:     docexchange.RegisterREST,
		start:    startDocexchange,
		needs:    []string{catalog.Part},
	},
	{
		name:     scoring.Part,
		port:     9104,
		services: []string{scoringv1.ScoringService_ServiceDesc.ServiceName},
		rest: func(ctx context.Context, mux *runtime.ServeMux, cc grpc.ClientConnInterface) error {
			return scoringv1.RegisterScoringServiceHandlerClient(ctx, mux, scoringv1.NewScoringServiceClient(cc))
		},
		start: startScoring,
		needs: []string{catalog.Part, dossier.Part, docexchange.Part},
	},
}

const gatewayPort = 8080

func findPart(name string) (part, bool) {
	for _, p := range parts {
		if p.name == name {
			return p, true
		}
	}
	return part{}, false
}

func startCatalog(ctx context.Context, env partEnv) (*platform.Server, func() error, error) {
	db, err := platform.OpenDBChecked(env.dataDir, catalog.Part, env.checkDB)
	if err != nil {
		return nil, nil, err
	}
	c, err := catalog.Open(ctx, db, env.lg.Named(catalog.Part))
	if err == nil && env.demo {
		err = c.LoadDemo(ctx)
	}
	var revocations *catalog.TokenRevocations
	if err == nil {
		revocations, err = wireCatalogTokens(env, db, c)
	}
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("catalog: %w", err)
	}
	srv := platform.NewServer(platform.ServerOptions{
		Part: catalog.Part, Logger: env.lg.Named(catalog.Part), Verifier: env.verifier,
		Policy: catalog.Policy, Metrics: env.metrics, MaxMessageBytes: env.maxMsg, RateLimit: env.rateLimit, TLS: env.partTLS,
		MaxStreamsPerSystem: env.limits.maxStreamsPerSystem, MaxConnsPerIP: env.limits.partMaxConnsPerIP,
	})
	catalog.Register(srv, c)
	catalog.RegisterTokenRevocations(srv, revocations)
	platform.RegisterBackup(srv, catalog.Part, db)
	return srv, db.Close, nil
}

// gatewayParts tells the gateway where each part is.
func gatewayParts(addrs map[string]string) []gateway.Part {
	out := make([]gateway.Part, 0, len(parts))
	for _, p := range parts {
		out = append(out, gateway.Part{Name: p.name, Addr: addrs[p.name], Services: p.services, RegisterREST: p.rest, JSON: p.json, Policy: partPolicies[p.name]})
	}
	return out
}

func startDossier(ctx context.Context, env partEnv) (*platform.Server, func() error, error) {
	db, err := platform.OpenDBChecked(env.dataDir, dossier.Part, env.checkDB)
	if err != nil {
		return nil, nil, err
	}
	conn, err := platform.Dial(env.peers[catalog.Part], env.maxMsg, env.partTLS)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("dossier: catalog address: %w", err)
	}
	lg := env.lg.Named(dossier.Part)
	cat := catalogv1.NewCatalogServiceClient(conn)
	svc, err := dossier.Open(db, dossier.Options{Catalog: cat, Calendar: env.calendar, Logger: lg})
	if err != nil {
		conn.Close()
		db.Close()
		return nil, nil, fmt.Errorf("dossier: %w", err)
	}
	srv := platform.NewServer(platform.ServerOptions{
		Part: dossier.Part, Logger: lg, Verifier: env.verifier,
		Policy: dossier.Policy, Metrics: env.metrics, MaxMessageBytes: env.maxMsg, RateLimit: env.rateLimit, TLS: env.partTLS,
		MaxStreamsPerSystem: env.limits.maxStreamsPerSystem, MaxConnsPerIP: env.limits.partMaxConnsPerIP,
	})
	dossier.Register(srv, svc)
	platform.RegisterBackup(srv, dossier.Part, db)
	// --demo: the demo history loads in the background while the part serves (it waits for
	// the catalog, which may be starting in this process); shutdown stops it first.
	stopDemo := func() {}
	if env.demo && env.demoDossiers > 0 {
		demoCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := svc.LoadDemo(demoCtx, cat, env.demoDossiers); err != nil {
				lg.Error("demo dossiers not loaded", zap.Error(err))
			}
		}()
		stopDemo = func() {
			cancel()
			<-done
		}
	}
	closeAll := func() error {
		stopDemo()
		svc.Close()
		conn.Close()
		return db.Close()
	}
	return srv, closeAll, nil
}

func startDocexchange(ctx context.Context, env partEnv) (*platform.Server, func() error, error) {
	key, err := docexchange.EnsureEvidenceKey(env.dataDir)
	if err != nil {
		return nil, nil, fmt.Errorf("docexchange: evidence key: %w", err)
	}
	var roots *x509.CertPool
	if env.trustedRoots != "" {
		if roots, err = docexchange.LoadTrustedRoots(env.trustedRoots); err != nil {
			return nil, nil, fmt.Errorf("docexchange: trusted roots: %w", err)
		}
	}
	var crls *docexchange.RevocationLists
	if len(env.crls) > 0 {
		if crls, err = docexchange.LoadRevocationLists(env.crls, docexchange.DefaultCRLPoll, env.lg.Named(docexchange.Part)); err != nil {
			return nil, nil, fmt.Errorf("docexchange: CRL: %w", err)
		}
	}
	db, err := platform.OpenDBChecked(env.dataDir, docexchange.Part, env.checkDB)
	if err != nil {
		return nil, nil, err
	}
	// A document request carries its attachments: the part takes up to maxDoc of them plus
	// the envelope, whatever the limit of the other parts.
	maxMsg := max(env.maxMsg, env.maxDoc+1<<20)
	conn, err := platform.Dial(env.peers[catalog.Part], env.maxMsg, env.partTLS)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("docexchange: catalog address: %w", err)
	}
	lg := env.lg.Named(docexchange.Part)
	cat := catalogv1.NewCatalogServiceClient(conn)
	svc, err := docexchange.Open(db, docexchange.Options{Catalog: cat, Logger: lg, EvidenceKey: key, MaxDocumentBytes: int64(env.maxDoc),
		TrustedRoots: roots, CRLs: crls, RefuseBrokenPDFSignatures: env.refuseBrokenPDF})
	if err != nil {
		conn.Close()
		db.Close()
		return nil, nil, fmt.Errorf("docexchange: %w", err)
	}
	srv := platform.NewServer(platform.ServerOptions{
		Part: docexchange.Part, Logger: lg, Verifier: env.verifier,
		Policy: docexchange.Policy, Metrics: env.metrics, MaxMessageBytes: maxMsg, RateLimit: env.rateLimit, TLS: env.partTLS,
		MaxStreamsPerSystem: env.limits.maxStreamsPerSystem, MaxConnsPerIP: env.limits.partMaxConnsPerIP,
		GRPCOptions: docexchange.ServerOptions(),
	})
	docexchange.Register(srv, svc)
	platform.RegisterBackup(srv, docexchange.Part, db)
	bg, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if env.demo {
			if err := svc.LoadDemo(bg); err != nil {
				lg.Error("demo documents not loaded", zap.Error(err))
			}
		}
		// Every minute the evidence log's head is signed (so a quiet log is signed too) and
		// uploads no document took for a day are removed.
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-bg.Done():
				return
			case <-t.C:
				if err := svc.Checkpoint(); err != nil {
					lg.Error("evidence checkpoint", zap.Error(err))
				}
				if _, err := svc.ExpireUploads(); err != nil {
					lg.Error("expire uploads", zap.Error(err))
				}
			}
		}
	}()
	closeAll := func() error {
		cancel()
		<-done
		if err := svc.Checkpoint(); err != nil {
			lg.Error("evidence checkpoint", zap.Error(err))
		}
		conn.Close()
		return db.Close()
	}
	return srv, closeAll, nil
}

func startScoring(ctx context.Context, env partEnv) (*platform.Server, func() error, error) {
	db, err := platform.OpenDBChecked(env.dataDir, scoring.Part, env.checkDB)
	if err != nil {
		return nil, nil, err
	}
	catConn, err := platform.Dial(env.peers[catalog.Part], env.maxMsg, env.partTLS)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("scoring: catalog address: %w", err)
	}
	dosConn, err := platform.Dial(env.peers[dossier.Part], env.maxMsg, env.partTLS)
	if err != nil {
		catConn.Close()
		db.Close()
		return nil, nil, fmt.Errorf("scoring: dossier address: %w", err)
	}
	docConn, err := platform.Dial(env.peers[docexchange.Part], env.maxMsg, env.partTLS)
	if err != nil {
		dosConn.Close()
		catConn.Close()
		db.Close()
		return nil, nil, fmt.Errorf("scoring: docexchange address: %w", err)
	}
	lg := env.lg.Named(scoring.Part)
	var token scoring.TokenFunc
	if env.issuer != nil {
		token = scoring.ServiceToken(env.issuer, time.Now)
	} else {
		lg.Warn("no token signing key: dossier and document figures will be unavailable to scoring")
	}
	dos := dossierv1.NewDossierServiceClient(dosConn)
	svc, err := scoring.Open(db, scoring.Options{
		Catalog:     scoring.GRPCCatalog{Client: catalogv1.NewCatalogServiceClient(catConn)},
		Dossier:     scoring.GRPCDossier{Client: dos, Token: token},
		Activity:    scoring.GRPCDossier{Client: dos, Token: token},
		DocExchange: &scoring.GRPCDocExchange{Client: docv1.NewDocumentServiceClient(docConn), Token: token},
		Thresholds:  env.thresholds,
		Logger:      lg,
	})
	if err == nil && env.demo {
		err = svc.LoadDemo(ctx)
	}
	if err != nil {
		docConn.Close()
		dosConn.Close()
		catConn.Close()
		db.Close()
		return nil, nil, fmt.Errorf("scoring: %w", err)
	}
	srv := platform.NewServer(platform.ServerOptions{
		Part: scoring.Part, Logger: lg, Verifier: env.verifier,
		Policy: scoring.Policy, Metrics: env.metrics, MaxMessageBytes: env.maxMsg, RateLimit: env.rateLimit, TLS: env.partTLS,
		MaxStreamsPerSystem: env.limits.maxStreamsPerSystem, MaxConnsPerIP: env.limits.partMaxConnsPerIP,
	})
	scoring.Register(srv, svc)
	platform.RegisterBackup(srv, scoring.Part, db)
	closeAll := func() error {
		docConn.Close()
		dosConn.Close()
		catConn.Close()
		return db.Close()
	}
	return srv, closeAll, nil
}

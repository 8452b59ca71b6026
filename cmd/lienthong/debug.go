package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/lienthong/lienthong/services/platform"
	"go.uber.org/zap"
)

// debugMaxConnsPerIP is the few connections an operator's profiling needs.
const debugMaxConnsPerIP = 8

// serveDebug serves Go's profiles (/debug/pprof/) on addr until ctx ends, when --debug-listen
// is set. They are never on the gateway's port: profiles show internals and cost CPU, so
// they belong on an address only operators reach (loopback by default).
func serveDebug(ctx context.Context, addr string, lg *zap.Logger) error {
	if addr == "" {
		return nil
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	// A CPU profile or a trace writes for as long as it was asked (?seconds=, 30 by
	// default): the write timeout leaves room for that, and no more.
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 2 * time.Minute, IdleTimeout: time.Minute, MaxHeaderBytes: 64 << 10}
	lis = platform.LimitConnsPerIP(lis, debugMaxConnsPerIP, lg)
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	go func() {
		if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			lg.Warn("debug listener stopped", zap.Error(err))
		}
	}()
	lg.Info("profiles served", zap.String("addr", lis.Addr().String()))
	return nil
}

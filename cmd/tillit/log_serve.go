package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func runLogServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("log serve", "", "Serves the log read-only over HTTP in the c2sp.org/tlog-tiles layout\n(checkpoint, tile/<L>/<N>, tile/entries/<N>) until interrupted, and Prometheus\nmetrics at /metrics.", stderr)
	dir := fs.String("dir", "", "log directory (required)")
	listen := fs.String("listen", "127.0.0.1:7380", "address to listen on")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" || fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewJSONHandler(stdout, nil))
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	d, err := openLogDir(ctx, *dir, logger, reg)
	if err != nil {
		return err
	}
	defer d.Close()
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("/", d.log.Handler())
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return withHint(err, "choose another --listen address")
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	cp := d.log.Latest()
	logger.Info("serving log", "origin", cp.Origin, "size", cp.Tree.N, "url", fmt.Sprintf("http://%s/", ln.Addr()))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

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
)

func runLogServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("log serve", "", "Serves the log read-only over HTTP in the c2sp.org/tlog-tiles layout\n(checkpoint, tile/<L>/<N>, tile/entries/<N>) until interrupted.", stderr)
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
	d, err := openLogDir(ctx, *dir, logger)
	if err != nil {
		return err
	}
	defer d.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return withHint(err, "choose another --listen address")
	}
	srv := &http.Server{
		Handler:           d.log.Handler(),
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

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
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/tillit/tillit/internal/api"
	"github.com/tillit/tillit/node"
	"github.com/tillit/tillit/regime"
)

func init() {
	register(command{"serve", "run this party's node: peers over pinned TLS, the operator API on loopback", runServe})
}

// apiURLFile is where, in the data directory, a running node writes its
// operator API's URL (useful when api.listen has port 0).
const apiURLFile = "api.url"

func runServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "", "Run the node described by a configuration file (see 'tillit init' and docs/node.md).\nLogs are JSON on stderr; SIGINT or SIGTERM stops the node cleanly.", stderr)
	config := fs.String("config", "node.toml", "the node's configuration file")
	level := fs.String("log-level", "info", "least level logged: debug, info, warn or error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return withHint(fmt.Errorf("--log-level: %v", err), "use debug, info, warn or error")
	}
	cfg, err := node.LoadConfig(*config)
	if errors.Is(err, os.ErrNotExist) {
		return withHint(err, "create a node with 'tillit init --dir DIR --party NAME --regime-id ID', then run 'tillit serve --config DIR/node.toml'")
	} else if err != nil {
		return withHint(err, "the configuration format is in docs/node.md")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	node.TuneRuntime()
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	n, err := node.Open(ctx, cfg, node.Options{Logger: logger, Registerer: reg})
	if err != nil {
		return serveHint(err)
	}
	defer n.Close()
	ln, err := net.Listen("tcp", cfg.API.Listen)
	if err != nil {
		return withHint(fmt.Errorf("couldn't listen for the operator API: %w", err), "another process may hold api.listen; change it in "+*config)
	}
	if err := n.Start(ctx); err != nil {
		ln.Close()
		return withHint(err, "another process may hold peer.listen; change it in "+*config)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("/", api.NewHandler(n, cfg.API, logger))
	srv := api.NewServer(mux)
	apiURL := "http://" + ln.Addr().String()
	urlFile := filepath.Join(cfg.Path(cfg.Data), apiURLFile)
	if err := os.WriteFile(urlFile, []byte(apiURL+"\n"), 0o600); err != nil {
		logger.Warn("couldn't write the API address file", "path", urlFile, "err", err)
	}
	defer os.Remove(urlFile)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "tillit: %s's node of %s is running\n  peers:        https://%s (pinned TLS)\n  operator API: %s\n  metrics:      %s/metrics\n",
		n.Party(), n.Regime().ID, n.PeerAddr(), apiURL, apiURL)
	select {
	case <-ctx.Done():
	case err := <-errc:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("operator API stopped", "err", err)
		}
	}
	fmt.Fprintln(stdout, "tillit: stopping")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	return n.Close()
}

func serveHint(err error) error {
	switch {
	case errors.Is(err, regime.ErrNotInForce):
		return withHint(err, "every party must sign the regime: 'tillit regime sign --regime FILE --key DIR/keys/log.key', then share regime.sigs")
	case errors.Is(err, node.ErrConfig):
		return withHint(err, "check the keys and names in node.toml against the regime (docs/node.md)")
	case strings.Contains(err.Error(), "regime"):
		return withHint(err, "check the regime file with 'tillit regime verify --regime FILE'")
	}
	return err
}

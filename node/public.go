package node

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/tillit/tillit/regime"
	"golang.org/x/time/rate"
)

// publicHandler serves, to anyone, what a regime with log_access "public"
// lets everyone read: every log the node holds (tlog-tiles), its gossip and
// its cosignatures. It is read-only; pushes are refused. One rate limit is
// shared by all callers, since they are not authenticated.
func (n *Node) publicHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+GossipPath, n.serveGossip)
	mux.HandleFunc("GET "+LogsPrefix+"{party}/{rest...}", n.serveLog)
	mux.HandleFunc("GET "+CosignaturesPrefix+"{party}", n.serveCosignatures)
	limit := rate.NewLimiter(rate.Limit(200), 400)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !limit.Allow() {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "too many requests", http.StatusTooManyRequests)
			n.metrics.rateLimited.Inc()
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "this interface is read-only", http.StatusMethodNotAllowed)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// startPublic starts the public read-only server on peer.public_listen, if
// the configuration sets it. n.mu is held.
func (n *Node) startPublic() error {
	addr := n.cfg.Peer.PublicListen
	if addr == "" {
		return nil
	}
	if n.reg.LogAccess != regime.AccessPublic {
		return fmt.Errorf("%w: peer.public_listen is set, but regime %s has log_access %q: only the parties may read the logs", ErrConfig, n.reg.ID, n.reg.LogAccess)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("couldn't listen for the public interface: %w", err)
	}
	// The certificate is the node's pinned identity: readers who want to
	// know they reach the party's node compare its key with the regime's
	// tls_key. Everything served is signed, so a reader who does not still
	// cannot be given a false log.
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{n.id.TLSCertificate()}}
	n.public = &http.Server{
		Handler:           n.publicHandler(),
		TLSConfig:         cfg,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    8 << 10,
	}
	n.publicAddr = ln.Addr()
	srv := n.public
	n.wg.Go(func() {
		if err := srv.Serve(tls.NewListener(ln, cfg)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("public server stopped", "err", err)
		}
	})
	return nil
}

// PublicAddr returns the address of the public read-only interface, or nil
// if the node has none.
func (n *Node) PublicAddr() net.Addr {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.publicAddr
}

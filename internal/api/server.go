package api

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"
)

// shutdownKey is the context key of the channel NewServer closes when the
// server shuts down.
type shutdownKey struct{}

// NewServer returns an HTTP server for the handler h with timeouts that
// protect the node from slow or stuck clients: 10 s to send the request
// headers (at most 16 KiB), 30 s for the whole request, 60 s to write the
// answer, 2 minutes for an idle keep-alive connection. Event streams clear
// their read deadline and bound each write instead, and end when
// Shutdown is called, so that Shutdown does not wait for them.
func NewServer(h http.Handler) *http.Server {
	done := make(chan struct{})
	ctx := context.WithValue(context.Background(), shutdownKey{}, (<-chan struct{})(done))
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	var once sync.Once
	srv.RegisterOnShutdown(func() { once.Do(func() { close(done) }) })
	return srv
}

// shutdownSignal returns the channel closed when the server that serves a
// request with context ctx shuts down, or nil if it is not from NewServer.
func shutdownSignal(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(shutdownKey{}).(<-chan struct{})
	return ch
}

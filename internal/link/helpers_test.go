package link

import (
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// testTimeout bounds anything that should happen "soon" in tests. It is
// generous because the machine may be slow and shared: a test only takes
// this long when it fails.
const testTimeout = 30 * time.Second

func newIdentity(t testing.TB) *Identity {
	t.Helper()
	id, err := GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func newPeerSet(t testing.TB, pins ...Pin) *PeerSet {
	t.Helper()
	s, err := NewPeerSet(pins...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// handshake runs one TLS connection over loopback between a server with
// scfg and a client with ccfg. After a successful handshake the server
// writes "ok" and the client reads it, so that a refusal the server makes
// after the client's side of a TLS 1.3 handshake reaches the client.
func handshake(t *testing.T, scfg, ccfg *tls.Config) (server tls.ConnectionState, serverErr, clientErr error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type result struct {
		cs  tls.ConnectionState
		err error
	}
	ch := make(chan result, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(testTimeout))
		sc := tls.Server(nc, scfg)
		if err := sc.Handshake(); err != nil {
			ch <- result{err: err}
			return
		}
		_, err = sc.Write([]byte("ok"))
		ch <- result{cs: sc.ConnectionState(), err: err}
	}()
	nc, err := net.DialTimeout("tcp", ln.Addr().String(), testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(testTimeout))
	cc := tls.Client(nc, ccfg)
	clientErr = cc.Handshake()
	if clientErr == nil {
		_, clientErr = io.ReadFull(cc, make([]byte, 2))
	}
	cc.Close()
	r := <-ch
	return r.cs, r.err, clientErr
}

// startServer serves h over pinned TLS on loopback and returns its URL.
func startServer(t *testing.T, id *Identity, peers *PeerSet, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler:           h,
		TLSConfig:         ServerConfig(id, peers),
		ReadHeaderTimeout: testTimeout,
		ErrorLog:          log.New(io.Discard, "", 0), // handshake refusals are expected
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		srv.ServeTLS(ln, "", "")
	}()
	t.Cleanup(func() {
		srv.Close()
		wg.Wait()
	})
	return "https://" + ln.Addr().String()
}

package faultproxy

import (
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// testTimeout bounds what should happen soon. It is generous because the
// machine may be slow and shared: a test only waits this long when it
// fails.
const testTimeout = 30 * time.Second

// quiet is how long a test listens to be sure that nothing arrives. A
// slow machine can only make a wrong answer look right, never the reverse.
const quiet = 300 * time.Millisecond

// echoServer echoes every connection back and counts them.
type echoServer struct {
	ln       net.Listener
	accepted atomic.Int64
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    []net.Conn
}

func startEcho(t *testing.T) *echoServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &echoServer{ln: ln}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			e.accepted.Add(1)
			e.mu.Lock()
			e.conns = append(e.conns, c)
			e.mu.Unlock()
			e.wg.Add(1)
			go func() {
				defer e.wg.Done()
				io.Copy(c, c)
				c.Close()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		e.mu.Lock()
		for _, c := range e.conns {
			c.Close()
		}
		e.mu.Unlock()
		e.wg.Wait()
	})
	return e
}

// setup starts an echo server and a proxy in front of it, and checks at
// the end of the test that all their goroutines have gone.
func setup(t *testing.T, opts Options) (*Proxy, *echoServer) {
	t.Helper()
	base := runtime.NumGoroutine()
	t.Cleanup(func() { checkGoroutines(t, base) })
	e := startEcho(t)
	p, err := New(e.ln.Addr().String(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, e
}

func checkGoroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		n := runtime.NumGoroutine()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Errorf("%d goroutines after the test, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func dial(t *testing.T, p *Proxy) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", p.Addr(), testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip sends msg and checks that it comes back.
func roundTrip(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	c.SetDeadline(time.Now().Add(testTimeout))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatalf("write: %v", err)
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("read: %v", err)
	}
	if string(buf) != msg {
		t.Fatalf("read %q, want %q", buf, msg)
	}
}

// readErr reads from c until an error (io.EOF for a clean close) and
// returns it. It fails the test if c is still open after testTimeout.
func readErr(t *testing.T, c net.Conn) error {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(testTimeout))
	defer c.SetReadDeadline(time.Time{})
	_, err := io.Copy(io.Discard, c)
	if err == nil {
		err = io.EOF // io.Copy reports EOF as nil
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection still open after %v", testTimeout)
	}
	return err
}

// silent checks that nothing, not even EOF, arrives on c for a while.
func silent(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(quiet))
	defer c.SetReadDeadline(time.Time{})
	n, err := c.Read(make([]byte, 1))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read %d bytes, %v; want nothing", n, err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPass(t *testing.T) {
	p, e := setup(t, Options{})
	c := dial(t, p)
	roundTrip(t, c, "hello")
	roundTrip(t, c, "again")
	// A half-close reaches the target, whose close comes back.
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if err := readErr(t, c); err != io.EOF {
		t.Errorf("after a half-close: %v, want EOF", err)
	}
	if n := e.accepted.Load(); n != 1 {
		t.Errorf("target saw %d connections, want 1", n)
	}
	waitFor(t, "the connection to end", func() bool { return p.Open() == 0 })
}

func TestDrop(t *testing.T) {
	p, e := setup(t, Options{})
	old := dial(t, p)
	roundTrip(t, old, "before")
	p.SetMode(Drop)
	if p.Mode() != Drop {
		t.Fatalf("Mode() = %v", p.Mode())
	}
	if err := readErr(t, dial(t, p)); err != io.EOF {
		t.Errorf("new connection: %v, want EOF", err)
	}
	roundTrip(t, old, "open connections live on")
	if n := e.accepted.Load(); n != 1 {
		t.Errorf("target saw %d connections, want 1", n)
	}
	if n := p.Accepted(); n != 2 {
		t.Errorf("proxy accepted %d connections, want 2", n)
	}
	p.SetMode(Pass)
	roundTrip(t, dial(t, p), "back")
}

func TestDelay(t *testing.T) {
	p, _ := setup(t, Options{})
	old := dial(t, p)
	roundTrip(t, old, "warm")
	const d = 200 * time.Millisecond
	p.SetDelay(d)
	p.SetMode(Delay)
	for _, c := range []net.Conn{old, dial(t, p)} {
		start := time.Now()
		roundTrip(t, c, "slow")
		// One delay each way. Timers never fire early, so this lower bound
		// holds on any machine; there is no upper bound to be flaky.
		if got := time.Since(start); got < 2*d {
			t.Errorf("round trip took %v, want at least %v", got, 2*d)
		}
	}
	p.SetMode(Pass)
	roundTrip(t, old, "fast")
}

func TestBlackhole(t *testing.T) {
	p, e := setup(t, Options{})
	old := dial(t, p)
	roundTrip(t, old, "before")
	p.SetMode(Blackhole)

	c := dial(t, p)
	if _, err := c.Write([]byte("anyone there?")); err != nil {
		t.Fatal(err)
	}
	silent(t, c)
	waitFor(t, "the blackholed connection to be accepted", func() bool { return p.Accepted() == 2 })
	if n := e.accepted.Load(); n != 1 {
		t.Errorf("target saw %d connections, want 1", n)
	}

	if _, err := old.Write([]byte("lost")); err != nil {
		t.Fatal(err)
	}
	silent(t, old)
	want := int64(len("anyone there?") + len("lost"))
	waitFor(t, "the proxy to swallow what was sent", func() bool { return p.Discarded() == want })

	// The open connection survives, minus what fell into the hole.
	p.SetMode(Pass)
	roundTrip(t, old, "after")
}

func TestReset(t *testing.T) {
	p, _ := setup(t, Options{})
	old := dial(t, p)
	roundTrip(t, old, "before")
	p.SetMode(Reset)
	if err := readErr(t, old); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("open connection: %v, want a reset", err)
	}
	// The reset can beat the client's connect(2) to its result.
	if c, err := net.DialTimeout("tcp", p.Addr(), testTimeout); err == nil {
		defer c.Close()
		err = readErr(t, c)
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("new connection: %v, want a reset", err)
		}
	} else if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("new connection: %v, want a reset", err)
	}
	waitFor(t, "the connections to be gone", func() bool { return p.Open() == 0 })
	p.SetMode(Pass)
	roundTrip(t, dial(t, p), "after")
}

func TestCutAll(t *testing.T) {
	p, _ := setup(t, Options{})
	a, b := dial(t, p), dial(t, p)
	roundTrip(t, a, "a")
	roundTrip(t, b, "b")
	p.CutAll()
	for _, c := range []net.Conn{a, b} {
		if err := readErr(t, c); err != io.EOF {
			t.Errorf("cut connection: %v, want EOF", err)
		}
	}
	roundTrip(t, dial(t, p), "new connections still pass")
}

func TestMaxConns(t *testing.T) {
	p, _ := setup(t, Options{MaxConns: 2})
	a, b := dial(t, p), dial(t, p)
	roundTrip(t, a, "a")
	roundTrip(t, b, "b")
	if err := readErr(t, dial(t, p)); err != io.EOF {
		t.Errorf("connection over the limit: %v, want EOF", err)
	}
	a.Close()
	waitFor(t, "a to be gone", func() bool { return p.Open() < 2 })
	roundTrip(t, dial(t, p), "room again")
}

func TestTargetDown(t *testing.T) {
	base := runtime.NumGoroutine()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	p, err := New(ln.Addr().String(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, p)
	readErr(t, c) // fails the test if c stays open
	c.Close()
	p.Close()
	checkGoroutines(t, base)
}

func TestClose(t *testing.T) {
	p, _ := setup(t, Options{})
	passing := dial(t, p)
	roundTrip(t, passing, "pass")

	p.SetDelay(time.Hour)
	p.SetMode(Delay)
	sleeping := dial(t, p)
	if _, err := sleeping.Write([]byte("held for an hour")); err != nil {
		t.Fatal(err)
	}
	p.SetMode(Blackhole)
	holed := dial(t, p)
	holed.Write([]byte("x"))
	waitFor(t, "three connections", func() bool { return p.Open() == 3 })

	done := make(chan struct{})
	go func() {
		p.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(testTimeout):
		t.Fatal("Close did not return")
	}
	for _, c := range []net.Conn{passing, sleeping, holed} {
		readErr(t, c) // fails the test if c is still open
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// The goroutine check in setup's cleanup shows nothing leaked.
}

func TestModeString(t *testing.T) {
	for m, want := range map[Mode]string{Pass: "pass", Drop: "drop", Delay: "delay", Blackhole: "blackhole", Reset: "reset", 9: "Mode(9)"} {
		if m.String() != want {
			t.Errorf("Mode(%d).String() = %q, want %q", int32(m), m.String(), want)
		}
	}
}

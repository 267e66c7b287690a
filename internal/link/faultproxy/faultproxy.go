// Package faultproxy is an in-process TCP proxy for tests that puts
// network faults between a client and a server on the loopback interface.
//
// A [Proxy] listens on 127.0.0.1 and forwards each connection to a target
// address. Its [Mode] can be switched at any time:
//
//   - [Pass] forwards bytes both ways.
//   - [Drop] accepts new connections and closes them at once (FIN);
//     connections already open are not affected.
//   - [Delay] holds every chunk read in either direction for the delay set
//     with [Proxy.SetDelay] before forwarding it, on new and open
//     connections alike.
//   - [Blackhole] accepts new connections, reads and discards what they
//     send and never answers nor connects to the target; on open
//     connections it discards everything from then on, in both directions.
//   - [Reset] resets (RST) every open connection when it is set, and every
//     new one as soon as it is accepted.
//
// [Proxy.CutAll] closes every open connection now. The proxy is bounded
// (at most Options.MaxConns connections, two goroutines each, beyond which
// new connections are closed at once) and [Proxy.Close] stops it and waits
// for all its goroutines. It is meant for tests, not for production.
package faultproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// A Mode is a fault behaviour of a Proxy.
type Mode int32

const (
	Pass Mode = iota
	Drop
	Delay
	Blackhole
	Reset
)

func (m Mode) String() string {
	switch m {
	case Pass:
		return "pass"
	case Drop:
		return "drop"
	case Delay:
		return "delay"
	case Blackhole:
		return "blackhole"
	case Reset:
		return "reset"
	}
	return fmt.Sprintf("Mode(%d)", int32(m))
}

// Options tunes a Proxy. Zero fields take the defaults shown.
type Options struct {
	// MaxConns bounds the open connections. Default 128.
	MaxConns int
	// DialTimeout bounds connecting to the target. Default 10s.
	DialTimeout time.Duration
}

// A Proxy is a fault-injecting TCP proxy. Its methods are safe for
// concurrent use.
type Proxy struct {
	target string
	opts   Options
	ln     net.Listener
	ctx    context.Context
	cancel context.CancelFunc

	mode      atomic.Int32
	delay     atomic.Int64
	accepted  atomic.Int64
	discarded atomic.Int64

	mu     sync.Mutex
	conns  map[*conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// New starts a Proxy on a free port of 127.0.0.1 that forwards to target,
// in mode Pass.
func New(target string, opts Options) (*Proxy, error) {
	if opts.MaxConns <= 0 {
		opts.MaxConns = 128
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 10 * time.Second
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: couldn't listen: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{target: target, opts: opts, ln: ln, ctx: ctx, cancel: cancel, conns: make(map[*conn]struct{})}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr returns the proxy's listening address, "127.0.0.1:<port>".
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Mode returns the current mode.
func (p *Proxy) Mode() Mode { return Mode(p.mode.Load()) }

// SetMode switches the proxy to m. Switching to Reset resets every open
// connection before SetMode returns.
func (p *Proxy) SetMode(m Mode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode.Store(int32(m))
	if m == Reset {
		for c := range p.conns {
			c.close(true)
		}
	}
}

// SetDelay sets the latency that mode Delay adds to each chunk.
func (p *Proxy) SetDelay(d time.Duration) { p.delay.Store(int64(d)) }

// CutAll closes every open connection now (FIN, not RST).
func (p *Proxy) CutAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.close(false)
	}
}

// Accepted returns how many connections the proxy has accepted, in any
// mode.
func (p *Proxy) Accepted() int64 { return p.accepted.Load() }

// Discarded returns how many bytes mode Blackhole has thrown away.
func (p *Proxy) Discarded() int64 { return p.discarded.Load() }

// Open returns how many connections are open through the proxy.
func (p *Proxy) Open() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// Close stops the proxy: it stops listening, closes every connection and
// waits until all of the proxy's goroutines have returned. Close is
// idempotent.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		for c := range p.conns {
			c.close(false)
		}
	}
	p.mu.Unlock()
	p.cancel()
	p.ln.Close()
	p.wg.Wait()
	return nil
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		nc, err := p.ln.Accept()
		if err != nil {
			if p.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// A transient accept error (such as running out of file
			// descriptors): pause rather than spin.
			select {
			case <-time.After(10 * time.Millisecond):
			case <-p.ctx.Done():
				return
			}
			continue
		}
		p.accepted.Add(1)
		if c, mode := p.admit(nc); c != nil {
			go p.handle(c, mode)
		}
	}
}

// admit applies the mode to a new connection and, if it is to be served,
// tracks it and returns it with the mode it starts in.
func (p *Proxy) admit(nc net.Conn) (*conn, Mode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	mode := Mode(p.mode.Load())
	switch {
	case mode == Reset:
		reset(nc)
		return nil, mode
	case p.closed, mode == Drop, len(p.conns) >= p.opts.MaxConns:
		nc.Close()
		return nil, mode
	}
	c := &conn{client: nc, done: make(chan struct{})}
	p.conns[c] = struct{}{}
	p.wg.Add(1)
	return c, mode
}

func (p *Proxy) handle(c *conn, mode Mode) {
	defer p.wg.Done()
	defer func() {
		c.close(false)
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
	}()
	if mode == Blackhole {
		io.Copy(discard{&p.discarded}, c.client)
		return
	}
	d := net.Dialer{Timeout: p.opts.DialTimeout}
	up, err := d.DialContext(p.ctx, "tcp", p.target)
	if err != nil {
		return
	}
	if !c.setUpstream(up) {
		up.Close()
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.pipe(c, up, c.client)
	}()
	p.pipe(c, c.client, up)
	<-done
}

// pipe copies src to dst, chunk by chunk, applying the current mode.
func (p *Proxy) pipe(c *conn, dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		mode := Mode(p.mode.Load())
		if n > 0 {
			switch mode {
			case Reset:
				c.close(true)
				return
			case Blackhole:
				p.discarded.Add(int64(n))
			case Delay:
				if !c.sleep(time.Duration(p.delay.Load())) {
					return
				}
				fallthrough
			default:
				if _, err := dst.Write(buf[:n]); err != nil {
					c.close(false)
					return
				}
			}
		}
		if errors.Is(err, io.EOF) {
			if tc, ok := dst.(*net.TCPConn); ok && mode != Blackhole {
				tc.CloseWrite() // pass the half-close on
			}
			return
		}
		if err != nil {
			c.close(false)
			return
		}
	}
}

// A conn is one proxied connection.
type conn struct {
	client net.Conn
	done   chan struct{} // closed by close

	mu       sync.Mutex
	upstream net.Conn
	closed   bool
}

// setUpstream records the connection to the target. It reports false if
// c was closed meanwhile.
func (c *conn) setUpstream(up net.Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.upstream = up
	return true
}

// close closes both sides of c, with a reset if rst is set.
func (c *conn) close(rst bool) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	up := c.upstream
	c.mu.Unlock()
	close(c.done)
	if rst {
		reset(c.client)
		if up != nil {
			reset(up)
		}
		return
	}
	c.client.Close()
	if up != nil {
		up.Close()
	}
}

// sleep waits for d, and reports false if c is closed first.
func (c *conn) sleep(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.done:
		return false
	}
}

// reset closes nc with a TCP RST rather than a FIN.
func reset(nc net.Conn) {
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	nc.Close()
}

// discard is io.Discard with a byte count.
type discard struct{ n *atomic.Int64 }

func (d discard) Write(b []byte) (int, error) {
	d.n.Add(int64(len(b)))
	return len(b), nil
}

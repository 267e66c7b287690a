// Package node is a tillit node: one party's end of the regime. It keeps
// the party's log, mirrors and cosigns every other party's log, pushes its
// own log to the others and collects their cosignatures as receipts, pulls
// what pushes missed, compares checkpoints with its peers (gossip), and
// tracks every statement's receipt and acknowledgment deadlines from log
// data alone. docs/node.md describes it for operators; docs/spec/peer.md
// specifies what crosses the network.
//
// Guarantees:
//
//   - Nothing unauthenticated changes state. Peers connect over TLS 1.3 with
//     Ed25519 keys pinned by the regime (an unknown key is refused at the
//     handshake); only the owner of a log may push it; operators need a
//     bearer token of the right role.
//   - Send returns only once the statement is durable in the party's log and
//     has passed the regime's checks; a statement that fails them is not
//     stored. FLASH statements go ahead of queued lower-precedence ones;
//     FLASH and IMMEDIATE statements are checkpointed and pushed at once.
//   - A receipt (a peer's cosignature) is recorded durably before it counts,
//     and this node records its own cosignature on a peer's checkpoint
//     before it gives it out.
//   - A peer's checkpoint that contradicts what this node holds is never
//     accepted: it is kept as evidence, raises an alarm, and the peer's log is
//     quarantined (no further pushes or pulls of it are accepted) until an
//     operator lifts the quarantine (LiftQuarantine); a log that still
//     contradicts the mirror is then quarantined again.
//   - Verdicts (pending, receipted, acknowledged, overdue) are computed by
//     regime.Evaluate from statement times and cosignature timestamps only, so
//     both parties and an auditor holding the same cosignatures agree.
//
// Limits: a push carries at most peer.DefaultMaxBody bytes; a peer further
// behind is caught up by pulling, up to maxPullEntries entries per round.
package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tillit/tillit/cosign"
	"github.com/tillit/tillit/internal/keys"
	"github.com/tillit/tillit/internal/link"
	"github.com/tillit/tillit/internal/peer"
	"github.com/tillit/tillit/partylog"
	"github.com/tillit/tillit/regime"
	"github.com/tillit/tillit/store"
	"github.com/tillit/tillit/store/sqlite"
)

// Options are settings that do not belong in the configuration file.
type Options struct {
	// Logger receives structured logs (default slog.Default()).
	Logger *slog.Logger
	// Registerer receives the node's Prometheus metrics, if set.
	Registerer prometheus.Registerer
	// Now is the node's clock (default time.Now). Statement times,
	// cosignature timestamps and deadlines all read it; the demo runs its
	// nodes on one simulated clock.
	Now func() time.Time
	// Regime and Sigs, if set, are used instead of loading the regime file
	// named in the configuration.
	Regime *regime.Regime
	Sigs   *regime.Signatures
	// PeerListener, if set, is used instead of listening on
	// Config.Peer.Listen (tests listen on port 0 before building a regime).
	PeerListener net.Listener
	// PollInterval is how often the node pulls each peer's checkpoint and
	// gossip (default: a quarter of the regime's heartbeat, at most 5s).
	PollInterval time.Duration
	// CheckpointInterval is passed to the log (default
	// partylog.DefaultCheckpointInterval).
	CheckpointInterval time.Duration
	// DeadlineTick is how often deadlines are re-evaluated (default 1s).
	DeadlineTick time.Duration
	// ClientOptions configure the peer client (default: 3 attempts per
	// endpoint, 15 s each, backoff from 100 ms to 2 s, responses up to
	// 32 MiB).
	ClientOptions *link.ClientOptions
}

// Node is a running tillit node.
type Node struct {
	cfg  *Config
	opts Options
	reg  *regime.Regime
	me   *regime.Party
	log  *slog.Logger
	now  func() time.Time

	logs     *sqlite.DB
	state    *stateDB
	own      *partylog.Log
	cosigner *cosign.Signer
	id       *link.Identity
	peerSet  *link.PeerSet
	peers    map[string]*peerState // by party name
	order    []string              // peer names in regime order

	idx     *index
	events  *events
	sendq   *sendQueue
	metrics *metrics
	pushSrv *peer.Server

	qmu sync.Mutex // serialises quarantining a log and lifting its quarantine

	mu         sync.Mutex
	alarms     []string
	final      int64             // newest final size of the own log, as last announced
	seen       map[string]seenCP // newest gossiped checkpoint per log
	listener   net.Listener
	server     *http.Server
	public     *http.Server // the public read-only interface, if any
	publicAddr net.Addr
	ctx        context.Context
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	started    bool
	hooks      chan struct{} // one token per running alarm hook
	closeOnce  sync.Once
	closeErr   error
}

// peerState is everything about one peer.
type peerState struct {
	party  *regime.Party
	mirror *partylog.Mirror
	client *link.Client
	pusher *peer.Pusher
	kick   chan struct{} // wakes the pusher (capacity 1)

	mu          sync.Mutex
	lastPush    time.Time // last successful push (receipt)
	pushing     time.Time // when the push in flight started, or zero
	lastErr     error
	failingFrom time.Time // first failure since the last success
	link        string
	quarantine  string           // reason, or "" if not quarantined
	cosigCursor map[string]int64 // per log: the peer's sequence number of the last cosignature fetched
}

// Open opens the node described by cfg: it loads and checks the regime
// (refusing to start unless every party has signed it, and naming who has
// not), the party's keys against the regime, and the logs and state in the
// data directory. Start starts it.
func Open(ctx context.Context, cfg *Config, opts Options) (_ *Node, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.DeadlineTick <= 0 {
		opts.DeadlineTick = time.Second
	}
	reg := opts.Regime
	if reg == nil {
		if reg, opts.Sigs, err = loadRegime(cfg.Path(cfg.Regime)); err != nil {
			return nil, err
		}
	}
	if _, err := reg.Verify(opts.Sigs); err != nil {
		return nil, fmt.Errorf("%s version %d: %w", reg.ID, reg.Version, err)
	}
	me := reg.Party(cfg.Party)
	if me == nil {
		return nil, fmt.Errorf("%w: party %q is not in regime %s", ErrConfig, cfg.Party, reg.ID)
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = min(reg.Heartbeat/4, 5*time.Second)
	}
	n := &Node{cfg: cfg, opts: opts, reg: reg, me: me, now: opts.Now, peers: make(map[string]*peerState),
		log: opts.Logger.With("party", me.Name), events: newEvents(), hooks: make(chan struct{}, maxHooks)}
	defer func() {
		if err != nil {
			n.closeStores()
		}
	}()
	if err := n.loadKeys(); err != nil {
		return nil, err
	}
	data := cfg.Path(cfg.Data)
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, fmt.Errorf("couldn't create the data directory: %w", err)
	}
	if n.logs, err = sqlite.Open(filepath.Join(data, "logs.db")); err != nil {
		return nil, err
	}
	if n.state, err = openState(filepath.Join(data, "node.db")); err != nil {
		return nil, err
	}
	n.metrics = newMetrics(opts.Registerer)
	ownStore, err := logStore(ctx, n.logs, reg.Origin(me.Name))
	if err != nil {
		return nil, err
	}
	signer, verifier, _, err := keys.Load(cfg.Path(cfg.LogKey))
	if err != nil {
		return nil, err
	}
	n.own, err = partylog.Open(ctx, ownStore, partylog.Options{
		Origin: reg.Origin(me.Name), Signer: signer, Verifier: verifier,
		CheckpointInterval: opts.CheckpointInterval, Logger: n.log, Registerer: opts.Registerer,
	})
	if err != nil {
		return nil, fmt.Errorf("couldn't open the log: %w", err)
	}
	quarantined, err := n.state.quarantined(ctx)
	if err != nil {
		return nil, err
	}
	var pins []link.Pin
	// A full bundle of maximum-size entries is just over 16 MiB.
	copts := link.ClientOptions{Attempts: 3, Timeout: 15 * time.Second, MinBackoff: 100 * time.Millisecond, MaxBackoff: 2 * time.Second, MaxResponseBytes: 32 << 20}
	if opts.ClientOptions != nil {
		copts = *opts.ClientOptions
	}
	for i := range reg.Parties {
		p := &reg.Parties[i]
		if p.Name == me.Name {
			continue
		}
		pin := link.PinOf(p.TLSKey)
		pins = append(pins, pin)
		st, err := logStore(ctx, n.logs, reg.Origin(p.Name))
		if err != nil {
			return nil, err
		}
		m, err := partylog.OpenMirror(ctx, st, partylog.MirrorOptions{Origin: reg.Origin(p.Name), Verifier: p.Verifier(), Logger: n.log})
		if err != nil {
			return nil, fmt.Errorf("couldn't open the mirror of %s's log: %w", p.Name, err)
		}
		eps := p.Endpoints
		if o, ok := cfg.Peer.Endpoints[p.Name]; ok {
			eps = o
		}
		client, err := link.NewClient(n.id, pin, eps, copts)
		if err != nil {
			return nil, fmt.Errorf("peer %s: %w", p.Name, err)
		}
		ps := &peerState{party: p, mirror: m, client: client, kick: make(chan struct{}, 1), link: LinkDown, quarantine: quarantined[p.Name]}
		ps.pusher = &peer.Pusher{Log: n.own, Client: client, Cosigner: p.Cosigner(), Tolerance: reg.ClockTolerance, Now: n.now, MaxEntries: maxPushEntries}
		n.peers[p.Name] = ps
		n.order = append(n.order, p.Name)
	}
	for name := range cfg.Peer.Endpoints {
		if n.peers[name] == nil {
			return nil, fmt.Errorf("%w: peer.endpoints names %q, which is not another party of the regime", ErrConfig, name)
		}
	}
	if n.peerSet, err = link.NewPeerSet(pins...); err != nil {
		return nil, err
	}
	cursors, err := n.state.cursors(ctx)
	if err != nil {
		return nil, fmt.Errorf("couldn't load cosignature cursors: %w", err)
	}
	for name, c := range cursors {
		if p := n.peers[name]; p != nil {
			p.cosigCursor = c
		}
	}
	cos, err := n.state.cosigs(ctx)
	if err != nil {
		return nil, fmt.Errorf("couldn't load receipts: %w", err)
	}
	n.idx = newIndex(n, cos)
	if err := n.idx.rebuild(ctx); err != nil {
		return nil, err
	}
	n.sendq = newSendQueue()
	n.pushSrv = &peer.Server{
		Mirror:     n.mirrorFor,
		Authorized: n.mayPush,
		Cosigner:   n.cosigner,
		OnFork:     n.onPushedFork,
		OnCosigned: n.onCosigned,
		Logger:     n.log,
	}
	return n, nil
}

func loadRegime(path string) (*regime.Regime, *regime.Signatures, error) {
	r, err := regime.Load(path)
	if err != nil {
		return nil, nil, err
	}
	sigs, err := regime.LoadSignatures(regime.SidecarPath(path))
	if errors.Is(err, os.ErrNotExist) {
		sigs, err = nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return r, sigs, nil
}

// loadKeys loads the receipt key and the TLS identity and checks that they,
// and the log key, are the ones the regime gives this party.
func (n *Node) loadKeys() error {
	_, _, vkey, err := keys.Load(n.cfg.Path(n.cfg.LogKey))
	if err != nil {
		return fmt.Errorf("log key: %w", err)
	}
	if vkey != n.me.LogKey {
		return fmt.Errorf("%w: log key %s is not %s's log key in the regime (%s)", ErrConfig, vkey, n.me.Name, n.me.LogKey)
	}
	b, err := os.ReadFile(n.cfg.Path(n.cfg.CosignKey))
	if err != nil {
		return fmt.Errorf("receipt key: %w", err)
	}
	if n.cosigner, err = cosign.NewSignerFromKey(strings.TrimSpace(string(b)), n.now); err != nil {
		return fmt.Errorf("receipt key %s: %w", n.cfg.Path(n.cfg.CosignKey), err)
	}
	if v := n.cosigner.Verifier().String(); v != n.me.CosignKey {
		return fmt.Errorf("%w: receipt key %s is not %s's cosign_key in the regime (%s)", ErrConfig, v, n.me.Name, n.me.CosignKey)
	}
	if n.id, err = link.LoadIdentity(n.cfg.Path(n.cfg.TLSKey)); err != nil {
		return fmt.Errorf("TLS identity: %w", err)
	}
	if pin := n.id.Pin().String(); pin != n.me.TLSPin() {
		return fmt.Errorf("%w: TLS key %s is not %s's tls_key in the regime (%s)", ErrConfig, pin, n.me.Name, n.me.TLSPin())
	}
	return nil
}

func logStore(ctx context.Context, db *sqlite.DB, origin string) (store.LogStore, error) {
	l, err := db.Log(ctx, origin)
	if errors.Is(err, store.ErrNotFound) {
		l, err = db.CreateLog(ctx, origin)
	}
	if err != nil {
		return nil, fmt.Errorf("log store %s: %w", origin, err)
	}
	return l, nil
}

// Start starts the peer server and the node's background work. It returns
// once the peer server is listening.
func (n *Node) Start(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.started {
		return errors.New("node already started")
	}
	ln := n.opts.PeerListener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", n.cfg.Peer.Listen); err != nil {
			return fmt.Errorf("couldn't listen for peers: %w", err)
		}
	}
	n.listener = ln
	n.server = &http.Server{
		Handler:           n.peerHandler(),
		TLSConfig:         link.ServerConfig(n.id, n.peerSet),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(n.log.Handler(), slog.LevelDebug),
	}
	n.ctx, n.cancel = context.WithCancel(context.WithoutCancel(ctx))
	n.started = true
	n.idx.start()
	tl := tls.NewListener(ln, n.server.TLSConfig)
	n.wg.Go(func() {
		if err := n.server.Serve(tl); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("peer server stopped", "err", err)
		}
	})
	if err := n.startPublic(); err != nil {
		n.server.Close()
		n.cancel()
		n.wg.Wait()
		n.started = false
		return err
	}
	for range 2 {
		n.wg.Go(func() { n.sendLoop(n.ctx) })
	}
	for _, name := range n.order {
		p := n.peers[name]
		n.wg.Go(func() { n.pushLoop(n.ctx, p) })
		n.wg.Go(func() { n.pullLoop(n.ctx, p) })
	}
	n.wg.Go(func() { n.deadlineLoop(n.ctx) })
	if n.cfg.LinkTest.Duration > 0 {
		n.wg.Go(func() { n.linkTestLoop(n.ctx) })
	}
	n.log.Info("node started", "regime", n.reg.ID, "peer_addr", ln.Addr().String(), "log_size", n.own.Size())
	return nil
}

// PeerAddr returns the address the peer server listens on, once started.
func (n *Node) PeerAddr() net.Addr {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.listener == nil {
		return nil
	}
	return n.listener.Addr()
}

// Party returns this node's party name.
func (n *Node) Party() string { return n.me.Name }

// Regime returns the regime the node runs.
func (n *Node) Regime() *regime.Regime { return n.reg }

// Log returns the party's own log.
func (n *Node) Log() *partylog.Log { return n.own }

// Mirror returns this node's mirror of a peer's log, or nil.
func (n *Node) Mirror(party string) *partylog.Mirror {
	if p := n.peers[party]; p != nil {
		return p.mirror
	}
	return nil
}

// Evidence returns the evidence of misbehaviour the node has recorded.
func (n *Node) Evidence(ctx context.Context) ([]Evidence, error) { return n.state.evidence(ctx) }

// Close stops the node: it stops accepting work, lets the log write a
// final checkpoint, and closes its stores.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		n.mu.Lock()
		started := n.started
		n.mu.Unlock()
		if n.sendq != nil {
			n.sendq.close()
		}
		if started {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			n.server.Shutdown(sctx)
			if n.public != nil {
				n.public.Shutdown(sctx)
			}
			cancel()
			n.cancel()
			n.wg.Wait()
			n.idx.stop()
			// Connections to peers would otherwise stay open, and a peer's
			// server waits for one it accepted but saw no request on.
			for _, p := range n.peers {
				p.client.CloseIdleConnections()
			}
		}
		n.closeErr = n.closeStores()
		n.log.Info("node stopped")
	})
	return n.closeErr
}

func (n *Node) closeStores() error {
	var errs []error
	if n.own != nil {
		errs = append(errs, n.own.Close())
	}
	if n.metrics != nil {
		n.metrics.unregister()
	}
	if n.state != nil {
		errs = append(errs, n.state.Close())
	}
	if n.logs != nil {
		errs = append(errs, n.logs.Close())
	}
	return errors.Join(errs...)
}

// alarm records an alarm, publishes it, and runs the hook command.
func (n *Node) alarm(kind, party, ref, msg string) {
	n.mu.Lock()
	n.alarms = append(n.alarms, msg)
	if len(n.alarms) > 100 {
		n.alarms = n.alarms[len(n.alarms)-100:]
	}
	n.mu.Unlock()
	n.log.Warn("alarm", "kind", kind, "peer", party, "ref", ref, "msg", msg)
	n.publish(Event{Kind: kind, Party: party, Ref: ref, Msg: msg})
	n.runHook(kind, party, ref, msg)
}

func (n *Node) publish(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = n.now().UTC()
	}
	n.events.publish(ev)
}

// Events returns the node's events with ID greater than after (those still
// buffered), then live ones, until ctx ends.
func (n *Node) Events(ctx context.Context, after int64) <-chan Event {
	return n.events.subscribe(ctx, after)
}

// The tillit side of nodebench: two nodes, A and B, in this process, talking
// over loopback, set up by internal/localnet with fresh keys and the example
// regime's statement types, and the node's production defaults.

package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tillit/tillit/bench"
	"github.com/tillit/tillit/internal/localnet"
	"github.com/tillit/tillit/node"
	"github.com/tillit/tillit/statement"
)

func init() {
	systems["tillit"] = openTillit
	flashScenario = runFlash
}

const (
	partyA = "A"
	partyB = "B"
	// statementType is the regime's free-text type; the body templates
	// below are the bodies tried for it, the first one the regime accepts
	// being used.
	statementType = "message"
)

// network creates a fresh two-party regime (parties A and B, fresh keys,
// data under dir) and returns each party's node configuration and options.
// It is the one place that depends on the shape of the node package's test
// helper.
func network(dir string) (cfgA, cfgB *node.Config, optsA, optsB node.Options, err error) {
	nw, err := localnet.New(dir, "bench", []localnet.Party{{Name: partyA}, {Name: partyB}})
	if err != nil {
		return nil, nil, optsA, optsB, err
	}
	opts := func(p string) node.Options {
		return node.Options{PeerListener: nw.Listeners[p], Regime: nw.Regime, Sigs: nw.Sigs}
	}
	return nw.Configs[partyA], nw.Configs[partyB], opts(partyA), opts(partyB), nil
}

// pair is two started nodes and what the harness learned about sending
// statements of exactly the configured size between them.
type pair struct {
	a, b   *node.Node
	regime string // regime id, the statements' "regime" field

	// body builds the body of a statement: a JSON object holding text
	// (hex) padded so that the encoded statement of the given precedence
	// is size bytes.
	template bodyTemplate
	pad      map[string]int // precedence -> text length
}

type bodyTemplate struct{ prefix, suffix string }

var bodyTemplates = []bodyTemplate{
	{`{"lang":"en","text":"`, `"}`},
	{`{"text":"`, `"}`},
}

// openPair creates the network, opens and starts both nodes, and sends one
// statement of each precedence the benchmark uses to learn the body size
// and to wait until the link is up.
func openPair(ctx context.Context, dir string, size int, verbose bool) (*pair, error) {
	node.TuneRuntime() // as tillit serve does
	cfgA, cfgB, optsA, optsB, err := network(dir)
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	if !verbose {
		quiet := slog.New(slog.DiscardHandler)
		optsA.Logger, optsB.Logger = quiet, quiet
	}
	p := &pair{pad: map[string]int{}}
	if p.a, err = node.Open(ctx, cfgA, optsA); err != nil {
		return nil, fmt.Errorf("open A: %w", err)
	}
	if p.b, err = node.Open(ctx, cfgB, optsB); err != nil {
		p.a.Close()
		return nil, fmt.Errorf("open B: %w", err)
	}
	if err := p.a.Start(ctx); err != nil {
		p.close()
		return nil, fmt.Errorf("start A: %w", err)
	}
	if err := p.b.Start(ctx); err != nil {
		p.close()
		return nil, fmt.Errorf("start B: %w", err)
	}
	p.regime = p.a.Regime().ID
	if err := p.calibrate(ctx, size); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// calibrate finds a body template the regime accepts, computes for ROUTINE
// and FLASH how much text makes the statement size bytes, checks it, and
// waits (at most a minute) until B has receipted those statements.
func (p *pair) calibrate(ctx context.Context, size int) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var invalid []error
	for _, t := range bodyTemplates {
		p.template = t
		err := p.calibrateWith(ctx, size)
		if err == nil {
			return nil
		}
		if !errors.Is(err, node.ErrInvalid) {
			return err
		}
		invalid = append(invalid, fmt.Errorf("body %s…%s: %w", t.prefix, t.suffix, err))
	}
	return fmt.Errorf("the regime accepts none of the bodies tried: %w", errors.Join(invalid...))
}

func (p *pair) calibrateWith(ctx context.Context, size int) error {
	for _, prec := range []string{"ROUTINE", "FLASH"} {
		p.pad[prec] = 1
		m, err := p.a.Send(ctx, p.request(prec, []byte("x")), node.RoleOfficer)
		if err != nil {
			return fmt.Errorf("first %s statement: %w", prec, err)
		}
		n, err := encodedSize(p.regime, m)
		if err != nil {
			return fmt.Errorf("sizing a statement: %w", err)
		}
		p.pad[prec] = max(1, 1+size-n)
		m, err = p.a.Send(ctx, p.request(prec, []byte("x")), node.RoleOfficer)
		if err != nil {
			return fmt.Errorf("first %d-byte %s statement: %w", size, prec, err)
		}
		if n, err := encodedSize(p.regime, m); err != nil || n != size {
			log.Printf("tillit: %s statements are %d bytes, not %d (%v)", prec, n, size, err)
		}
		if _, err := p.a.WaitReceipt(ctx, m.Ref, partyB); err != nil {
			return fmt.Errorf("receipt of the first %s statements: %w", prec, err)
		}
	}
	return nil
}

// encodedSize is the size of the canonical encoding of the statement m.
func encodedSize(regimeID string, m node.Message) (int, error) {
	prec, err := statement.ParsePrecedence(m.Precedence)
	if err != nil {
		return 0, err
	}
	s := &statement.Statement{
		Regime: regimeID, From: m.From, To: m.To, Type: m.Type, Precedence: prec,
		Time: m.Time.Truncate(time.Millisecond), Body: m.Body,
	}
	for _, r := range m.Refs {
		ref, err := statement.ParseRef(r)
		if err != nil {
			return 0, err
		}
		s.Refs = append(s.Refs, ref)
	}
	b, err := statement.Encode(s)
	if err != nil {
		return 0, err
	}
	return len(b), nil
}

// request is a statement from A to B of precedence prec whose body text is
// text, padded with '0' up to the calibrated length.
func (p *pair) request(prec string, text []byte) node.SendRequest {
	n := p.pad[prec]
	body := make([]byte, 0, len(p.template.prefix)+n+len(p.template.suffix))
	body = append(body, p.template.prefix...)
	if len(text) > n {
		text = text[:n]
	}
	body = append(body, text...)
	for range n - len(text) {
		body = append(body, '0')
	}
	body = append(body, p.template.suffix...)
	return node.SendRequest{
		Type:       statementType,
		To:         []string{partyB},
		Precedence: prec,
		Body:       json.RawMessage(body),
	}
}

// send sends one statement from A and waits for B's receipt of it at A. It
// returns when A had the statement durable in its log (Send returned).
func (p *pair) send(ctx context.Context, prec string, text []byte) (durable time.Time, err error) {
	m, err := p.a.Send(ctx, p.request(prec, text), node.RoleOfficer)
	if err != nil {
		return time.Time{}, err
	}
	durable = time.Now()
	if _, err := p.a.WaitReceipt(ctx, m.Ref, partyB); err != nil {
		return durable, fmt.Errorf("receipt: %w", err)
	}
	return durable, nil
}

func (p *pair) close() error {
	var errs []error
	if p.a != nil {
		errs = append(errs, p.a.Close())
	}
	if p.b != nil {
		errs = append(errs, p.b.Close())
	}
	return errors.Join(errs...)
}

// texts makes per-worker pseudo-random hex body texts, unique per (worker,
// sequence number) and the same in every run.
type texts struct {
	w    int
	seq  uint64
	rng  *rand.ChaCha8
	raw  []byte
	text []byte
}

func newTexts(w, n int) *texts {
	var seed [32]byte
	copy(seed[:], "tillit-nodebench-text-seed......")
	seed[0], seed[1] = byte(w), byte(w>>8)
	return &texts{w: w, rng: rand.NewChaCha8(seed), raw: make([]byte, (n+1)/2), text: make([]byte, 0, n+len("w65535-s18446744073709551615-"))}
}

func (t *texts) next() []byte {
	t.seq++
	t.text = append(t.text[:0], 'w')
	t.text = strconv.AppendInt(t.text, int64(t.w), 10)
	t.text = append(t.text, "-s"...)
	t.text = strconv.AppendUint(t.text, t.seq, 10)
	t.text = append(t.text, '-')
	_, _ = t.rng.Read(t.raw)
	return hex.AppendEncode(t.text, t.raw)
}

type tillitSystem struct{ p *pair }

func openTillit(ctx context.Context, dir string, cfg runConfig) (system, error) {
	p, err := openPair(ctx, dir, cfg.Size, cfg.Verbose)
	if err != nil {
		return nil, err
	}
	return &tillitSystem{p}, nil
}

// load keeps cfg.Concurrency ROUTINE statements in flight: that many
// goroutines each send a statement from A to B, wait for B's receipt of it
// at A, and send the next.
func (s *tillitSystem) load(ctx context.Context, cfg runConfig, stop <-chan struct{}, rec *recorder) error {
	gens := make([]*texts, cfg.Concurrency)
	for w := range gens {
		gens[w] = newTexts(w, cfg.Size)
	}
	closedLoop(ctx, cfg.Concurrency, 0, stop, rec, func(w int, _ []byte) (time.Time, error) {
		return s.p.send(ctx, "ROUTINE", gens[w].next())
	})
	return nil
}

func (s *tillitSystem) stored(context.Context) uint64 { return 0 }

func (s *tillitSystem) close() error { return s.p.close() }

// runFlash enqueues cfg.Routine ROUTINE statements from cfg.Senders
// goroutines (each sends without waiting for receipts, so a backlog builds
// up between A's log and B's receipts) and, while they drain, sends FLASH
// statements one at a time, timing each from Send to B's receipt at A. It
// ends once every ROUTINE statement has been receipted.
//
// A receipt is B's cosignature of a checkpoint of A's log, which covers
// every earlier entry, so each sender waits only for the receipt of the
// last statement it sent.
func runFlash(ctx context.Context, dir string, cfg flashConfig) (*flashResult, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	p, err := openPair(ctx, dir, cfg.Size, cfg.Verbose)
	if err != nil {
		return nil, err
	}
	defer p.close()

	res := &flashResult{Routine: cfg.Routine, Senders: cfg.Senders, Size: cfg.Size}
	var (
		mu       sync.Mutex
		firstErr error
		nerr     atomic.Uint64
		next     atomic.Int64
		sent     atomic.Int64
	)
	fail := func(err error) {
		nerr.Add(1)
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	start := time.Now()
	var sending, receipting sync.WaitGroup
	for w := range cfg.Senders {
		sending.Add(1)
		receipting.Add(1)
		go func() {
			defer receipting.Done()
			gen := newTexts(w, cfg.Size)
			last := ""
			for next.Add(1) <= int64(cfg.Routine) && nerr.Load() < maxErrors {
				m, err := p.a.Send(ctx, p.request("ROUTINE", gen.next()), node.RoleOfficer)
				if err != nil {
					fail(fmt.Errorf("ROUTINE send: %w", err))
					continue
				}
				sent.Add(1)
				last = m.Ref
			}
			sending.Done()
			if last != "" {
				if _, err := p.a.WaitReceipt(ctx, last, partyB); err != nil {
					fail(fmt.Errorf("ROUTINE receipt: %w", err))
				}
			}
		}()
	}
	drained := make(chan struct{})
	go func() {
		sending.Wait()
		res.EnqueueSec = time.Since(start).Seconds()
		receipting.Wait()
		res.DrainSec = time.Since(start).Seconds()
		close(drained)
	}()

	// FLASH statements, one at a time, from once a backlog has started to
	// build until it has drained.
	for sent.Load() < int64(min(cfg.Routine/100, 1000)) && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	var e2e, dur bench.Hist
	gen := newTexts(1<<15, cfg.Size)
loop:
	for {
		select {
		case <-drained:
			break loop
		case <-ctx.Done():
			break loop
		default:
		}
		t0 := time.Now()
		durable, err := p.send(ctx, "FLASH", gen.next())
		if err != nil {
			fail(fmt.Errorf("FLASH: %w", err))
			if nerr.Load() >= maxErrors {
				break
			}
			continue
		}
		e2e.Record(time.Since(t0))
		dur.Record(durable.Sub(t0))
		if cfg.Gap > 0 {
			time.Sleep(cfg.Gap)
		}
	}
	select {
	case <-drained:
	case <-ctx.Done():
	}

	res.Flash = int(e2e.Count())
	res.FlashP50 = ms(e2e.Quantile(0.50))
	res.FlashP99 = ms(e2e.Quantile(0.99))
	res.FlashMax = ms(e2e.Quantile(1))
	res.FlashDurP99 = ms(dur.Quantile(0.99))
	if res.DrainSec > 0 {
		res.RoutinePerSec = float64(sent.Load()) / res.DrainSec
	}
	res.Errors = nerr.Load()
	if firstErr != nil {
		res.FirstError = firstErr.Error()
	}
	if ctx.Err() != nil {
		return res, fmt.Errorf("FLASH scenario did not finish: %w", ctx.Err())
	}
	return res, nil
}

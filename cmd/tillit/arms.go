package main

// The arms_*.go files hold the declaration and inspection workflow that the
// declare, reveal, inspect and declaration commands and the demo share
// (docs/arms-control.md): escrowed declarations (docs/spec/escrow.md) and
// inspections (docs/spec/inspect.md) carried by statements. They reach a
// node through armsBackend: its operator API for the commands, the node
// itself in the demo. The bodies are made and checked by the escrow and
// inspect packages only; this code finds statements, keeps the secrets and
// sends.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/tillit/tillit/inspect"
	"github.com/tillit/tillit/internal/api"
	"github.com/tillit/tillit/internal/localnet"
	"github.com/tillit/tillit/node"
	"github.com/tillit/tillit/regime"
	"github.com/tillit/tillit/statement"
)

// armsBackend is what the workflow needs of a node. *api.Client has these
// methods; localBackend adapts an in-process node.
type armsBackend interface {
	Send(ctx context.Context, req node.SendRequest) (node.Message, error)
	Statements(ctx context.Context, q node.Query) ([]node.Message, error)
	Message(ctx context.Context, ref string) (node.Message, error)
	Status(ctx context.Context) (node.Status, error)
}

// localBackend is an in-process node, called as an officer.
type localBackend struct{ n *node.Node }

func (b localBackend) Send(ctx context.Context, req node.SendRequest) (node.Message, error) {
	return b.n.Send(ctx, req, node.RoleOfficer)
}

func (b localBackend) Statements(_ context.Context, q node.Query) ([]node.Message, error) {
	return b.n.Statements(q), nil
}

func (b localBackend) Message(_ context.Context, ref string) (node.Message, error) {
	return b.n.Message(ref)
}

func (b localBackend) Status(context.Context) (node.Status, error) { return b.n.Status(), nil }

// arms is one party's end of the workflow.
type arms struct {
	b     armsBackend
	reg   *regime.Regime
	party string
	size  int64            // the party's log size when arms was made
	dir   string           // the node directory; secrets live in dir/escrow
	now   func() time.Time // the node's clock, for decisions before sending
	rules inspectionRules
}

// newArms checks that the node runs reg and returns the workflow for its
// party.
func newArms(ctx context.Context, b armsBackend, reg *regime.Regime, dir string, now func() time.Time) (*arms, error) {
	st, err := b.Status(ctx)
	if err != nil {
		return nil, err
	}
	if st.Regime != reg.ID || st.RegimeHash != reg.Hash().String() {
		return nil, withHint(fmt.Errorf("the node runs regime %s (%s), not %s (%s) from its configuration", st.Regime, st.RegimeHash, reg.ID, reg.Hash()),
			"restart the node after changing its regime file, or point --node at the node's own directory")
	}
	if reg.Party(st.Party) == nil {
		return nil, fmt.Errorf("the node's party %q is not in regime %s", st.Party, reg.ID)
	}
	return &arms{b: b, reg: reg, party: st.Party, size: st.Log.Size, dir: dir, now: now, rules: rulesOf(reg)}, nil
}

// connectArms connects to the node of the command's --node directory and
// loads the regime its configuration names.
func connectArms(af *apiFlags) (*arms, *apiConn, error) {
	c, err := af.connect()
	if err != nil {
		return nil, nil, err
	}
	reg, err := nodeRegime(c.dir)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := callContext()
	defer cancel()
	a, err := newArms(ctx, c.Client, reg, c.dir, timeNow)
	if err != nil {
		return nil, nil, c.explain(err)
	}
	return a, c, nil
}

// nodeRegime loads the regime named by the configuration in dir.
func nodeRegime(dir string) (*regime.Regime, error) {
	path := filepath.Join(dir, localnet.ConfigFile)
	cfg, err := node.LoadConfig(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, withHint(fmt.Errorf("no node configuration: %s does not exist", path),
			"declarations and inspections need the node's directory (its regime and escrow secrets): pass --node DIR or set TILLIT_NODE")
	}
	if err != nil {
		return nil, err
	}
	reg, err := regime.Load(cfg.Path(cfg.Regime))
	if err != nil {
		return nil, fmt.Errorf("couldn't load the node's regime: %w", err)
	}
	return reg, nil
}

// inspectionRules are the inspection settings both parties apply. Quotas
// come from the regime's [inspections] table and the reply period from the
// inspection.request type's ack_within; the regime format has no place yet
// for the beacon period, fallback and selection, so they are fixed here, at
// the values the inspect spec recommends.
type inspectionRules struct {
	quotas       inspect.Quotas
	beaconWithin time.Duration
	fallback     inspect.Fallback
	selection    inspect.Selection
}

const (
	defaultReplyWithin  = 48 * time.Hour
	defaultBeaconWithin = 24 * time.Hour
)

func rulesOf(reg *regime.Regime) inspectionRules {
	r := inspectionRules{
		quotas:       inspect.Quotas{ReplyWithin: defaultReplyWithin},
		beaconWithin: defaultBeaconWithin,
		fallback:     inspect.FallbackRefused,
		selection:    inspect.SelectWeighted,
	}
	if in := reg.Inspections; in != nil {
		r.quotas.PerHostPerYear, r.quotas.PerInspectorPerYear = in.PerHostPerYear, in.PerInspectorPerYear
	}
	if t := reg.Type(inspect.TypeRequest); t != nil && t.AckWithin > 0 {
		r.quotas.ReplyWithin = t.AckWithin
	}
	return r
}

// send makes a statement after checking that it fits: a body that would
// make the statement larger than statement.MaxSize is refused with
// tooLarge's advice before anything is sent.
func (a *arms) send(ctx context.Context, typ string, to []string, refs []statement.Ref, body []byte, tooLarge string) (node.Message, error) {
	t := a.reg.Type(typ)
	if t == nil {
		return node.Message{}, fmt.Errorf("regime %s has no statement type %s", a.reg.ID, typ)
	}
	st := &statement.Statement{Regime: a.reg.ID, From: a.party, To: to, Type: typ, Precedence: t.Precedence,
		Time: a.now().UTC().Truncate(time.Millisecond), Refs: refs, Body: body}
	if _, err := statement.Encode(st); errors.Is(err, statement.ErrTooLarge) {
		st.Body = json.RawMessage(`{}`)
		empty, _ := statement.Encode(st)
		err := fmt.Errorf("the %s statement would be %d bytes, more than a statement's limit of %d (64 KiB)", typ, len(empty)-2+len(body), statement.MaxSize)
		if tooLarge != "" {
			return node.Message{}, withHint(err, tooLarge)
		}
		return node.Message{}, err
	} else if err != nil {
		return node.Message{}, fmt.Errorf("couldn't make the %s statement: %w", typ, err)
	}
	var rs []string
	for _, r := range refs {
		rs = append(rs, r.String())
	}
	m, err := a.b.Send(ctx, node.SendRequest{Type: typ, To: to, Refs: rs, Body: body})
	if err != nil {
		return node.Message{}, fmt.Errorf("couldn't send the %s statement: %w", typ, err)
	}
	return m, nil
}

// nothingStored reports whether a failed Send certainly stored nothing: the
// node refused the request, rather than failing to answer.
func nothingStored(err error) bool {
	var p *api.Problem
	if errors.As(err, &p) {
		return p.Status >= 400 && p.Status < 500
	}
	return errors.Is(err, node.ErrInvalid) || errors.Is(err, node.ErrForbidden)
}

// Escrow secrets live in the node directory, in escrow/, one file per
// declaration version and per beacon contribution, each 0600 and never
// overwritten.

func escrowDir(dir string) string { return filepath.Join(dir, "escrow") }

func secretPath(dir, regimeID string, version uint64) string {
	return filepath.Join(escrowDir(dir), fmt.Sprintf("%s-v%d.secret", regimeID, version))
}

func beaconPath(dir, regimeID string, request statement.Ref, party string) string {
	return filepath.Join(escrowDir(dir), fmt.Sprintf("%s-beacon-%s-%d-%s.secret", regimeID, originParty(request.Log), request.Index, party))
}

// writeSecret creates path with b, mode 0600, and syncs it. It never
// replaces an existing file.
func writeSecret(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("couldn't create the escrow directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return withHint(fmt.Errorf("%s already exists; secrets are never overwritten", path),
			"move it away only if you are sure nothing was committed with it")
	}
	if err != nil {
		return fmt.Errorf("couldn't store the secret: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("couldn't store the secret in %s: %w", path, err)
	}
	return nil
}

// originParty returns the party of a log origin "<regime>/<party>".
func originParty(origin string) string {
	for i := len(origin) - 1; i >= 0; i-- {
		if origin[i] == '/' {
			return origin[i+1:]
		}
	}
	return origin
}

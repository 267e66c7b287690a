package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tillit/tillit/internal/api"
	"github.com/tillit/tillit/node"
	"github.com/tillit/tillit/statement"
)

// An entry is a statement and where it is logged. Every entry a logSource
// returns has been checked against its reference: the statement's bytes
// hash to the reference's leaf hash.
type entry struct {
	st  *statement.Statement
	ref statement.Ref
}

func (e *entry) String() string { return e.ref.String() }

// A logSource gives statements of the regime's logs.
type logSource interface {
	// get returns the statement ref names, checked against its leaf hash.
	get(ctx context.Context, ref statement.Ref) (*entry, error)
	// ofType returns the statements of a type that the source can list,
	// ordered by log origin, then index.
	ofType(ctx context.Context, typ string) ([]*entry, error)
}

// backendSource lists the statements of every log a node holds, whoever
// they are addressed to, and fetches any statement the node holds. The
// node's answers are statements re-encoded from their fields, so each is
// checked against its reference's leaf hash: a statement that was not
// logged in its canonical encoding cannot be checked this way and is
// reported as not matching.
type backendSource struct{ b armsBackend }

func (s backendSource) get(ctx context.Context, ref statement.Ref) (*entry, error) {
	m, err := s.b.Message(ctx, ref.String())
	if err != nil {
		return nil, fmt.Errorf("couldn't fetch %s: %w", ref, err)
	}
	e, err := messageEntry(m)
	if err != nil {
		return nil, err
	}
	if e.ref != ref {
		return nil, fmt.Errorf("the node answered %s with %s", ref, e.ref)
	}
	return e, nil
}

// ofType lists the newest api.MaxLimit statements of typ over every log
// the node holds.
func (s backendSource) ofType(ctx context.Context, typ string) ([]*entry, error) {
	ms, err := s.b.Statements(ctx, node.Query{Type: typ, Limit: api.MaxLimit})
	if err != nil {
		return nil, fmt.Errorf("couldn't list the %s statements: %w", typ, err)
	}
	out := make([]*entry, 0, len(ms))
	for _, m := range ms {
		e, err := messageEntry(m)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	sortEntries(out)
	return out, nil
}

// messageEntry rebuilds the statement a node describes, in the canonical
// encoding, and checks it against the message's reference.
func messageEntry(m node.Message) (*entry, error) {
	ref, err := statement.ParseRef(m.Ref)
	if err != nil {
		return nil, fmt.Errorf("the node gave a malformed reference %q: %w", m.Ref, err)
	}
	regimeID, ok := strings.CutSuffix(m.Log, "/"+m.From)
	if !ok || ref.Log != m.Log || ref.Index != m.Index {
		return nil, fmt.Errorf("%s: the node's description does not match the reference (log %s, index %d, from %s)", m.Ref, m.Log, m.Index, m.From)
	}
	prec, err := statement.ParsePrecedence(m.Precedence)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.Ref, err)
	}
	var refs []statement.Ref
	for _, r := range m.Refs {
		pr, err := statement.ParseRef(r)
		if err != nil {
			return nil, fmt.Errorf("%s: malformed reference %q: %w", m.Ref, r, err)
		}
		refs = append(refs, pr)
	}
	b, err := statement.Encode(&statement.Statement{Regime: regimeID, From: m.From, To: m.To, Type: m.Type, Precedence: prec,
		Time: m.Time, Refs: refs, Body: m.Body})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.Ref, err)
	}
	st, err := statement.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.Ref, err)
	}
	if st.LeafHash() != ref.Hash {
		return nil, fmt.Errorf("%s: the statement does not hash to its reference's leaf hash", m.Ref)
	}
	return &entry{st: st, ref: ref}, nil
}

// nodeLogSource reads an in-process node's own log and its mirrors of every
// other party's log directly: the exact logged bytes, as an auditor holding
// copies of the logs would.
type nodeLogSource struct{ n *node.Node }

func (s nodeLogSource) read(ctx context.Context, party string) (size int64, read func(ctx context.Context, a, b int64) ([][]byte, error), err error) {
	if party == s.n.Party() {
		return s.n.Log().Size(), s.n.Log().Entries, nil
	}
	m := s.n.Mirror(party)
	if m == nil {
		return 0, nil, fmt.Errorf("%s holds no copy of %s's log", s.n.Party(), party)
	}
	return m.Size(), m.Entries, nil
}

func (s nodeLogSource) get(ctx context.Context, ref statement.Ref) (*entry, error) {
	reg := s.n.Regime()
	party := originParty(ref.Log)
	if reg.Origin(party) != ref.Log {
		return nil, fmt.Errorf("%s: %s is not a log of regime %s", ref, ref.Log, reg.ID)
	}
	size, read, err := s.read(ctx, party)
	if err != nil {
		return nil, err
	}
	if ref.Index >= size {
		return nil, fmt.Errorf("%s: %s's copy of %s's log has %d entries", ref, s.n.Party(), party, size)
	}
	es, err := read(ctx, ref.Index, ref.Index+1)
	if err != nil {
		return nil, err
	}
	st, err := statement.Parse(es[0])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	if st.Ref(ref.Index) != ref {
		return nil, fmt.Errorf("%s: the logged statement does not hash to the reference's leaf hash", ref)
	}
	return &entry{st: st, ref: ref}, nil
}

func (s nodeLogSource) ofType(ctx context.Context, typ string) ([]*entry, error) {
	var out []*entry
	for _, p := range s.n.Regime().Parties {
		size, read, err := s.read(ctx, p.Name)
		if err != nil {
			return nil, err
		}
		for a := int64(0); a < size; a += 1000 {
			es, err := read(ctx, a, min(a+1000, size))
			if err != nil {
				return nil, err
			}
			for i, e := range es {
				st, err := statement.Parse(e)
				if err != nil || st.Type != typ {
					continue
				}
				out = append(out, &entry{st: st, ref: st.Ref(a + int64(i))})
			}
		}
	}
	sortEntries(out)
	return out, nil
}

func sortEntries(es []*entry) {
	slices.SortFunc(es, func(a, b *entry) int {
		return cmp.Or(strings.Compare(a.ref.Log, b.ref.Log), cmp.Compare(a.ref.Index, b.ref.Index))
	})
}

// A view caches listings of one source for the duration of one step.
type view struct {
	src   logSource
	types map[string][]*entry
	refs  map[statement.Ref]*entry
}

func newView(src logSource) *view {
	return &view{src: src, types: map[string][]*entry{}, refs: map[statement.Ref]*entry{}}
}

func (v *view) get(ctx context.Context, ref statement.Ref) (*entry, error) {
	if e := v.refs[ref]; e != nil {
		return e, nil
	}
	e, err := v.src.get(ctx, ref)
	if err != nil {
		return nil, err
	}
	v.refs[ref] = e
	return e, nil
}

func (v *view) ofType(ctx context.Context, typ string) ([]*entry, error) {
	if es, ok := v.types[typ]; ok {
		return es, nil
	}
	es, err := v.src.ofType(ctx, typ)
	if err != nil {
		return nil, err
	}
	v.types[typ] = es
	return es, nil
}

// from returns the statements of typ sent by party whose refs include ref
// (any ref if ref is zero), in log order.
func (v *view) from(ctx context.Context, typ, party string, ref statement.Ref, firstRefOnly bool) ([]*entry, error) {
	es, err := v.ofType(ctx, typ)
	if err != nil {
		return nil, err
	}
	var out []*entry
	for _, e := range es {
		if e.st.From != party {
			continue
		}
		if ref != (statement.Ref{}) {
			switch {
			case firstRefOnly && (len(e.st.Refs) == 0 || e.st.Refs[0] != ref):
				continue
			case !firstRefOnly && !slices.Contains(e.st.Refs, ref):
				continue
			}
		}
		out = append(out, e)
	}
	return out, nil
}

package partylog

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/tillit/tillit/store/memstore"
	"github.com/tillit/tillit/tlog"
)

// source is a log being mirrored, with the entries it holds.
type source struct {
	lg      *Log
	entries [][]byte
	salt    int // makes this source's entries differ from another's
}

func (s *source) append(t *testing.T, n int) Signed {
	t.Helper()
	ctx := context.Background()
	for range n {
		e := entry(len(s.entries) + 1000*s.salt)
		if _, err := s.lg.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
		s.entries = append(s.entries, e)
	}
	cp, err := s.lg.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

func TestMirror(t *testing.T) {
	for name, mk := range backends() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			signer, v := testKey(t)
			lg, err := Open(ctx, memstore.New(), Options{Origin: testOrigin, Signer: signer, Logger: quietLogger(t)})
			if err != nil {
				t.Fatal(err)
			}
			defer lg.Close()
			src := &source{lg: lg}
			st := mk(t)
			m, err := OpenMirror(ctx, st, MirrorOptions{Origin: testOrigin, Verifier: v, Logger: quietLogger(t)})
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := m.Latest(); ok {
				t.Fatal("new mirror has a checkpoint")
			}
			var old Signed
			for i, n := range []int{0, 1, 255, 1, 300, 70} {
				cp := src.append(t, n)
				have := m.Size()
				got, err := m.Add(ctx, cp.Note, src.entries[have:])
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if got.Tree != cp.Tree || m.Size() != cp.Tree.N {
					t.Fatalf("step %d: mirror at %v (size %d), want %v", i, got.Tree, m.Size(), cp.Tree)
				}
				// Adding it again, or an older checkpoint, changes nothing.
				if again, err := m.Add(ctx, cp.Note, nil); err != nil || again.Tree != cp.Tree {
					t.Fatalf("step %d: re-add: %v, %v", i, again.Tree, err)
				}
				if old.Note != nil {
					if again, err := m.Add(ctx, old.Note, nil); err != nil || again.Tree != cp.Tree {
						t.Fatalf("step %d: older checkpoint: %v, %v", i, again.Tree, err)
					}
				}
				old = cp
			}
			srv := httptest.NewServer(m.Handler())
			defer srv.Close()
			f, _ := tlog.HTTPFetcher(srv.URL, nil)
			if _, err := tlog.VerifyLog(ctx, f, testOrigin, v, tlog.VerifyOptions{}); err != nil {
				t.Fatalf("served mirror: %v", err)
			}
			for i, want := range src.entries {
				e, err := m.Entry(ctx, int64(i))
				if err != nil || string(e) != string(want) {
					t.Fatalf("entry %d: %q, %v", i, e, err)
				}
			}
			// Reopened, it holds the same.
			m2, err := OpenMirror(ctx, st, MirrorOptions{Origin: testOrigin, Verifier: v, Logger: quietLogger(t)})
			if err != nil {
				t.Fatal(err)
			}
			if l, _ := m2.Latest(); l.Tree != old.Tree {
				t.Fatalf("reopened mirror at %v, want %v", l.Tree, old.Tree)
			}
		})
	}
}

func TestMirrorRejects(t *testing.T) {
	ctx := context.Background()
	signer, v := testKey(t)
	newSource := func() *source {
		lg, err := Open(ctx, memstore.New(), Options{Origin: testOrigin, Signer: signer, Logger: quietLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { lg.Close() })
		return &source{lg: lg}
	}
	src := newSource()
	ms := memstore.New()
	m, err := OpenMirror(ctx, ms, MirrorOptions{Origin: testOrigin, Verifier: v, Logger: quietLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	cp := src.append(t, 10)
	if _, err := m.Add(ctx, cp.Note, src.entries); err != nil {
		t.Fatal(err)
	}
	cp = src.append(t, 5)
	tampered := make([][]byte, 5)
	copy(tampered, src.entries[10:])
	tampered[2] = append([]byte(nil), tampered[2]...)
	tampered[2][3] ^= 1
	for name, es := range map[string][][]byte{
		"flipped byte":  tampered,
		"one missing":   src.entries[10:14],
		"one extra":     append(append([][]byte{}, src.entries[10:]...), []byte("x")),
		"wrong start":   src.entries[9:14],
		"reordered":     {src.entries[11], src.entries[10], src.entries[12], src.entries[13], src.entries[14]},
		"none for more": nil,
	} {
		if _, err := m.Add(ctx, cp.Note, es); !errors.Is(err, ErrEntries) {
			t.Errorf("%s: %v, want ErrEntries", name, err)
		}
		if m.Size() != 10 {
			t.Fatalf("%s: mirror size %d after a rejected add", name, m.Size())
		}
	}
	// A checkpoint signed by another key is refused.
	other, _ := testKey(t)
	lg2, err := Open(ctx, memstore.New(), Options{Origin: testOrigin, Signer: other, Logger: quietLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer lg2.Close()
	impostor := (&source{lg: lg2}).append(t, 15)
	if _, err := m.Add(ctx, impostor.Note, src.entries[10:]); !errors.Is(err, tlog.ErrCheckpointSignature) {
		t.Errorf("impostor checkpoint: %v, want ErrCheckpointSignature", err)
	}
	// A fork: the same key signs another tree of a size the mirror holds.
	fork := newSource()
	fork.salt = 7
	forkCP := fork.append(t, 10)
	if _, err := m.Add(ctx, forkCP.Note, nil); !errors.Is(err, ErrFork) {
		t.Errorf("forked checkpoint: %v, want ErrFork", err)
	}
	// A store write that fails and is lost leaves the mirror as it was;
	// the next add works.
	ms.FailNext(memstore.OpAppend, memstore.Lost)
	if _, err := m.Add(ctx, cp.Note, src.entries[10:]); err == nil {
		t.Fatal("add with a failing store succeeded")
	}
	if m.Size() != 10 {
		t.Fatalf("mirror size %d after a lost write", m.Size())
	}
	if got, err := m.Add(ctx, cp.Note, src.entries[10:]); err != nil || got.Tree != cp.Tree {
		t.Fatalf("add after a lost write: %v, %v", got.Tree, err)
	}
	// One that fails but persists is reported as stored.
	cp = src.append(t, 3)
	ms.FailNext(memstore.OpAppend, memstore.Persisted)
	if got, err := m.Add(ctx, cp.Note, src.entries[15:]); err != nil || got.Tree != cp.Tree {
		t.Fatalf("add whose write persisted: %v, %v", got.Tree, err)
	}
}

// TestMirrorCatchesUpInSteps: a mirror far behind reaches the log through
// checkpoints the log signs at earlier sizes (CheckpointAt), and the
// mirror's TreeHash and Entries agree with the log.
func TestMirrorCatchesUpInSteps(t *testing.T) {
	ctx := context.Background()
	signer, v := testKey(t)
	lg, err := Open(ctx, memstore.New(), Options{Origin: testOrigin, Signer: signer, Logger: quietLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	src := &source{lg: lg}
	latest := src.append(t, 700)
	m, err := OpenMirror(ctx, memstore.New(), MirrorOptions{Origin: testOrigin, Verifier: v, Logger: quietLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	for m.Size() < latest.Tree.N {
		next := min(m.Size()+256, latest.Tree.N)
		cp, err := lg.CheckpointAt(ctx, next)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Add(ctx, cp.Note, src.entries[m.Size():next]); err != nil {
			t.Fatalf("step to %d: %v", next, err)
		}
	}
	if _, err := m.Add(ctx, latest.Note, nil); err != nil {
		t.Fatalf("latest checkpoint after the steps: %v", err)
	}
	for _, n := range []int64{1, 256, 699, 700} {
		want, _ := lg.TreeHash(ctx, n)
		if got, err := m.TreeHash(ctx, n); err != nil || got != want {
			t.Errorf("TreeHash(%d) = %v, %v; want %v", n, got, err, want)
		}
	}
	es, err := m.Entries(ctx, 250, 260)
	if err != nil || len(es) != 10 || string(es[0]) != string(src.entries[250]) {
		t.Errorf("Entries(250, 260): %d entries, %v", len(es), err)
	}
	for _, bad := range []int64{0, -1, 701} {
		if _, err := lg.CheckpointAt(ctx, bad); !errors.Is(err, ErrOutOfRange) {
			t.Errorf("CheckpointAt(%d): %v, want ErrOutOfRange", bad, err)
		}
	}
}

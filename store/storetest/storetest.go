// Package storetest is a conformance test for store.LogStore backends: every
// backend runs it, so they all keep the same contract.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/tillit/tillit/store"
)

// Run checks the store.LogStore contract on fresh, empty stores from newStore.
func Run(t *testing.T, newStore func(t *testing.T) store.LogStore) {
	ctx := context.Background()
	root := func(b byte) (h [32]byte) { h[0] = b; return h }
	t.Run("empty", func(t *testing.T) {
		st := newStore(t)
		s, err := st.Load(ctx)
		if err != nil || s.Size != 0 || s.Checkpoint.Note != nil {
			t.Fatalf("Load of an empty store = %+v, %v", s, err)
		}
		if _, err := st.ReadTile(ctx, 0, 0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ReadTile on an empty store: %v, want ErrNotFound", err)
		}
		if _, err := st.ReadBundle(ctx, 0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ReadBundle on an empty store: %v, want ErrNotFound", err)
		}
	})
	t.Run("append", func(t *testing.T) {
		st := newStore(t)
		b1 := &store.Batch{OldSize: 0, NewSize: 2,
			Tiles:  []store.Tile{{Level: 0, N: 0, Data: bytes.Repeat([]byte{1}, 64)}},
			Chunks: []store.Chunk{{N: 0, Start: 0, Count: 2, Data: []byte{0, 1, 'a', 0, 1, 'b'}}}}
		if err := st.Append(ctx, b1); err != nil {
			t.Fatal(err)
		}
		b2 := &store.Batch{OldSize: 2, NewSize: 3,
			Tiles:  []store.Tile{{Level: 0, N: 0, Data: bytes.Repeat([]byte{1}, 96)}},
			Chunks: []store.Chunk{{N: 0, Start: 2, Count: 1, Data: []byte{0, 1, 'c'}}}}
		if err := st.Append(ctx, b2); err != nil {
			t.Fatal(err)
		}
		if err := st.Append(ctx, b2); !errors.Is(err, store.ErrConflict) {
			t.Errorf("append at a stale size: %v, want ErrConflict", err)
		}
		s, _ := st.Load(ctx)
		if s.Size != 3 {
			t.Errorf("size %d, want 3", s.Size)
		}
		tile, err := st.ReadTile(ctx, 0, 0)
		if err != nil || len(tile) != 96 {
			t.Errorf("tile: %d bytes, %v; want the latest width (96 bytes)", len(tile), err)
		}
		bundle, err := st.ReadBundle(ctx, 0)
		if err != nil || string(bundle) != "\x00\x01a\x00\x01b\x00\x01c" {
			t.Errorf("bundle %q, %v; want the chunks in order", bundle, err)
		}
	})
	t.Run("checkpoint", func(t *testing.T) {
		st := newStore(t)
		if err := st.SetCheckpoint(ctx, store.Checkpoint{Size: 1, Root: root(1), Note: []byte("n1")}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("checkpoint beyond the stored size: %v, want ErrConflict", err)
		}
		if err := st.Append(ctx, &store.Batch{OldSize: 0, NewSize: 5}); err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			c    store.Checkpoint
			fail bool
		}{
			{store.Checkpoint{Size: 3, Root: root(3), Note: []byte("n3")}, false},
			{store.Checkpoint{Size: 3, Root: root(3), Note: []byte("n3 again")}, false},
			{store.Checkpoint{Size: 3, Root: root(4), Note: []byte("second root")}, true},
			{store.Checkpoint{Size: 2, Root: root(2), Note: []byte("backwards")}, true},
			{store.Checkpoint{Size: 6, Root: root(6), Note: []byte("beyond")}, true},
			{store.Checkpoint{Size: 5, Root: root(5), Note: []byte("n5")}, false},
		}
		for i, s := range steps {
			err := st.SetCheckpoint(ctx, s.c)
			if s.fail != (err != nil) || (s.fail && !errors.Is(err, store.ErrConflict)) {
				t.Errorf("step %d (%s): %v", i, s.c.Note, err)
			}
		}
		s, _ := st.Load(ctx)
		if s.Checkpoint.Size != 5 || string(s.Checkpoint.Note) != "n5" || s.Checkpoint.Root != root(5) {
			t.Errorf("stored checkpoint %+v, want n5", s.Checkpoint)
		}
	})
	t.Run("batch-checkpoint", func(t *testing.T) {
		st := newStore(t)
		ok := &store.Batch{OldSize: 0, NewSize: 2, Checkpoint: &store.Checkpoint{Size: 2, Root: root(2), Note: []byte("n2")}}
		if err := st.Append(ctx, ok); err != nil {
			t.Fatal(err)
		}
		bad := &store.Batch{OldSize: 2, NewSize: 4,
			Chunks:     []store.Chunk{{N: 0, Start: 2, Count: 1, Data: []byte{0, 1, 'x'}}},
			Checkpoint: &store.Checkpoint{Size: 2, Root: root(9), Note: []byte("fork")}}
		if err := st.Append(ctx, bad); !errors.Is(err, store.ErrConflict) {
			t.Errorf("batch with a second root for size 2: %v, want ErrConflict", err)
		}
		s, _ := st.Load(ctx)
		if s.Size != 2 || string(s.Checkpoint.Note) != "n2" {
			t.Errorf("after a refused batch: %+v, want nothing of it written", s)
		}
		if _, err := st.ReadBundle(ctx, 0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the refused batch's chunk was written: %v", err)
		}
	})
}

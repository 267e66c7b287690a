// Package store defines the narrow storage interface behind a tillit log, and
// the guarantees every backend must give. Backends live in sub-packages:
// store/sqlite (the default, embedded) and store/memstore (tests, with fault
// injection).
//
// A log's durable state is: its tree size; the hash tiles and entry bundles of
// that tree in the c2sp.org/tlog-tiles layout; and the last checkpoint it
// signed. Entries are written once, as chunks of consecutive entries of one
// bundle, so an append never rewrites earlier entries; a hash tile is stored
// whole at its latest width, and a tile of smaller width is its prefix.
package store

import (
	"context"
	"errors"

	"golang.org/x/mod/sumdb/tlog"
)

// ErrNotFound is returned for a tile, bundle or log that does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a write does not apply to the stored state: a
// batch whose starting size is not the stored size, or a checkpoint that would
// go backwards or sign a second root for a size. It means that someone else
// wrote to the log, or that the caller's view of it is stale.
var ErrConflict = errors.New("write conflicts with stored log state")

// Tile is the content of one hash tile: Level ≥ 0, index N, and Data holding
// the tile's hashes at its current width (len(Data)/32 hashes).
type Tile struct {
	Level int
	N     int64
	Data  []byte
}

// Chunk is a run of consecutive entries of entry bundle N, starting at
// position Start (0-255) in the bundle, encoded as in a bundle (uint16
// big-endian length prefixes). Count is the number of entries in Data.
type Chunk struct {
	N     int64
	Start int
	Count int
	Data  []byte
}

// Batch is one atomic append: it takes the tree from OldSize to NewSize.
type Batch struct {
	OldSize, NewSize int64
	Tiles            []Tile  // every hash tile the append changed, whole
	Chunks           []Chunk // the new entries
	// Checkpoint, if set, is recorded in the same transaction, with the
	// checks of SetCheckpoint applied against NewSize (a mirror stores a
	// peer's entries and its signed checkpoint for them atomically).
	Checkpoint *Checkpoint
}

// Checkpoint is a signed checkpoint as stored: the tree it signs and the note.
type Checkpoint struct {
	Size int64
	Root tlog.Hash
	Note []byte
}

// State is what Load returns: the durable tree size and the last checkpoint
// (Checkpoint.Note is nil if none was ever signed).
type State struct {
	Size       int64
	Checkpoint Checkpoint
}

// LogStore is the storage of one log. Implementations must be safe for
// concurrent use by one writer and any number of readers.
//
// Durability: when Append or SetCheckpoint returns nil, the write survives a
// crash of the process and of the machine. When either returns an error, the
// write may or may not have persisted; the caller must Load again before
// writing.
type LogStore interface {
	// Load returns the durable state.
	Load(ctx context.Context) (State, error)
	// Append writes b atomically. It returns ErrConflict, and writes
	// nothing, if the stored size is not b.OldSize.
	Append(ctx context.Context, b *Batch) error
	// SetCheckpoint records c as the last signed checkpoint. It returns
	// ErrConflict, and writes nothing, if c.Size exceeds the stored tree
	// size, is below the stored checkpoint's size, or equals it with a
	// different root.
	SetCheckpoint(ctx context.Context, c Checkpoint) error
	// ReadTile returns the stored data of hash tile (level, n) at its
	// current width, or ErrNotFound.
	ReadTile(ctx context.Context, level int, n int64) ([]byte, error)
	// ReadBundle returns every stored entry of bundle n, as a bundle, or
	// ErrNotFound.
	ReadBundle(ctx context.Context, n int64) ([]byte, error)
}

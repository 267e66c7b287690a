package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/tillit/tillit/store"
)

// Log is one log in a DB. It implements store.LogStore.
type Log struct {
	db     *DB
	id     int64
	origin string
}

var _ store.LogStore = (*Log)(nil)

// Load implements store.LogStore.
func (l *Log) Load(ctx context.Context) (store.State, error) {
	var st store.State
	var root, note []byte
	err := l.db.w.QueryRowContext(ctx, `SELECT size, cp_size, cp_root, cp_note FROM logs WHERE id = ?`, l.id).
		Scan(&st.Size, &st.Checkpoint.Size, &root, &note)
	if errors.Is(err, sql.ErrNoRows) {
		return st, fmt.Errorf("log %q: %w", l.origin, store.ErrNotFound)
	} else if err != nil {
		return st, fmt.Errorf("couldn't load log %q: %w", l.origin, err)
	}
	if note != nil {
		if len(root) != len(st.Checkpoint.Root) {
			return st, fmt.Errorf("log %q: stored checkpoint root has %d bytes", l.origin, len(root))
		}
		copy(st.Checkpoint.Root[:], root)
		st.Checkpoint.Note = note
	}
	return st, nil
}

// Append implements store.LogStore: one transaction, one fsync.
func (l *Log) Append(ctx context.Context, b *store.Batch) (err error) {
	tx, err := l.db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("couldn't begin append: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	res, err := tx.ExecContext(ctx, `UPDATE logs SET size = ? WHERE id = ? AND size = ?`, b.NewSize, l.id, b.OldSize)
	if err != nil {
		return fmt.Errorf("couldn't append: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("append at size %d: %w", b.OldSize, store.ErrConflict)
	}
	if len(b.Chunks) > 0 {
		ins, err := tx.PrepareContext(ctx, `INSERT INTO bundles (log, n, start, data) VALUES (?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("couldn't append: %w", err)
		}
		for _, c := range b.Chunks {
			if _, err := ins.ExecContext(ctx, l.id, c.N, c.Start, c.Data); err != nil {
				return fmt.Errorf("couldn't append bundle %d: %w", c.N, err)
			}
		}
	}
	if len(b.Tiles) > 0 {
		up, err := tx.PrepareContext(ctx, `INSERT INTO tiles (log, level, n, data) VALUES (?, ?, ?, ?)
			ON CONFLICT (log, level, n) DO UPDATE SET data = excluded.data`)
		if err != nil {
			return fmt.Errorf("couldn't append: %w", err)
		}
		for _, t := range b.Tiles {
			if _, err := up.ExecContext(ctx, l.id, t.Level, t.N, t.Data); err != nil {
				return fmt.Errorf("couldn't write tile %d/%d: %w", t.Level, t.N, err)
			}
		}
	}
	if b.Checkpoint != nil {
		if err := setCheckpoint(ctx, tx, l.id, *b.Checkpoint); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("couldn't commit append: %w", err)
	}
	return nil
}

// SetCheckpoint implements store.LogStore.
func (l *Log) SetCheckpoint(ctx context.Context, c store.Checkpoint) (err error) {
	tx, err := l.db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("couldn't begin checkpoint write: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if err := setCheckpoint(ctx, tx, l.id, c); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("couldn't commit checkpoint: %w", err)
	}
	return nil
}

// ReadTile implements store.LogStore.
func (l *Log) ReadTile(ctx context.Context, level int, n int64) ([]byte, error) {
	var data []byte
	err := l.db.r.QueryRowContext(ctx, `SELECT data FROM tiles WHERE log = ? AND level = ? AND n = ?`, l.id, level, n).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("tile %d/%d: %w", level, n, store.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("couldn't read tile %d/%d: %w", level, n, err)
	}
	return data, nil
}

// ReadBundle implements store.LogStore.
func (l *Log) ReadBundle(ctx context.Context, n int64) ([]byte, error) {
	rows, err := l.db.r.QueryContext(ctx, `SELECT data FROM bundles WHERE log = ? AND n = ? ORDER BY start`, l.id, n)
	if err != nil {
		return nil, fmt.Errorf("couldn't read bundle %d: %w", n, err)
	}
	defer rows.Close()
	var out []byte
	found := false
	for rows.Next() {
		var chunk sql.RawBytes
		if err := rows.Scan(&chunk); err != nil {
			return nil, fmt.Errorf("couldn't read bundle %d: %w", n, err)
		}
		out = append(out, chunk...)
		found = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("couldn't read bundle %d: %w", n, err)
	}
	if !found {
		return nil, fmt.Errorf("bundle %d: %w", n, store.ErrNotFound)
	}
	return out, nil
}

// setCheckpoint records c as the log's last checkpoint within tx, refusing
// one beyond the stored size, below the stored checkpoint, or with a second
// root for its size.
func setCheckpoint(ctx context.Context, tx *sql.Tx, id int64, c store.Checkpoint) error {
	var size, cpSize int64
	var root []byte
	if err := tx.QueryRowContext(ctx, `SELECT size, cp_size, cp_root FROM logs WHERE id = ?`, id).Scan(&size, &cpSize, &root); err != nil {
		return fmt.Errorf("couldn't read log state: %w", err)
	}
	switch {
	case c.Size > size:
		return fmt.Errorf("checkpoint of size %d beyond stored size %d: %w", c.Size, size, store.ErrConflict)
	case root != nil && c.Size < cpSize:
		return fmt.Errorf("checkpoint of size %d below stored checkpoint size %d: %w", c.Size, cpSize, store.ErrConflict)
	case root != nil && c.Size == cpSize && string(root) != string(c.Root[:]):
		return fmt.Errorf("second root for size %d: %w", c.Size, store.ErrConflict)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE logs SET cp_size = ?, cp_root = ?, cp_note = ? WHERE id = ?`, c.Size, c.Root[:], c.Note, id); err != nil {
		return fmt.Errorf("couldn't write checkpoint: %w", err)
	}
	return nil
}

package bench

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"time"

	"github.com/tillit/tillit/partylog"
	"github.com/tillit/tillit/store"
	"github.com/tillit/tillit/store/sqlite"
	"golang.org/x/mod/sumdb/note"
)

// TillitCheckpointInterval is the partylog checkpoint interval used by the
// "tillit" system; zero means partylog.DefaultCheckpointInterval.
var TillitCheckpointInterval = 0 * partylog.DefaultCheckpointInterval

// OpenTillit opens a fresh tillit party log (partylog on store/sqlite, one
// database file in dir) with partylog's default settings.
func OpenTillit(ctx context.Context, dir string, _ int) (Log, error) {
	const origin = "bench/tillit"
	skey, _, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		return nil, err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, err
	}
	db, err := sqlite.Open(filepath.Join(dir, "tillit.db"))
	if err != nil {
		return nil, err
	}
	st, err := db.CreateLog(ctx, origin)
	if err != nil {
		db.Close()
		return nil, err
	}
	var ls store.LogStore = st
	var ts *timedStore
	if TillitStoreStats != nil {
		ts = &timedStore{LogStore: st}
		ls = ts
	}
	lg, err := partylog.Open(ctx, ls, partylog.Options{Origin: origin, Signer: signer, CheckpointInterval: TillitCheckpointInterval})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &tillitLog{db: db, lg: lg, stats: ts, opened: time.Now()}, nil
}

type tillitLog struct {
	db     *sqlite.DB
	lg     *partylog.Log
	stats  *timedStore
	opened time.Time
}

// Append returns once partylog reports the entry durable: committed in a
// SQLite WAL transaction with synchronous=FULL (the WAL fsynced).
func (l *tillitLog) Append(ctx context.Context, entry []byte) (uint64, error) {
	i, err := l.lg.Append(ctx, entry)
	return uint64(i), err
}

// WatchCheckpoints waits for each next released (signed and durably
// recorded) checkpoint; no polling.
func (l *tillitLog) WatchCheckpoints(ctx context.Context, publish func(uint64)) {
	var last int64
	for {
		cp, err := l.lg.WaitCheckpoint(ctx, last+1)
		if err != nil {
			return
		}
		if n := cp.Tree.N; n > last {
			last = n
			publish(uint64(n))
		}
	}
}

func (l *tillitLog) Close() error {
	err := l.lg.Close()
	if l.stats != nil {
		l.stats.report(TillitStoreStats, time.Since(l.opened))
	}
	if err2 := l.db.Close(); err == nil {
		err = err2
	}
	return err
}

package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/storage/posix"
	"golang.org/x/mod/sumdb/note"
)

// TesseraTunedMaxAge is the batch max age of the "tessera-tuned" system.
// Tessera enforces no minimum for it (any duration is accepted by
// WithBatching); see docs/performance.md for why this value was chosen.
var TesseraTunedMaxAge = 25 * time.Millisecond

// TesseraMinCheckpointInterval is the smallest checkpoint interval the POSIX
// driver accepts (minCheckpointInterval in storage/posix/files.go).
const TesseraMinCheckpointInterval = 100 * time.Millisecond

// TesseraPollInterval is how often the harness reads Tessera's published
// checkpoint file to time checkpoint publication.
var TesseraPollInterval = 2 * time.Millisecond

// OpenTesseraDefault opens a Tessera POSIX log with Tessera's default
// batching (256 entries / 250 ms) and checkpoint interval (10 s).
func OpenTesseraDefault(ctx context.Context, dir string, _ int) (Log, error) {
	return openTessera(ctx, dir, func(o *tessera.AppendOptions) {})
}

// OpenTesseraTuned opens a Tessera POSIX log whose batch size matches the
// number of writers, with TesseraTunedMaxAge and the minimum checkpoint
// interval.
func OpenTesseraTuned(ctx context.Context, dir string, concurrency int) (Log, error) {
	return openTessera(ctx, dir, func(o *tessera.AppendOptions) {
		o.WithBatching(uint(max(concurrency, 1)), TesseraTunedMaxAge).
			WithCheckpointInterval(TesseraMinCheckpointInterval)
	})
}

type tesseraLog struct {
	cancel   context.CancelFunc
	add      tessera.AddFn
	shutdown func(context.Context) error
	reader   tessera.LogReader
}

func openTessera(ctx context.Context, dir string, tune func(*tessera.AppendOptions)) (Log, error) {
	skey, _, err := note.GenerateKey(rand.Reader, "bench/tessera")
	if err != nil {
		return nil, err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	driver, err := posix.New(ctx, posix.Config{Path: dir})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("posix.New: %w", err)
	}
	opts := tessera.NewAppendOptions().WithCheckpointSigner(signer)
	tune(opts)
	a, shutdown, r, err := tessera.NewAppender(ctx, driver, opts)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("tessera.NewAppender: %w", err)
	}
	return &tesseraLog{cancel: cancel, add: a.Add, shutdown: shutdown, reader: r}, nil
}

// Append resolves Add's future: the POSIX driver resolves it only after the
// batch holding the entry has been written to entry bundles, integrated into
// the tiles and the tree state file, each written O_SYNC and renamed into
// place with the directory fsynced.
func (l *tesseraLog) Append(ctx context.Context, entry []byte) (uint64, error) {
	idx, err := l.add(ctx, tessera.NewEntry(entry))()
	if err != nil {
		return 0, err
	}
	return idx.Index, nil
}

func (l *tesseraLog) WatchCheckpoints(ctx context.Context, publish func(uint64)) {
	pollCheckpoints(ctx, TesseraPollInterval, func() ([]byte, error) { return l.reader.ReadCheckpoint(ctx) }, publish)
}

func (l *tesseraLog) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := l.shutdown(ctx)
	l.cancel()
	return err
}

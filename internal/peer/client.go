package peer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tillit/tillit/cosign"
	"github.com/tillit/tillit/internal/link"
	"github.com/tillit/tillit/partylog"
	"github.com/tillit/tillit/tlog"
	"golang.org/x/mod/sumdb/note"
)

// ErrNoReceipt is returned when a push was not receipted.
var ErrNoReceipt = errors.New("push not receipted")

// Receipt is a peer's cosignature on one of our checkpoints: proof that the
// peer durably stored every entry up to its size, at Time.
type Receipt struct {
	Checkpoint  tlog.Checkpoint
	Note        []byte
	Cosignature note.Signature
	Time        time.Time
}

// Pusher pushes one log to one peer.
type Pusher struct {
	Log       *partylog.Log
	Client    *link.Client
	Cosigner  *cosign.Verifier // the peer's receipt key
	Tolerance time.Duration    // clock tolerance for receipts (default cosign.DefaultClockTolerance)
	Now       func() time.Time // default time.Now
	// MaxEntries bounds the entries one push carries (default
	// DefaultMaxEntries). A peer further behind gets ErrTooFarBehind and
	// must catch up by pulling tiles.
	MaxEntries int64

	next  int64 // where the peer's mirror ends, as far as we know
	known bool  // whether next was learnt from the peer
}

// DefaultMaxEntries is the default bound on the entries of one push.
const DefaultMaxEntries = 16384

// ErrTooFarBehind is returned when the peer's mirror lacks more entries than
// one push may carry.
var ErrTooFarBehind = errors.New("peer too far behind for a push; it must pull")

// Behind returns how many entries of the log's latest checkpoint the peer
// lacks, as far as the pusher knows, and whether it knows.
func (p *Pusher) Behind() (int64, bool) {
	return max(p.Log.Latest().Tree.N-p.next, 0), p.known
}

// Push sends the latest checkpoint and the entries the peer lacks, and
// returns the peer's receipt. It learns where the peer's mirror ends from a
// 409 answer and tries again, up to three times.
func (p *Pusher) Push(ctx context.Context) (Receipt, error) {
	cp := p.Log.Latest()
	text, err := tlog.NoteText(cp.Note)
	if err != nil {
		return Receipt{}, err
	}
	maxEntries := p.MaxEntries
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	for range 3 {
		// Until the peer has said where its mirror ends, offer the
		// checkpoint alone: a peer that holds it receipts it, one that
		// does not answers 409 with its size, at the cost of a few bytes
		// rather than the whole log.
		start := cp.Tree.N
		if p.known {
			start = min(p.next, cp.Tree.N)
		}
		if cp.Tree.N-start > maxEntries {
			// Forget where the peer's mirror ended: it catches up by
			// pulling, and the next push asks again.
			p.known = false
			return Receipt{}, fmt.Errorf("%w: it lacks %d entries, a push carries at most %d", ErrTooFarBehind, cp.Tree.N-start, maxEntries)
		}
		entries, err := p.Log.Entries(ctx, start, cp.Tree.N)
		if err != nil {
			return Receipt{}, err
		}
		body, err := (&Push{Origin: cp.Origin, Start: start, Checkpoint: cp.Note, Entries: entries}).Marshal()
		if err != nil {
			return Receipt{}, err
		}
		resp, err := p.Client.Post(ctx, PushPath, "application/octet-stream", body)
		var se *link.StatusError
		if errors.As(err, &se) && se.StatusCode == http.StatusConflict {
			info, perr := ParseMirrorInfo(se.Body)
			if perr != nil {
				return Receipt{}, fmt.Errorf("%w: 409 with %v", ErrNoReceipt, perr)
			}
			p.next, p.known = info.Size, true
			continue
		}
		if err != nil {
			return Receipt{}, fmt.Errorf("%w: %w", ErrNoReceipt, err)
		}
		now, tol := time.Now(), p.Tolerance
		if p.Now != nil {
			now = p.Now()
		}
		if tol == 0 {
			tol = cosign.DefaultClockTolerance
		}
		sig, ts, err := cosign.VerifyResponse(text, resp.Body, p.Cosigner, now, tol)
		if err != nil {
			return Receipt{}, fmt.Errorf("%w: %w", ErrNoReceipt, err)
		}
		p.next, p.known = cp.Tree.N, true
		return Receipt{Checkpoint: cp.Checkpoint, Note: cp.Note, Cosignature: sig, Time: ts}, nil
	}
	return Receipt{}, fmt.Errorf("%w: the peer's mirror kept moving", ErrNoReceipt)
}

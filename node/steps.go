package node

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/tillit/tillit/internal/peer"
	"github.com/tillit/tillit/partylog"
	"github.com/tillit/tillit/tlog"
)

// CheckpointAtPath serves, to peers, a checkpoint of this node's log at an
// earlier size: GET /checkpoint-at?size=N answers a checkpoint note of the
// log's tree at N entries, signed by the log's key (docs/spec/peer.md). A
// mirror that lacks more entries than one pull fetches catches up in steps
// of at most maxPullEntries entries, each ending at such a checkpoint.
const CheckpointAtPath = "/checkpoint-at"

// maxPullEntries bounds the entries one pull round fetches; a mirror
// further behind catches up in steps (a variable for tests).
var maxPullEntries int64 = 1 << 18

func (n *Node) serveCheckpointAt(w http.ResponseWriter, r *http.Request) {
	size, err := strconv.ParseInt(r.URL.Query().Get("size"), 10, 64)
	if err != nil {
		http.Error(w, "size must be a number of entries", http.StatusBadRequest)
		return
	}
	s, err := n.own.CheckpointAt(r.Context(), size)
	if errors.Is(err, partylog.ErrOutOfRange) {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	} else if err != nil {
		n.log.Error("couldn't sign a checkpoint at an earlier size", "size", size, "err", err)
		http.Error(w, "couldn't sign the checkpoint", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write(s.Note)
}

// pullStep brings the mirror of p's log maxPullEntries entries closer to
// the log's checkpoint of size target, through a checkpoint the log signs
// at the intermediate size.
func (n *Node) pullStep(ctx context.Context, p *peerState, size, target int64) error {
	name := p.party.Name
	step := min(size+maxPullEntries, target)
	resp, err := p.client.Get(ctx, CheckpointAtPath+"?size="+strconv.FormatInt(step, 10))
	if err != nil {
		return fmt.Errorf("couldn't get %s's checkpoint at %d to catch up in steps: %w", name, step, err)
	}
	c, _, err := tlog.OpenCheckpoint(resp.Body, n.reg.Origin(name), p.party.Verifier())
	if err != nil {
		return fmt.Errorf("%s's checkpoint at %d does not verify: %w", name, step, err)
	}
	if c.Tree.N != step {
		return fmt.Errorf("asked %s for a checkpoint at %d, got one at %d", name, step, c.Tree.N)
	}
	return n.pullTo(ctx, p, size, c, resp.Body)
}

// maxPushEntries bounds the entries one push carries (a variable for
// tests); a peer further behind catches up by pulling.
var maxPushEntries int64 = peer.DefaultMaxEntries

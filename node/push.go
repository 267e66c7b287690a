package node

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/tillit/tillit/internal/peer"
)

// pushLoop pushes the node's log to one peer: at every new checkpoint, when
// kicked (a FLASH statement), and at least twice per heartbeat interval so
// that the peer's receipts show the link is alive. Failures are retried with
// exponential backoff; the link client fails over across the peer's
// endpoints.
func (n *Node) pushLoop(ctx context.Context, p *peerState) {
	hb := n.reg.Heartbeat
	var pushed int64 = -1
	var lastAttempt time.Time
	failures := 0
	for {
		changed := n.own.Subscribe()
		cp := n.own.Latest()
		if cp.Note != nil && (cp.Tree.N != pushed || time.Since(lastAttempt) >= hb/2) {
			lastAttempt = time.Now()
			start := time.Now()
			p.mu.Lock()
			p.pushing = start
			p.mu.Unlock()
			r, err := p.pusher.Push(ctx)
			p.mu.Lock()
			p.pushing = time.Time{}
			p.mu.Unlock()
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				failures++
				n.pushFailed(p, err)
				if errors.Is(err, peer.ErrTooFarBehind) {
					// The peer pulls; its receipt comes back through gossip.
					failures = 0
				}
				wait := backoff(failures, hb)
				select {
				case <-time.After(wait):
				case <-p.kick:
				case <-ctx.Done():
					return
				}
				continue
			}
			failures = 0
			pushed = r.Checkpoint.Tree.N
			n.metrics.pushLatency.WithLabelValues(p.party.Name).Observe(time.Since(start).Seconds())
			if err := n.recordCosig(ctx, n.me.Name, p.party.Name, r.Checkpoint.Tree.N, r.Time, r.Note, r.Cosignature); err != nil && ctx.Err() == nil {
				n.log.Error("couldn't record receipt", "peer", p.party.Name, "err", err)
			}
			n.pushSucceeded(p)
		}
		select {
		case <-changed:
		case <-p.kick:
		case <-time.After(hb / 2):
		case <-ctx.Done():
			return
		}
	}
}

// backoff is the wait before push attempt number failures+1: exponential
// from 100 ms, capped at half a heartbeat, with jitter.
func backoff(failures int, hb time.Duration) time.Duration {
	d := 100 * time.Millisecond << min(max(failures-1, 0), 10)
	d = min(d, max(hb/2, 100*time.Millisecond))
	return d/2 + rand.N(d/2+1)
}

func (n *Node) pushFailed(p *peerState, err error) {
	p.mu.Lock()
	first := p.lastErr == nil
	p.lastErr = err
	if first {
		p.failingFrom = time.Now()
	}
	p.mu.Unlock()
	n.metrics.pushFailures.WithLabelValues(p.party.Name).Inc()
	if first {
		n.log.Warn("push failed", "peer", p.party.Name, "err", err)
	} else {
		n.log.Debug("push failed again", "peer", p.party.Name, "err", err)
	}
	n.updateLink(p)
}

func (n *Node) pushSucceeded(p *peerState) {
	p.mu.Lock()
	hadErr := p.lastErr != nil
	p.lastErr = nil
	p.lastPush = time.Now()
	p.mu.Unlock()
	if hadErr {
		n.log.Info("push works again", "peer", p.party.Name)
	}
	n.updateLink(p)
}

// stallAfter is how long a push may go unanswered before the link counts
// as degraded.
const stallAfter = 2 * time.Second

// linkState computes a peer's link state from the age of its last receipt
// (wall-clock, not the regime clock: link health is about the network).
func (n *Node) linkState(p *peerState, now time.Time) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	hb := n.reg.Heartbeat
	stalled := !p.pushing.IsZero() && now.Sub(p.pushing) > stallAfter
	switch age := now.Sub(p.lastPush); {
	case p.lastPush.IsZero() || age > 3*hb:
		return LinkDown
	case p.lastErr != nil || age > hb || stalled:
		return LinkDegraded
	default:
		return LinkUp
	}
}

// updateLink recomputes the link state and announces a change.
func (n *Node) updateLink(p *peerState) {
	s := n.linkState(p, time.Now())
	p.mu.Lock()
	old := p.link
	p.link = s
	lastErr := p.lastErr
	p.mu.Unlock()
	n.metrics.setLink(p.party.Name, s)
	if s == old {
		return
	}
	msg := fmt.Sprintf("link to %s is %s", p.party.Name, s)
	if lastErr != nil && s != LinkUp {
		msg += ": " + lastErr.Error()
	}
	n.log.Info("link state", "peer", p.party.Name, "state", s)
	n.publish(Event{Kind: EventLink, Party: p.party.Name, Msg: msg})
}

// kickPushers wakes every pusher (a FLASH statement was checkpointed).
func (n *Node) kickPushers() {
	for _, p := range n.peers {
		select {
		case p.kick <- struct{}{}:
		default:
		}
	}
}

package node

import (
	"context"
	"fmt"
	"strings"
)

// quarantine stops accepting party's log: pushes of it are refused
// (mirrorFor), it is no longer pulled (pullLoop), and checkpoints of it that
// peers gossip are no longer compared with the mirror (compareGossip).
func (n *Node) quarantine(ctx context.Context, party, reason string) {
	p := n.peers[party]
	if p == nil {
		return
	}
	n.qmu.Lock()
	p.mu.Lock()
	already := p.quarantine != ""
	if !already {
		p.quarantine = reason
	}
	p.mu.Unlock()
	var err error
	if !already {
		err = n.state.quarantine(ctx, party, n.now(), reason)
	}
	n.qmu.Unlock()
	if already {
		return
	}
	if err != nil {
		n.log.Error("couldn't record quarantine", "peer", party, "err", err)
	}
	n.alarm(EventQuarantine, party, "", fmt.Sprintf("%s's log quarantined: %s", party, reason))
}

func (p *peerState) quarantined() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.quarantine
}

// LiftQuarantine lifts the quarantine of party's log, for reason (required):
// it deletes the quarantine record from node.db and adds an evidence record
// of kind EvidenceLifted with the reason and the quarantine's own, so that
// what happened stays on record; then it publishes a quarantine event and
// logs the lifting. From then on the log is treated as any other: pushes of
// it are accepted again, it is pulled, and checkpoints of it that peers
// gossip are compared with the mirror again.
//
// Lifting does not make a forked log consistent. If the log still
// contradicts the mirror, the next push, pull or gossip that shows it
// records new evidence and quarantines the log again. An operator lifts a
// quarantine once the parties have settled the dispute under the regime, for
// example after the party has stopped serving the contradicting branch.
//
// It returns an error wrapping ErrInvalid if reason is empty, and ErrNotFound
// if party is not a peer or its log is not quarantined.
func (n *Node) LiftQuarantine(ctx context.Context, party, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return fmt.Errorf("%w: a reason is required to lift a quarantine", ErrInvalid)
	}
	p := n.peers[party]
	if p == nil {
		return fmt.Errorf("%w: %q is not a peer of this node", ErrNotFound, party)
	}
	n.qmu.Lock()
	was := p.quarantined()
	if was == "" {
		n.qmu.Unlock()
		return fmt.Errorf("%w: %s's log is not quarantined", ErrNotFound, party)
	}
	detail := fmt.Sprintf("quarantine lifted: %s (it was quarantined: %s)", reason, was)
	err := n.state.liftQuarantine(ctx, Evidence{Log: party, Time: n.now(), Kind: EvidenceLifted, Detail: detail})
	if err == nil {
		p.mu.Lock()
		p.quarantine = ""
		p.mu.Unlock()
		// Gossip's memory of the log starts afresh, as after a restart; a
		// fork that is still there shows again against the mirror.
		n.mu.Lock()
		delete(n.seen, party)
		n.mu.Unlock()
	}
	n.qmu.Unlock()
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("%s's log: quarantine lifted: %s", party, reason)
	n.log.Warn("quarantine lifted", "peer", party, "reason", reason, "quarantined_for", was)
	n.publish(Event{Kind: EventQuarantine, Party: party, Msg: msg})
	return nil
}

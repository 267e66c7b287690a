// Package peer is the protocol between tillit nodes for mirroring each
// other's logs (docs/spec/peer.md): a minimal variant of c2sp.org/tlog-mirror
// in which a log pushes a signed checkpoint together with the entries the
// mirror lacks, in one request, and gets back the mirror's timestamped
// c2sp.org/tlog-cosignature on that checkpoint — the receipt.
//
// Guarantees: the server cosigns a checkpoint only after the mirror has
// verified the log's signature and every entry against the signed root and
// stored them durably (partylog.Mirror); a push of what the mirror already
// holds is answered with a fresh cosignature, so re-pushes are harmless; a
// checkpoint that contradicts the mirror is never cosigned and is handed to
// OnFork as evidence.
//
// Limits: one push carries at most MaxBody bytes (64 MiB by default); a log
// further ahead than that is caught up by pulling tiles instead.
package peer

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/tillit/tillit/cosign"
	"github.com/tillit/tillit/partylog"
	"github.com/tillit/tillit/tlog"
	"golang.org/x/mod/sumdb/note"
)

// PushPath is where a node accepts pushes.
const PushPath = "/mirror/push"

// DefaultMaxBody bounds a push request body.
const DefaultMaxBody = 64 << 20

// Server accepts pushes of peers' logs. Its fields must be set before use.
type Server struct {
	// Mirror returns the mirror of the log with this origin, or nil if the
	// origin is not one this node mirrors.
	Mirror func(origin string) *partylog.Mirror
	// Authorized reports whether the caller of r may push the log with this
	// origin (normally: the pinned TLS peer is the party that owns it).
	Authorized func(r *http.Request, origin string) bool
	// Cosigner signs receipts.
	Cosigner *cosign.Signer
	// MaxBody bounds the request body (default DefaultMaxBody).
	MaxBody int64
	// OnFork, if set, is called with a validly signed checkpoint that
	// contradicts the mirrored log: evidence of a split view.
	OnFork func(origin string, note []byte, err error)
	// OnCosigned, if set, is called after the mirror stored a push and the
	// cosignature was made, before it is sent: with the checkpoint, the
	// cosignature, its time and the entries the push added (nil for a
	// re-push). If it returns an error the push is answered 500 and no
	// receipt leaves the node, so a node can record its receipts durably
	// before giving them out.
	OnCosigned func(origin string, cp tlog.Checkpoint, note []byte, sig note.Signature, t time.Time, added [][]byte) error
	// Logger receives operational events (default: slog.Default()).
	Logger *slog.Logger

	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

func (s *Server) lock(origin string) *sync.Mutex {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.locks == nil {
		s.locks = make(map[string]*sync.Mutex)
	}
	if s.locks[origin] == nil {
		s.locks[origin] = new(sync.Mutex)
	}
	return s.locks[origin]
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// ServeHTTP handles POST PushPath.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	max := s.MaxBody
	if max <= 0 {
		max = DefaultMaxBody
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		http.Error(w, fmt.Sprintf("push larger than %d bytes; catch up by pulling tiles", max), http.StatusRequestEntityTooLarge)
		return
	} else if err != nil {
		http.Error(w, "couldn't read push", http.StatusBadRequest)
		return
	}
	p, err := ParsePush(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	m := s.Mirror(p.Origin)
	if m == nil {
		http.Error(w, fmt.Sprintf("unknown log %q", p.Origin), http.StatusNotFound)
		return
	}
	if !s.Authorized(r, p.Origin) {
		http.Error(w, fmt.Sprintf("caller may not push log %q", p.Origin), http.StatusForbidden)
		return
	}
	code, msg := s.push(m, r, p)
	if code != http.StatusOK {
		if code == http.StatusConflict {
			w.Header().Set("Content-Type", MirrorInfoType)
			w.WriteHeader(code)
			io.WriteString(w, msg)
			return
		}
		http.Error(w, msg, code)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, msg)
}

// push verifies and stores p, and returns the status and the body: the
// cosignature line on success, mirror info on 409, else the reason.
func (s *Server) push(m *partylog.Mirror, r *http.Request, p *Push) (int, string) {
	text, err := tlog.NoteText(p.Checkpoint)
	if err != nil {
		return http.StatusBadRequest, err.Error()
	}
	c, err := tlog.ParseCheckpoint(text)
	if err != nil {
		return http.StatusBadRequest, err.Error()
	}
	mu := s.lock(p.Origin)
	mu.Lock()
	defer mu.Unlock()
	entries := p.Entries
	switch size := m.Size(); {
	case c.Tree.N <= size:
		entries = nil // already held: check it and receipt it again
	case p.Start != size || int64(len(p.Entries)) != c.Tree.N-p.Start:
		return http.StatusConflict, MirrorInfo{Size: size}.String()
	}
	before := m.Size()
	if _, err := m.Add(r.Context(), p.Checkpoint, entries); err != nil {
		switch {
		case errors.Is(err, tlog.ErrCheckpointSignature), errors.Is(err, tlog.ErrBadCheckpoint):
			return http.StatusForbidden, err.Error()
		case errors.Is(err, partylog.ErrFork):
			s.logger().Error("fork: pushed checkpoint contradicts the mirror", "origin", p.Origin, "err", err)
			if s.OnFork != nil {
				s.OnFork(p.Origin, p.Checkpoint, err)
			}
			return http.StatusUnprocessableEntity, err.Error()
		case errors.Is(err, partylog.ErrEntries) && m.Size() != before:
			// The mirror grew meanwhile (the node also pulls): the pusher
			// learns where it ends now and pushes again.
			return http.StatusConflict, MirrorInfo{Size: m.Size()}.String()
		case errors.Is(err, partylog.ErrEntries):
			return http.StatusUnprocessableEntity, err.Error()
		}
		s.logger().Error("couldn't store push", "origin", p.Origin, "err", err)
		return http.StatusInternalServerError, "couldn't store the push"
	}
	sig, ts, err := s.Cosigner.Cosign(text)
	if err != nil {
		s.logger().Error("couldn't cosign", "origin", p.Origin, "err", err)
		return http.StatusInternalServerError, "couldn't cosign"
	}
	if s.OnCosigned != nil {
		var added [][]byte
		if c.Tree.N > before {
			added = entries
		}
		if err := s.OnCosigned(p.Origin, c, p.Checkpoint, sig, ts, added); err != nil {
			s.logger().Error("couldn't record the receipt", "origin", p.Origin, "err", err)
			return http.StatusInternalServerError, "couldn't record the receipt"
		}
	}
	return http.StatusOK, cosign.FormatLine(sig) + "\n"
}

package node

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// stateSchema is the node's own state, beside the logs: the cosignatures it
// collected (receipts from peers on its log, and its own on peers' logs),
// evidence of misbehaviour, and quarantined logs. Everything else a node
// knows is derived from the logs.
const stateSchema = `
CREATE TABLE IF NOT EXISTS cosignatures (
	seq     INTEGER PRIMARY KEY, -- order of recording, for peers that fetch what is new
	log     TEXT NOT NULL,       -- party whose log was cosigned
	witness TEXT NOT NULL,       -- party that cosigned
	size    INTEGER NOT NULL,    -- checkpoint size
	time    INTEGER NOT NULL,    -- cosignature timestamp, Unix seconds
	note    BLOB NOT NULL,       -- the checkpoint note with that cosignature line
	UNIQUE (log, witness, size)
);
CREATE TABLE IF NOT EXISTS evidence (
	id      INTEGER PRIMARY KEY,
	log     TEXT NOT NULL,
	time    INTEGER NOT NULL,
	kind    TEXT NOT NULL,
	detail  TEXT NOT NULL,
	note_a  BLOB,
	note_b  BLOB
);
CREATE TABLE IF NOT EXISTS cursors (
	peer TEXT NOT NULL,    -- party whose node answered
	log  TEXT NOT NULL,    -- party whose log's cosignatures were fetched
	seq  INTEGER NOT NULL, -- the peer's sequence number of the last one fetched
	PRIMARY KEY (peer, log)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS quarantine (
	log    TEXT PRIMARY KEY,
	time   INTEGER NOT NULL,
	reason TEXT NOT NULL
) WITHOUT ROWID;
`

// stateDB is the node's state database, data/node.db.
type stateDB struct {
	db *sql.DB
}

// openState opens the state database. It is in WAL mode with
// synchronous=NORMAL: a commit survives a crash of the process (the WAL is
// written before the commit returns), but power loss or an operating system
// crash may lose the last commits. That is enough here and saves a disk
// flush on every receipt: every cosignature recorded is also held by the
// party at the other end (the log's owner keeps the receipt, the witness its
// own record), and both give it back through GET /cosignatures. Evidence and
// quarantine rows lost that way are found again: the contradicting notes
// are signed and still held by the peers, and gossip compares them again.
// The logs themselves are in logs.db with synchronous=FULL.
func openState(path string) (*stateDB, error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(NORMAL)", "busy_timeout(10000)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("couldn't open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(stateSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("couldn't initialise %s: %w", path, err)
	}
	return &stateDB{db: db}, nil
}

func (s *stateDB) Close() error { return s.db.Close() }

// cosig is one recorded cosignature.
type cosig struct {
	Size int64
	Time time.Time
}

// addCosig records a cosignature. It reports false if one by the same
// witness for the same size, as early or earlier, was already recorded.
func (s *stateDB) addCosig(ctx context.Context, log, witness string, size int64, t time.Time, note []byte) (bool, error) {
	// Of two cosignatures by one witness on one checkpoint, the earlier
	// counts (receipts count from the earliest); a later one changes
	// nothing.
	res, err := s.db.ExecContext(ctx, `INSERT INTO cosignatures (log, witness, size, time, note) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (log, witness, size) DO UPDATE SET time = excluded.time, note = excluded.note,
			seq = (SELECT MAX(seq) FROM cosignatures) + 1 -- peers fetching what is new see the change
		WHERE excluded.time < cosignatures.time`,
		log, witness, size, t.Unix(), note)
	if err != nil {
		return false, fmt.Errorf("couldn't record cosignature: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// cosigs returns every recorded cosignature, by log and witness.
func (s *stateDB) cosigs(ctx context.Context) (map[[2]string][]cosig, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT log, witness, size, time FROM cosignatures ORDER BY log, witness, size`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[[2]string][]cosig)
	for rows.Next() {
		var log, w string
		var size, t int64
		if err := rows.Scan(&log, &w, &size, &t); err != nil {
			return nil, err
		}
		k := [2]string{log, w}
		out[k] = append(out[k], cosig{Size: size, Time: time.Unix(t, 0).UTC()})
	}
	return out, rows.Err()
}

// cosignedNotes returns the notes of every cosignature on log's checkpoint
// of the given size.
func (s *stateDB) cosignedNotes(ctx context.Context, log string, size int64) (map[string][]byte, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT witness, note FROM cosignatures WHERE log = ? AND size = ?`, log, size)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string][]byte)
	for rows.Next() {
		var w string
		var n []byte
		if err := rows.Scan(&w, &n); err != nil {
			return nil, err
		}
		out[w] = n
	}
	return out, rows.Err()
}

// setCursor records how far the cosignatures of log were fetched from peer.
func (s *stateDB) setCursor(ctx context.Context, peer, log string, seq int64) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO cursors (peer, log, seq) VALUES (?, ?, ?) ON CONFLICT (peer, log) DO UPDATE SET seq = excluded.seq`, peer, log, seq)
	return err
}

// cursors returns, per peer and log, how far cosignatures were fetched.
func (s *stateDB) cursors(ctx context.Context) (map[string]map[string]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT peer, log, seq FROM cursors`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string]map[string]int64)
	for rows.Next() {
		var p, l string
		var seq int64
		if err := rows.Scan(&p, &l, &seq); err != nil {
			return nil, err
		}
		if out[p] == nil {
			out[p] = make(map[string]int64)
		}
		out[p][l] = seq
	}
	return out, rows.Err()
}

// lastSeq returns the largest sequence number of the cosignatures table.
func (s *stateDB) lastSeq(ctx context.Context) (int64, error) {
	var seq sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT MAX(seq) FROM cosignatures`).Scan(&seq)
	return seq.Int64, err
}

// cosignedAfter returns the cosigned notes of log's checkpoints recorded
// after sequence number after, in the order they were recorded, at most
// limit.
func (s *stateDB) cosignedAfter(ctx context.Context, log string, after int64, limit int) ([]CosignedNote, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, witness, size, note FROM cosignatures WHERE seq > ? AND log = ? ORDER BY seq LIMIT ?`, after, log, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CosignedNote
	for rows.Next() {
		var c CosignedNote
		var b []byte
		if err := rows.Scan(&c.Seq, &c.Witness, &c.Size, &b); err != nil {
			return nil, err
		}
		c.Note = string(b)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Evidence kinds.
const (
	// EvidenceFork is two validly signed checkpoints of one log that
	// contradict each other: NoteA is the one the node held, NoteB the
	// other.
	EvidenceFork = "fork"
	// EvidenceLifted records that an operator lifted the quarantine of the
	// log; Detail is the reason given, and the quarantine's reason.
	EvidenceLifted = "lifted"
)

// Evidence is a record a node keeps of misbehaviour, and of what was done
// about it: two signed checkpoints that contradict each other
// (EvidenceFork), or an operator lifting a quarantine (EvidenceLifted).
// Records are only ever added.
type Evidence struct {
	ID     int64     `json:"id"`
	Log    string    `json:"log"` // party whose log is concerned
	Time   time.Time `json:"time"`
	Kind   string    `json:"kind"` // EvidenceFork or EvidenceLifted
	Detail string    `json:"detail"`
	NoteA  []byte    `json:"note_a,omitempty"`
	NoteB  []byte    `json:"note_b,omitempty"`
}

// evidenceJSON is Evidence with the notes as text: a checkpoint note is
// UTF-8 text (C2SP signed-note), and the notes of a fork were verified
// before they were recorded.
type evidenceJSON struct {
	plainEvidence
	NoteA string `json:"note_a,omitempty"`
	NoteB string `json:"note_b,omitempty"`
}

type plainEvidence Evidence

// MarshalJSON encodes the notes as JSON strings holding their text, which
// anyone can check with the log's public key from the regime.
func (e Evidence) MarshalJSON() ([]byte, error) {
	return json.Marshal(evidenceJSON{plainEvidence(e), string(e.NoteA), string(e.NoteB)})
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (e *Evidence) UnmarshalJSON(b []byte) error {
	var j evidenceJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*e = Evidence(j.plainEvidence)
	e.NoteA, e.NoteB = nil, nil
	if j.NoteA != "" {
		e.NoteA = []byte(j.NoteA)
	}
	if j.NoteB != "" {
		e.NoteB = []byte(j.NoteB)
	}
	return nil
}

func (s *stateDB) addEvidence(ctx context.Context, e Evidence) (int64, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO evidence (log, time, kind, detail, note_a, note_b) VALUES (?, ?, ?, ?, ?, ?)`,
		e.Log, e.Time.Unix(), e.Kind, e.Detail, e.NoteA, e.NoteB)
	if err != nil {
		return 0, fmt.Errorf("couldn't record evidence: %w", err)
	}
	return res.LastInsertId()
}

func (s *stateDB) evidence(ctx context.Context) ([]Evidence, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, log, time, kind, detail, note_a, note_b FROM evidence ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Evidence
	for rows.Next() {
		var e Evidence
		var t int64
		if err := rows.Scan(&e.ID, &e.Log, &t, &e.Kind, &e.Detail, &e.NoteA, &e.NoteB); err != nil {
			return nil, err
		}
		e.Time = time.Unix(t, 0).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

func (s *stateDB) quarantine(ctx context.Context, log string, t time.Time, reason string) error {
	_, err := s.db.ExecContext(ctx, `INSERT OR IGNORE INTO quarantine (log, time, reason) VALUES (?, ?, ?)`, log, t.Unix(), reason)
	return err
}

// liftQuarantine deletes e.Log's quarantine record, if there is one, and
// adds the evidence record e of the lifting, in one transaction.
func (s *stateDB) liftQuarantine(ctx context.Context, e Evidence) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("couldn't lift the quarantine: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM quarantine WHERE log = ?`, e.Log); err != nil {
		return fmt.Errorf("couldn't lift the quarantine: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO evidence (log, time, kind, detail, note_a, note_b) VALUES (?, ?, ?, ?, ?, ?)`,
		e.Log, e.Time.Unix(), e.Kind, e.Detail, e.NoteA, e.NoteB); err != nil {
		return fmt.Errorf("couldn't record the lifting of the quarantine: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("couldn't lift the quarantine: %w", err)
	}
	return nil
}

func (s *stateDB) quarantined(ctx context.Context) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT log, reason FROM quarantine`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string]string)
	for rows.Next() {
		var l, r string
		if err := rows.Scan(&l, &r); err != nil {
			return nil, err
		}
		out[l] = r
	}
	return out, rows.Err()
}

// cosigList is the cosignatures of one witness on one log, sorted by size,
// with each time lowered to the earliest time of any cosignature on a
// checkpoint at least as large (which covers the same entries). The earliest
// cosignature covering an entry is then the first whose size exceeds it.
type cosigList struct {
	mu   sync.Mutex
	list []cosig
	wake chan struct{} // closed and replaced when the list changes
}

func newCosigList(l []cosig) *cosigList {
	c := &cosigList{wake: make(chan struct{})}
	for _, x := range l {
		c.addLocked(x)
	}
	return c
}

// addRange records a cosignature. It returns from which entry index the
// earliest covering cosignature may have changed (all entries below
// x.Size from that index on), or -1 if nothing changed; grew reports
// whether x covers entries no earlier one covered.
func (c *cosigList) addRange(x cosig) (grew bool, from int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var prev int64
	if n := len(c.list); n > 0 {
		prev = c.list[n-1].Size
	}
	grew, changed, appended := c.addLocked(x)
	if !changed {
		return false, -1
	}
	close(c.wake)
	c.wake = make(chan struct{})
	if appended {
		return grew, prev // only entries prev to x.Size are newly covered
	}
	return grew, 0 // earlier times changed too
}

func (c *cosigList) addLocked(x cosig) (grew, changed, appended bool) {
	n := len(c.list)
	grew = n == 0 || x.Size > c.list[n-1].Size
	i := sort.Search(n, func(i int) bool { return c.list[i].Size >= x.Size })
	if i < n && c.list[i].Size == x.Size {
		if !x.Time.Before(c.list[i].Time) {
			return false, false, false
		}
		c.list[i].Time = x.Time
	} else {
		if i < n && c.list[i].Time.Before(x.Time) {
			x.Time = c.list[i].Time
		}
		c.list = slices.Insert(c.list, i, x)
	}
	lowered := false
	for j := i - 1; j >= 0 && c.list[j].Time.After(c.list[j+1].Time); j-- {
		c.list[j].Time = c.list[j+1].Time
		lowered = true
	}
	return grew, true, i == n && !lowered
}

// covering returns the time of the earliest cosignature on a checkpoint
// that includes entry index, or false.
func (c *cosigList) covering(index int64) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := sort.Search(len(c.list), func(i int) bool { return c.list[i].Size > index })
	if i == len(c.list) {
		return time.Time{}, false
	}
	return c.list[i].Time, true
}

// has reports whether a cosignature of this size, at t or earlier, is
// recorded.
func (c *cosigList) has(size int64, t time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := sort.Search(len(c.list), func(i int) bool { return c.list[i].Size >= size })
	return i < len(c.list) && c.list[i].Size == size && !c.list[i].Time.After(t)
}

// last returns the newest cosignature and a channel closed when a newer one
// is added.
func (c *cosigList) last() (cosig, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.list) == 0 {
		return cosig{}, c.wake
	}
	return c.list[len(c.list)-1], c.wake
}

// tail returns the k newest cosignatures.
func (c *cosigList) tail(k int) []cosig {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.list[max(len(c.list)-k, 0):])
}

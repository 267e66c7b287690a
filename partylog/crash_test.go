package partylog

// Crash test: the test binary runs itself as a child process
// (TestCrashChild) that appends to a SQLite-backed log under load and reports
// every append and checkpoint it saw returned; the parent SIGKILLs it at a
// random moment, reopens the store and checks that nothing reported was lost
// and that the tree extends every checkpoint the child saw. Then it starts a
// new child on the same database, so later rounds test recovery after
// recovery.
//
// The schedule (kill delays, child seeds and the log key) comes from one seed,
// logged at the start; PARTYLOG_CRASH_SEED=<seed> repeats it. The children's
// goroutine interleavings are not reproducible.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tillit/tillit/store/sqlite"
	"github.com/tillit/tillit/tlog"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	sumdb "golang.org/x/mod/sumdb/tlog"
)

// Environment of a crash child.
const (
	crashDBEnv    = "PARTYLOG_CRASH_DB"    // database path; set only in a child
	crashKeyEnv   = "PARTYLOG_CRASH_KEY"   // the log's private key
	crashRoundEnv = "PARTYLOG_CRASH_ROUND" // round number, for entry ids
	crashSeedEnv  = "PARTYLOG_CRASH_SEED"  // in a child: its seed; in the parent: the run's seed
)

// crashEntry returns the entry with the given id: the id and a padding of
// 16–143 bytes derived from it, so that the parent can recompute it.
func crashEntry(id string) []byte {
	h := sha256.Sum256([]byte(id))
	pad := hex.EncodeToString(h[:])
	pad = strings.Repeat(pad, 3)[:16+int(h[0])%128]
	return []byte(id + " " + pad)
}

// crashEntryID returns the id of an entry made by crashEntry, or "".
func crashEntryID(e []byte) string {
	id, _, ok := bytes.Cut(e, []byte(" "))
	if !ok || !bytes.Equal(crashEntry(string(id)), e) {
		return ""
	}
	return string(id)
}

// TestCrashChild is the child process of TestCrashRecovery; run on its own
// it skips.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashDBEnv)
	if path == "" {
		t.Skip("helper process of TestCrashRecovery")
	}
	out := &crashOut{w: os.Stdout}
	fail := func(format string, args ...any) {
		out.line("error " + strings.ReplaceAll(fmt.Sprintf(format, args...), "\n", " "))
		os.Exit(3)
	}
	ctx := context.Background()
	s, err := note.NewSigner(os.Getenv(crashKeyEnv))
	if err != nil {
		fail("signer: %v", err)
	}
	round := os.Getenv(crashRoundEnv)
	seed, err := strconv.ParseUint(os.Getenv(crashSeedEnv), 10, 64)
	if err != nil {
		fail("seed: %v", err)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	db, err := sqlite.Open(path)
	if err != nil {
		fail("sqlite.Open: %v", err)
	}
	st, err := db.Log(ctx, testOrigin)
	if err != nil {
		fail("db.Log: %v", err)
	}
	lg, err := Open(ctx, st, Options{
		Origin:             testOrigin,
		Signer:             s,
		CheckpointInterval: time.Duration(1+rng.IntN(40)) * time.Millisecond,
		Logger:             slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fail("Open: %v", err)
	}
	out.line("ready")
	report := func(cp Signed) { out.line("checkpoint " + base64.StdEncoding.EncodeToString(cp.Note)) }
	for g := range 64 {
		go func() {
			for k := 0; ; k++ {
				id := fmt.Sprintf("r%s.g%d.k%d", round, g, k)
				idx, err := lg.Append(ctx, crashEntry(id))
				if err != nil {
					fail("append %s: %v", id, err)
				}
				out.line(fmt.Sprintf("append %d %s", idx, id))
			}
		}()
	}
	every := time.Duration(2+rng.IntN(30)) * time.Millisecond
	go func() {
		for {
			time.Sleep(every)
			cp, err := lg.Checkpoint(ctx)
			if err != nil {
				fail("checkpoint: %v", err)
			}
			report(cp)
		}
	}()
	go func() {
		for {
			<-lg.Subscribe()
			report(lg.Latest())
		}
	}()
	time.Sleep(time.Minute)
	fail("not killed after a minute")
}

// crashOut writes whole lines, each with one write(2), so that a line
// reaches the pipe entirely or not at all when the process is killed.
type crashOut struct {
	mu sync.Mutex
	w  io.Writer
}

func (o *crashOut) line(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.w.Write([]byte(s + "\n"))
}

// crashHistory is what the parent learned from every round so far.
type crashHistory struct {
	v       note.Verifier
	signer  note.Signer
	path    string
	ids     map[int64]string // reported appends: index → entry id
	at      map[string]int64 // and id → index
	roots   map[int64]sumdb.Hash
	notes   map[int64][]byte // one signed note per size
	appends int
	maxSize int64
}

func TestCrashRecovery(t *testing.T) {
	if os.Getenv(crashDBEnv) != "" {
		t.Skip("in a crash child")
	}
	rounds := 50
	if testing.Short() {
		rounds = 5
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(crashSeedEnv); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("%s: %v", crashSeedEnv, err)
		}
	}
	t.Logf("seed %d (%s=%d repeats this schedule)", seed, crashSeedEnv, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	var keySeed [32]byte
	binary.LittleEndian.PutUint64(keySeed[:], seed)
	skey, vkey, err := note.GenerateKey(rand.NewChaCha8(keySeed), testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}

	path := filepath.Join(t.TempDir(), "log.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateLog(context.Background(), testOrigin); err != nil {
		t.Fatal(err)
	}
	db.Close()

	h := &crashHistory{
		v: v, signer: s, path: path,
		ids: map[int64]string{}, at: map[string]int64{},
		roots: map[int64]sumdb.Hash{}, notes: map[int64][]byte{},
	}
	start := time.Now()
	for round := range rounds {
		delay := time.Duration(20+rng.IntN(281)) * time.Millisecond
		lines, stderr := runCrashChild(t, path, skey, round, rng.Uint64(), delay)
		h.check(t, round, lines, stderr)
	}
	h.checkFinal(t)
	t.Logf("%d rounds in %v: %d appends reported, log size %d, %d checkpoint sizes seen",
		rounds, time.Since(start).Round(time.Millisecond), h.appends, h.maxSize, len(h.roots))
}

// runCrashChild starts a child on the database, kills it with SIGKILL delay
// after it reported ready, and returns the complete lines it wrote.
func runCrashChild(t *testing.T, path, skey string, round int, seed uint64, delay time.Duration) (lines []string, stderr string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		crashDBEnv+"="+path,
		crashKeyEnv+"="+skey,
		crashRoundEnv+"="+strconv.Itoa(round),
		crashSeedEnv+"="+strconv.FormatUint(seed, 10),
	)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errBuf bytes.Buffer
	cmd.Stderr = &errBuf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := bufio.NewReaderSize(stdout, 1<<16)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return // a fragment without its newline is dropped
			}
			l = strings.TrimSuffix(l, "\n")
			if l == "ready" {
				close(ready)
				continue
			}
			lines = append(lines, l)
		}
	}()
	select {
	case <-ready:
	case <-done:
		cmd.Wait()
		t.Fatalf("round %d: child exited before it was ready: %v\n%s\n%s", round, cmd.ProcessState, strings.Join(lines, "\n"), tail(errBuf.String()))
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatalf("round %d: child not ready after a minute\n%s", round, tail(errBuf.String()))
	}
	time.Sleep(delay)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatalf("round %d: kill: %v", round, err)
	}
	<-done
	cmd.Wait()
	return lines, errBuf.String()
}

func tail(s string) string {
	if len(s) > 4000 {
		return "…" + s[len(s)-4000:]
	}
	return s
}

// check reopens the store after round's child was killed, and checks it
// against everything the children reported.
func (h *crashHistory) check(t *testing.T, round int, lines []string, stderr string) {
	t.Helper()
	ctx := context.Background()
	fatalf := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("round %d: %s\nchild stderr:\n%s", round, fmt.Sprintf(format, args...), tail(stderr))
	}

	// What the child reported.
	var appended []int64
	var printed []tlog.Checkpoint
	for _, l := range lines {
		kind, rest, _ := strings.Cut(l, " ")
		switch kind {
		case "append":
			a, id, _ := strings.Cut(rest, " ")
			idx, err := strconv.ParseInt(a, 10, 64)
			if err != nil || id == "" {
				fatalf("bad line %q", l)
			}
			if old, ok := h.ids[idx]; ok && old != id {
				fatalf("index %d reported for %s, and earlier for %s", idx, id, old)
			}
			if old, ok := h.at[id]; ok && old != idx {
				fatalf("%s reported at %d and at %d", id, idx, old)
			}
			h.ids[idx], h.at[id] = id, idx
			appended = append(appended, idx)
			h.appends++
		case "checkpoint":
			msg, err := base64.StdEncoding.DecodeString(rest)
			if err != nil {
				fatalf("bad line %q", l)
			}
			c := h.addCheckpoint(t, msg, fmt.Sprintf("round %d: printed", round))
			printed = append(printed, c)
		case "error":
			fatalf("child failed: %s", rest)
		default:
			fatalf("unexpected child output %q", l)
		}
	}

	db, err := sqlite.Open(h.path)
	if err != nil {
		fatalf("sqlite.Open: %v", err)
	}
	defer db.Close()
	st, err := db.Log(ctx, testOrigin)
	if err != nil {
		fatalf("db.Log: %v", err)
	}
	raw, err := st.Load(ctx)
	if err != nil {
		fatalf("Load: %v", err)
	}
	lg, err := Open(ctx, st, Options{Origin: testOrigin, Signer: h.signer, Logger: quietLogger(t)})
	if err != nil {
		fatalf("Open after SIGKILL: %v", err)
	}
	n := lg.Size()
	if n < raw.Size {
		fatalf("opened with size %d, stored %d", n, raw.Size)
	}
	h.maxSize = max(h.maxSize, n)
	stored := h.addCheckpoint(t, raw.Checkpoint.Note, fmt.Sprintf("round %d: stored", round))
	// Open releases the stored checkpoint or, if entries were stored after
	// it, a new one covering them all (recorded in the history like any other).
	if got := lg.Latest(); !bytes.Equal(got.Note, raw.Checkpoint.Note) {
		if got.Tree.N != raw.Size || raw.Size <= stored.Tree.N {
			fatalf("Open released checkpoint %v; the store's last is %v with %d entries stored", got.Tree, stored.Tree, raw.Size)
		}
		h.addCheckpoint(t, got.Note, fmt.Sprintf("round %d: signed at Open", round))
	}
	for _, c := range printed {
		if c.Tree.N > stored.Tree.N {
			fatalf("child saw checkpoint %d released, but the store's last is %d", c.Tree.N, stored.Tree.N)
		}
	}

	// Every reported append is present, with its bytes.
	bundles := map[int64][][]byte{}
	for _, idx := range appended {
		if idx >= n {
			fatalf("append reported at %d, but the log has %d entries", idx, n)
		}
		b := idx / tlog.TileWidth
		if _, ok := bundles[b]; !ok {
			bundles[b] = readBundle(t, lg, b, n)
		}
		want := crashEntry(h.ids[idx])
		if got := bundles[b][idx%tlog.TileWidth]; !bytes.Equal(got, want) {
			fatalf("entry %d is %q, the child appended %q", idx, got, want)
		}
	}
	if len(appended) > 0 {
		idx := appended[len(appended)-1]
		if e, err := lg.Entry(ctx, idx); err != nil || !bytes.Equal(e, crashEntry(h.ids[idx])) {
			fatalf("Entry(%d) = %q, %v", idx, e, err)
		}
	}

	// The tree extends every checkpoint: printed ones and the stored one.
	root, err := lg.TreeHash(ctx, n)
	if err != nil {
		fatalf("TreeHash(%d): %v", n, err)
	}
	for _, c := range append(printed, stored) {
		if err := checkExtends(ctx, lg, c, n, root); err != nil {
			fatalf("%v", err)
		}
	}
	if err := lg.Close(); err != nil {
		fatalf("Close: %v", err)
	}
	final := lg.Latest()
	if final.Tree.N != n {
		fatalf("final checkpoint at Close has size %d, want %d", final.Tree.N, n)
	}
	h.addCheckpoint(t, final.Note, fmt.Sprintf("round %d: final", round))
}

// addCheckpoint verifies a signed checkpoint and records its root, failing
// if another root was seen for its size.
func (h *crashHistory) addCheckpoint(t *testing.T, msg []byte, where string) tlog.Checkpoint {
	t.Helper()
	c, _, err := tlog.OpenCheckpoint(msg, testOrigin, h.v)
	if err != nil {
		t.Fatalf("%s checkpoint does not verify: %v\n%s", where, err, msg)
	}
	if old, ok := h.roots[c.Tree.N]; ok && old != c.Tree.Hash {
		t.Fatalf("%s checkpoint: second root for size %d: %v, earlier %v\n%s\nearlier:\n%s", where, c.Tree.N, c.Tree.Hash, old, msg, h.notes[c.Tree.N])
	}
	h.roots[c.Tree.N] = c.Tree.Hash
	h.notes[c.Tree.N] = msg
	return c
}

// checkExtends checks that the tree of size n and root extends checkpoint c:
// the same root at c's size, and a consistency proof that verifies.
func checkExtends(ctx context.Context, lg *Log, c tlog.Checkpoint, n int64, root sumdb.Hash) error {
	if c.Tree.N > n {
		return fmt.Errorf("checkpoint %d is beyond the stored tree of %d entries", c.Tree.N, n)
	}
	h, err := lg.TreeHash(ctx, c.Tree.N)
	if err != nil {
		return fmt.Errorf("TreeHash(%d): %v", c.Tree.N, err)
	}
	if h != c.Tree.Hash {
		return fmt.Errorf("tree at size %d has root %v, the signed checkpoint %v", c.Tree.N, h, c.Tree.Hash)
	}
	p, err := lg.ProveConsistency(ctx, c.Tree.N, n)
	if err != nil {
		return fmt.Errorf("consistency %d→%d: %v", c.Tree.N, n, err)
	}
	if c.Tree.N > 0 { // sumdb.CheckTree does not take the empty tree
		if err := sumdb.CheckTree(p, n, root, c.Tree.N, c.Tree.Hash); err != nil {
			return fmt.Errorf("consistency %d→%d: %v", c.Tree.N, n, err)
		}
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, uint64(c.Tree.N), uint64(n), hashes(p), c.Tree.Hash[:], root[:]); err != nil {
		return fmt.Errorf("consistency %d→%d (merkle): %v", c.Tree.N, n, err)
	}
	return nil
}

// readBundle returns the entries of bundle b of the tree of size n.
func readBundle(t *testing.T, lg *Log, b, n int64) [][]byte {
	t.Helper()
	tile, ok := tlog.TileForSize(tlog.EntriesLevel, b, n)
	if !ok {
		t.Fatalf("bundle %d is not in a tree of size %d", b, n)
	}
	data, err := lg.ReadTile(context.Background(), tile)
	if err != nil {
		t.Fatalf("bundle %d: %v", b, err)
	}
	es, err := tlog.SplitBundle(data)
	if err != nil || len(es) != tile.W {
		t.Fatalf("bundle %d: %d entries, want %d (%v)", b, len(es), tile.W, err)
	}
	return es
}

// checkFinal verifies the whole log as served, every reported append, the
// uniqueness of entries, and every checkpoint ever seen against the final tree.
func (h *crashHistory) checkFinal(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(h.path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := db.Log(ctx, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	lg, err := Open(ctx, st, Options{Origin: testOrigin, Signer: h.signer, Logger: quietLogger(t)})
	if err != nil {
		t.Fatalf("final Open: %v", err)
	}
	defer lg.Close()
	srv := httptest.NewServer(lg.Handler())
	defer srv.Close()
	f, err := tlog.HTTPFetcher(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int64{}
	reported := 0
	vc, err := tlog.VerifyLog(ctx, f, testOrigin, h.v, tlog.VerifyOptions{Entry: func(i int64, e []byte) error {
		id := crashEntryID(e)
		if id == "" {
			return errors.New("not an entry any child appended")
		}
		if j, dup := seen[id]; dup {
			return fmt.Errorf("%s is also at %d", id, j)
		}
		seen[id] = i
		if want, ok := h.ids[i]; ok {
			if want != id {
				return fmt.Errorf("holds %s, a child reported %s", id, want)
			}
			reported++
		}
		return nil
	}})
	if err != nil {
		t.Fatalf("VerifyLog: %v", err)
	}
	if reported != len(h.ids) {
		t.Fatalf("%d of %d reported appends found in the served log", reported, len(h.ids))
	}
	n := vc.Tree.N
	for size := range h.roots {
		if err := checkExtends(ctx, lg, tlog.Checkpoint{Tree: sumdb.Tree{N: size, Hash: h.roots[size]}}, n, vc.Tree.Hash); err != nil {
			t.Fatal(err)
		}
	}
}

package node_test

// Crash test of a node process: party A runs as a `tillit serve` process
// and party B in this process. Several goroutines make statements to B
// through A's operator API while A is SIGKILLed at a random moment, then
// restarted, round after round. After every restart and at the end the test
// checks that
//
//   - every statement whose Send was answered 201 is in A's log, at its
//     index, with its leaf hash (the reference resolves at A);
//   - every statement B receipted before the kill is still in A's log, and
//     no receipt A counted is lost;
//   - A's checkpoint, fetched from its peer interface, has the root of B's
//     mirror at its size (no fork), B caught up, and B's inbox holds every
//     statement of A's log exactly once;
//   - B never quarantined A's log, recorded no fork evidence and raised no
//     alarm.
//
// At the end A's data is opened offline (node.Open, not started) and checked
// once more. The kill schedule comes from one seed, logged at the start;
// TILLIT_CRASH_SEED=<seed> repeats it (the goroutine interleavings are not
// reproducible). TILLIT_CRASH_ROUNDS overrides the number of rounds: 10, or
// 2 with -short.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tillit/tillit/internal/api"
	"github.com/tillit/tillit/internal/link"
	"github.com/tillit/tillit/internal/localnet"
	"github.com/tillit/tillit/node"
	"github.com/tillit/tillit/statement"
	"github.com/tillit/tillit/tlog"
)

const (
	crashSeedEnv   = "TILLIT_CRASH_SEED"
	crashRoundsEnv = "TILLIT_CRASH_ROUNDS"
	// crashSenders is how many goroutines send through A's API at once.
	crashSenders = 6
	// crashMaxPerRound bounds the statements one round sends, so that B's
	// inbox listing (at most 20,000 statements) shows them all.
	crashMaxPerRound = 1500
)

func TestServeCrash(t *testing.T) {
	rounds := 10
	if testing.Short() {
		rounds = 2
	}
	if s := os.Getenv(crashRoundsEnv); s != "" {
		var err error
		if rounds, err = strconv.Atoi(s); err != nil || rounds < 1 {
			t.Fatalf("%s=%q: want a positive number", crashRoundsEnv, s)
		}
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(crashSeedEnv); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("%s=%q: %v", crashSeedEnv, s, err)
		}
	}
	t.Logf("seed %d (%s=%d repeats the kill schedule), %d rounds", seed, crashSeedEnv, seed, rounds)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	start := time.Now()

	bin := buildTillit(t)
	nw := newCrashNet(t)
	ct := &crashTest{t: t, nw: nw, bin: bin, acked: map[int64]string{}}
	ct.b = startNode(t, nw, "B", node.Options{ClientOptions: &link.ClientOptions{
		Attempts: 2, Timeout: 2 * time.Second, MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}})
	ct.peerClient = ct.newPeerClient()

	kills := 0
	for round := range rounds {
		a := ct.startA(round)
		ct.checkRestart(a)
		sent := ct.load(a, round, 50*time.Millisecond+time.Duration(rng.Int64N(int64(350*time.Millisecond))))
		kills++
		t.Logf("round %d: %d statements acknowledged by the API, A killed with log size ≥ %d, B's mirror %d",
			round, sent, ct.maxIndex+1, ct.b.Mirror("A").Size())
		if t.Failed() {
			t.FailNow()
		}
	}
	// A last life without load: everything receipted, B caught up.
	a := ct.startA(rounds)
	ct.checkRestart(a)
	waitFor(t, "A to hold B's receipt of its whole log", 30*time.Second, func() bool {
		st, err := a.client.Status(context.Background())
		return err == nil && len(st.Peers) == 1 && st.Peers[0].Receipted == st.Log.Size && st.Log.Size == ct.b.Mirror("A").Size()
	})
	a.kill(t)
	kills++
	ct.checkOffline()
	logSize := ct.b.Mirror("A").Size()
	t.Logf("%d rounds, %d kills, %d statements acknowledged by the API, %d in A's log (%d sent but unanswered when A died), %v",
		rounds, kills, len(ct.acked), logSize, logSize-int64(len(ct.acked)), time.Since(start).Round(time.Millisecond))
}

// crashTest is the state of a crash test run.
type crashTest struct {
	t          *testing.T
	nw         *localnet.Network
	bin        string
	b          *node.Node
	peerClient *link.Client // B's identity, to A's peer interface

	mu       sync.Mutex
	acked    map[int64]string // refs whose Send was answered, by index
	maxIndex int64
	// newRefs are the refs acknowledged since the last restart check.
	newRefs []string
	// receipted is the most of A's log A reported receipted by B.
	receipted int64
	// checkedB is how much of B's mirror of A was found in A's log.
	checkedB int64
}

// buildTillit builds the tillit command into a temporary directory.
func buildTillit(t *testing.T) string {
	t.Helper()
	gocmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build tillit with")
	}
	bin := filepath.Join(t.TempDir(), "tillit")
	cmd := exec.Command(gocmd, "build", "-o", bin, "../cmd/tillit")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ../cmd/tillit: %v\n%s", err, out)
	}
	return bin
}

// newCrashNet sets up parties A and B; A's peer listener is closed so that
// the A process can listen on its address.
func newCrashNet(t *testing.T) *localnet.Network {
	t.Helper()
	nw, err := localnet.New(t.TempDir(), "crash", []localnet.Party{{Name: "A"}, {Name: "B"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nw.Close)
	nw.Listeners["A"].Close()
	delete(nw.Listeners, "A")
	return nw
}

// newPeerClient returns a client of A's peer interface that authenticates
// as B.
func (ct *crashTest) newPeerClient() *link.Client {
	id, err := link.LoadIdentity(filepath.Join(ct.nw.Dir, "B", localnet.TLSKeyFile))
	if err != nil {
		ct.t.Fatal(err)
	}
	pa := ct.nw.Regime.Party("A")
	c, err := link.NewClient(id, link.PinOf(pa.TLSKey), pa.Endpoints,
		link.ClientOptions{Attempts: 3, Timeout: 5 * time.Second, MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond})
	if err != nil {
		ct.t.Fatal(err)
	}
	return c
}

// nodeProc is a running `tillit serve` process.
type nodeProc struct {
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	client  *api.Client
}

// startA starts A's node process and waits for its operator API.
func (ct *crashTest) startA(life int) *nodeProc {
	t := ct.t
	t.Helper()
	cfg := ct.nw.Configs["A"]
	urlFile := filepath.Join(cfg.Path(cfg.Data), "api.url")
	// A killed process leaves its address file behind.
	if err := os.Remove(urlFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	p := &nodeProc{logPath: filepath.Join(ct.nw.Dir, fmt.Sprintf("A-%02d.log", life)), done: make(chan struct{})}
	out, err := os.Create(p.logPath)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(ct.bin, "serve", "--config", filepath.Join(ct.nw.Dir, "A", localnet.ConfigFile))
	p.cmd.Stdout, p.cmd.Stderr = out, out
	if err := p.cmd.Start(); err != nil {
		out.Close()
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		out.Close()
		close(p.done)
	}()
	t.Cleanup(func() { p.kill(t) })
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, err := os.ReadFile(urlFile)
		if u := strings.TrimSpace(string(b)); err == nil && strings.HasSuffix(string(b), "\n") {
			p.client = api.NewClient(u, ct.nw.Tokens["A"])
			return p
		}
		select {
		case <-p.done:
			t.Fatalf("A's node (life %d) exited: %v\n%s", life, p.cmd.ProcessState, p.tail())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("A's node (life %d) wrote no API address within 20 s\n%s", life, p.tail())
		}
	}
}

// kill SIGKILLs the process and waits for it to exit.
func (p *nodeProc) kill(t *testing.T) {
	select {
	case <-p.done:
		return
	default:
	}
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("kill A: %v", err)
	}
	<-p.done
}

// tail returns the end of the process's output.
func (p *nodeProc) tail() string {
	b, _ := os.ReadFile(p.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// load sends statements from several goroutines until A is killed after d,
// and returns how many were acknowledged. It also polls A's status for the
// receipts A has counted.
func (ct *crashTest) load(a *nodeProc, round int, d time.Duration) int {
	t := ct.t
	ctx, cancel := context.WithTimeout(context.Background(), d+30*time.Second)
	defer cancel()
	var killed atomic.Bool
	var sent atomic.Int64
	var wg sync.WaitGroup
	for w := range crashSenders {
		wg.Go(func() {
			for i := 0; sent.Load() < crashMaxPerRound; i++ {
				text := fmt.Sprintf("round %d sender %d statement %d", round, w, i)
				m, err := a.client.Send(ctx, node.SendRequest{Type: "message", To: []string{"B"},
					Body: body(t, map[string]string{"lang": "en", "text": text})})
				if err != nil {
					if !killed.Load() {
						t.Errorf("send before the kill: %v", err)
					}
					return
				}
				sent.Add(1)
				ct.ackedRef(m)
			}
		})
	}
	wg.Go(func() {
		for !killed.Load() {
			st, err := a.client.Status(ctx)
			if err != nil {
				if !killed.Load() {
					t.Errorf("status before the kill: %v", err)
				}
				return
			}
			if len(st.Peers) == 1 {
				ct.mu.Lock()
				ct.receipted = max(ct.receipted, st.Peers[0].Receipted)
				ct.mu.Unlock()
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	time.Sleep(d)
	killed.Store(true)
	a.kill(t)
	wg.Wait()
	return int(sent.Load())
}

// ackedRef records a statement whose Send was answered.
func (ct *crashTest) ackedRef(m node.Message) {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	if prev, dup := ct.acked[m.Index]; dup {
		ct.t.Errorf("two statements acknowledged at index %d: %s and %s", m.Index, prev, m.Ref)
	}
	if m.From != "A" || m.Log != ct.nw.Regime.Origin("A") {
		ct.t.Errorf("statement acknowledged from %s in log %s", m.From, m.Log)
	}
	ct.acked[m.Index] = m.Ref
	ct.newRefs = append(ct.newRefs, m.Ref)
	ct.maxIndex = max(ct.maxIndex, m.Index)
}

// checkRestart checks A, just restarted, against what was acknowledged,
// receipted and mirrored before it died, then waits for B to catch up and
// checks that the two agree.
func (ct *crashTest) checkRestart(a *nodeProc) {
	t := ct.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := a.client.Status(ctx)
	if err != nil {
		t.Fatalf("A's status after restart: %v", err)
	}
	ct.mu.Lock()
	refs, receipted := ct.newRefs, ct.receipted
	ct.newRefs = nil
	ct.mu.Unlock()
	if len(st.Peers) != 1 || st.Peers[0].Receipted < receipted {
		t.Errorf("A lost receipts in the crash: it counted %d entries receipted by B, now %+v", receipted, st.Peers)
	}
	if len(ct.acked) > 0 && st.Log.Size <= ct.maxIndex {
		t.Errorf("A's log has %d entries after the restart; statement %d was acknowledged", st.Log.Size, ct.maxIndex)
	}
	// Every acknowledged statement is in the log with its hash.
	for _, ref := range refs {
		if _, err := a.client.Message(ctx, ref); err != nil {
			t.Errorf("acknowledged statement %s is not in A's log after the restart: %v", ref, err)
		}
	}
	// Every statement B receipted (B cosigned a checkpoint of A's log
	// covering it) is in the log.
	bm := ct.b.Mirror("A")
	if size := bm.Size(); size > ct.checkedB {
		es, err := bm.Entries(ctx, ct.checkedB, size)
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range es {
			s, err := statement.Parse(e)
			if err != nil {
				t.Fatalf("entry %d of B's mirror of A: %v", ct.checkedB+int64(i), err)
			}
			ref := s.Ref(ct.checkedB + int64(i)).String()
			if _, err := a.client.Message(ctx, ref); err != nil {
				t.Errorf("statement %s, receipted by B, is not in A's log after the restart: %v", ref, err)
			}
		}
		ct.checkedB = size
	}
	if t.Failed() {
		t.FailNow()
	}
	// A's checkpoint, as its peer interface serves it, agrees with B's
	// mirror once B has caught up.
	resp, err := ct.peerClient.Get(ctx, node.LogsPrefix+"A/checkpoint")
	if err != nil {
		t.Fatalf("A's checkpoint: %v", err)
	}
	pa := ct.nw.Regime.Party("A")
	cp, _, err := tlog.OpenCheckpoint(resp.Body, ct.nw.Regime.Origin("A"), pa.Verifier())
	if err != nil {
		t.Fatalf("A's checkpoint: %v", err)
	}
	if cp.Tree.N < st.Log.Size {
		t.Fatalf("A serves a checkpoint of size %d, its status says %d", cp.Tree.N, st.Log.Size)
	}
	waitFor(t, "B to mirror A's log after the restart", 30*time.Second, func() bool { return bm.Size() >= cp.Tree.N })
	root, err := bm.TreeHash(ctx, cp.Tree.N)
	if err != nil {
		t.Fatal(err)
	}
	if root != cp.Tree.Hash {
		t.Fatalf("fork: A's checkpoint of size %d has root %v, B's mirror %v", cp.Tree.N, cp.Tree.Hash, root)
	}
	ct.checkB(cp.Tree.N)
}

// checkB checks that B's inbox holds the first size statements of A's log
// exactly once each, and that B is healthy.
func (ct *crashTest) checkB(size int64) {
	t := ct.t
	t.Helper()
	want := make(map[string]bool, size)
	es, err := ct.b.Mirror("A").Entries(context.Background(), 0, size)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range es {
		s, err := statement.Parse(e)
		if err != nil {
			t.Fatal(err)
		}
		if s.AddressedTo("B") {
			want[s.Ref(int64(i)).String()] = true
		}
	}
	// B indexes what it mirrors as it stores it; give it a moment.
	var count map[string]int
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		count = map[string]int{}
		for _, m := range ct.b.Inbox(node.Query{Limit: 1 << 20}) {
			if m.From == "A" {
				count[m.Ref]++
			}
		}
		if len(count) >= len(want) || time.Now().After(deadline) {
			break
		}
	}
	if len(want) >= 20000 {
		t.Fatalf("%d statements: more than B's inbox lists", len(want))
	}
	for ref := range want {
		if count[ref] != 1 {
			t.Errorf("B's inbox holds %s %d times, want once", ref, count[ref])
		}
	}
	for ref, c := range count {
		if !want[ref] {
			t.Errorf("B's inbox holds %s (%d times), which is not in A's log at size %d", ref, c, size)
		}
	}
	ct.checkBHealthy()
}

// checkBHealthy checks that B never quarantined A, recorded no evidence and
// raised no alarm.
func (ct *crashTest) checkBHealthy() {
	t := ct.t
	t.Helper()
	st := ct.b.Status()
	for _, p := range st.Peers {
		if p.Quarantined {
			t.Errorf("B quarantined %s's log", p.Party)
		}
	}
	if len(st.Alarms) > 0 {
		t.Errorf("B raised alarms: %q", st.Alarms)
	}
	ev, err := ct.b.Evidence(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ev {
		t.Errorf("B recorded evidence against %s: %s: %s", e.Log, e.Kind, e.Detail)
	}
	if t.Failed() {
		t.FailNow()
	}
}

// checkOffline opens A's data, not started, after the last kill and checks
// it against everything acknowledged and against B's mirror.
func (ct *crashTest) checkOffline() {
	t := ct.t
	t.Helper()
	ctx := context.Background()
	cfg, err := node.LoadConfig(filepath.Join(ct.nw.Dir, "A", localnet.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	a, err := node.Open(ctx, cfg, node.Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("reopen A's data: %v", err)
	}
	defer a.Close()
	size := a.Log().Size()
	if cp := a.Log().Latest(); cp.Tree.N != size {
		t.Errorf("A's log: %d entries, latest checkpoint %d", size, cp.Tree.N)
	}
	bm := ct.b.Mirror("A")
	if bm.Size() != size {
		t.Errorf("B mirrors %d entries of A's log, which has %d", bm.Size(), size)
	}
	n := min(bm.Size(), size)
	want, err := a.Log().TreeHash(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	got, err := bm.TreeHash(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("fork: A's log at size %d has root %v, B's mirror %v", n, want, got)
	}
	for idx, ref := range ct.acked {
		m, err := a.Message(ref)
		if err != nil || m.Index != idx {
			t.Errorf("acknowledged statement %s is not in A's log: %v", ref, err)
		}
	}
	st := a.Status()
	if len(st.Peers) != 1 || st.Peers[0].Receipted != size {
		t.Errorf("A's receipts from B: %+v, want the whole log (%d)", st.Peers, size)
	}
	ev, err := a.Evidence(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) > 0 {
		t.Errorf("A recorded evidence: %+v", ev)
	}
	ct.checkB(size)
}

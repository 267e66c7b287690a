package interop

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/torchwood"
	"github.com/tillit/tillit/partylog"
	"github.com/tillit/tillit/tlog"
	"golang.org/x/crypto/ssh"
	"golang.org/x/mod/sumdb/note"
	sumdb "golang.org/x/mod/sumdb/tlog"
)

const witnessName = "witness.example/tillit-interop"

// TestWitness has a standard c2sp.org/tlog-witness, torchwood's litewitness
// with its key in a dedicated ssh-agent, cosign a tillit log's checkpoints.
func TestWitness(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"ssh-agent", "ssh-keygen", "ssh-add"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("litewitness needs an ssh-agent, and %s is not installed: %v", tool, err)
		}
	}
	bin := t.TempDir()
	built := make(chan error, 1)
	go func() { built <- buildWitness(bin) }()

	lg := newTestLog(t, "tillit.example/interop/witness")
	w := startWitness(t, bin, built, lg)

	// The empty tree, as tillit signs it when the log is created: its root
	// must be the RFC 6962 empty hash or the witness must refuse it.
	empty := lg.Latest()
	if empty.Tree.N != 0 || empty.Tree.Hash != sha256.Sum256(nil) {
		t.Fatalf("tillit's first checkpoint is %+v, want size 0 with the empty-tree root", empty.Tree)
	}
	w.cosign(t, lg, 0, empty)

	lg.appendN(t, 300)
	cp1 := lg.checkpoint(t)
	w.cosign(t, lg, 0, cp1)

	lg.appendN(t, 1234)
	cp2 := lg.checkpoint(t)
	w.cosign(t, lg, cp1.Tree.N, cp2)

	lg.appendN(t, 77)
	cp3 := lg.checkpoint(t)

	t.Run("stale old size", func(t *testing.T) {
		resp := w.submit(t, addCheckpointBody(t, lg, cp1.Tree.N, cp3, cp3.Note))
		if resp.code != http.StatusConflict || resp.contentType != "text/x.tlog.size" || resp.body != fmt.Sprintf("%d\n", cp2.Tree.N) {
			t.Fatalf("got %d %q %q; want 409 text/x.tlog.size %q", resp.code, resp.contentType, resp.body, fmt.Sprintf("%d\n", cp2.Tree.N))
		}
	})
	t.Run("forged by another key", func(t *testing.T) {
		skey, _, err := note.GenerateKey(rand.Reader, lg.origin)
		if err != nil {
			t.Fatal(err)
		}
		other, err := note.NewSigner(skey)
		if err != nil {
			t.Fatal(err)
		}
		forged, err := tlog.SignCheckpoint(cp3.Checkpoint, other)
		if err != nil {
			t.Fatal(err)
		}
		resp := w.submit(t, addCheckpointBody(t, lg, cp2.Tree.N, cp3, forged))
		if resp.code != http.StatusForbidden {
			t.Fatalf("forged checkpoint: got %d %q, want 403", resp.code, resp.body)
		}
	})
	t.Run("tampered root", func(t *testing.T) {
		// The log's signature line, on a checkpoint whose root was changed.
		bad := cp3.Checkpoint
		bad.Tree.Hash[0] ^= 1
		sigs := cp3.Note[bytes.Index(cp3.Note, []byte("\n\n"))+1:]
		tampered := append([]byte(bad.String()), sigs...)
		resp := w.submit(t, addCheckpointBody(t, lg, cp2.Tree.N, cp3, tampered))
		if resp.code != http.StatusForbidden {
			t.Fatalf("tampered checkpoint: got %d %q, want 403", resp.code, resp.body)
		}
	})
	t.Run("bad consistency proof", func(t *testing.T) {
		body := addCheckpointBody(t, lg, cp2.Tree.N, cp3, cp3.Note)
		// Flip a bit in the first proof line.
		lines := strings.SplitN(string(body), "\n", 3)
		h, err := base64.StdEncoding.DecodeString(lines[1])
		if err != nil || len(h) != sumdb.HashSize {
			t.Fatalf("no proof line in %q", body)
		}
		h[0] ^= 1
		lines[1] = base64.StdEncoding.EncodeToString(h)
		resp := w.submit(t, []byte(strings.Join(lines, "\n")))
		if resp.code != http.StatusUnprocessableEntity {
			t.Fatalf("bad proof: got %d %q, want 422", resp.code, resp.body)
		}
	})
	if t.Failed() {
		t.FailNow()
	}

	// None of the rejected requests moved the witness: it still cosigns
	// from cp2, then accepts cp3 again as an unchanged tree.
	w.cosign(t, lg, cp2.Tree.N, cp3)
	w.cosign(t, lg, cp3.Tree.N, cp3)

	// The witness's database records the tillit tree.
	out := w.ctl(t, "list-logs")
	var rec struct {
		Origin   string   `json:"origin"`
		Size     int64    `json:"size"`
		RootHash string   `json:"root_hash"`
		Keys     []string `json:"keys"`
	}
	if err := json.Unmarshal(out, &rec); err != nil {
		t.Fatalf("witnessctl list-logs: %v\n%s", err, out)
	}
	if rec.Origin != lg.origin || rec.Size != cp3.Tree.N || rec.RootHash != base64.StdEncoding.EncodeToString(cp3.Tree.Hash[:]) || len(rec.Keys) != 1 || rec.Keys[0] != lg.vkey {
		t.Fatalf("witness records %+v, want %s at size %d root %v with key %s", rec, lg.origin, cp3.Tree.N, cp3.Tree.Hash, lg.vkey)
	}
}

// buildWitness builds litewitness and witnessctl, at the version this
// module's go.mod requires, into dir.
func buildWitness(dir string) error {
	cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator),
		"filippo.io/torchwood/cmd/litewitness", "filippo.io/torchwood/cmd/witnessctl")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %v\n%s", cmd.Args, err, out)
	}
	return nil
}

// witness is a running litewitness.
type witness struct {
	bin, db string
	url     string
	pub     ed25519.PublicKey
	// verifier is torchwood's c2sp.org/tlog-cosignature verifier for the
	// witness key.
	verifier note.Verifier
	hc       *http.Client
}

// startWitness starts a dedicated ssh-agent holding a fresh Ed25519 key, and
// litewitness using it, configured to witness lg. Both are stopped at the
// end of the test.
func startWitness(t *testing.T, bin string, built <-chan error, lg *testLog) *witness {
	t.Helper()
	// ssh-agent socket paths must fit in sun_path (108 bytes), so use a
	// short directory rather than t.TempDir().
	dir, err := os.MkdirTemp("", "tlw")
	if err != nil {
		t.Fatal(err)
	}
	if len(dir) > 80 {
		os.RemoveAll(dir)
		if dir, err = os.MkdirTemp("/tmp", "tlw"); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "agent.sock")
	keyFile := filepath.Join(dir, "witness_key")
	env := append(os.Environ(), "SSH_AUTH_SOCK="+sock)

	run(t, env, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", keyFile)
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	agentOut := &syncBuffer{}
	agent.Stdout, agent.Stderr = agentOut, agentOut
	stop, exited := startProcess(t, agent)
	t.Cleanup(stop)
	waitFor(t, "unix", sock, exited, agentOut)
	run(t, env, "ssh-add", "-q", keyFile)

	pubLine, err := os.ReadFile(keyFile + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	sshPub, _, _, _, err := ssh.ParseAuthorizedKey(pubLine)
	if err != nil {
		t.Fatal(err)
	}
	pub := sshPub.(ssh.CryptoPublicKey).CryptoPublicKey().(ed25519.PublicKey)
	signer, err := torchwood.NewCosignatureSigner(witnessName, publicKeyOnly{pub})
	if err != nil {
		t.Fatal(err)
	}

	if err := <-built; err != nil {
		t.Fatal(err)
	}
	w := &witness{
		bin: bin, db: filepath.Join(dir, "litewitness.db"),
		pub: pub, verifier: signer.Verifier(),
		hc: &http.Client{Timeout: 10 * time.Second},
	}
	w.ctl(t, "add-log", "-origin", lg.origin)
	w.ctl(t, "add-key", "-origin", lg.origin, "-key", lg.vkey)

	addr := freeAddr(t)
	w.url = "http://" + addr
	lw := exec.Command(filepath.Join(bin, "litewitness"),
		"-db", w.db, "-name", witnessName, "-ssh-agent", sock,
		"-key", ssh.FingerprintSHA256(sshPub), "-listen", addr)
	lwOut := &syncBuffer{}
	lw.Stdout, lw.Stderr = lwOut, lwOut
	stopLW, lwExited := startProcess(t, lw)
	t.Cleanup(func() {
		stopLW()
		if t.Failed() {
			t.Logf("litewitness output:\n%s", lwOut)
		}
	})
	waitFor(t, "tcp", addr, lwExited, lwOut)
	// litewitness logs its verifier key; it must be the one derived here
	// from the ssh key.
	if vkey := signer.Verifier().String(); !strings.Contains(lwOut.String(), vkey) {
		t.Fatalf("litewitness did not log the expected verifier key %s:\n%s", vkey, lwOut)
	}
	return w
}

// ctl runs witnessctl on the witness database and returns its stdout.
func (w *witness) ctl(t *testing.T, args ...string) []byte {
	t.Helper()
	args = append([]string{args[0], "-db", w.db}, args[1:]...)
	cmd := exec.Command(filepath.Join(w.bin, "witnessctl"), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("witnessctl %v: %v\n%s%s", args, err, out, stderr.Bytes())
	}
	return out
}

type response struct {
	code        int
	contentType string
	body        string
}

// submit POSTs an add-checkpoint request (c2sp.org/tlog-witness).
func (w *witness) submit(t *testing.T, body []byte) response {
	t.Helper()
	resp, err := w.hc.Post(w.url+"/add-checkpoint", "", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header.Get("Content-Type"), string(b)}
}

// addCheckpointBody is an add-checkpoint request for cp from oldSize, with
// the consistency proof from the tillit log, and msg as the checkpoint note.
func addCheckpointBody(t *testing.T, lg *testLog, oldSize int64, cp partylog.Signed, msg []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	fmt.Fprintf(&b, "old %d\n", oldSize)
	// From size zero the proof is empty (c2sp.org/tlog-witness,
	// "add-checkpoint"); RFC 6962 defines no proof from the empty tree.
	if oldSize > 0 {
		proof, err := lg.ProveConsistency(context.Background(), oldSize, cp.Tree.N)
		if err != nil {
			t.Fatal(err)
		}
		if len(proof) > 63 {
			t.Fatalf("consistency proof of %d hashes, the protocol allows 63", len(proof))
		}
		for _, h := range proof {
			b.WriteString(base64.StdEncoding.EncodeToString(h[:]) + "\n")
		}
	}
	b.WriteString("\n")
	b.Write(msg)
	return b.Bytes()
}

// cosign submits cp from oldSize and checks that the witness cosigns it.
func (w *witness) cosign(t *testing.T, lg *testLog, oldSize int64, cp partylog.Signed) {
	t.Helper()
	resp := w.submit(t, addCheckpointBody(t, lg, oldSize, cp, cp.Note))
	if resp.code != http.StatusOK {
		t.Fatalf("add-checkpoint old %d, size %d: %d %q", oldSize, cp.Tree.N, resp.code, resp.body)
	}
	// The response is note signature lines; appended to the checkpoint they
	// make a note that the witness key verifies (c2sp.org/tlog-witness).
	if !strings.HasSuffix(resp.body, "\n") {
		t.Fatalf("response %q does not end in a newline", resp.body)
	}
	for _, line := range strings.Split(strings.TrimSuffix(resp.body, "\n"), "\n") {
		if !strings.HasPrefix(line, "— ") {
			t.Fatalf("response line %q is not a note signature line", line)
		}
	}
	cosigned := append(bytes.Clone(cp.Note), resp.body...)
	n, err := note.Open(cosigned, note.VerifierList(w.verifier))
	if err != nil {
		t.Fatalf("cosignature on size %d does not verify with torchwood's cosignature verifier: %v\n%s", cp.Tree.N, err, cosigned)
	}
	if len(n.Sigs) != 1 || n.Sigs[0].Name != witnessName {
		t.Fatalf("verified signatures %+v, want one by %s", n.Sigs, witnessName)
	}
	ts, err := torchwood.CosignatureTimestamp(n.Sigs[0])
	if err != nil {
		t.Fatal(err)
	}
	checkCosignatureSpec(t, w.pub, n.Text, n.Sigs[0], ts)

	// tillit's own proof verifier accepts the witness cosignature.
	if cp.Tree.N == 0 {
		return
	}
	idx := cp.Tree.N - 1
	incl, err := lg.ProveInclusion(context.Background(), idx, cp.Tree.N)
	if err != nil {
		t.Fatal(err)
	}
	p := &tlog.Proof{Index: idx, Inclusion: incl, Checkpoint: cosigned}
	parsed, err := tlog.ParseProof(p.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	_, cosigs, err := tlog.VerifyProof(parsed, sumdb.RecordHash(lg.entries[idx]), lg.origin, lg.verifier, w.verifier)
	if err != nil {
		t.Fatalf("tillit's VerifyProof rejects a proof with the witness cosignature: %v", err)
	}
	if len(cosigs) != 1 || cosigs[0].Name != witnessName || cosigs[0].Hash != w.verifier.KeyHash() {
		t.Fatalf("tillit's VerifyProof returned cosignatures %+v, want the witness's", cosigs)
	}
}

// checkCosignatureSpec checks a cosignature against c2sp.org/tlog-cosignature
// directly, without torchwood: the Ed25519 key ID, a non-zero recent
// timestamp, and the signature over the cosignature/v1 message.
func checkCosignatureSpec(t *testing.T, pub ed25519.PublicKey, text string, sig note.Signature, torchwoodTS int64) {
	t.Helper()
	id := sha256.Sum256(append([]byte(witnessName+"\n\x04"), pub...))
	if sig.Hash != binary.BigEndian.Uint32(id[:4]) {
		t.Fatalf("cosignature key ID %08x, the spec gives %x", sig.Hash, id[:4])
	}
	raw, err := base64.StdEncoding.DecodeString(sig.Base64)
	if err != nil || len(raw) != 4+8+ed25519.SignatureSize {
		t.Fatalf("cosignature is %d bytes (%v), want key ID, timestamp and Ed25519 signature", len(raw), err)
	}
	ts := binary.BigEndian.Uint64(raw[4:])
	if ts == 0 || int64(ts) != torchwoodTS || time.Since(time.Unix(int64(ts), 0)).Abs() > time.Hour {
		t.Fatalf("cosignature timestamp %d (torchwood reads %d), want the current time", ts, torchwoodTS)
	}
	msg := fmt.Sprintf("cosignature/v1\ntime %d\n%s", ts, text)
	if !ed25519.Verify(pub, []byte(msg), raw[12:]) {
		t.Fatalf("cosignature does not verify over\n%s", msg)
	}
}

// publicKeyOnly is a crypto.Signer for building a torchwood cosignature
// verifier from a public key; it cannot sign.
type publicKeyOnly struct{ pub ed25519.PublicKey }

func (k publicKeyOnly) Public() crypto.PublicKey { return k.pub }
func (k publicKeyOnly) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("public key only")
}

func run(t *testing.T, env []string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// startProcess starts cmd. It returns a function that interrupts it, and
// kills it if it has not exited within five seconds, and a channel closed
// when it exits.
func startProcess(t *testing.T, cmd *exec.Cmd) (stop func(), exited <-chan struct{}) {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	stop = func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	return stop, done
}

// waitFor waits until addr accepts connections, failing if the process
// serving it exits first.
func waitFor(t *testing.T, network, addr string, exited <-chan struct{}, out *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.Dial(network, addr)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			t.Fatalf("process exited before listening on %s: %v\n%s", addr, err, out)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listening on %s after 15s: %v\n%s", addr, err, out)
		}
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// syncBuffer is a bytes.Buffer safe for a process writing to it while the
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

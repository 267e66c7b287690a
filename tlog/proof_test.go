package tlog_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/tillit/tillit/tlog"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	sumtlog "golang.org/x/mod/sumdb/tlog"
)

// proofCheckpoint is the (unverified) checkpoint embedded in parser tests.
var proofCheckpoint = signNote(cpText(testOrigin, 100000, rootA), testSigner)

func proofHashLines(n int) string {
	var b strings.Builder
	for i := range n {
		h := testHash(fmt.Sprint("proof hash ", i))
		b.WriteString(b64(h[:]) + "\n")
	}
	return b.String()
}

func proofHashes(n int) sumtlog.RecordProof {
	var p sumtlog.RecordProof
	for i := range n {
		p = append(p, testHash(fmt.Sprint("proof hash ", i)))
	}
	return p
}

// proofData assembles a proof from its head (the lines before the blank line).
func proofData(head string) []byte {
	return append([]byte(head+"\n"), proofCheckpoint...)
}

const hdr = tlog.ProofHeader + "\n"

// parseProofTests are the edge cases of c2sp.org/tlog-proof, "Format". They
// also seed FuzzParseProof.
var parseProofTests = []struct {
	name string
	data []byte
	want *tlog.Proof // nil when malformed
}{
	{"minimal", proofData(hdr + "index 0\n"), &tlog.Proof{Checkpoint: proofCheckpoint}},
	{"spec shape", proofData(hdr + "extra " + b64([]byte("age-v1.2.1-darwin-arm64.tar.gz")) + "\nindex 73894\n" + proofHashLines(5)),
		&tlog.Proof{Extra: []byte("age-v1.2.1-darwin-arm64.tar.gz"), Index: 73894, Inclusion: proofHashes(5), Checkpoint: proofCheckpoint}},
	{"empty extra", proofData(hdr + "extra \nindex 1\n" + proofHashLines(1)),
		&tlog.Proof{Extra: []byte{}, Index: 1, Inclusion: proofHashes(1), Checkpoint: proofCheckpoint}},
	{"63 hashes", proofData(hdr + "index 9223372036854775806\n" + proofHashLines(63)),
		&tlog.Proof{Index: math.MaxInt64 - 1, Inclusion: proofHashes(63), Checkpoint: proofCheckpoint}},
	{"max index", proofData(hdr + "index 9223372036854775807\n"), &tlog.Proof{Index: math.MaxInt64, Checkpoint: proofCheckpoint}},
	{"opaque checkpoint", []byte(hdr + "index 3\n\nnot a checkpoint"), &tlog.Proof{Index: 3, Checkpoint: []byte("not a checkpoint")}},
	{"checkpoint starting with newline", []byte(hdr + "index 3\n\n\n\nx"), &tlog.Proof{Index: 3, Checkpoint: []byte("\n\nx")}},

	{"missing header", proofData("index 0\n"), nil},
	{"header v2", proofData("c2sp.org/tlog-proof@v2\nindex 0\n"), nil},
	{"header trailing space", proofData(tlog.ProofHeader + " \nindex 0\n"), nil},
	{"header CRLF", proofData(tlog.ProofHeader + "\r\nindex 0\n"), nil},
	{"header leading blank", proofData("\n" + hdr + "index 0\n"), nil},
	{"index 01", proofData(hdr + "index 01\n"), nil},
	{"index 00", proofData(hdr + "index 00\n"), nil},
	{"index -1", proofData(hdr + "index -1\n"), nil},
	{"index +1", proofData(hdr + "index +1\n"), nil},
	{"index empty", proofData(hdr + "index \n"), nil},
	{"index no space", proofData(hdr + "index0\n"), nil},
	{"index bare", proofData(hdr + "index\n"), nil},
	{"index two spaces", proofData(hdr + "index  1\n"), nil},
	{"index tab", proofData(hdr + "index\t1\n"), nil},
	{"Index capital", proofData(hdr + "Index 1\n"), nil},
	{"index trailing space", proofData(hdr + "index 1 \n"), nil},
	{"index beyond int64", proofData(hdr + "index 9223372036854775808\n"), nil},
	{"index exponent", proofData(hdr + "index 1e3\n"), nil},
	{"index hex", proofData(hdr + "index 0x1\n"), nil},
	{"missing index", proofData(hdr), nil},
	{"missing index after extra", proofData(hdr + "extra YQ==\n"), nil},
	{"extra bad base64", proofData(hdr + "extra !!!!\nindex 0\n"), nil},
	{"extra non-canonical", proofData(hdr + "extra YR==\nindex 0\n"), nil},
	{"extra unpadded", proofData(hdr + "extra YQ\nindex 0\n"), nil},
	{"extra URL alphabet", proofData(hdr + "extra _w==\nindex 0\n"), nil},
	{"extra trailing space", proofData(hdr + "extra YQ== \nindex 0\n"), nil},
	{"extra carriage return", proofData(hdr + "extra YQ==\r\nindex 0\n"), nil},
	{"extra no space", proofData(hdr + "extraYQ==\nindex 0\n"), nil},
	{"extra after index", proofData(hdr + "index 0\nextra YQ==\n"), nil},
	{"two extra lines", proofData(hdr + "extra YQ==\nextra YQ==\nindex 0\n"), nil},
	{"two index lines", proofData(hdr + "index 0\nindex 0\n"), nil},
	{"64 hashes", proofData(hdr + "index 0\n" + proofHashLines(64)), nil},
	{"hash 31 bytes", proofData(hdr + "index 0\n" + b64(rootA[:31]) + "\n"), nil},
	{"hash 33 bytes", proofData(hdr + "index 0\n" + b64(append(rootA[:], 1)) + "\n"), nil},
	{"hash non-canonical", proofData(hdr + "index 0\n" + nonCanonicalB64(rootAB64) + "\n"), nil},
	{"hash unpadded", proofData(hdr + "index 0\n" + strings.TrimSuffix(rootAB64, "=") + "\n"), nil},
	{"hash trailing space", proofData(hdr + "index 0\n" + rootAB64 + " \n"), nil},
	{"hash hex", proofData(hdr + "index 0\n" + fmt.Sprintf("%x", rootA[:]) + "\n"), nil},
	{"hash after bad hash", proofData(hdr + "index 0\n" + rootAB64 + "\nxx\n"), nil},
	{"missing blank line", append([]byte(hdr+"index 0\n"), proofCheckpoint...), nil},
	{"missing checkpoint", []byte(hdr + "index 0\n\n"), nil},
	{"header only", []byte(hdr), nil},
	{"header and blank line", []byte(hdr + "\n"), nil},
	{"empty", nil, nil},
	{"CRLF", bytes.ReplaceAll(proofData(hdr+"index 0\n"), []byte("\n"), []byte("\r\n")), nil},
	{"oversized", append([]byte(hdr+"index 0\n\n"), bytes.Repeat([]byte("x"), tlog.MaxProofSize)...), nil},
}

func TestParseProof(t *testing.T) {
	for _, tt := range parseProofTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tlog.ParseProof(tt.data)
			if tt.want == nil {
				if err == nil {
					t.Fatalf("ParseProof(%q) = %+v, want error", tt.data, got)
				}
				if !errors.Is(err, tlog.ErrBadProof) {
					t.Errorf("error %v does not wrap ErrBadProof", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseProof(%q): %v", tt.data, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseProof(%q) = %+v, want %+v", tt.data, got, tt.want)
			}
			if m := got.Marshal(); !bytes.Equal(m, tt.data) {
				t.Errorf("Marshal() = %q, want %q", m, tt.data)
			}
		})
	}
}

func TestParseProofSizeLimit(t *testing.T) {
	head := []byte(hdr + "index 0\n\n")
	exact := append(bytes.Clone(head), bytes.Repeat([]byte("c"), tlog.MaxProofSize-len(head))...)
	if _, err := tlog.ParseProof(exact); err != nil {
		t.Errorf("ParseProof of exactly MaxProofSize bytes: %v", err)
	}
	if _, err := tlog.ParseProof(append(exact, 'c')); !errors.Is(err, tlog.ErrBadProof) {
		t.Errorf("ParseProof of MaxProofSize+1 bytes: %v, want ErrBadProof", err)
	}
}

func TestProofRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for range 3000 {
		p := &tlog.Proof{Checkpoint: proofCheckpoint}
		switch r.IntN(3) {
		case 0:
			p.Extra = []byte{}
		case 1:
			p.Extra = make([]byte, 1+r.IntN(100))
			for i := range p.Extra {
				p.Extra[i] = byte(r.Uint32())
			}
		}
		switch r.IntN(3) {
		case 0:
			p.Index = r.Int64N(1000)
		case 1:
			p.Index = math.MaxInt64 - r.Int64N(1000)
		default:
			p.Index = r.Int64N(int64(1) << r.IntN(63))
		}
		for range r.IntN(64) {
			var h sumtlog.Hash
			for i := range h {
				h[i] = byte(r.Uint32())
			}
			p.Inclusion = append(p.Inclusion, h)
		}
		if r.IntN(4) == 0 {
			p.Checkpoint = []byte(fmt.Sprintf("\n%x\n\n", r.Uint64())) // opaque to ParseProof
		}
		data := p.Marshal()
		got, err := tlog.ParseProof(data)
		if err != nil {
			t.Fatalf("ParseProof(Marshal(%+v)): %v", p, err)
		}
		if !reflect.DeepEqual(got, p) {
			t.Fatalf("ParseProof(Marshal(p)) = %+v, want %+v", got, p)
		}
		if m := got.Marshal(); !bytes.Equal(m, data) {
			t.Fatalf("Marshal differs after a round trip: %q vs %q", m, data)
		}
	}
}

// merkleVerify checks an inclusion proof with github.com/transparency-dev/merkle,
// as an oracle independent of x/mod's CheckRecord.
func merkleVerify(p sumtlog.RecordProof, size int64, root sumtlog.Hash, index int64, leaf sumtlog.Hash) error {
	if index < 0 || size < 0 {
		return errors.New("negative index or size")
	}
	hs := make([][]byte, len(p))
	for i := range p {
		hs[i] = p[i][:]
	}
	return proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(index), uint64(size), leaf[:], hs, root[:])
}

func TestVerifyProof(t *testing.T) {
	l := getTestLog(t)
	for _, size := range []int64{1, 2, 3, 7, 255, 256, 257, 1000, fixtureSize} {
		root := l.root(t, size)
		cp := signNote(cpText(testOrigin, size, root), testSigner, witnessSigner)
		indexes := []int64{0, size / 2, size - 1}
		if size > 300 {
			indexes = append(indexes, 255, 256, 42)
		}
		for _, idx := range indexes {
			t.Run(fmt.Sprintf("%d/%d", idx, size), func(t *testing.T) {
				rp, err := sumtlog.ProveRecord(size, idx, l)
				if err != nil {
					t.Fatal(err)
				}
				leaf := sumtlog.RecordHash(testEntry(idx))
				if err := merkleVerify(rp, size, root, idx, leaf); err != nil {
					t.Fatalf("oracle rejects x/mod's proof: %v", err)
				}
				p, err := tlog.ParseProof((&tlog.Proof{Index: idx, Inclusion: rp, Checkpoint: cp}).Marshal())
				if err != nil {
					t.Fatal(err)
				}
				c, cosigs, err := tlog.VerifyProof(p, leaf, testOrigin, testVerifier, witnessVerifier)
				if err != nil {
					t.Fatalf("VerifyProof: %v", err)
				}
				if c.Origin != testOrigin || c.Tree != (sumtlog.Tree{N: size, Hash: root}) {
					t.Errorf("VerifyProof checkpoint = %+v", c)
				}
				if len(cosigs) != 1 || cosigs[0].Name != witnessVerifier.Name() || cosigs[0].Hash != witnessVerifier.KeyHash() {
					t.Errorf("cosignatures = %+v, want one by %s", cosigs, witnessVerifier.Name())
				}

				bad := map[string]struct {
					p    *tlog.Proof
					leaf sumtlog.Hash
				}{
					"wrong leaf":       {p, sumtlog.RecordHash([]byte("not an entry"))},
					"other leaf":       {p, sumtlog.RecordHash(testEntry(idx + 1))},
					"index = size":     {withIndex(p, size), leaf},
					"index > size":     {withIndex(p, size+1000), leaf},
					"index max":        {withIndex(p, math.MaxInt64), leaf},
					"index -1":         {withIndex(p, -1), leaf},
					"extra hash":       {withInclusion(p, append(p.Inclusion[:len(p.Inclusion):len(p.Inclusion)], rootA)), leaf},
					"flipped hash":     {withInclusion(p, flipHash(p.Inclusion, 0)), leaf},
					"leaf for sibling": {p, sumtlog.RecordHash(testEntry(idx ^ 1))},
				}
				if len(p.Inclusion) > 0 {
					bad["missing hash"] = struct {
						p    *tlog.Proof
						leaf sumtlog.Hash
					}{withInclusion(p, p.Inclusion[:len(p.Inclusion)-1]), leaf}
				}
				if idx+1 < size {
					bad["wrong index"] = struct {
						p    *tlog.Proof
						leaf sumtlog.Hash
					}{withIndex(p, idx+1), leaf}
				}
				for name, b := range bad {
					if idx^1 >= size && name == "leaf for sibling" {
						continue
					}
					_, _, err := tlog.VerifyProof(b.p, b.leaf, testOrigin, testVerifier, witnessVerifier)
					if !errors.Is(err, tlog.ErrBadProof) {
						t.Errorf("%s: VerifyProof = %v, want ErrBadProof", name, err)
					}
					if merkleVerify(b.p.Inclusion, size, root, b.p.Index, b.leaf) == nil {
						t.Errorf("%s: the merkle oracle accepts what VerifyProof rejects", name)
					}
				}
			})
		}
	}
}

func withIndex(p *tlog.Proof, idx int64) *tlog.Proof {
	q := *p
	q.Index = idx
	return &q
}

func withInclusion(p *tlog.Proof, rp sumtlog.RecordProof) *tlog.Proof {
	q := *p
	q.Inclusion = rp
	return &q
}

func withCheckpoint(p *tlog.Proof, cp []byte) *tlog.Proof {
	q := *p
	q.Checkpoint = cp
	return &q
}

func flipHash(rp sumtlog.RecordProof, i int) sumtlog.RecordProof {
	if len(rp) == 0 {
		return sumtlog.RecordProof{rootA}
	}
	out := append(sumtlog.RecordProof(nil), rp...)
	out[i][0] ^= 1
	return out
}

// TestVerifyProofCheckpoint covers the checkpoint half of VerifyProof:
// tlog-proof, "Verifying a tlog proof", steps 2 and 3.
func TestVerifyProofCheckpoint(t *testing.T) {
	l := getTestLog(t)
	const size, idx = 1000, 345
	root := l.root(t, size)
	rp, err := sumtlog.ProveRecord(size, idx, l)
	if err != nil {
		t.Fatal(err)
	}
	leaf := sumtlog.RecordHash(testEntry(idx))
	text := cpText(testOrigin, size, root)
	p := &tlog.Proof{Index: idx, Inclusion: rp}

	logOnly := signNote(text, testSigner)
	cosigned := signNote(text, testSigner, witnessSigner, otherSigner)
	badWitness := bytes.Clone(cosigned)
	// Corrupt the witness signature line (the second one).
	lines := bytes.SplitAfter(badWitness, []byte("\n"))
	wl := lines[len(lines)-3]
	flipB64(wl, len(wl)-4)
	badWitness = bytes.Join(lines, nil)
	badLog := bytes.Clone(logOnly)
	flipB64(badLog, len(badLog)-4)

	good := []struct {
		name      string
		cp        []byte
		witnesses []note.Verifier
		want      []string // names of the returned cosignatures
	}{
		{"log only", logOnly, nil, nil},
		{"log only, witness expected", logOnly, []note.Verifier{witnessVerifier}, nil},
		{"cosigned, no witnesses known", cosigned, nil, nil},
		{"cosigned, one witness known", cosigned, []note.Verifier{witnessVerifier}, []string{witnessVerifier.Name()}},
		{"cosigned, two witnesses known", cosigned, []note.Verifier{otherVerifier, witnessVerifier}, []string{witnessVerifier.Name(), otherVerifier.Name()}},
		{"bad unknown witness ignored", badWitness, []note.Verifier{otherVerifier}, []string{otherVerifier.Name()}},
		{"impostor ignored", signNote(text, impostorSigner, testSigner), nil, nil},
	}
	for _, tt := range good {
		c, cosigs, err := tlog.VerifyProof(withCheckpoint(p, tt.cp), leaf, testOrigin, testVerifier, tt.witnesses...)
		if err != nil {
			t.Errorf("%s: VerifyProof: %v", tt.name, err)
			continue
		}
		if c.Tree.N != size || c.Tree.Hash != root {
			t.Errorf("%s: checkpoint %+v", tt.name, c)
		}
		var names []string
		for _, s := range cosigs {
			names = append(names, s.Name)
		}
		if !reflect.DeepEqual(names, tt.want) {
			t.Errorf("%s: cosignatures by %q, want %q", tt.name, names, tt.want)
		}
	}

	bad := []struct {
		name      string
		cp        []byte
		origin    string
		witnesses []note.Verifier
		also      error // a sentinel the error must wrap besides ErrBadProof
	}{
		{"signed by other key", signNote(text, otherSigner), testOrigin, nil, tlog.ErrCheckpointSignature},
		{"signed by impostor", signNote(text, impostorSigner), testOrigin, nil, tlog.ErrCheckpointSignature},
		{"signed by witness only", signNote(text, witnessSigner), testOrigin, []note.Verifier{witnessVerifier}, tlog.ErrCheckpointSignature},
		{"bad log signature", badLog, testOrigin, nil, tlog.ErrCheckpointSignature},
		{"bad known witness signature", badWitness, testOrigin, []note.Verifier{witnessVerifier}, nil},
		{"wrong origin", logOnly, "example.com/other", nil, nil},
		{"wrong origin in checkpoint", signNote(cpText("example.com/other", size, root), testSigner), testOrigin, nil, nil},
		{"size 01000", signNote(testOrigin+"\n01000\n"+b64(root[:])+"\n", testSigner), testOrigin, nil, tlog.ErrBadCheckpoint},
		{"root of other size", signNote(cpText(testOrigin, size, l.root(t, size+1)), testSigner), testOrigin, nil, nil},
		{"not a note", []byte(text), testOrigin, nil, nil},
		{"empty", nil, testOrigin, nil, nil},
	}
	for _, tt := range bad {
		_, _, err := tlog.VerifyProof(withCheckpoint(p, tt.cp), leaf, tt.origin, testVerifier, tt.witnesses...)
		if !errors.Is(err, tlog.ErrBadProof) {
			t.Errorf("%s: VerifyProof = %v, want ErrBadProof", tt.name, err)
		}
		if tt.also != nil && !errors.Is(err, tt.also) {
			t.Errorf("%s: VerifyProof error %q does not wrap %q", tt.name, err, tt.also)
		}
	}
}

package tlog_test

import (
	"fmt"
	"log"

	"github.com/tillit/tillit/tlog"
	"golang.org/x/mod/sumdb/note"
	sumtlog "golang.org/x/mod/sumdb/tlog"
)

func ExampleParseTilePath() {
	// The example from c2sp.org/tlog-tiles: tile index 1234067 at level 0.
	t, err := tlog.ParseTilePath("tile/0/x001/x234/067")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(t.L, t.N, t.W)

	// A partial entry bundle holding 7 entries.
	t, err = tlog.ParseTilePath("tile/entries/x001/234.p/7")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(t.L == tlog.EntriesLevel, t.N, t.W, tlog.TilePath(t))

	// Non-canonical encodings are rejected.
	_, err = tlog.ParseTilePath("tile/0/000.p/007")
	fmt.Println(err)
	// Output:
	// 0 1234067 256
	// true 1234 7 tile/entries/x001/234.p/7
	// malformed tile path "tile/0/000.p/007": partial width must be 1-255
}

// hashStore is the stored hashes of a small log, kept in memory.
type hashStore []sumtlog.Hash

func (s hashStore) ReadHashes(indexes []int64) ([]sumtlog.Hash, error) {
	out := make([]sumtlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = s[x]
	}
	return out, nil
}

func ExampleVerifyProof() {
	logSigner, err := note.NewSigner("PRIVATE+KEY+example.com/testlog+3de78c3f+AXjkwfVog9tkCXghIBHMG3KmJkA9JxS9osR4TjKpuOpx")
	if err != nil {
		log.Fatal(err)
	}
	logKey, err := note.NewVerifier("example.com/testlog+3de78c3f+AaeksN/r/1MdPWeV2wWjw0wjwly+ybi+QQ7XbZEtqTsV")
	if err != nil {
		log.Fatal(err)
	}

	// The log: three entries and a signed checkpoint.
	var hashes hashStore
	for i, e := range []string{"alpha", "bravo", "charlie"} {
		hs, err := sumtlog.StoredHashes(int64(i), []byte(e), hashes)
		if err != nil {
			log.Fatal(err)
		}
		hashes = append(hashes, hs...)
	}
	root, err := sumtlog.TreeHash(3, hashes)
	if err != nil {
		log.Fatal(err)
	}
	cp, err := tlog.SignCheckpoint(tlog.Checkpoint{Origin: "example.com/testlog", Tree: sumtlog.Tree{N: 3, Hash: root}}, logSigner)
	if err != nil {
		log.Fatal(err)
	}

	// The log's proof that "bravo" is entry 1.
	rp, err := sumtlog.ProveRecord(3, 1, hashes)
	if err != nil {
		log.Fatal(err)
	}
	data := (&tlog.Proof{Index: 1, Inclusion: rp, Checkpoint: cp}).Marshal()
	fmt.Printf("%s", data)

	// A verifier with the proof, the entry and the log's public key.
	p, err := tlog.ParseProof(data)
	if err != nil {
		log.Fatal(err)
	}
	c, _, err := tlog.VerifyProof(p, sumtlog.RecordHash([]byte("bravo")), "example.com/testlog", logKey)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("entry %d is in %s at size %d\n", p.Index, c.Origin, c.Tree.N)

	_, _, err = tlog.VerifyProof(p, sumtlog.RecordHash([]byte("delta")), "example.com/testlog", logKey)
	fmt.Println(err != nil)
	// Output:
	// c2sp.org/tlog-proof@v1
	// index 1
	// KhWNiv1I4/iMtBld/bKp5IF9lfpX/TREDZP5quXE+Cs=
	// +TGWLwkXw0bURyk8B7aHrhYJ9wA/ikSganXEFFseGSk=
	//
	// example.com/testlog
	// 3
	// 1BhuPAWmIM5hOX6Di/vXbm8n5tfaoTxZ64Ko4JRgjhw=
	//
	// — example.com/testlog PeeMP5/Up/7xRwSj+DKD/1eHkFCLHbFX4714hdzg7jEXusxgqjoYXMY8GZLTWUOgF8Yb94eSEfgdQr1egU5yH8w5Dww=
	// entry 1 is in example.com/testlog at size 3
	// true
}

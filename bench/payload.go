package bench

import (
	"encoding/hex"
	"math/rand/v2"
	"strconv"
	"sync"
)

// poolSize is the size of the shared pseudo-random base16 text that
// payloads are cut from (generated once, deterministically), so that making
// an entry costs the harness a copy rather than random generation.
const poolSize = 1 << 20

var pool = sync.OnceValue(func() []byte {
	r := rand.NewChaCha8([32]byte([]byte("tillit-bench-payload-pool-seed..")))
	raw := make([]byte, poolSize/2)
	_, _ = r.Read(raw)
	return []byte(hex.EncodeToString(raw))
})

// Payloads generates deterministic pseudo-random, statement-like log entries
// of a fixed size, unique per (writer, sequence number). Each writer
// goroutine owns one Payloads (it is not safe for concurrent use); the
// sequence depends only on the writer number, so every system is fed
// byte-identical entries.
type Payloads struct {
	writer int
	seq    uint64
	size   int
	rng    *rand.PCG
	pool   []byte
}

// NewPayloads returns the payload generator for writer w producing entries
// of size bytes (at least 192).
func NewPayloads(w, size int) *Payloads {
	return &Payloads{writer: w, size: size, rng: rand.NewPCG(uint64(w), 0x7469_6c6c_6974), pool: pool()}
}

// cut returns n pseudo-random bytes of the pool.
func (p *Payloads) cut(n int) []byte {
	off := int(p.rng.Uint64() % uint64(len(p.pool)-n))
	return p.pool[off : off+n]
}

// Next returns a freshly allocated entry; the caller may hand it to a log
// that keeps a reference to it.
func (p *Payloads) Next() []byte {
	p.seq++
	b := make([]byte, 0, p.size)
	b = append(b, `{"v":1,"type":"attest","issuer":"party-`...)
	b = strconv.AppendInt(b, int64(p.writer), 10)
	b = append(b, `","seq":`...)
	b = strconv.AppendUint(b, p.seq, 10)
	b = append(b, `,"subject":"sha256:`...)
	b = append(b, p.cut(64)...)
	b = append(b, `","claim":"`...)
	b = append(b, p.cut(32)...)
	b = append(b, `","pad":"`...)
	b = append(b, p.cut(p.size-2-len(b))...)
	b = append(b, `"}`...)
	return b
}

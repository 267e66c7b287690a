package bench

import (
	"encoding/hex"
	"math/rand/v2"
	"strconv"
)

// Payloads generates deterministic pseudo-random, statement-like log entries
// of a fixed size. Each writer goroutine owns one Payloads (it is not safe for
// concurrent use); the sequence depends only on the writer number, so both
// systems are fed byte-identical entries.
type Payloads struct {
	writer int
	seq    uint64
	size   int
	rng    *rand.ChaCha8
	rnd    [48]byte
	hex    [96]byte
}

// NewPayloads returns the payload generator for writer w producing entries
// of size bytes (at least 64).
func NewPayloads(w, size int) *Payloads {
	var seed [32]byte
	copy(seed[:], "tillit-bench-payload-seed-......")
	seed[28], seed[29], seed[30], seed[31] = byte(w>>24), byte(w>>16), byte(w>>8), byte(w)
	return &Payloads{writer: w, size: size, rng: rand.NewChaCha8(seed)}
}

// Next returns a freshly allocated entry; the caller may hand it to a log
// that keeps a reference to it.
func (p *Payloads) Next() []byte {
	p.seq++
	_, _ = p.rng.Read(p.rnd[:])
	hex.Encode(p.hex[:], p.rnd[:])
	b := make([]byte, 0, p.size)
	b = append(b, `{"v":1,"type":"attest","issuer":"party-`...)
	b = strconv.AppendInt(b, int64(p.writer), 10)
	b = append(b, `","seq":`...)
	b = strconv.AppendUint(b, p.seq, 10)
	b = append(b, `,"subject":"sha256:`...)
	b = append(b, p.hex[:64]...)
	b = append(b, `","claim":"`...)
	b = append(b, p.hex[64:]...)
	b = append(b, `","pad":"`...)
	// Fill the rest with pseudo-random base16 so entries don't compress.
	for len(b) < p.size-2 {
		_, _ = p.rng.Read(p.rnd[:])
		hex.Encode(p.hex[:], p.rnd[:])
		n := min(len(p.hex), p.size-2-len(b))
		b = append(b, p.hex[:n]...)
	}
	b = append(b, `"}`...)
	return b[:p.size:p.size]
}

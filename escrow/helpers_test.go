package escrow

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// detReader is a deterministic byte stream for tests and vectors:
// SHA-256(seed ‖ u64 counter) blocks, concatenated.
type detReader struct {
	seed    string
	counter uint64
	buf     []byte
}

func newDetReader(seed string) *detReader { return &detReader{seed: seed} }

func (r *detReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(r.buf) == 0 {
			b := binary.BigEndian.AppendUint64([]byte(r.seed), r.counter)
			h := sha256.Sum256(b)
			r.buf = h[:]
			r.counter++
		}
		c := copy(p[n:], r.buf)
		r.buf = r.buf[c:]
		n += c
	}
	return n, nil
}

func testParams(seed string) Params {
	return Params{Regime: "inf-2026", Party: "RU", Version: 1, Rand: newDetReader(seed)}
}

// sampleDeclaration is small but has every shape: several regions, an empty
// site, attributes, names needing JSON escapes, sites and items out of order.
func sampleDeclaration() *Declaration {
	return &Declaration{Regions: []Region{
		{Name: "Kaliningrad", Sites: []Site{
			{Name: "Chernyakhovsk", Items: []Item{
				{ID: "L-0002", Category: "9M729.launcher"},
				{ID: "M-0001", Category: "9M729.missile", Attrs: map[string]string{"serial": "A<1>&2", "lot": "7"}},
				{ID: "M-0003", Category: "9M729.missile"},
			}},
			{Name: "Baltiysk", Items: []Item{
				{ID: "M-0010", Category: "9M729.missile"},
			}},
		}},
		{Name: "Chelyabinsk", Sites: []Site{
			{Name: "Shagol \"depot\"", Items: []Item{
				{ID: "M-0020", Category: "9M729.missile"},
				{ID: "L-0021", Category: "9M729.launcher", Attrs: map[string]string{"chassis": "MZKT-7930"}},
			}},
			{Name: "Kamensk (empty)"},
		}},
		{Name: "Orenburg", Sites: []Site{
			{Name: "Yasny", Items: []Item{{ID: "M-0030", Category: "9M729.missile"}}},
		}},
	}}
}

// genDeclaration makes a declaration with regions × sites × items items.
func genDeclaration(regions, sites, items int) *Declaration {
	d := &Declaration{Regions: make([]Region, regions)}
	id := 0
	for i := range d.Regions {
		r := &d.Regions[i]
		r.Name = fmt.Sprintf("region-%04d", i)
		r.Sites = make([]Site, sites)
		for j := range r.Sites {
			s := &r.Sites[j]
			s.Name = fmt.Sprintf("site-%04d", j)
			s.Items = make([]Item, items)
			for k := range s.Items {
				cat := "9M729.missile"
				if id%4 == 0 {
					cat = "9M729.launcher"
				}
				s.Items[k] = Item{ID: fmt.Sprintf("ID-%09d", id), Category: cat}
				id++
			}
		}
	}
	return d
}

func mustCommit(tb interface {
	Helper()
	Fatal(...any)
}, d *Declaration, p Params) *Secret {
	tb.Helper()
	s, err := Commit(d, p)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

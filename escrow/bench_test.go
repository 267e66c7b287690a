package escrow

import (
	"encoding/json"
	"runtime"
	"testing"
	"time"
)

// BenchmarkCommit1M commits 1,000,000 items (10 regions of 100 sites of
// 1,000 items) and reports the heap a Secret keeps per item and the size of
// its stored form per item.
func BenchmarkCommit1M(b *testing.B) { benchmarkCommit(b, 100) }

// BenchmarkCommit100k commits 100,000 items (10 regions of 10 sites of 1,000
// items), to compare per-item figures with BenchmarkCommit1M.
func BenchmarkCommit100k(b *testing.B) { benchmarkCommit(b, 10) }

func benchmarkCommit(b *testing.B, sites int) {
	d := genDeclaration(10, sites, 1000)
	n := float64(d.ItemCount())
	p := Params{Regime: "inf-2026", Party: "RU", Version: 1}
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		mustCommit(b, d, p)
	}
	b.StopTimer()
	reportCPU(b, cpu)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := mustCommit(b, d, p)
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-B/item")
	j, err := json.Marshal(s)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(j))/n, "stored-B/item")
	runtime.KeepAlive(d)
}

// BenchmarkOpenVerifyRegion100k opens a 100,000-item region of a
// 1,000,000-item declaration and verifies the opening.
func BenchmarkOpenVerifyRegion100k(b *testing.B) {
	benchmarkOpenVerify(b, false)
}

// BenchmarkOpenVerifyRegion100kJSON also encodes the opening as JSON and
// parses it back, as a verifier reading it from a log would.
func BenchmarkOpenVerifyRegion100kJSON(b *testing.B) {
	benchmarkOpenVerify(b, true)
}

func benchmarkOpenVerify(b *testing.B, viaJSON bool) {
	s := bigSecret(b)
	c := s.Commitment()
	b.ReportAllocs()
	cpu := cpuTime()
	defer reportCPU(b, cpu)
	for b.Loop() {
		o, err := s.OpenRegion("region-0003")
		if err != nil {
			b.Fatal(err)
		}
		if viaJSON {
			j, err := json.Marshal(o)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(j)))
			if o, err = ParseRegionOpening(j); err != nil {
				b.Fatal(err)
			}
		}
		if err := VerifyRegionOpening(c, o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenVerifyItem opens and verifies one item of 1,000,000.
func BenchmarkOpenVerifyItem(b *testing.B) {
	s := bigSecret(b)
	c := s.Commitment()
	b.ReportAllocs()
	cpu := cpuTime()
	defer reportCPU(b, cpu)
	for b.Loop() {
		o, err := s.OpenItem("ID-000500000")
		if err != nil {
			b.Fatal(err)
		}
		if err := VerifyItemOpening(c, o); err != nil {
			b.Fatal(err)
		}
	}
}

var bigSecretCache *Secret

// bigSecret is a 1,000,000-item commitment: 10 regions of 100 sites of
// 1,000 items.
func bigSecret(b *testing.B) *Secret {
	if bigSecretCache == nil {
		bigSecretCache = mustCommit(b, genDeclaration(10, 100, 1000), Params{Regime: "inf-2026", Party: "RU", Version: 1})
	}
	return bigSecretCache
}

// reportCPU reports the CPU time used per operation since start (user and
// system, all threads); 0 where the platform does not measure it.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e6, "cpu-ms/op")
}

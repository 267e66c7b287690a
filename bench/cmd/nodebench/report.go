package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/tillit/tillit/bench/internal/harness"
)

// summary is the per-(system, concurrency) median over runs.
type summary struct {
	System      string  `json:"system"`
	Concurrency int     `json:"concurrency"`
	Runs        int     `json:"runs"`
	Errors      uint64  `json:"errors"`
	PerSec      float64 `json:"per_s"`
	P50         float64 `json:"p50_ms"`
	P99         float64 `json:"p99_ms"`
	Max         float64 `json:"max_ms"`
	DurableP50  float64 `json:"durable_p50_ms,omitempty"`
	DurableP99  float64 `json:"durable_p99_ms,omitempty"`
	PeakRSSMiB  float64 `json:"peak_rss_mib"`
	CPUPerK     float64 `json:"cpu_ms_per_1k"`
	OtherCPU    float64 `json:"other_cpu"`
	RatioToSync float64 `json:"ratio_to_nats_sync,omitempty"` // tillit only: per_s / nats-sync per_s
}

// flashSummary is the median over the FLASH scenario's runs.
type flashSummary struct {
	Runs          int     `json:"runs"`
	Routine       int     `json:"routine"`
	Flash         int     `json:"flash"` // total over runs
	FlashP50      float64 `json:"flash_p50_ms"`
	FlashP99      float64 `json:"flash_p99_ms"`
	FlashMax      float64 `json:"flash_max_ms"`
	DrainSec      float64 `json:"drain_s"`
	RoutinePerSec float64 `json:"routine_per_s"`
	PeakRSSMiB    float64 `json:"peak_rss_mib"`
	Errors        uint64  `json:"errors"`
	OtherCPU      float64 `json:"other_cpu"`
}

func summarize(results []result, systems []string, concs []int) []summary {
	var out []summary
	for _, sys := range systems {
		for _, c := range concs {
			var rs []result
			for _, r := range results {
				if r.System == sys && r.Concurrency == c {
					rs = append(rs, r)
				}
			}
			if len(rs) == 0 {
				continue
			}
			s := summary{System: sys, Concurrency: c, Runs: len(rs)}
			for _, r := range rs {
				s.Errors += r.Errors
			}
			s.PerSec = harness.MedianOf(rs, func(r result) float64 { return r.PerSec })
			s.P50 = harness.MedianOf(rs, func(r result) float64 { return r.P50 })
			s.P99 = harness.MedianOf(rs, func(r result) float64 { return r.P99 })
			s.Max = harness.MedianOf(rs, func(r result) float64 { return r.Max })
			s.DurableP50 = harness.MedianOf(rs, func(r result) float64 { return r.DurableP50 })
			s.DurableP99 = harness.MedianOf(rs, func(r result) float64 { return r.DurableP99 })
			s.PeakRSSMiB = harness.MedianOf(rs, func(r result) float64 { return r.PeakRSSMiB })
			s.OtherCPU = harness.MedianOf(rs, func(r result) float64 { return r.OtherCPU })
			s.CPUPerK = harness.MedianOf(rs, func(r result) float64 {
				if r.Total == 0 {
					return 0
				}
				return 1000 * 1000 * r.CPUSec / float64(r.Total)
			})
			out = append(out, s)
		}
	}
	for i := range out {
		if out[i].System != "tillit" {
			continue
		}
		if n := find(out, "nats-sync", out[i].Concurrency); n != nil && n.PerSec > 0 {
			out[i].RatioToSync = out[i].PerSec / n.PerSec
		}
	}
	return out
}

func summarizeFlash(fs []flashResult) *flashSummary {
	if len(fs) == 0 {
		return nil
	}
	s := &flashSummary{Runs: len(fs), Routine: fs[0].Routine}
	for _, f := range fs {
		s.Flash += f.Flash
		s.Errors += f.Errors
	}
	s.FlashP50 = harness.MedianOf(fs, func(f flashResult) float64 { return f.FlashP50 })
	s.FlashP99 = harness.MedianOf(fs, func(f flashResult) float64 { return f.FlashP99 })
	s.FlashMax = harness.MedianOf(fs, func(f flashResult) float64 { return f.FlashMax })
	s.DrainSec = harness.MedianOf(fs, func(f flashResult) float64 { return f.DrainSec })
	s.RoutinePerSec = harness.MedianOf(fs, func(f flashResult) float64 { return f.RoutinePerSec })
	s.PeakRSSMiB = harness.MedianOf(fs, func(f flashResult) float64 { return f.PeakRSSMiB })
	s.OtherCPU = harness.MedianOf(fs, func(f flashResult) float64 { return f.OtherCPU })
	return s
}

func find(ss []summary, sys string, c int) *summary {
	for i := range ss {
		if ss[i].System == sys && ss[i].Concurrency == c {
			return &ss[i]
		}
	}
	return nil
}

func ratioCell(a, b *summary) string {
	if a == nil || b == nil || b.PerSec == 0 {
		return "–"
	}
	r := a.PerSec / b.PerSec
	if r >= 10 {
		return fmt.Sprintf("%.0f×", r)
	}
	return fmt.Sprintf("%.2f×", r)
}

func writeMarkdown(w io.Writer, ss []summary, fs *flashSummary, systems []string, concs []int) {
	runs := 0
	for _, s := range ss {
		runs = max(runs, s.Runs)
	}
	fmt.Fprintf(w, "Statements (messages) acknowledged per second, median of %d run(s), and ratios:\n\n", runs)
	fmt.Fprintf(w, "| in flight | %s | tillit / nats-sync | tillit / nats-default |\n", strings.Join(systems, " | "))
	fmt.Fprintf(w, "|---:|%s---:|---:|\n", strings.Repeat("---:|", len(systems)))
	for _, c := range concs {
		fmt.Fprintf(w, "| %d |", c)
		for _, sys := range systems {
			if s := find(ss, sys, c); s != nil {
				fmt.Fprintf(w, " %s |", harness.Fnum(s.PerSec))
			} else {
				fmt.Fprint(w, " – |")
			}
		}
		t := find(ss, "tillit", c)
		fmt.Fprintf(w, " %s | %s |\n", ratioCell(t, find(ss, "nats-sync", c)), ratioCell(t, find(ss, "nats-default", c)))
	}

	fmt.Fprintf(w, "\nLatency from send to acknowledgment (tillit: B's receipt back at A; NATS: the PubAck) in ms, peak RSS and CPU (medians):\n\n")
	fmt.Fprintln(w, "| system | in flight | per s | p50 | p99 | max | durable p50 | durable p99 | peak RSS MiB | CPU ms / 1k | errors | other load | runs |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, sys := range systems {
		for _, c := range concs {
			s := find(ss, sys, c)
			if s == nil {
				continue
			}
			dp50, dp99 := "–", "–"
			if s.DurableP50 > 0 {
				dp50, dp99 = harness.Fnum(s.DurableP50), harness.Fnum(s.DurableP99)
			}
			fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %d | %.0f%% | %d |\n", sys, c, harness.Fnum(s.PerSec),
				harness.Fnum(s.P50), harness.Fnum(s.P99), harness.Fnum(s.Max), dp50, dp99, harness.Fnum(s.PeakRSSMiB), harness.Fnum(s.CPUPerK), s.Errors, 100*s.OtherCPU, s.Runs)
		}
	}

	if fs != nil {
		fmt.Fprintf(w, "\ntillit FLASH while %s ROUTINE statements drain (medians of %d run(s)):\n\n", harness.Fnum(float64(fs.Routine)), fs.Runs)
		fmt.Fprintln(w, "| FLASH sent | FLASH p50 ms | FLASH p99 ms | FLASH max ms | drain s | ROUTINE per s | peak RSS MiB | errors | other load |")
		fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
		fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s | %s | %d | %.0f%% |\n", fs.Flash, harness.Fnum(fs.FlashP50), harness.Fnum(fs.FlashP99), harness.Fnum(fs.FlashMax),
			harness.Fnum(fs.DrainSec), harness.Fnum(fs.RoutinePerSec), harness.Fnum(fs.PeakRSSMiB), fs.Errors, 100*fs.OtherCPU)
	}

	if !slices.Contains(systems, "tillit") {
		return
	}
	fmt.Fprintf(w, "\nGoals (both tillit nodes run in one process: its RSS is the two nodes' together):\n\n")
	fmt.Fprintln(w, "| goal | result |")
	fmt.Fprintln(w, "|---|---|")
	best, bestC, peak := 0.0, 0, 0.0
	var ratios []string
	allFive, haveSync := true, false
	for _, c := range concs {
		t := find(ss, "tillit", c)
		if t == nil {
			continue
		}
		if t.PerSec > best {
			best, bestC = t.PerSec, c
		}
		peak = max(peak, t.PeakRSSMiB)
		if n := find(ss, "nats-sync", c); n != nil {
			haveSync = true
			ratios = append(ratios, fmt.Sprintf("%s at %d", ratioCell(t, n), c))
			if t.RatioToSync < 5 {
				allFive = false
			}
		}
	}
	fmt.Fprintf(w, "| ≥ 50,000 statements/s end to end | %s: best %s/s at %d in flight |\n", verdict(best >= 50000), harness.Fnum(best), bestC)
	if haveSync {
		fmt.Fprintf(w, "| ≥ 5× nats-sync at every concurrency | %s: %s |\n", verdict(allFive), strings.Join(ratios, ", "))
	}
	if fs != nil {
		fmt.Fprintf(w, "| FLASH p99 < 25 ms while %s ROUTINE drain | %s: %s ms |\n", harness.Fnum(float64(fs.Routine)), verdict(fs.FlashP99 < 25 && fs.Flash > 0), harness.Fnum(fs.FlashP99))
		peak = max(peak, fs.PeakRSSMiB)
	}
	mb := peak * (1 << 20) / 1e6
	fmt.Fprintf(w, "| node RSS < 300 MB | %s: peak %s MB (%s MiB), both nodes |\n", verdict(mb < 300), harness.Fnum(mb), harness.Fnum(peak))
}

func verdict(ok bool) string {
	if ok {
		return "**met**"
	}
	return "**not met**"
}

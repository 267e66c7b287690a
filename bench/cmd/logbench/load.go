package main

import (
	"bufio"
	"context"
	"log"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// cpuStat is the machine-wide CPU time from /proc/stat, in clock ticks.
type cpuStat struct{ busy, total float64 }

// Linux reports /proc/stat in USER_HZ, which is 100 on every mainstream
// architecture.
const userHZ = 100

func readCPUStat() cpuStat {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return cpuStat{}
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return cpuStat{}
	}
	fields := strings.Fields(sc.Text())
	if len(fields) < 5 || fields[0] != "cpu" {
		return cpuStat{}
	}
	var st cpuStat
	for i, f := range fields[1:] {
		v, _ := strconv.ParseFloat(f, 64)
		st.total += v
		if i != 3 && i != 4 { // idle, iowait
			st.busy += v
		}
	}
	return st
}

func idleFraction(a, b cpuStat) float64 {
	if b.total <= a.total {
		return 1
	}
	return 1 - (b.busy-a.busy)/(b.total-a.total)
}

// awaitIdle waits until the machine is at least -wait-idle idle over one
// second, or -wait-idle-max has passed, and returns the last idle fraction.
func awaitIdle(ctx context.Context) float64 {
	deadline := time.Now().Add(*waitIdleMax)
	warned := false
	for {
		a := readCPUStat()
		select {
		case <-ctx.Done():
			return 0
		case <-time.After(time.Second):
		}
		idle := idleFraction(a, readCPUStat())
		if *waitIdle <= 0 || idle >= *waitIdle {
			return idle
		}
		if time.Now().After(deadline) {
			log.Printf("machine still only %.0f%% idle after %v; running anyway", 100*idle, *waitIdleMax)
			return idle
		}
		if !warned {
			log.Printf("machine only %.0f%% idle; waiting", 100*idle)
			warned = true
		}
	}
}

// otherCPU estimates the fraction of all CPUs that processes other than the
// measured one used during a run.
func otherCPU(a, b cpuStat, elapsed time.Duration, ownCPU float64) float64 {
	busy := (b.busy - a.busy) / userHZ
	capacity := elapsed.Seconds() * float64(runtime.NumCPU())
	if capacity <= 0 {
		return 0
	}
	return max(0, busy-ownCPU) / capacity
}

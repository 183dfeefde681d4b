package chaos

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quobyte/quobyte-mesos/test/zktest"
)

var (
	seedFlag  = flag.Int64("seed", 0, "replay this seed only")
	seedsFlag = flag.Int("seeds", 0, "run seeds 1..N (make chaos SEEDS=N) and print the table")
	phaseFlag = flag.Duration("phase", 30*time.Second, "length of the fault phase")
	schedFlag = flag.String("schedule", "", "replay the schedule in this file (as a failing run prints it)")
	haFlag    = flag.Bool("ha", false, "with -seed, -seeds or -schedule: two framework instances electing a leader in ZooKeeper")
	keepLogs  = flag.Bool("keeplogs", false, "keep the framework's log of passing runs too")
	parallel  = flag.Int("parallel", 4, "runs at a time")
)

// ciSeeds are the seeds `make test` runs; ciHASeeds those it runs with two
// framework instances and a real ZooKeeper.
var (
	ciSeeds   = []int64{1, 2, 3}
	ciHASeeds = []int64{1}
)

// TestChaos runs seeded fault schedules over the whole system: by default
// the CI seeds; -seed N replays one, -seeds N runs 1..N and prints the
// table, -schedule FILE replays a schedule as a failing run printed it.
func TestChaos(t *testing.T) {
	var scheds []Schedule
	switch {
	case *schedFlag != "":
		b, err := os.ReadFile(*schedFlag)
		if err != nil {
			t.Fatal(err)
		}
		s, err := ParseSchedule(string(b))
		if err != nil {
			t.Fatal(err)
		}
		scheds = []Schedule{s}
	case *seedFlag != 0:
		scheds = []Schedule{Generate(*seedFlag, *phaseFlag, *haFlag)}
	case *seedsFlag > 0:
		for i := 1; i <= *seedsFlag; i++ {
			scheds = append(scheds, Generate(int64(i), *phaseFlag, *haFlag))
		}
	default:
		for _, seed := range ciSeeds {
			scheds = append(scheds, Generate(seed, *phaseFlag, false))
		}
	}
	runAll(t, scheds)
}

// TestChaos_HA runs the CI's HA seeds: two framework instances elect a
// leader in a real ZooKeeper, and killing the leader is one more fault.
// It skips when ZooKeeper is not installed.
func TestChaos_HA(t *testing.T) {
	if *schedFlag != "" || *seedFlag != 0 || *seedsFlag > 0 {
		t.Skip("a replay or a table run: TestChaos runs it (-ha for HA)")
	}
	var scheds []Schedule
	for _, seed := range ciHASeeds {
		scheds = append(scheds, Generate(seed, *phaseFlag, true))
	}
	runAll(t, scheds)
}

// runAll runs schedules, parallel at most at a time, checks that no
// goroutine outlives them, and logs the table.
func runAll(t *testing.T, scheds []Schedule) {
	var zk *zktest.Server
	for _, s := range scheds {
		if s.HA && zk == nil {
			// The server's tick bounds the session timeouts it grants
			// (2 to 20 ticks); the spec asks for haSessionTimeout.
			zk = zktest.StartWith(t, zktest.Options{Tick: 200 * time.Millisecond})
		}
	}
	before := runtime.NumGoroutine()
	results := make([]Result, len(scheds))
	sem := make(chan struct{}, max(*parallel, 1))
	t.Run("seeds", func(t *testing.T) {
		for i, s := range scheds {
			t.Run(fmt.Sprintf("seed=%d", s.Seed), func(t *testing.T) {
				t.Parallel()
				sem <- struct{}{}
				defer func() { <-sem }()
				results[i] = runOne(t, s, zk)
			})
		}
	})
	if !t.Failed() {
		checkGoroutines(t, before)
	}
	t.Log("\n" + Table(results))
}

// runOne runs one schedule and reports its violations with the schedule
// and where the framework's whole log is.
func runOne(t *testing.T, s Schedule, zk *zktest.Server) Result {
	logFile := filepath.Join(os.TempDir(), fmt.Sprintf("quobyte-chaos-seed-%d.log", s.Seed))
	o := Options{Schedule: s, Logf: t.Logf, LogFile: logFile}
	if s.HA {
		var mu sync.Mutex
		o.ZooKeeper = func() ZKProxy {
			mu.Lock()
			defer mu.Unlock()
			return zkProxy{zk.Proxy(t)}
		}
	}
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("seed %d: %v\nschedule:\n%s", s.Seed, err, s)
	}
	if len(res.Violations) == 0 {
		if !*keepLogs {
			os.Remove(logFile)
		}
		return res
	}
	var b strings.Builder
	for _, v := range res.Violations {
		fmt.Fprintf(&b, "  %s\n", v)
	}
	t.Errorf("seed %d: %d violation(s):\n%s\nreplay: go test ./test/chaos -run 'TestChaos$' -seed %d -phase %s (-ha)\nschedule:\n%s\nframework log tail:\n%s\nwhole log: %s",
		s.Seed, len(res.Violations), b.String(), s.Seed, s.Phase, s, res.Log, logFile)
	return res
}

// zkProxy adapts zktest's proxy.
type zkProxy struct{ p *zktest.Proxy }

func (z zkProxy) URL(path string) string            { return z.p.URL(path) }
func (z zkProxy) Cut(match func(*net.TCPAddr) bool) { z.p.Cut(match) }
func (z zkProxy) Heal()                             { z.p.Heal() }

// checkGoroutines fails when more goroutines run than before the runs,
// once everything has had time to stop (idle connections close with the
// servers, timers fire and end).
func checkGoroutines(t *testing.T, before int) {
	deadline := time.Now().Add(15 * time.Second)
	n := runtime.NumGoroutine()
	for n > before && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	if n > before {
		var b strings.Builder
		_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
		t.Errorf("%s: %d goroutines after the runs, %d before:\n%s", invNoLeak, n, before, b.String())
	}
}

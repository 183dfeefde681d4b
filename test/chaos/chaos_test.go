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
	runsFlag  = flag.Int("runs", 8, "runs at a time")
)

// ciSeeds are the seeds `make test` runs with one framework instance,
// ciHASeeds those it runs with two and a real ZooKeeper; the regressions
// (regress_test.go) run with them.
var (
	ciSeeds   = []int64{1, 2, 3}
	ciHASeeds = []int64{1}
)

// run is one run of TestChaos: a name and its schedule.
type namedSchedule struct {
	name string
	s    Schedule
}

// TestChaos runs seeded fault schedules over the whole system: by default
// the CI seeds and the regressions, all at once; -seed N replays one,
// -seeds N runs 1..N (-runs at a time) and prints the table, -schedule
// FILE replays a schedule as a failing run printed it.
func TestChaos(t *testing.T) {
	var runs []namedSchedule
	add := func(s Schedule) {
		runs = append(runs, namedSchedule{fmt.Sprintf("seed=%d,ha=%t", s.Seed, s.HA), s})
	}
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
		add(s)
	case *seedFlag != 0:
		add(Generate(*seedFlag, *phaseFlag, *haFlag))
	case *seedsFlag > 0:
		for i := 1; i <= *seedsFlag; i++ {
			add(Generate(int64(i), *phaseFlag, *haFlag))
		}
	default:
		for _, seed := range ciSeeds {
			add(Generate(seed, *phaseFlag, false))
		}
		for _, seed := range ciHASeeds {
			add(Generate(seed, *phaseFlag, true))
		}
		for _, rg := range regressions {
			s, err := ParseSchedule(rg.schedule)
			if err != nil {
				t.Fatalf("regression %q: %v", rg.name, err)
			}
			runs = append(runs, namedSchedule{"regression: " + rg.name, s})
		}
	}
	runAll(t, runs)
}

// runAll runs schedules, -runs at a time, then reports each as a subtest,
// checks that no goroutine outlives them, and prints the table.
func runAll(t *testing.T, runs []namedSchedule) {
	var zk *zktest.Server
	for _, r := range runs {
		if r.s.HA && zk == nil {
			// The server's tick bounds the session timeouts it grants
			// (2 to 20 ticks); the spec asks for haSessionTimeout.
			zk = zktest.StartWith(t, zktest.Options{Tick: 200 * time.Millisecond})
		}
	}
	before := runtime.NumGoroutine()
	type outcome struct {
		res  Result
		err  error
		log  strings.Builder
		file string
	}
	outs := make([]*outcome, len(runs))
	// The runs go in a subtest of their own, so that the ZooKeeper
	// proxies it makes are closed when it ends, before the goroutines
	// are counted.
	t.Run("runs", func(t *testing.T) {
		var mu sync.Mutex
		sem := make(chan struct{}, max(*runsFlag, 1))
		var wg sync.WaitGroup
		for i, r := range runs {
			o := &outcome{file: filepath.Join(os.TempDir(), fmt.Sprintf("quobyte-chaos-%d-%s.log", os.Getpid(), strings.NewReplacer(" ", "_", ":", "", "/", "_", ",", "_").Replace(r.name)))}
			outs[i] = o
			opts := Options{Schedule: r.s, LogFile: o.file, Logf: func(format string, args ...any) {
				mu.Lock()
				defer mu.Unlock()
				fmt.Fprintf(&o.log, format+"\n", args...)
			}}
			if r.s.HA {
				opts.ZooKeeper = func() ZKProxy {
					mu.Lock()
					defer mu.Unlock()
					return zkProxy{zk.Proxy(t)}
				}
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				o.res, o.err = Run(context.Background(), opts)
			}()
		}
		wg.Wait()
	})
	results := make([]Result, len(runs))
	for i, r := range runs {
		o := outs[i]
		results[i] = o.res
		t.Run(r.name, func(t *testing.T) {
			if o.err != nil {
				t.Fatalf("%v\n%s", o.err, o.log.String())
			}
			if len(o.res.Violations) == 0 {
				if !*keepLogs {
					os.Remove(o.file)
				}
				return
			}
			var b strings.Builder
			for _, v := range o.res.Violations {
				fmt.Fprintf(&b, "  %s\n", v)
			}
			t.Errorf("%d violation(s):\n%s\nreplay: go test ./test/chaos -run 'TestChaos$' -schedule FILE (the schedule below), or -seed %d -phase %s -ha=%t\nschedule:\n%s\nrun log:\n%s\nframework log tail:\n%s\nwhole log: %s",
				len(o.res.Violations), b.String(), r.s.Seed, r.s.Phase, r.s.HA, r.s, o.log.String(), o.res.Log, o.file)
		})
	}
	if !t.Failed() {
		checkGoroutines(t, before)
	}
	fmt.Println(Table(results))
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

package scale

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/framework"
	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/observe/taskid"
	"github.com/quobyte/quobyte-mesos/spec"
	"github.com/quobyte/quobyte-mesos/test/mesossim"
)

// options shape one convergence run.
type options struct {
	Agents             int
	AllocationInterval time.Duration
	// Timeout bounds the whole run (start to convergence).
	Timeout time.Duration
	// Layout says which devices each agent has (default standardLayout).
	Layout layout
	// Logf, if set, receives progress lines (testing.TB.Logf).
	Logf func(format string, args ...any)
	// MarkDevice: once converged and the offers suppressed, a device is
	// marked on an agent that had none of its type (measureMark).
	MarkDevice bool
}

// result is what a run measured. Times are offsets from the start of the
// run (before the simulated cluster starts).
type result struct {
	Agents   int
	Interval time.Duration
	// Subscribed: the framework's subscription began; Reconciled: the
	// planner's gate opened (the observer's implicit reconciliation settled).
	Subscribed, Reconciled time.Duration
	// ProbersLaunched: the last prober launch was sent.
	ProbersLaunched time.Duration
	// Probed (T0): the last agent's prober report arrived in the observer
	// (the latest Probe.ReceivedAt once every agent has one).
	Probed time.Duration
	// Converged (T1): the snapshot of the first plan that is empty while
	// every wanted task runs (and is healthy) was taken.
	Converged time.Duration
	// Intervals is (Converged - Probed) / Interval: the figure the target
	// ("at most three allocation intervals after the probers report")
	// speaks of.
	Intervals float64
	// WindowCPU is the CPU time the whole process (framework, simulated
	// master and harness) spent from T0 to T1: the work convergence took,
	// which varies less than its wall time on a shared machine.
	WindowCPU time.Duration
	// LaunchCPU is the CPU time the whole process spent from the first
	// reconciliation to T1: all the work of launching the cluster, probers
	// included. Where T0 falls among the launches moves work in and out of
	// WindowCPU; this one compares changes that cut work (A/B runs).
	LaunchCPU time.Duration
	// CoresUsed is the CPU the process used in each 100 ms from the first
	// reconciliation to T1, in cores (2 is all of a 2-core machine): where
	// the run waited rather than worked.
	CoresUsed []float64
	// Kinds: per kind, when its first and last launch went out and when its
	// last task turned RUNNING (offsets from the start), and how many
	// launches there were in all (more than wanted means relaunches).
	Kinds map[string]kindTimes
	// Offers lists the framework's REVIVE and SUPPRESS decisions, offset
	// from the start, in order.
	Offers []string
	// Plans is how many plans the loop made between T0 and T1 (snapshot
	// generations it planned from, as seen by polling: a lower bound).
	Plans int
	// With MarkDevice: how long after the marked device's report went out
	// the framework had it (MarkSeen) and its service ran (MarkRunning),
	// and MarkRunning in allocation intervals.
	MarkSeen, MarkRunning time.Duration
	MarkIntervals         float64
}

type kindTimes struct {
	FirstLaunch, LastLaunch, LastRunning time.Duration
	Launches, Running                    int
}

func (r result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d agents, allocation interval %s: converged %.2f intervals after the probers reported (%s of CPU in between, the simulated master's included)\n", r.Agents, r.Interval, r.Intervals, ms(r.WindowCPU))
	// (Before the longer lines: a benchmark's log is cut after ten.)
	fmt.Fprintf(&b, "  cores used per 100ms from the reconciliation to T1 (%s of CPU):", ms(r.LaunchCPU))
	for _, c := range r.CoresUsed {
		fmt.Fprintf(&b, " %.1f", c)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "  subscribed %s, reconciled %s, probers launched %s, T0 probed %s, T1 converged %s (T1-T0 %s, >=%d plans)\n",
		ms(r.Subscribed), ms(r.Reconciled), ms(r.ProbersLaunched), ms(r.Probed), ms(r.Converged), ms(r.Converged-r.Probed), r.Plans)
	kinds := make([]string, 0, len(r.Kinds))
	for k := range r.Kinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		t := r.Kinds[k]
		fmt.Fprintf(&b, "  %-10s launched %s..%s, last RUNNING %s; %d launches, %d running\n", k, ms(t.FirstLaunch), ms(t.LastLaunch), ms(t.LastRunning), t.Launches, t.Running)
	}
	fmt.Fprintf(&b, "  offers: %s", strings.Join(r.Offers, "; "))
	if r.MarkRunning > 0 {
		fmt.Fprintf(&b, "\n  a device marked on a converged cluster: seen after %s, its service RUNNING after %s (%.2f intervals)",
			ms(r.MarkSeen), ms(r.MarkRunning), r.MarkIntervals)
	}
	return b.String()
}

// cpuAt is the CPU time the process had used at a time.
type cpuAt struct {
	at  time.Time
	cpu time.Duration
}

// coresUsed turns samples into the cores used in each step after the
// first sample (the last sample in or before each step's end counts).
func coresUsed(samples []cpuAt, step time.Duration) []float64 {
	var out []float64
	if len(samples) == 0 {
		return out
	}
	prev, i := samples[0], 0
	for end := samples[0].at.Add(step); !end.After(samples[len(samples)-1].at.Add(step)); end = end.Add(step) {
		for i+1 < len(samples) && !samples[i+1].at.After(end) {
			i++
		}
		out = append(out, float64(samples[i].cpu-prev.cpu)/float64(step))
		prev = samples[i]
	}
	return out
}

// processCPU is the CPU time this process has used (user and system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// windowProfile profiles a run from T0 to T1 when SCALE_PROFILE names a
// path prefix: prefix.cpu is the CPU profile of the window, prefix.allocs0
// and prefix.allocs1 are the allocation profiles at its ends (go tool pprof
// -sample_index=alloc_space -base prefix.allocs0 prefix.allocs1: what the
// window allocated). Whole-run profiles (go test -cpuprofile) are mostly
// the 5 s the first reconciliation waits and the probers' launches.
type windowProfile struct {
	prefix string
	logf   func(string, ...any)
	cpu    *os.File // nil once stopped
}

func (p *windowProfile) start() {
	if p.prefix == "" {
		return
	}
	f, err := os.Create(p.prefix + ".cpu")
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		p.logf("window profile: %v", err)
		p.prefix = ""
		return
	}
	p.cpu = f
	p.allocs(".allocs0")
}

func (p *windowProfile) stop() {
	if p.cpu == nil {
		return
	}
	pprof.StopCPUProfile()
	p.cpu.Close()
	p.cpu = nil
	p.allocs(".allocs1")
}

func (p *windowProfile) allocs(suffix string) {
	f, err := os.Create(p.prefix + suffix)
	if err != nil {
		p.logf("window profile: %v", err)
		return
	}
	defer f.Close()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		p.logf("window profile: %v", err)
	}
}

func ms(d time.Duration) string { return d.Round(time.Millisecond).String() }

// wanted is the converged layout: kind -> live tasks.
func wanted(n int, lay layout) map[string]int {
	w := map[string]int{taskid.ProberKind: n, string(spec.API): 1, string(spec.Webconsole): 1}
	for i := 0; i < n; i++ {
		for _, t := range lay(i) {
			switch t {
			case spec.DirDevice:
				w[string(spec.Registry)]++
			case spec.MetadataDevice:
				w[string(spec.Metadata)]++
			case spec.DataDevice:
				w[string(spec.Data)]++
			}
		}
	}
	return w
}

// specText is a production-like spec (default resources and ports, the
// plain-command runtime since the simulated agents run nothing) with short
// health timings. The prober interval is long so that no keep-alive is due
// during a run (see proberReports).
func specText(masterURL, idFile string) string {
	return fmt.Sprintf(`mesos {
  master             = %q
  framework_name     = "quobyte-scale"
  failover_timeout   = "1h"
  framework_id_store = "file://%s"
}

quobyte {
  version     = "scale"
  runtime     = "command"
  command     = "exec /bin/true"
  device_root = "/srv/quobyte"
}

prober {
  interval = "10m"
  mode     = "directories"
}
`, masterURL, idFile)
}

// run starts a simulated cluster and the framework in this process and
// measures how a fresh cluster converges. It stops both before returning.
func run(ctx context.Context, o options) (result, error) {
	if o.Layout == nil {
		o.Layout = standardLayout
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	res := result{Agents: o.Agents, Interval: o.AllocationInterval, Kinds: map[string]kindTimes{}}
	dir, err := os.MkdirTemp("", "quobyte-scale-")
	if err != nil {
		return res, fmt.Errorf("creating the run's directory: %w", err)
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()

	marks := &marked{types: map[int][]spec.DeviceType{}}
	index := make(map[string]int, o.Agents)
	agents := make([]mesossim.AgentConfig, o.Agents)
	for i := range agents {
		h := fmt.Sprintf("node%05d", i)
		index[h] = i
		agents[i] = mesossim.DefaultAgent(h)
	}

	start := time.Now()
	simCtx, stopSim := context.WithCancel(context.Background())
	defer stopSim()
	sim, err := mesossim.Start(simCtx, mesossim.Config{
		Mode:               mesossim.ModeSimulated,
		AllocationInterval: o.AllocationInterval,
		// Heartbeats and update retries are not what is measured; at
		// defaults they only add load.
		HeartbeatInterval:         15 * time.Second,
		StatusUpdateRetryInterval: 10 * time.Second,
		Agents:                    agents,
		ExecutorData:              proberReports(index, marks.layout(o.Layout)),
		WorkDir:                   filepath.Join(dir, "sim"),
		Rand:                      rand.New(rand.NewSource(1)),
	})
	if err != nil {
		return res, fmt.Errorf("starting the simulated cluster: %w", err)
	}
	defer sim.Close()

	specFile := filepath.Join(dir, "spec.hcl")
	if err := os.WriteFile(specFile, []byte(specText(sim.URL(), filepath.Join(dir, "framework-id"))), 0o644); err != nil {
		return res, fmt.Errorf("writing the spec: %w", err)
	}
	offers := &offerLog{start: start}
	fw, err := framework.New(framework.Config{
		SpecFile: specFile,
		Listen:   "127.0.0.1:0",
		Logger: hclog.New(&hclog.LoggerOptions{
			Level:  hclog.Info,
			Output: offers,
		}),
		// The executable is only served to agents that fetch the prober;
		// simulated agents fetch nothing.
		Executable: os.Args[0],
		// Tick stays at run's default (5s): it decides when a deferred
		// REVIVE is retried, so it is part of what is measured.
	})
	if err != nil {
		return res, fmt.Errorf("building the framework: %w", err)
	}
	fwCtx, stopFw := context.WithCancel(context.Background())
	fwDone := make(chan error, 1)
	go func() { fwDone <- fw.Run(fwCtx) }()
	defer func() {
		stopFw()
		<-fwDone
	}()

	want := wanted(o.Agents, o.Layout)
	var t0, t1, reconciled time.Time
	var cpuAtT0 time.Duration
	var cpuTimes []cpuAt // from the last sample before the reconciliation once it is seen
	prof := &windowProfile{prefix: os.Getenv("SCALE_PROFILE"), logf: o.Logf}
	defer prof.stop()
	var lastGen uint64
	plans := 0
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	lastLog := start
	for t1.IsZero() {
		select {
		case <-ctx.Done():
			s := fw.Snapshot()
			return res, fmt.Errorf("no convergence within %s (T0 %v): %s; framework warnings: %s", o.Timeout, !t0.IsZero(), progress(s, fw.Plan(), want), offers.warnings())
		case err := <-fwDone:
			return res, fmt.Errorf("the framework stopped: %w", err)
		case <-tick.C:
		}
		s, p := fw.Snapshot(), fw.Plan()
		if time.Since(lastLog) > 10*time.Second {
			lastLog = time.Now()
			o.Logf("%s: %s; framework warnings: %s", ms(time.Since(start)), progress(s, p, want), offers.warnings())
		}
		// The CPU used so far, every tick: the reconciled snapshot is seen
		// only after its plan's apply (the probers' launches), which
		// LaunchCPU includes.
		cpuTimes = append(cpuTimes, cpuAt{time.Now(), processCPU()})
		// The loop publishes the planned snapshot before it applies the
		// plan and the plan after: a snapshot counts as looked at only once
		// its plan is out too, else the last plan of a run is never seen
		// (nothing changes after convergence).
		if s == nil || p == nil || p.Generation != s.Generation || s.Generation == lastGen {
			continue
		}
		lastGen = s.Generation
		if reconciled.IsZero() && s.Subscription.Reconciled {
			reconciled = s.Time
			i := sort.Search(len(cpuTimes), func(i int) bool { return cpuTimes[i].at.After(reconciled) })
			cpuTimes = cpuTimes[max(i-1, 0):]
		}
		if !t0.IsZero() {
			plans++
		}
		if t0.IsZero() {
			if at, ok := allProbed(s, o.Agents); ok {
				t0 = at
				cpuAtT0 = processCPU()
				prof.start()
				o.Logf("%s: every prober reported (T0 = %s)", ms(time.Since(start)), ms(t0.Sub(start)))
			}
			continue
		}
		if p.IsNoOp() && converged(s, want) {
			t1 = s.Time
			now := processCPU()
			res.WindowCPU, res.LaunchCPU = now-cpuAtT0, now-cpuTimes[0].cpu
			res.CoresUsed = coresUsed(cpuTimes, 100*time.Millisecond)
			prof.stop()
		}
	}
	final := fw.Snapshot()
	res.Probed, res.Converged, res.Plans = t0.Sub(start), t1.Sub(start), plans
	res.Intervals = float64(t1.Sub(t0)) / float64(o.AllocationInterval)
	res.Subscribed = final.Subscription.Since.Sub(start)
	res.Reconciled = reconciled.Sub(start)
	for _, t := range final.Tasks {
		k := res.Kinds[t.Kind]
		k.Launches++
		if !t.LaunchedAt.IsZero() {
			if k.FirstLaunch == 0 || t.LaunchedAt.Sub(start) < k.FirstLaunch {
				k.FirstLaunch = t.LaunchedAt.Sub(start)
			}
			if d := t.LaunchedAt.Sub(start); d > k.LastLaunch {
				k.LastLaunch = d
			}
		}
		if t.State == snapshot.Running {
			k.Running++
			if d := t.RunningSince.Sub(start); d > k.LastRunning {
				k.LastRunning = d
			}
		}
		res.Kinds[t.Kind] = k
	}
	res.ProbersLaunched = res.Kinds[taskid.ProberKind].LastLaunch
	res.Offers = offers.lines()
	for k, n := range want {
		if got := res.Kinds[k].Launches; got != n {
			return res, fmt.Errorf("%d launches of %s, want %d (a relaunch or a duplicate)", got, k, n)
		}
	}
	if o.MarkDevice {
		if err := measureMark(ctx, sim, fw, marks, o, offers, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// marked are device types marked on agents during a run, by agent index,
// beyond what the layout gives them.
type marked struct {
	mu    sync.Mutex
	types map[int][]spec.DeviceType
}

func (m *marked) add(i int, t spec.DeviceType) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.types[i] = append(m.types[i], t)
}

// layout is lay with the marked types added.
func (m *marked) layout(lay layout) layout {
	return func(i int) []spec.DeviceType {
		m.mu.Lock()
		defer m.mu.Unlock()
		return append(lay(i), m.types[i]...)
	}
}

// measureMark marks a METADATA_DEVICE on the last agent of a converged
// cluster, whose layout gives it none, once the framework has suppressed
// offers (so that the launch needs a REVIVE and an allocation, as in a
// cluster long at rest), and has the agent's prober report it unasked, as
// the real prober does when it sees a new marker. It measures from that
// report to the framework's snapshot having it and to the metadata task
// there RUNNING: the target is under one allocation interval plus the
// launch.
func measureMark(ctx context.Context, sim *mesossim.Cluster, fw *framework.Framework, marks *marked, o options, offers *offerLog, res *result) error {
	i := o.Agents - 1
	host := fmt.Sprintf("node%05d", i)
	for _, t := range o.Layout(i) {
		if t == spec.MetadataDevice {
			return fmt.Errorf("agent %s has a METADATA_DEVICE already", host)
		}
	}
	poll := time.NewTicker(5 * time.Millisecond)
	defer poll.Stop()
	for !offers.suppressed() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("offers not suppressed after convergence: %s", strings.Join(offers.lines(), "; "))
		case <-poll.C:
		}
	}
	marks.add(i, spec.MetadataDevice)
	m := time.Now()
	if err := sim.ExecutorReport(host); err != nil {
		return err
	}
	for res.MarkRunning == 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("the metadata service on %s marked %s ago is not running: %s", host, ms(time.Since(m)), progress(fw.Snapshot(), fw.Plan(), nil))
		case <-poll.C:
		}
		s := fw.Snapshot()
		a := s.Agent(agentIDOf(s, host))
		if a == nil || a.Probe == nil || a.Probe.ReceivedAt.Before(m) {
			continue
		}
		res.MarkSeen = a.Probe.ReceivedAt.Sub(m)
		for _, t := range s.Tasks {
			if t.Kind == string(spec.Metadata) && t.AgentID == a.ID && t.State == snapshot.Running {
				res.MarkRunning = t.RunningSince.Sub(m)
			}
		}
	}
	res.MarkIntervals = float64(res.MarkRunning) / float64(o.AllocationInterval)
	return nil
}

// agentIDOf returns the ID of the agent named host in s ("" if none).
func agentIDOf(s *snapshot.Snapshot, host string) string {
	for _, a := range s.Agents {
		if a.Hostname == host {
			return a.ID
		}
	}
	return ""
}

// allProbed reports whether every one of n agents has a prober report, and
// when the last one arrived.
func allProbed(s *snapshot.Snapshot, n int) (time.Time, bool) {
	if len(s.Agents) < n {
		return time.Time{}, false
	}
	var last time.Time
	for _, a := range s.Agents {
		if a.Probe == nil {
			return time.Time{}, false
		}
		if a.Probe.ReceivedAt.After(last) {
			last = a.Probe.ReceivedAt
		}
	}
	return last, true
}

// converged reports whether every wanted task is live, RUNNING and (for
// services, which all have a health check) healthy, and nothing else is live.
func converged(s *snapshot.Snapshot, want map[string]int) bool {
	got := map[string]int{}
	for _, t := range s.Tasks {
		if t.State.Terminal() {
			continue
		}
		if t.State != snapshot.Running {
			return false
		}
		if t.Kind != taskid.ProberKind && (t.Healthy == nil || !*t.Healthy) {
			return false
		}
		got[t.Kind]++
	}
	for k, n := range want {
		if got[k] != n {
			return false
		}
	}
	return len(got) == len(want)
}

// progress says where a run stands, for logs and timeouts.
func progress(s *snapshot.Snapshot, p *controller.Result, want map[string]int) string {
	if s == nil {
		return "no snapshot yet"
	}
	probed, running, other := 0, map[string]int{}, map[string]int{}
	for _, a := range s.Agents {
		if a.Probe != nil {
			probed++
		}
	}
	for _, t := range s.Tasks {
		switch {
		case t.State == snapshot.Running && (t.Kind == taskid.ProberKind || (t.Healthy != nil && *t.Healthy)):
			running[t.Kind]++
		case t.State == snapshot.Running:
			other[t.Kind+"/RUNNING-not-healthy"]++
		default:
			other[t.Kind+"/"+string(t.State)]++
		}
	}
	out := fmt.Sprintf("generation %d, %d agents, %d probed, running healthy %v, other %v (want %v)", s.Generation, len(s.Agents), probed, running, other, want)
	if p != nil {
		out += fmt.Sprintf(", plan %d: %+v", p.Generation, p.Counts())
		if len(p.Blocked) > 0 {
			out += fmt.Sprintf(", first blocked: %s", p.Blocked[0].Reason)
		}
	}
	return out
}

// offerLog is the framework's log output: it keeps, with their time, the
// lines that say how offers were steered (revive, suppress) and drops the
// rest (thousands of launch lines
// at 5,000 agents).
type offerLog struct {
	start time.Time
	mu    sync.Mutex
	kept  []string
	// warns counts warning and error lines; the first few are kept, since
	// a failed call (and the backoff it causes) explains a slow run.
	warns     int
	firstWarn []string
}

func (l *offerLog) Write(p []byte) (int, error) {
	now := time.Now()
	for _, line := range bytes.Split(p, []byte("\n")) {
		s := string(line)
		switch {
		case strings.Contains(s, "revive offers"), strings.Contains(s, "suppress offers"):
			// From the message on: the level and logger name say nothing here.
			msg := s
			for _, m := range []string{"revive offers", "suppress offers"} {
				if i := strings.Index(s, m); i >= 0 {
					msg = s[i:]
					break
				}
			}
			l.mu.Lock()
			l.kept = append(l.kept, ms(now.Sub(l.start))+" "+msg)
			l.mu.Unlock()
		case strings.Contains(s, "[WARN]"), strings.Contains(s, "[ERROR]"):
			l.mu.Lock()
			l.warns++
			if len(l.firstWarn) < 5 {
				if len(s) > 400 {
					s = s[:400] + "..."
				}
				l.firstWarn = append(l.firstWarn, ms(now.Sub(l.start))+" "+s)
			}
			l.mu.Unlock()
		}
	}
	return len(p), nil
}

// warnings summarises the warning and error lines seen so far.
func (l *offerLog) warnings() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.warns == 0 {
		return "none"
	}
	return fmt.Sprintf("%d, first: %s", l.warns, strings.Join(l.firstWarn, " | "))
}

// suppressed reports whether the last offer decision was a SUPPRESS.
func (l *offerLog) suppressed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.kept) > 0 && strings.Contains(l.kept[len(l.kept)-1], "suppress offers")
}

func (l *offerLog) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.kept...)
}

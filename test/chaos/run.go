package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/framework"
	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/statusapi"
	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/observe"
	"github.com/quobyte/quobyte-mesos/observe/leader"
	"github.com/quobyte/quobyte-mesos/observe/mesosconn"
	"github.com/quobyte/quobyte-mesos/spec"
	"github.com/quobyte/quobyte-mesos/test/mesossim"
)

// The simulated cluster's timings: Mesos' own, shortened so that a fault
// phase of half a minute sees many detections, reregistrations and
// retries.
const (
	// AllocationInterval is the master's; the convergence bound is stated
	// in it.
	AllocationInterval = 200 * time.Millisecond
	heartbeat          = time.Second
	updateRetry        = 500 * time.Millisecond
	pingTimeout        = 200 * time.Millisecond // x5: an agent cut off is noticed after 1s
	reregisterDelay    = 300 * time.Millisecond
	executorReregister = 300 * time.Millisecond
	// SettleBound is how many allocation intervals after the faults stop
	// the cluster must have converged within: the longest backoff (2s), a
	// replacement of every service of a kind one after another after a
	// version change, health deadlines, with room for a busy machine.
	SettleBound = 300
	// stableFor: converged means converged and staying so this long.
	stableFor = time.Second
	// memoryBound bounds the live heap of the whole process.
	memoryBound = 512 << 20
)

// ZKProxy is a cuttable path to ZooKeeper (test/zktest's Proxy): one per
// framework instance, so that killing the leader can cut it off as a
// crash would, without closing its session.
type ZKProxy interface {
	URL(path string) string
	Cut(match func(*net.TCPAddr) bool)
	Heal()
}

// Options configure a run.
type Options struct {
	Schedule Schedule
	// ZooKeeper returns a new proxy to a ZooKeeper server; required when
	// the schedule is an HA one.
	ZooKeeper func() ZKProxy
	// Logf receives progress lines; nil: none.
	Logf func(format string, args ...any)
	// LogFile, if set, receives the framework's whole log (debug level).
	LogFile string
}

// Result is what a run did and found.
type Result struct {
	Seed int64
	// Faults counts the faults injected, by kind; Skipped those whose
	// target did not exist when their time came.
	Faults, Skipped map[FaultKind]int
	// Checks counts the invariant checks made, by invariant.
	Checks     map[string]int
	Violations []Violation
	// Warmup is how long the fresh cluster took to converge; Settle how
	// long after the faults stopped it took (-1: never, within the bound).
	Warmup, Settle time.Duration
	// Launches and Kills count tasks launched and framework kills that
	// reached a task; Calls the scheduler calls; Stale the calls refused
	// for their timing.
	Launches, Kills, Calls, Stale int
	// Retries counts the paused rollouts the operator restarted after
	// the faults stopped.
	Retries  int
	PeakHeap uint64
	// Log is the tail of the framework's log (for a failing run).
	Log string
}

// SettleIntervals is Settle in allocation intervals (-1: not converged).
func (r Result) SettleIntervals() float64 {
	if r.Settle < 0 {
		return -1
	}
	return Intervals(r.Settle, AllocationInterval)
}

// run is one chaos run: the simulated cluster, the framework instances, the
// world and the checker.
type run struct {
	opts  Options
	sched Schedule
	logf  func(string, ...any)
	dir   string
	start time.Time
	w     *world
	chk   *checker
	sim   *mesossim.Cluster
	model specModel
	log   *logSink
	res   *Result

	instances []*instance
	callSeq   int
	// streams maps a SUBSCRIBE's stream to the instance (webui URL) that
	// opened it; lastSub is the latest successful SUBSCRIBE.
	streams map[string]string
	lastSub mesossim.CallRecord
}

// instance is one framework process (of one, or of two with HA).
type instance struct {
	name     string
	specPath string
	proxy    ZKProxy
	fw       *framework.Framework
	cancel   context.CancelFunc
	done     chan error
}

// Run executes a schedule: it starts the simulated cluster and the
// framework, waits for the fresh cluster to converge, injects the faults,
// stops them, waits for the cluster to settle, and checks the invariants
// throughout. It returns an error only when the run itself could not be
// made (the violations are in the Result).
func Run(ctx context.Context, o Options) (Result, error) {
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.Schedule.HA && o.ZooKeeper == nil {
		return Result{}, errors.New("chaos: an HA schedule needs a ZooKeeper")
	}
	res := &Result{Seed: o.Schedule.Seed, Faults: map[FaultKind]int{}, Skipped: map[FaultKind]int{}, Settle: -1}
	dir, err := os.MkdirTemp("", "quobyte-chaos-")
	if err != nil {
		return *res, fmt.Errorf("chaos: %w", err)
	}
	defer os.RemoveAll(dir)
	r := &run{opts: o, sched: o.Schedule, logf: o.Logf, dir: dir, start: time.Now(), log: &logSink{}, res: res,
		streams: map[string]string{}}
	if o.LogFile != "" {
		f, err := os.Create(o.LogFile)
		if err != nil {
			return *res, fmt.Errorf("chaos: %w", err)
		}
		defer f.Close()
		r.log.file = f
	}
	r.w = newWorld(time.Now)
	r.chk = newChecker(r.w, r.start)
	r.w.chk = r.chk
	err = r.execute(ctx)
	r.shutdown()
	res.Checks = r.chk.checks
	res.Violations = r.chk.violations
	res.Log = r.log.tail()
	for _, t := range r.w.tasks {
		res.Launches++
		if t.fwKill {
			res.Kills++
		}
	}
	return *res, err
}

func (r *run) execute(ctx context.Context) error {
	agents := make([]mesossim.AgentConfig, 0, initialHosts)
	for i := 1; i <= initialHosts; i++ {
		h, err := r.addHost(hostName(i), initialDevices(i))
		if err != nil {
			return err
		}
		agents = append(agents, h)
	}
	sim, err := mesossim.Start(context.Background(), mesossim.Config{
		Mode:                          mesossim.ModeSimulated,
		RuntimeFactory:                r.w.runtimeFactory,
		Agents:                        agents,
		Masters:                       2,
		AllocationInterval:            AllocationInterval,
		HeartbeatInterval:             heartbeat,
		StatusUpdateRetryInterval:     updateRetry,
		AgentReregisterDelay:          reregisterDelay,
		AgentPingTimeout:              pingTimeout,
		MaxAgentPingTimeouts:          5,
		ExecutorReregistrationTimeout: executorReregister,
		WorkDir:                       filepath.Join(r.dir, "sim"),
		Rand:                          rand.New(rand.NewSource(r.sched.Seed)),
	})
	if err != nil {
		return fmt.Errorf("chaos: starting the simulated cluster: %w", err)
	}
	r.sim = sim
	r.model = specModel{Masters: sim.MasterURLs(), IDFile: filepath.Join(r.dir, "framework-id"), Version: "v1",
		API: 1, Webconsole: 1, MaxParallel: 1}
	n := 1
	if r.sched.HA {
		n = 2
	}
	for i := 0; i < n; i++ {
		in := &instance{name: fmt.Sprintf("fw%d", i+1), specPath: filepath.Join(r.dir, fmt.Sprintf("spec-%d.hcl", i+1))}
		if r.sched.HA {
			in.proxy = r.opts.ZooKeeper()
		}
		r.instances = append(r.instances, in)
	}
	if err := r.writeSpecs(); err != nil {
		return err
	}
	for _, in := range r.instances {
		if err := r.startInstance(in); err != nil {
			return err
		}
	}
	mon, stopMon := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.monitor(mon) }()
	defer func() { stopMon(); wg.Wait() }()

	// The faults start on a converged cluster.
	warm, ok := r.awaitConverged(ctx, SettleBound*AllocationInterval, false)
	if !ok {
		r.violate(invConverged, "the fresh cluster did not converge within %d allocation intervals: %s", SettleBound, r.why())
		return nil
	}
	r.res.Warmup = warm
	r.logf("seed %d: fresh cluster converged in %s; %d faults over %s", r.sched.Seed, warm.Round(time.Millisecond), len(r.sched.Faults), r.sched.Phase)

	phase := time.Now()
	for _, f := range r.sched.Faults {
		if !sleepUntil(ctx, phase.Add(f.At)) {
			return ctx.Err()
		}
		if err := r.apply(f); err != nil {
			r.res.Skipped[f.Kind]++
			r.logf("  %s: skipped: %v", f, err)
			continue
		}
		r.res.Faults[f.Kind]++
	}
	if !sleepUntil(ctx, phase.Add(r.sched.Phase)) {
		return ctx.Err()
	}
	r.logf("seed %d: faults stop at %s", r.sched.Seed, time.Now().UTC().Format("15:04:05.000"))
	if err := r.endFaults(); err != nil {
		return err
	}
	settle, ok := r.awaitConverged(ctx, SettleBound*AllocationInterval, true)
	if !ok {
		r.violate(invConverged, "not converged %d allocation intervals after the faults stopped: %s", SettleBound, r.why())
		return nil
	}
	r.res.Settle = settle
	// (Not r.res.SettleIntervals(): copying r.res would read what the
	// monitor is writing.)
	r.logf("seed %d: converged %.1f allocation intervals after the faults stopped", r.sched.Seed, Intervals(settle, AllocationInterval))
	return nil
}

func sleepUntil(ctx context.Context, t time.Time) bool {
	tm := time.NewTimer(time.Until(t))
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-tm.C:
		return true
	}
}

func (r *run) violate(inv, format string, args ...any) {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	r.chk.violate(r.w.now(), inv, format, args...)
}

// addHost creates a host's directory with its device markers and the
// world's record of it, and returns its agent's configuration.
func (r *run) addHost(name string, devices map[spec.DeviceType]string) (mesossim.AgentConfig, error) {
	dir := filepath.Join(r.dir, "hosts", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return mesossim.AgentConfig{}, fmt.Errorf("chaos: %w", err)
	}
	now := r.w.now()
	r.w.mu.Lock()
	h := r.w.hosts[name]
	if h == nil {
		h = &ghost{name: name, dir: dir, devices: map[spec.DeviceType][]deviceChange{}}
		r.w.hosts[name] = h
	}
	r.w.mu.Unlock()
	for t, d := range devices {
		if err := writeMarker(dir, d, t); err != nil {
			return mesossim.AgentConfig{}, err
		}
		r.w.mu.Lock()
		h.setDevice(t, now, d)
		r.w.mu.Unlock()
	}
	ac := mesossim.DefaultAgent(name)
	ac.HostDir = dir
	return ac, nil
}

func writeMarker(hostDir, device string, t spec.DeviceType) error {
	d := filepath.Join(hostDir, device)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	content := fmt.Sprintf("device.type=%s\ndevice.serial=%s\n", t, filepath.Base(hostDir)+"-"+device)
	if err := os.WriteFile(filepath.Join(d, "QUOBYTE_DEV_SETUP"), []byte(content), 0o644); err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	return nil
}

// writeSpecs writes the model to every instance's spec file and records
// the spec in force when it is valid (the framework keeps the old one
// otherwise).
func (r *run) writeSpecs() error {
	for _, in := range r.instances {
		m := r.model
		if in.proxy != nil {
			// A path of the run's own: runs share one ZooKeeper server,
			// and instances sharing a path elect one leader among them.
			m.HAZooKeeper = in.proxy.URL("/chaos/" + filepath.Base(r.dir))
		}
		if err := os.WriteFile(in.specPath, []byte(m.text()), 0o644); err != nil {
			return fmt.Errorf("chaos: writing the spec: %w", err)
		}
	}
	c, err := framework.LoadSpec(r.instances[0].specPath)
	if err != nil {
		if r.model.Invalid == "" {
			return fmt.Errorf("chaos: the generated spec is invalid: %w", err)
		}
		return nil
	}
	if r.model.Invalid != "" {
		return fmt.Errorf("chaos: the spec with mistake %q loads", r.model.Invalid)
	}
	r.w.mu.Lock()
	r.chk.specs = append(r.chk.specs, specAt{from: r.w.now(), c: c})
	r.w.mu.Unlock()
	return nil
}

// startInstance builds and runs a framework instance from its spec file.
func (r *run) startInstance(in *instance) error {
	fw, err := framework.New(framework.Config{
		SpecFile: in.specPath,
		Listen:   "127.0.0.1:0",
		Logger: hclog.New(&hclog.LoggerOptions{
			Name: in.name, Level: hclog.Debug, Output: r.log,
		}),
		Tick: time.Second,
		Conn: func(c *mesosconn.Config) {
			c.InitialBackoff, c.MaxBackoff = 100*time.Millisecond, time.Second
		},
		Observer: func(c *observe.Config) {
			c.ReconcileInitial, c.ReconcileMax, c.ImplicitSettle = 200*time.Millisecond, 2*time.Second, 300*time.Millisecond
		},
	})
	if err != nil {
		return fmt.Errorf("chaos: starting framework instance %s: %w", in.name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	in.fw, in.cancel, in.done = fw, cancel, make(chan error, 1)
	go func() { in.done <- fw.Run(ctx) }()
	return nil
}

// stopInstance stops an instance and waits until it has (a SIGTERM: it
// closes its subscription and, with HA, gives the leadership up).
func (r *run) stopInstance(in *instance) error {
	if in.fw == nil {
		return errors.New("not running")
	}
	in.cancel()
	select {
	case err := <-in.done:
		if err != nil {
			r.violate(invNoPanic, "framework instance %s stopped with an error: %v", in.name, err)
		}
	case <-time.After(15 * time.Second):
		r.violate(invNoPanic, "framework instance %s did not stop within 15s", in.name)
	}
	in.fw = nil
	return nil
}

// leader returns the instance acting now: the only one without HA, the
// elected one with it (nil while none is).
func (r *run) leader() *instance {
	if !r.sched.HA {
		return r.instances[0]
	}
	for _, in := range r.instances {
		if in.fw != nil && role(in.fw) == string(leader.Leader) {
			return in
		}
	}
	return nil
}

// role asks an instance's /v1/health for its role in the election.
func role(fw *framework.Framework) string {
	cl := http.Client{Timeout: time.Second}
	resp, err := cl.Get("http://" + fw.Addr().String() + "/v1/health")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var h statusapi.HealthReport
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		return ""
	}
	return h.Role
}

// shutdown stops the instances and the simulated cluster.
func (r *run) shutdown() {
	for _, in := range r.instances {
		if in.fw != nil {
			_ = r.stopInstance(in)
		}
	}
	if r.sim != nil {
		r.sim.Close()
	}
}

// monitor makes the periodic checks until ctx ends: time-driven
// invariants, the master's call log and refusals, the framework's log,
// the heap.
func (r *run) monitor(ctx context.Context) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var ms runtime.MemStats
	lastMem := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		r.pollCalls()
		r.w.mu.Lock()
		now := r.w.now()
		r.chk.periodic(now)
		r.chk.check(invNoPanic)
		if n := r.log.takePanics(); n > 0 {
			r.chk.violate(now, invNoPanic, "%d panic(s) recovered in the framework: %s", n, r.log.lastPanic())
		}
		r.w.mu.Unlock()
		if time.Since(lastMem) >= time.Second {
			lastMem = time.Now()
			runtime.ReadMemStats(&ms)
			r.w.mu.Lock()
			r.chk.check(invMemory)
			if ms.HeapAlloc > r.res.PeakHeap {
				r.res.PeakHeap = ms.HeapAlloc
				if ms.HeapAlloc > memoryBound {
					r.chk.violate(r.w.now(), invMemory, "live heap %d MiB, bound %d MiB", ms.HeapAlloc>>20, memoryBound>>20)
				}
			}
			r.w.mu.Unlock()
		}
	}
}

// pollCalls reads the master's new call records: KILLs are judged, every
// call is checked against the subscriptions (one instance acts), and the
// refusals are counted.
func (r *run) pollCalls() {
	recs := r.sim.Calls(r.callSeq)
	if len(recs) > 0 {
		r.callSeq = recs[len(recs)-1].Seq
	}
	rej := r.sim.Rejections()
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	r.res.Calls += len(recs)
	r.res.Stale = rej.Stale
	for _, c := range recs {
		if c.Type == "SUBSCRIBE" {
			if c.Stream != "" {
				r.streams[c.Stream] = c.WebUIURL
			}
			if c.Status == http.StatusOK {
				r.lastSub = c
			}
			continue
		}
		r.chk.check(invInstances)
		if from, ok := r.streams[c.Stream]; ok && r.lastSub.Seq != 0 && from != r.lastSub.WebUIURL && c.Time.After(r.lastSub.Time) {
			r.chk.violate(c.Time, invInstances, "%s call from %s after %s subscribed", c.Type, from, r.lastSub.WebUIURL)
		}
	}
	r.chk.calls(recs, rej, r.w.now())
}

// awaitConverged waits until the cluster has converged and stayed so for
// stableFor, or bound has passed; it returns how long it took (to the
// start of the stable stretch). With operator, it acts as an operator
// would on a rollout the framework paused (a replacement failed: a crash
// during the rollout looks like a bad version): it pushes the version
// again under a new name, which starts the rollout afresh.
func (r *run) awaitConverged(ctx context.Context, bound time.Duration, operator bool) (time.Duration, bool) {
	start := time.Now()
	deadline := start.Add(bound)
	var since, retried time.Time
	lastWhy := start
	for time.Now().Before(deadline) {
		if !sleepUntil(ctx, time.Now().Add(50*time.Millisecond)) {
			return 0, false
		}
		now := time.Now()
		ok, why := r.converged()
		if !ok && now.Sub(lastWhy) >= 10*time.Second {
			lastWhy = now
			r.logf("  %s: not converged yet: %s; %s", now.UTC().Format("15:04:05.000"), why, r.stateOfKills())
		}
		if !ok && operator && strings.Contains(why, "upgrade paused") && now.Sub(retried) > healthyDeadline+healthGrace {
			retried = now
			r.res.Retries++
			r.model.Version = fmt.Sprintf("retry%d", r.res.Retries)
			r.logf("  end: the rollout paused (%s); reload-version arg=%s", why, r.model.Version)
			if err := r.reload(); err != nil {
				r.violate(invConverged, "the operator's reload failed: %v", err)
			}
		}
		switch {
		case !ok:
			since = time.Time{}
		case since.IsZero():
			since = now
		case now.Sub(since) >= stableFor:
			return since.Sub(start), true
		}
	}
	return 0, false
}

// stateOfKills describes the tasks being killed, as their hosts and the
// master see them.
func (r *run) stateOfKills() string {
	master := map[string]string{}
	for _, fw := range r.sim.State().Frameworks {
		for _, t := range fw.Tasks {
			master[t.ID] = t.State
		}
	}
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	now := r.w.now()
	var out []string
	for _, t := range r.w.tasks {
		if !t.killed.IsZero() && now.Sub(t.killed) < time.Minute || t.live(now) && !t.killed.IsZero() {
			out = append(out, fmt.Sprintf("%s (master: %s)", t.describe(now), master[t.id]))
		}
	}
	sort.Strings(out)
	return "killed lately: " + strings.Join(out, "; ")
}

// why says what keeps the cluster from converging.
func (r *run) why() string {
	_, why := r.converged()
	return why
}

// converged reports whether the acting instance's plan is empty and every
// wanted task runs and serves, with nothing else running; else why not.
func (r *run) converged() (bool, string) {
	in := r.leader()
	if in == nil || in.fw == nil {
		return false, "no framework instance leads"
	}
	p, s := in.fw.Plan(), in.fw.Snapshot()
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	why := r.w.unconverged(r.chk.specAtTime(r.w.now()), r.w.now())
	switch {
	case p == nil || s == nil:
		return false, why + "; no plan yet"
	case p.Generation != s.Generation:
		return false, why + "; the last plan is not of the last snapshot"
	case !p.IsNoOp():
		return false, why + "; plan: " + planText(p)
	case why != "":
		return false, why + "; the plan is empty"
	}
	return true, ""
}

// planText summarises a plan for messages.
func planText(p *controller.Result) string {
	var parts []string
	for i, a := range p.Actions {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("... %d actions", len(p.Actions)))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %s on %s (%s)", a.Type, a.Kind, a.Hostname, a.Reason()))
	}
	for i, b := range p.Blocked {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("... %d blocked", len(p.Blocked)))
			break
		}
		parts = append(parts, fmt.Sprintf("blocked %s: %s", b.Item, b.Reason))
	}
	return strings.Join(parts, "; ")
}

// unconverged says what in the ground truth differs from what spec c wants
// ("" when nothing): on every present host one prober of the current
// config and one serving service of each device-bound kind whose device it
// has; Count serving instances of each kind that runs anywhere, on
// distinct hosts; nothing else. With w.mu held.
func (w *world) unconverged(c *spec.Cluster, now time.Time) string {
	if c == nil {
		return "no spec"
	}
	var hosts []string
	for name, h := range w.hosts {
		if h.agentID != "" {
			hosts = append(hosts, name)
		}
	}
	sort.Strings(hosts)
	wanted := map[*gtask]bool{}
	take := func(host, kind, config string) string {
		for _, t := range w.liveTasks(host, kind, now) {
			if !wanted[t] && t.config == config && t.killed.IsZero() && t.agentID == w.hosts[t.host].agentID &&
				(!t.service() || t.servingAt(now)) {
				wanted[t] = true
				return ""
			}
		}
		var there []string
		for _, t := range w.liveTasks(host, kind, now) {
			there = append(there, t.describe(now))
		}
		return fmt.Sprintf("no serving %s of config %s on %s (live there: %v)", kind, config, host, there)
	}
	anywhere := map[spec.Kind]int{}
	for _, h := range hosts {
		if !allowed(c, h, "prober") {
			continue
		}
		if why := take(h, "prober", c.Prober.ConfigHash); why != "" {
			return why
		}
		for _, k := range []spec.Kind{spec.Registry, spec.Metadata, spec.Data, spec.API, spec.Webconsole} {
			svc := c.Service(k)
			if svc == nil || !svc.Enabled || !allowed(c, h, string(k)) {
				continue
			}
			if !k.DeviceBound() {
				anywhere[k]++
				continue
			}
			if w.hosts[h].device(k.DeviceType(), now) == "" {
				continue
			}
			if why := take(h, string(k), svc.ConfigHash); why != "" {
				return why
			}
		}
	}
	for _, k := range []spec.Kind{spec.API, spec.Webconsole} {
		svc := c.Service(k)
		if svc == nil || !svc.Enabled {
			continue
		}
		for n := min(svc.Count, anywhere[k]); n > 0; n-- {
			if why := take("", string(k), svc.ConfigHash); why != "" {
				return why
			}
		}
	}
	for _, t := range w.liveTasks("", "", now) {
		if !wanted[t] {
			return fmt.Sprintf("%s %s runs on %s, not wanted", t.kind, t.id, t.host)
		}
	}
	return ""
}

// logSink is the framework instances' log: it counts recovered panics and
// keeps the last lines for a failing run's report.
type logSink struct {
	mu     sync.Mutex
	file   *os.File // every line, when set
	lines  []string // the last INFO, WARN and ERROR lines
	panics int
	last   string
}

const logKept = 400

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file != nil {
		_, _ = l.file.Write(p)
	}
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		if strings.Contains(line, "panicked") {
			l.panics++
			l.last = line
		}
		if !strings.Contains(line, "[DEBUG]") && !strings.Contains(line, "[TRACE]") {
			l.lines = append(l.lines, line)
		}
	}
	if len(l.lines) > 2*logKept {
		l.lines = append([]string(nil), l.lines[len(l.lines)-logKept:]...)
	}
	return len(p), nil
}

func (l *logSink) takePanics() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.panics
	l.panics = 0
	return n
}

func (l *logSink) lastPanic() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

func (l *logSink) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := l.lines
	if len(lines) > logKept {
		lines = lines[len(lines)-logKept:]
	}
	return strings.Join(lines, "\n")
}

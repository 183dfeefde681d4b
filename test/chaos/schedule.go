package chaos

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/quobyte/quobyte-mesos/spec"
)

// FaultKind names one kind of fault (or the end of one: heal, rejoin,
// start-framework).
type FaultKind string

// The faults a schedule mixes. Each line of a schedule is one of these with
// its parameters (Fault.String).
const (
	KillTask     FaultKind = "kill-task"     // a service's process dies: TASK_FAILED
	CrashLoop    FaultKind = "crash-loop"    // one of a series of crashes of the same service
	Partition    FaultKind = "partition"     // the master loses the agent (noticed after the ping timeouts)
	Heal         FaultKind = "heal"          // the partition ends
	RestartAgent FaultKind = "restart-agent" // checkpointing restart: same agent ID, tasks kept
	WipeAgent    FaultKind = "wipe-agent"    // restart with a wiped work dir: new agent ID, tasks lost
	RemoveAgent  FaultKind = "remove-agent"  // the agent leaves for good
	AddAgent     FaultKind = "add-agent"     // a new host joins, with marked devices
	// FailoverMaster: the leading master fails over to the other.
	FailoverMaster FaultKind = "failover-master"
	DropStream     FaultKind = "drop-stream" // the framework's event stream breaks
	DropUpdates    FaultKind = "drop-updates"
	DelayUpdates   FaultKind = "delay-updates"
	DupUpdates     FaultKind = "duplicate-updates"
	DropKills      FaultKind = "drop-kills"
	// StopFramework and StartFramework restart the framework (the same
	// framework ID, from its store); with several instances, the leader.
	StopFramework  FaultKind = "stop-framework"
	StartFramework FaultKind = "start-framework"
	// KillLeader kills the leading instance of two as SIGKILL would: its
	// ZooKeeper session is not closed, so the standby waits for it to
	// expire. StartFramework brings the instance back.
	KillLeader      FaultKind = "kill-leader"
	AddMarker       FaultKind = "add-marker"
	RemoveMarker    FaultKind = "remove-marker"
	ReloadVersion   FaultKind = "reload-version"   // Arg: the version; "-slow" and "-bad" name its behaviour
	ReloadCount     FaultKind = "reload-count"     // Arg: "api=N,webconsole=M"
	ReloadPlacement FaultKind = "reload-placement" // Arg: the host left out, "" for none
	ReloadParallel  FaultKind = "reload-parallel"  // N: upgrade.max_parallel
	ReloadInvalid   FaultKind = "reload-invalid"   // Arg: which mistake
)

// Fault is one line of a schedule: at offset At from the start of the fault
// phase, fault Kind with its parameters. Which task a kill-task hits is
// decided when it runs, from Host and Service: the live task of that kind
// there.
type Fault struct {
	At      time.Duration
	Kind    FaultKind
	Host    string
	Service string        // kill-task, crash-loop: the kind; markers: the device type
	Arg     string        // markers: the device directory; reloads: see the kinds
	N       int           // updates, kills
	D       time.Duration // restart downtime, update delay
}

// String is the fault as a schedule line: "12.345s partition host=host3".
func (f Fault) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%.3fs %s", f.At.Seconds(), f.Kind)
	if f.Host != "" {
		b.WriteString(" host=" + f.Host)
	}
	if f.Service != "" {
		b.WriteString(" service=" + f.Service)
	}
	if f.Arg != "" {
		b.WriteString(" arg=" + f.Arg)
	}
	if f.N != 0 {
		fmt.Fprintf(&b, " n=%d", f.N)
	}
	if f.D != 0 {
		b.WriteString(" d=" + f.D.String())
	}
	return b.String()
}

// Schedule is a seed's faults in order of time, and the cluster they run on.
type Schedule struct {
	Seed int64
	// HA runs two framework instances electing a leader in ZooKeeper.
	HA bool
	// Phase is how long faults are injected; then the cluster settles.
	Phase  time.Duration
	Faults []Fault
}

// String renders the schedule as text that ParseSchedule reads back.
func (s Schedule) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d\nphase %s\nha %t\n", s.Seed, s.Phase, s.HA)
	for _, f := range s.Faults {
		b.WriteString(f.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// ParseSchedule reads a schedule written by Schedule.String (a regression
// test keeps a failing seed's schedule so, whatever the generator becomes).
func ParseSchedule(text string) (Schedule, error) {
	var s Schedule
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		bad := func(err error) error { return fmt.Errorf("schedule line %d %q: %w", n+1, line, err) }
		switch fields[0] {
		case "seed":
			v, err := strconv.ParseInt(field(fields, 1), 10, 64)
			if err != nil {
				return s, bad(err)
			}
			s.Seed = v
			continue
		case "phase":
			d, err := time.ParseDuration(field(fields, 1))
			if err != nil {
				return s, bad(err)
			}
			s.Phase = d
			continue
		case "ha":
			v, err := strconv.ParseBool(field(fields, 1))
			if err != nil {
				return s, bad(err)
			}
			s.HA = v
			continue
		}
		at, err := time.ParseDuration(fields[0])
		if err != nil {
			return s, bad(err)
		}
		f := Fault{At: at, Kind: FaultKind(field(fields, 1))}
		if !knownFault(f.Kind) {
			return s, bad(fmt.Errorf("unknown fault %q", f.Kind))
		}
		for _, kv := range fields[min(2, len(fields)):] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return s, bad(fmt.Errorf("%q is not key=value", kv))
			}
			switch k {
			case "host":
				f.Host = v
			case "service":
				f.Service = v
			case "arg":
				f.Arg = v
			case "n":
				if f.N, err = strconv.Atoi(v); err != nil {
					return s, bad(err)
				}
			case "d":
				if f.D, err = time.ParseDuration(v); err != nil {
					return s, bad(err)
				}
			default:
				return s, bad(fmt.Errorf("unknown key %q", k))
			}
		}
		s.Faults = append(s.Faults, f)
	}
	if s.Phase <= 0 {
		return s, fmt.Errorf("schedule: no phase")
	}
	sort.SliceStable(s.Faults, func(i, j int) bool { return s.Faults[i].At < s.Faults[j].At })
	return s, nil
}

func field(fields []string, i int) string {
	if i < len(fields) {
		return fields[i]
	}
	return ""
}

var allFaults = []FaultKind{KillTask, CrashLoop, Partition, Heal, RestartAgent, WipeAgent, RemoveAgent, AddAgent,
	FailoverMaster, DropStream, DropUpdates, DelayUpdates, DupUpdates, DropKills, StopFramework, StartFramework,
	KillLeader, AddMarker, RemoveMarker, ReloadVersion, ReloadCount, ReloadPlacement, ReloadParallel, ReloadInvalid}

func knownFault(k FaultKind) bool {
	for _, f := range allFaults {
		if f == k {
			return true
		}
	}
	return false
}

// The cluster a run starts with: six hosts, registries (DIR_DEVICE) on the
// first three, metadata on host1, host4 and host5, data everywhere. Hosts
// that join later are host7, host8, ...
const initialHosts = 6

func hostName(i int) string { return fmt.Sprintf("host%d", i) }

// initialDevices is the device directory of each type on host i (1-based).
func initialDevices(i int) map[spec.DeviceType]string {
	d := map[spec.DeviceType]string{spec.DataDevice: "data"}
	if i <= 3 {
		d[spec.DirDevice] = "dir"
	}
	if i == 1 || i == 4 || i == 5 {
		d[spec.MetadataDevice] = "meta"
	}
	return d
}

// genModel is what the generator knows of the cluster while it writes a
// schedule, so that faults make sense when they run (no partition of a
// host that is gone, no marker removed twice).
type genModel struct {
	r       *rand.Rand
	ha      bool
	hosts   []string // present, in order of joining
	nextID  int
	devices map[string]map[spec.DeviceType]string
	busy    map[string]time.Duration // host -> until when a host fault lasts
	// fwBusy: until when the framework is being restarted; masterBusy:
	// until when a failover settles.
	fwBusy, masterBusy time.Duration
	removed            int
	version            int
	exclude            string
	api, webconsole    int
}

// weights are how often each fault is drawn (realistic rates: task
// crashes and message loss are common, losing a host for good is rare).
var weights = []struct {
	kind FaultKind
	w    int
}{
	{KillTask, 10}, {CrashLoop, 3}, {Partition, 5}, {RestartAgent, 4}, {WipeAgent, 2},
	{RemoveAgent, 1}, {AddAgent, 1}, {FailoverMaster, 2}, {DropStream, 3},
	{DropUpdates, 4}, {DelayUpdates, 4}, {DupUpdates, 4}, {DropKills, 3},
	{StopFramework, 3}, {KillLeader, 3},
	{AddMarker, 3}, {RemoveMarker, 3},
	{ReloadVersion, 4}, {ReloadCount, 2}, {ReloadPlacement, 2}, {ReloadParallel, 1}, {ReloadInvalid, 2},
}

// MeanGap is the mean time between faults (exponentially distributed).
const MeanGap = 700 * time.Millisecond

// Generate writes the schedule of a seed: faults drawn at random times
// over phase, each with parameters that make sense for the cluster as the
// schedule has left it by then.
func Generate(seed int64, phase time.Duration, ha bool) Schedule {
	g := &genModel{
		r:       rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15)),
		ha:      ha,
		nextID:  initialHosts + 1,
		devices: map[string]map[spec.DeviceType]string{},
		busy:    map[string]time.Duration{},
		version: 1, api: 1, webconsole: 1,
	}
	for i := 1; i <= initialHosts; i++ {
		h := hostName(i)
		g.hosts = append(g.hosts, h)
		g.devices[h] = initialDevices(i)
	}
	s := Schedule{Seed: seed, HA: ha, Phase: phase}
	total := 0
	for _, w := range weights {
		total += w.w
	}
	for at := time.Duration(0); ; {
		at += time.Duration(g.r.ExpFloat64()*float64(MeanGap)) + 50*time.Millisecond
		if at >= phase {
			break
		}
		n := g.r.IntN(total)
		var kind FaultKind
		for _, w := range weights {
			if n < w.w {
				kind = w.kind
				break
			}
			n -= w.w
		}
		s.Faults = append(s.Faults, g.draw(kind, at, phase)...)
	}
	sort.SliceStable(s.Faults, func(i, j int) bool { return s.Faults[i].At < s.Faults[j].At })
	return s
}

// idleHosts are the hosts with no host fault under way at t.
func (g *genModel) idleHosts(t time.Duration) []string {
	var out []string
	for _, h := range g.hosts {
		if g.busy[h] <= t {
			out = append(out, h)
		}
	}
	return out
}

func (g *genModel) pick(hosts []string) string { return hosts[g.r.IntN(len(hosts))] }

func (g *genModel) durationIn(lo, hi time.Duration) time.Duration {
	d := lo + time.Duration(g.r.Int64N(int64(hi-lo)))
	return d.Round(10 * time.Millisecond)
}

// serviceKinds are the kinds a kill-task may hit.
var serviceKinds = []spec.Kind{spec.Registry, spec.Metadata, spec.Data, spec.API, spec.Webconsole}

// draw returns the faults (one, or a fault and its end) of kind at t; none
// when kind makes no sense now (the draw is then simply lost).
func (g *genModel) draw(kind FaultKind, t, phase time.Duration) []Fault {
	f := Fault{At: t, Kind: kind}
	switch kind {
	case KillTask:
		f.Host, f.Service = g.service(serviceKinds)
		return []Fault{f}
	case CrashLoop:
		// The same service crashes again and again, each time it is back.
		f.Host, f.Service = g.service(serviceKinds[:3])
		out := []Fault{}
		for i, at := 0, t; i < 3+g.r.IntN(3) && at < phase; i++ {
			f.At = at
			out = append(out, f)
			at += g.durationIn(700*time.Millisecond, 2*time.Second)
		}
		return out
	case Partition, RestartAgent, WipeAgent:
		idle := g.idleHosts(t)
		if len(idle) == 0 {
			return nil
		}
		f.Host = g.pick(idle)
		switch kind {
		case Partition:
			// Some end before the master notices (ping timeouts), some after.
			d := g.durationIn(300*time.Millisecond, 4*time.Second)
			g.busy[f.Host] = t + d + 200*time.Millisecond
			return []Fault{f, {At: t + d, Kind: Heal, Host: f.Host}}
		case RestartAgent:
			f.D = g.durationIn(100*time.Millisecond, time.Second)
			g.busy[f.Host] = t + f.D + time.Second
		case WipeAgent:
			g.busy[f.Host] = t + time.Second
		}
		return []Fault{f}
	case RemoveAgent:
		idle := g.idleHosts(t)
		if g.removed >= 1 || len(g.hosts) <= 5 || len(idle) == 0 {
			return nil
		}
		f.Host = g.pick(idle)
		g.removed++
		g.drop(f.Host)
		return []Fault{f}
	case AddAgent:
		if len(g.hosts) >= 8 {
			return nil
		}
		f.Host = hostName(g.nextID)
		g.nextID++
		g.hosts = append(g.hosts, f.Host)
		g.devices[f.Host] = map[spec.DeviceType]string{spec.DataDevice: "data"}
		f.Arg = "data"
		if g.r.IntN(2) == 0 {
			g.devices[f.Host][spec.MetadataDevice] = "meta"
			f.Arg = "data+meta"
		}
		g.busy[f.Host] = t + time.Second
		return []Fault{f}
	case FailoverMaster:
		if g.masterBusy > t {
			return nil
		}
		g.masterBusy = t + 2*time.Second
		return []Fault{f}
	case DropStream:
		return []Fault{f}
	case DropUpdates, DupUpdates:
		f.N = 1 + g.r.IntN(4)
		return []Fault{f}
	case DropKills:
		// Kills are few: n lost in a row are likely one task's retries,
		// each KillRetryInterval (10 s) after the last.
		f.N = 1 + g.r.IntN(2)
		return []Fault{f}
	case DelayUpdates:
		f.N = 1 + g.r.IntN(4)
		f.D = g.durationIn(100*time.Millisecond, time.Second)
		return []Fault{f}
	case StopFramework, KillLeader:
		if kind == KillLeader && !g.ha {
			return nil
		}
		if g.fwBusy > t {
			return nil
		}
		d := g.durationIn(0, 1500*time.Millisecond)
		g.fwBusy = t + d + 2*time.Second
		return []Fault{f, {At: t + d, Kind: StartFramework}}
	case AddMarker, RemoveMarker:
		return g.marker(f)
	case ReloadVersion:
		return g.reloadVersion(f, phase)
	case ReloadCount:
		g.api, g.webconsole = g.r.IntN(4), g.r.IntN(3)
		f.Arg = fmt.Sprintf("api=%d,webconsole=%d", g.api, g.webconsole)
		return []Fault{f}
	case ReloadPlacement:
		if g.exclude != "" || g.r.IntN(3) == 0 {
			g.exclude = "" // all hosts again
		} else {
			g.exclude = g.pick(g.hosts)
		}
		f.Arg = g.exclude
		if f.Arg == "" {
			f.Arg = "none"
		}
		return []Fault{f}
	case ReloadParallel:
		f.N = 1 + g.r.IntN(3)
		return []Fault{f}
	case ReloadInvalid:
		f.Arg = invalidSpecs[g.r.IntN(len(invalidSpecs))]
		return []Fault{f}
	}
	return nil
}

// service picks a service to crash among kinds: a device-bound kind on a
// host with its device, or a kind that runs anywhere (host "": wherever
// one runs).
func (g *genModel) service(kinds []spec.Kind) (host, kind string) {
	k := kinds[g.r.IntN(len(kinds))]
	if !k.DeviceBound() {
		return "", string(k)
	}
	var hosts []string
	for _, h := range g.hosts {
		if g.devices[h][k.DeviceType()] != "" {
			hosts = append(hosts, h)
		}
	}
	if len(hosts) == 0 {
		return g.pick(g.hosts), string(k)
	}
	return g.pick(hosts), string(k)
}

// reloadVersion changes the version; often another change follows while the
// rollout is under way.
func (g *genModel) reloadVersion(f Fault, phase time.Duration) []Fault {
	g.version++
	f.Arg = fmt.Sprintf("v%d", g.version)
	switch n := g.r.IntN(10); {
	case n < 2:
		f.Arg += "-slow" // healthy only after a slow start
	case n < 4:
		f.Arg += "-bad" // never healthy: the rollout pauses (and reverts)
	}
	out := []Fault{f}
	if g.r.IntN(5) < 2 {
		next := Fault{At: f.At + g.durationIn(500*time.Millisecond, 3*time.Second)}
		if next.At >= phase {
			return out
		}
		switch g.r.IntN(3) {
		case 0:
			g.version++
			next.Kind, next.Arg = ReloadVersion, fmt.Sprintf("v%d", g.version)
		case 1:
			next.Kind, next.Arg = ReloadInvalid, invalidSpecs[g.r.IntN(len(invalidSpecs))]
		default:
			g.api = g.r.IntN(4)
			next.Kind, next.Arg = ReloadCount, fmt.Sprintf("api=%d,webconsole=%d", g.api, g.webconsole)
		}
		out = append(out, next)
	}
	return out
}

// marker adds a device of a type a host lacks, or removes one it has.
// Registries (DIR_DEVICE) are only ever added, and at most four hosts
// have one, so that a majority of them stays reachable.
func (g *genModel) marker(f Fault) []Fault {
	h := g.pick(g.hosts)
	devs := g.devices[h]
	f.Host = h
	if f.Kind == AddMarker {
		types := []spec.DeviceType{spec.DataDevice, spec.MetadataDevice}
		if g.countType(spec.DirDevice) < 4 {
			types = append(types, spec.DirDevice)
		}
		var missing []spec.DeviceType
		for _, t := range types {
			if devs[t] == "" {
				missing = append(missing, t)
			}
		}
		if len(missing) == 0 {
			return nil
		}
		t := missing[g.r.IntN(len(missing))]
		f.Service, f.Arg = string(t), fmt.Sprintf("%s%d", dirOf(t), g.r.IntN(1000))
		devs[t] = f.Arg
		return []Fault{f}
	}
	var present []spec.DeviceType
	for _, t := range []spec.DeviceType{spec.DataDevice, spec.MetadataDevice} {
		if devs[t] != "" {
			present = append(present, t)
		}
	}
	if len(present) == 0 {
		return nil
	}
	t := present[g.r.IntN(len(present))]
	f.Service, f.Arg = string(t), devs[t]
	delete(devs, t)
	return []Fault{f}
}

func (g *genModel) countType(t spec.DeviceType) int {
	n := 0
	for _, h := range g.hosts {
		if g.devices[h][t] != "" {
			n++
		}
	}
	return n
}

func (g *genModel) drop(host string) {
	for i, h := range g.hosts {
		if h == host {
			g.hosts = append(g.hosts[:i], g.hosts[i+1:]...)
			break
		}
	}
	delete(g.devices, host)
	if g.exclude == host {
		g.exclude = ""
	}
}

// dirOf is the directory name stem of a device type's markers.
func dirOf(t spec.DeviceType) string {
	switch t {
	case spec.DirDevice:
		return "dir"
	case spec.MetadataDevice:
		return "meta"
	}
	return "data"
}

// invalidSpecs name the mistakes ReloadInvalid makes (see specText).
var invalidSpecs = []string{"syntax", "max-parallel-zero", "unknown-kind", "bad-duration"}

// Intervals is a duration in allocation intervals, for the figures.
func Intervals(d, interval time.Duration) float64 {
	return math.Round(float64(d)/float64(interval)*10) / 10
}

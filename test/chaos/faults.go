package chaos

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/quobyte/quobyte-mesos/spec"
)

// apply injects one fault. An error means its target does not exist now
// (the fault is skipped and counted so).
func (r *run) apply(f Fault) error {
	r.logf("  %s", f)
	sim := r.sim
	switch f.Kind {
	case KillTask, CrashLoop:
		id := r.serviceTask(f.Host, f.Service)
		if id == "" {
			return fmt.Errorf("no %s runs on %s", f.Service, f.Host)
		}
		return sim.KillTask(id)
	case Partition:
		if err := sim.PartitionAgent(f.Host); err != nil {
			return err
		}
		r.setOut(f.Host, true)
	case Heal:
		if err := sim.HealAgent(f.Host); err != nil {
			return err
		}
		r.setOut(f.Host, false)
	case RestartAgent:
		if err := sim.RestartAgent(f.Host, f.D); err != nil {
			return err
		}
		r.setOut(f.Host, true)
		time.AfterFunc(f.D+executorReregister, func() { r.setOut(f.Host, false) })
	case WipeAgent:
		if _, err := sim.RestartAgentWiped(f.Host); err != nil {
			return err
		}
	case RemoveAgent:
		if err := sim.RemoveAgent(f.Host); err != nil {
			return err
		}
	case AddAgent:
		devs := map[spec.DeviceType]string{spec.DataDevice: "data"}
		if strings.HasSuffix(f.Arg, "meta") {
			devs[spec.MetadataDevice] = "meta"
		}
		ac, err := r.addHost(f.Host, devs)
		if err != nil {
			return err
		}
		if _, err := sim.AddAgent(ac); err != nil {
			return err
		}
	case FailoverMaster:
		r.event("a master failover")
		sim.FailoverMaster()
	case DropStream:
		if sim.DropStreams() == 0 {
			return errors.New("no subscribed framework")
		}
		r.event("a dropped event stream")
	case DropUpdates:
		sim.DropUpdates(f.N)
	case DelayUpdates:
		sim.DelayUpdates(f.N, f.D)
	case DupUpdates:
		sim.DuplicateUpdates(f.N)
	case DropKills:
		sim.DropKills(f.N)
	case StopFramework:
		in := r.leader()
		if in == nil {
			return errors.New("no instance leads")
		}
		r.event("a framework restart")
		return r.stopInstance(in)
	case KillLeader:
		return r.killLeader()
	case StartFramework:
		return r.startStopped()
	case AddMarker, RemoveMarker:
		return r.marker(f)
	case ReloadVersion:
		r.model.Version = f.Arg
		return r.reload()
	case ReloadCount:
		for _, kv := range strings.Split(f.Arg, ",") {
			k, v, _ := strings.Cut(kv, "=")
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("reload-count %q: %w", f.Arg, err)
			}
			switch k {
			case "api":
				r.model.API = n
			case "webconsole":
				r.model.Webconsole = n
			}
		}
		return r.reload()
	case ReloadPlacement:
		r.model.Placement = nil
		if f.Arg != "none" {
			r.model.Placement = r.hostsBut(f.Arg)
		}
		return r.reload()
	case ReloadParallel:
		r.model.MaxParallel = f.N
		return r.reload()
	case ReloadInvalid:
		r.model.Invalid = f.Arg
		err := r.reload()
		r.model.Invalid = ""
		if err == nil {
			return errors.New("the invalid spec was not refused")
		}
		// The framework refused it and keeps its spec; the file is put
		// back so that a restart reads the spec in force.
		return r.writeSpecs()
	default:
		return fmt.Errorf("unknown fault %q", f.Kind)
	}
	return nil
}

// serviceTask is the live service task of kind on host ("": any host, the
// first by name) that is not being killed.
func (r *run) serviceTask(host, kind string) string {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	ts := r.w.liveTasks(host, kind, r.w.now())
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].host < ts[j].host })
	for _, t := range ts {
		if t.killed.IsZero() {
			return t.id
		}
	}
	return ""
}

func (r *run) setOut(host string, out bool) {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	h := r.w.hosts[host]
	if h.out != out {
		h.out = out
		if out {
			h.outSince = r.w.now()
		} else {
			h.backAt = r.w.now()
		}
	}
}

// event records a framework restart, master failover or leader change.
func (r *run) event(what string) {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	r.chk.events = append(r.chk.events, event{at: r.w.now(), what: what})
}

// hostsBut lists the hosts the cluster has ever had but one.
func (r *run) hostsBut(host string) []string {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	var out []string
	for name := range r.w.hosts {
		if name != host {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// marker adds or removes a device marker; the host's probers notice.
func (r *run) marker(f Fault) error {
	t := spec.DeviceType(f.Service)
	r.w.mu.Lock()
	h := r.w.hosts[f.Host]
	r.w.mu.Unlock()
	if h == nil {
		return fmt.Errorf("no host %s", f.Host)
	}
	dir := ""
	if f.Kind == AddMarker {
		if err := writeMarker(h.dir, f.Arg, t); err != nil {
			return err
		}
		dir = f.Arg
	} else if err := os.Remove(filepath.Join(h.dir, f.Arg, "QUOBYTE_DEV_SETUP")); err != nil {
		return fmt.Errorf("removing a marker: %w", err)
	}
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	h.setDevice(t, r.w.now(), dir)
	r.w.devicesChanged(h)
	return nil
}

// reload writes the model and reloads every running instance (SIGHUP).
func (r *run) reload() error {
	if err := r.writeSpecs(); err != nil {
		return err
	}
	var errs []error
	for _, in := range r.instances {
		if in.fw != nil {
			if err := in.fw.Reload(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// killLeader kills the leading instance as SIGKILL would: its ZooKeeper
// connection goes silent first, so its session is not closed and the
// standby takes over only once it expires.
func (r *run) killLeader() error {
	in := r.leader()
	if in == nil {
		return errors.New("no instance leads")
	}
	r.event("the leader's death")
	in.proxy.Cut(func(*net.TCPAddr) bool { return true })
	err := r.stopInstance(in)
	in.proxy.Heal()
	return err
}

// startStopped starts the instances that are not running.
func (r *run) startStopped() error {
	started := 0
	for _, in := range r.instances {
		if in.fw == nil {
			if err := r.startInstance(in); err != nil {
				return err
			}
			started++
		}
	}
	if started == 0 {
		return errors.New("every instance runs")
	}
	return nil
}

// endFaults ends the faults still in force: message faults not yet spent
// are forgotten, partitions heal, stopped instances start, and a spec
// whose version never turns healthy is fixed (an operator would).
func (r *run) endFaults() error {
	// Message faults not yet spent would go on after the phase (seed 77:
	// four lost kills, of which three came after it, held a rollout back
	// for 30 s).
	r.sim.ClearFaults()
	r.w.mu.Lock()
	var out []string
	for name, h := range r.w.hosts {
		if h.out && h.agentID != "" {
			out = append(out, name)
		}
	}
	r.w.mu.Unlock()
	sort.Strings(out)
	for _, h := range out {
		if err := r.sim.HealAgent(h); err == nil {
			r.setOut(h, false)
			r.logf("  end: heal host=%s", h)
		}
	}
	if err := r.startStopped(); err == nil {
		r.logf("  end: start-framework")
	}
	if bad(r.model.Version) {
		r.model.Version = "final"
		r.logf("  end: reload-version arg=final")
		return r.reload()
	}
	return nil
}

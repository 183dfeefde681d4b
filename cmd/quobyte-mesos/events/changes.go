package events

import (
	"fmt"
	"slices"
	"strings"

	"github.com/quobyte/quobyte-mesos/observe/snapshot"
)

// Changes returns the events that tell how next differs from prev in its
// agents: devices a prober found or lost, agents that became unreachable
// or reachable again, agents that left. Tasks are told where they change
// (launches, kills, failures), not here. prev nil (the first snapshot of a
// subscription) gives none. Events carry next's time.
//
// Agents are compared by pointer first: snapshots of one observer share
// every agent that did not change, so an unchanged cluster costs a walk
// over the agent lists and nothing more.
func Changes(prev, next *snapshot.Snapshot) []Event {
	if prev == nil || next == nil {
		return nil
	}
	var out []Event
	add := func(e Event) {
		e.Time = next.Time
		out = append(out, e)
	}
	pa, na := prev.Agents, next.Agents
	i, j := 0, 0
	for i < len(pa) || j < len(na) {
		switch {
		case j == len(na) || (i < len(pa) && pa[i].ID < na[j].ID):
			a := pa[i]
			add(Event{Type: Agent, Warning: true, Host: hostOf(a), Text: fmt.Sprintf("agent %s left the cluster", hostOf(a))})
			i++
		case i == len(pa) || na[j].ID < pa[i].ID:
			if a := na[j]; a.Probe != nil {
				for _, e := range deviceChanges(nil, a) {
					add(e)
				}
			}
			j++
		default:
			if o, n := pa[i], na[j]; o != n {
				for _, e := range agentChanges(o, n) {
					add(e)
				}
			}
			i++
			j++
		}
	}
	return out
}

func hostOf(a *snapshot.Agent) string {
	if a.Hostname != "" {
		return a.Hostname
	}
	return a.ID
}

// agentChanges compares two versions of one agent.
func agentChanges(o, n *snapshot.Agent) []Event {
	var out []Event
	host := hostOf(n)
	switch {
	case o.Reachable && !n.Reachable:
		out = append(out, Event{Type: Agent, Warning: true, Host: host, Text: "agent " + host + " is unreachable: its tasks are unknown, not gone"})
	case !o.Reachable && n.Reachable:
		out = append(out, Event{Type: Agent, Host: host, Text: "agent " + host + " is reachable again"})
	}
	if o.Probe != n.Probe && n.Probe != nil {
		out = append(out, deviceChanges(o.Probe, n)...)
	}
	return out
}

// deviceChanges tells the devices n's prober found that prev's report did
// not have, and those it no longer finds. The first report of an agent
// (prev nil) is told as one event listing what it found.
func deviceChanges(prev *snapshot.Probe, n *snapshot.Agent) []Event {
	host := hostOf(n)
	now := descriptions(n.Probe)
	if prev == nil {
		if len(now) == 0 {
			return []Event{{Type: Device, Host: host, Text: "prober on " + host + " reports no device"}}
		}
		return []Event{{Type: Device, Host: host, Text: "prober on " + host + " found " + strings.Join(now, ", ")}}
	}
	was := descriptions(prev)
	var out []Event
	for _, d := range now {
		if _, found := slices.BinarySearch(was, d); !found {
			out = append(out, Event{Type: Device, Host: host, Text: "new device on " + host + ": " + d})
		}
	}
	for _, d := range was {
		if _, found := slices.BinarySearch(now, d); !found {
			out = append(out, Event{Type: Device, Warning: true, Host: host, Text: "device gone from " + host + ": " + d})
		}
	}
	return out
}

// descriptions describes a report's devices, "/mnt/data1 (DATA_DEVICE)",
// sorted and without repeats. (A slice, not a set: ten thousand agents'
// first reports come in one plan.)
func descriptions(p *snapshot.Probe) []string {
	if p == nil {
		return nil
	}
	out := make([]string, 0, len(p.Report.Devices))
	for _, d := range p.Report.Devices {
		var b strings.Builder
		b.WriteString(d.Path)
		b.WriteString(" (")
		for i, t := range d.Types {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(string(t))
		}
		b.WriteString(")")
		out = append(out, b.String())
	}
	slices.Sort(out)
	return slices.Compact(out)
}

package controller

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"sort"
	"time"

	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/observe/taskid"
	"github.com/quobyte/quobyte-mesos/spec"
)

// This file indexes a snapshot for planning: tasks by agent and kind, and
// which agents the placement allows. It is part of the pure planner.

// kindIndex numbers the task kinds Plan manages, so per-agent task lists are
// arrays rather than maps (cheaper at 10,000 agents, and no map order).
const (
	idxRegistry = iota
	idxAPI
	idxWebconsole
	idxS3
	idxMetadata
	idxData
	idxClient
	idxProber
	numKinds
)

// kindIdx returns the index of a task kind, or -1 for kinds Plan ignores
// (foreign kinds: a newer framework's, or garbage).
func kindIdx(kind string) int {
	switch kind {
	case string(spec.Registry):
		return idxRegistry
	case string(spec.API):
		return idxAPI
	case string(spec.Webconsole):
		return idxWebconsole
	case string(spec.S3):
		return idxS3
	case string(spec.Metadata):
		return idxMetadata
	case string(spec.Data):
		return idxData
	case string(spec.Client):
		return idxClient
	case taskid.ProberKind:
		return idxProber
	}
	return -1
}

// agentView is one agent with our tasks on it, as Plan needs it.
type agentView struct {
	agent *snapshot.Agent
	pos   int // index in the snapshot's (and the index's) agent list
	// eligible is true when the agent matches the cluster placement (host
	// globs and attributes). A service's own Hosts narrow it further.
	eligible bool
	// live are our non-terminal tasks by kind index, sorted by task ID.
	live [numKinds][]*snapshot.Task
	// replaced is, per kind, the most recently updated terminal task we
	// killed: a launch of another config names it in Replaces, so a rolling
	// upgrade reads as one step, and a failed replacement reverts to it.
	replaced [numKinds]*snapshot.Task
	// load counts our live tasks here; anywhere kinds go to the least loaded.
	load int
	// deviceTypes holds a bit per device type the latest report found
	// (deviceBit), read once instead of scanning the report per kind.
	deviceTypes uint8
}

// deviceBit is the bit of device type t in agentView.deviceTypes.
func deviceBit(t spec.DeviceType) uint8 {
	switch t {
	case spec.DirDevice:
		return 1
	case spec.MetadataDevice:
		return 2
	case spec.DataDevice:
		return 4
	}
	return 0
}

// hasDevice reports whether the agent's latest report found a device of type t.
func (av *agentView) hasDevice(t spec.DeviceType) bool { return av.deviceTypes&deviceBit(t) != 0 }

func (av *agentView) host() string {
	if av.agent.Hostname != "" {
		return av.agent.Hostname
	}
	return av.agent.ID
}

func (av *agentView) reachable() bool { return av.agent.Reachable }

// index is the planner's view of a snapshot.
type index struct {
	agents []*agentView // sorted by agent ID, as in the snapshot
	byID   map[string]*agentView
	// orphans are live tasks on agents the snapshot does not know, by kind:
	// unknown, not gone, exactly like tasks on an unreachable agent.
	orphans [numKinds][]*snapshot.Task
}

func buildIndex(c *spec.Cluster, s *snapshot.Snapshot) *index {
	ix := &index{
		agents: make([]*agentView, len(s.Agents)),
		byID:   make(map[string]*agentView, len(s.Agents)),
	}
	views := make([]agentView, len(s.Agents)) // one allocation for all
	for i, a := range s.Agents {
		av := &views[i]
		av.agent = a
		av.pos = i
		av.eligible = placementAllows(c.Placement, a)
		if a.Probe != nil {
			for _, d := range a.Probe.Report.Devices {
				for _, t := range d.Types {
					av.deviceTypes |= deviceBit(t)
				}
			}
		}
		ix.agents[i] = av
		ix.byID[a.ID] = av
	}
	// Two passes, so that all per-agent task lists share one backing array
	// (at 40,000 tasks, one allocation instead of tens of thousands).
	type placed struct {
		av   *agentView
		kind int
	}
	where := make([]placed, len(s.Tasks))
	counts := make([][numKinds]int32, len(views))
	live := 0
	for j, t := range s.Tasks {
		k := kindIdx(t.Kind)
		if k < 0 {
			where[j].kind = -1
			continue
		}
		av := ix.byID[t.AgentID]
		where[j] = placed{av: av, kind: k}
		if av != nil && !t.State.Terminal() {
			counts[av.pos][k]++
			live++
		}
	}
	backing := make([]*snapshot.Task, live)
	off := 0
	for i := range views {
		for k := 0; k < numKinds; k++ {
			n := int(counts[i][k])
			views[i].live[k] = backing[off : off : off+n]
			off += n
		}
	}
	// s.Tasks is sorted by ID, so every per-agent list is sorted by ID too.
	for j, t := range s.Tasks {
		av, k := where[j].av, where[j].kind
		switch {
		case k < 0:
		case t.State.Terminal():
			if av != nil && !t.KillSent.IsZero() && (av.replaced[k] == nil || t.UpdatedAt.After(av.replaced[k].UpdatedAt)) {
				av.replaced[k] = t
			}
		case av == nil:
			ix.orphans[k] = append(ix.orphans[k], t)
		default:
			av.live[k] = append(av.live[k], t)
			av.load++
		}
	}
	return ix
}

// placementAllows reports whether the cluster placement admits agent a:
// its hostname matches one of the host globs (none: all hosts) and every
// required attribute is equal.
func placementAllows(p spec.Placement, a *snapshot.Agent) bool {
	if !hostMatches(p.Hosts, a.Hostname) {
		return false
	}
	for k, want := range p.Attributes { // order irrelevant: all must hold
		if got, ok := a.Attributes[k]; !ok || got != want {
			return false
		}
	}
	return true
}

// hostMatches reports whether host matches any glob; an empty list matches
// every host. Malformed globs match nothing (the spec loader rejects them).
func hostMatches(globs []string, host string) bool {
	if len(globs) == 0 {
		return true
	}
	for _, g := range globs {
		if ok, err := path.Match(g, host); err == nil && ok {
			return true
		}
	}
	return false
}

// proberConfigHash identifies everything a prober task is launched with
// that comes from the spec. A prober whose task ID carries another hash is
// replaced. It is the loader's c.Prober.ConfigHash; for a Cluster built by
// hand without one (tests), a hash of the same settings computed here. The
// hash is short hex, valid in a task ID.
func proberConfigHash(c *spec.Cluster) string {
	if c.Prober.ConfigHash != "" {
		return c.Prober.ConfigHash
	}
	p := c.Prober
	h := sha256.New()
	fmt.Fprintf(h, "prober/v1\x00%s\x00%s\x00%s\x00%s\x00%d\x00%g\x00%g\x00%g",
		p.Mode, p.Artifact, p.ClientMountPoint, c.Quobyte.DeviceRoot, int64(p.Interval/time.Millisecond),
		p.Resources.CPUs, p.Resources.Mem, p.Resources.Disk)
	return hex.EncodeToString(h.Sum(nil))[:10]
}

// servicePorts returns the fixed ports a service needs, sorted, without
// duplicates or zeros.
func servicePorts(svc *spec.Service) []int {
	var ports []int
	for _, p := range svc.Ports { // sorted below
		if p > 0 {
			ports = append(ports, p)
		}
	}
	sort.Ints(ports)
	out := ports[:0]
	for i, p := range ports {
		if i == 0 || p != ports[i-1] {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// offerFits reports whether offer o can hold a task needing r and ports;
// when a port is missing it is returned.
func offerFits(o *snapshot.Offer, r spec.Resources, ports []int) (fits bool, missingPort int) {
	if o.Resources.CPUs < r.CPUs || o.Resources.Mem < r.Mem || o.Resources.Disk < r.Disk {
		return false, 0
	}
	for _, p := range ports {
		if !portOffered(o.Ports, p) {
			return false, p
		}
	}
	return true, 0
}

func portOffered(ranges []snapshot.PortRange, port int) bool {
	for _, r := range ranges {
		if uint64(port) >= r.Begin && uint64(port) <= r.End {
			return true
		}
	}
	return false
}

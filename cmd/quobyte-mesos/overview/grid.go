package overview

import (
	"cmp"
	"strings"
	"time"

	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/planview"
	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/observe/probe"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

// grid builds the hosts x kinds cells from one snapshot and plan.
type grid struct {
	spec  *spec.Cluster
	snap  *snapshot.Snapshot
	now   time.Time
	kinds []string
	holds map[string]controller.Hold
	// launches and blocked are the plan's, by item (kind@agent).
	launches map[string]controller.Action
	blocked  map[string]string
	problems map[string]planview.ServiceProblem
	at       time.Time // the snapshot's time, which ServiceProblem.Why counts from
	// counts and, by kind, rollout and outdated (a task of an old
	// config is there) are filled by rows.
	counts   Counts
	byKind   map[string]*KindCounts
	rollout  map[string]*Rollout
	outdated map[string]bool
}

func newGrid(c *spec.Cluster, s *snapshot.Snapshot, plan *controller.Result, holds map[string]controller.Hold, health *planview.ServiceHealth, now time.Time) *grid {
	g := &grid{spec: c, snap: s, now: now, kinds: kindsOf(c, s), holds: holds, at: s.Time,
		launches: map[string]controller.Action{}, blocked: map[string]string{},
		problems: map[string]planview.ServiceProblem{}, rollout: map[string]*Rollout{}, outdated: map[string]bool{},
		byKind: map[string]*KindCounts{}}
	for _, k := range g.kinds {
		g.byKind[k] = &KindCounts{Kind: k}
	}
	if plan != nil {
		for _, a := range plan.Actions {
			if a.Type == controller.Launch {
				g.launches[a.Item()] = a
			}
		}
		for _, b := range plan.Blocked {
			if _, seen := g.blocked[b.Item]; !seen {
				g.blocked[b.Item] = b.Reason
			}
		}
	}
	if health == nil {
		h := planview.CheckServices(c, s, holds)
		health = &h
	}
	for _, p := range health.Services {
		g.problems[snapshot.ItemKey(p.Kind, p.AgentID)] = p
	}
	return g
}

// rows builds one row per agent, problems first.
func (g *grid) rows() []Host {
	hosts := make([]Host, 0, len(g.snap.Agents))
	col := map[string]int{}
	for i, k := range g.kinds {
		col[k] = i
	}
	for i, a := range g.snap.Agents {
		h := Host{Hostname: cmp.Or(a.Hostname, a.ID), AgentID: a.ID, Reachable: a.Reachable, Devices: []DeviceCount{},
			Cells: make([]Cell, len(g.kinds))}
		if a.Probe != nil {
			h.Probed = true
			h.ProbedAt = a.Probe.ReceivedAt
			h.Devices = deviceCounts(a.Probe.Report.Devices)
		}
		// The tasks of each kind on this agent: the newest not being
		// stopped is the live one.
		live := make([]*snapshot.Task, len(g.kinds))
		stopping := make([]*snapshot.Task, len(g.kinds))
		for _, t := range g.snap.AgentTasks(i) {
			k, ok := col[t.Kind]
			if !ok || t.State.Terminal() {
				continue
			}
			switch {
			case t.KillSent.IsZero() && t.State != snapshot.Killing:
				if live[k] == nil || newer(t, live[k]) {
					live[k] = t
				}
			case stopping[k] == nil || newer(t, stopping[k]):
				stopping[k] = t
			}
		}
		g.counts.Hosts++
		if !a.Reachable {
			g.counts.Unreachable++
		}
		h.Problem = !a.Reachable || a.Probe == nil
		for k, kind := range g.kinds {
			h.Cells[k] = g.cell(a, kind, live[k], stopping[k])
			h.Problem = h.Problem || h.Cells[k].Attention()
		}
		hosts = append(hosts, h)
	}
	sortHosts(hosts)
	return hosts
}

func newer(a, b *snapshot.Task) bool {
	if !a.LaunchedAt.Equal(b.LaunchedAt) {
		return a.LaunchedAt.After(b.LaunchedAt)
	}
	return a.ID > b.ID
}

// cell decides one kind's state on one agent: from its live task if it
// has one, else from what the plan says of the item.
func (g *grid) cell(a *snapshot.Agent, kind string, live, stopping *snapshot.Task) Cell {
	item := snapshot.ItemKey(kind, a.ID)
	var c Cell
	var want string // the config the spec wants ("": none known)
	if g.spec != nil {
		if svc := g.spec.Service(spec.Kind(kind)); svc != nil && svc.Enabled {
			want = svc.ConfigHash
		}
	}
	p, hasProblem := g.problems[item]
	if hasProblem {
		c.Problem = p.Condition
	}
	launch, launching := g.launches[item]
	blockedWhy, isBlocked := g.blocked[item]
	// Detail: what is wrong with the service, then what the plan says of
	// it (an upgrade waiting for this host, say).
	var detail []string
	if hasProblem {
		detail = append(detail, p.Why(g.at))
	}
	switch t := live; {
	case t != nil:
		c.TaskID = t.ID
		c.Outdated = want != "" && t.Config != want
		switch t.State {
		case snapshot.Running:
			switch {
			case t.Healthy == nil:
				c.State = Running
			case *t.Healthy:
				c.State = Healthy
			default:
				c.State = Unhealthy
			}
		case snapshot.Unreachable, snapshot.Unknown:
			c.State = Unreachable
		default:
			c.State = Starting
		}
		if isBlocked {
			detail = append(detail, blockedWhy)
		}
	case stopping != nil:
		c.State, c.TaskID = Stopping, stopping.ID
		c.Outdated = want != "" && stopping.Config != want
		if launching {
			detail = []string{"being replaced: " + launch.Reason()}
		} else {
			detail = []string{"being stopped"}
		}
	case isBlocked:
		c.State, detail = Blocked, []string{blockedWhy}
		if h, ok := g.holds[item]; ok && h.Until.After(g.now) {
			c.State, c.Until = BackingOff, h.Until
		}
	case launching && launch.Waiting != "":
		c.State, detail = Waiting, []string{"launch planned: " + launch.Reason(), "waiting: " + launch.Waiting}
	case launching:
		c.State, detail = Missing, []string{"launch planned: " + launch.Reason()}
	case hasProblem: // failed, and waiting to be launched again
		c.State = Missing
		if h, ok := g.holds[item]; ok && h.Until.After(g.now) {
			c.State, c.Until = BackingOff, h.Until
		}
	default:
		c.State = NotWanted
	}
	c.Detail = strings.Join(detail, "; ")
	g.count(kind, c, launching, want)
	return c
}

// count adds c to the counts and to its kind's rollout. A cell being
// stopped with no launch planned on it is no longer wanted there (a
// scale-down, a placement change, an anywhere kind replaced elsewhere).
func (g *grid) count(kind string, c Cell, launching bool, want string) {
	g.outdated[kind] = g.outdated[kind] || (want != "" && c.Outdated)
	kc := g.byKind[kind]
	switch {
	case c.State == NotWanted || (c.State == Stopping && !launching):
		return
	case c.State == Stopping || c.State == BackingOff || c.State == Blocked || c.State == Missing || c.State == Waiting:
		g.counts.Missing++
		kc.Missing++
	case (c.State == Healthy || c.State == Running) && c.Problem == "":
		g.counts.Healthy++
		kc.Healthy++
	default:
		g.counts.Unhealthy++
		kc.Unhealthy++
	}
	if c.Problem == "crash-looping" {
		kc.CrashLooping++
	}
	if want == "" {
		return
	}
	r := g.rollout[kind]
	if r == nil {
		r = &Rollout{Kind: kind}
		g.rollout[kind] = r
	}
	r.Total++
	if c.TaskID != "" && !c.Outdated && c.State != Stopping {
		r.Replaced++
	}
}

// rollouts lists the kinds with tasks of an old config still to replace
// (or, by the plan's whole change, replacements still to make), in upgrade
// order, with what changes and the plan's reasons about their upgrade.
func (g *grid) rollouts(plan *controller.Result) []Rollout {
	out := []Rollout{}
	changes := map[string]controller.KindChange{}
	if plan != nil {
		for _, ch := range plan.Changes {
			changes[ch.Kind] = ch
		}
	}
	for _, kind := range g.kinds {
		r := g.rollout[kind]
		ch := changes[kind]
		if r == nil || (!g.outdated[kind] && ch.Replace == 0) {
			continue
		}
		r.Change, r.AtATime = ch.Change, ch.AtATime
		if plan != nil {
			for _, b := range plan.Blocked {
				if b.Kind != kind || !strings.HasPrefix(b.Reason, upgradeReason) {
					continue
				}
				r.Paused = r.Paused || strings.HasPrefix(b.Reason, upgradePaused)
				r.Reasons = append(r.Reasons, b.Reason)
			}
		}
		out = append(out, *r)
	}
	return out
}

// deviceCounts counts devices by type, in the order registry, metadata,
// data.
func deviceCounts(devs []probe.Device) []DeviceCount {
	n := map[spec.DeviceType]int{}
	for _, d := range devs {
		for _, t := range d.Types {
			n[t]++
		}
	}
	out := []DeviceCount{}
	for _, t := range []spec.DeviceType{spec.DirDevice, spec.MetadataDevice, spec.DataDevice} {
		if n[t] > 0 {
			out = append(out, DeviceCount{Type: t, Count: n[t]})
		}
	}
	return out
}

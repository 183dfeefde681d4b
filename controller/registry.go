package controller

import (
	"sort"

	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

// RegistryHosts lists, sorted, the hosts where a registry runs or is to
// run: every agent with a registry task that is or may be alive and is not
// being killed, and every reachable agent the placement allows whose prober
// found a DIR_DEVICE. Services get it as QUOBYTE_REGISTRY: listing the
// registries to be, not just the running ones, gives the services launched
// together with the first registries the whole list (they retry until one
// answers), and keeps the list stable while registries restart. Registries
// never move, so a host is right even while its agent is unreachable.
func RegistryHosts(c *spec.Cluster, s *snapshot.Snapshot) []string {
	svc := c.Service(spec.Registry)
	if svc == nil || s == nil {
		return nil
	}
	seen := map[string]bool{}
	var hosts []string
	add := func(a *snapshot.Agent) {
		if a != nil && a.Hostname != "" && !seen[a.Hostname] {
			seen[a.Hostname] = true
			hosts = append(hosts, a.Hostname)
		}
	}
	for _, t := range s.Tasks {
		if t.Kind == string(spec.Registry) && !t.State.Terminal() && t.State != snapshot.Killing && t.KillSent.IsZero() {
			add(s.Agent(t.AgentID))
		}
	}
	if svc.Enabled {
		for _, a := range s.Agents {
			if a.Reachable && a.Probe != nil && a.Probe.Report.HasType(spec.DirDevice) &&
				placementAllows(c.Placement, a) && hostMatches(svc.Hosts, a.Hostname) {
				add(a)
			}
		}
	}
	sort.Strings(hosts)
	return hosts
}

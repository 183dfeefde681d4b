package controller

import (
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

// registryAddrs is QUOBYTE_REGISTRY for the services a plan launches:
// address:rpcport of every host registryHosts names, comma separated (""
// when the spec has no registry service with an RPC port). The spec's
// external registry, when set, wins over it in the actuator.
func (p *planner) registryAddrs() string {
	svc := p.c.Service(spec.Registry)
	if svc == nil || svc.Ports[spec.PortRPC] <= 0 {
		return ""
	}
	port := strconv.Itoa(svc.Ports[spec.PortRPC])
	var b strings.Builder
	for i, h := range p.registryHosts() {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(net.JoinHostPort(h, port))
	}
	return b.String()
}

// registryHosts lists, sorted, the addresses (see address) of the hosts
// where a registry runs or is to run: every known agent with a registry
// task that is or may be alive and is not being killed, and every
// reachable agent the placement allows whose prober found a DIR_DEVICE.
// Listing the registries to be, not just the running ones, gives the
// services launched together with the first registries the whole list
// (they retry until one answers), and keeps the list stable while
// registries restart. Registries never move, so a host is right even while
// its agent is unreachable.
//
// The list is made once per plan (callers must not modify it), from the
// views: an agent is read only when it may be listed.
func (p *planner) registryHosts() []string {
	if p.regHostsDone {
		return p.regHosts
	}
	svc := p.c.Service(spec.Registry)
	if svc == nil {
		return nil
	}
	var hosts []string
	for _, av := range p.ix.agents {
		running := false // a registry task alive and not being killed
		for _, t := range av.live[idxRegistry] {
			running = running || (t.State != snapshot.Killing && t.KillSent.IsZero())
		}
		wanted := svc.Enabled && av.reachable() && av.eligible && av.hasDevice(spec.DirDevice)
		if (!running && !wanted) || av.agent.Hostname == "" {
			continue
		}
		if running || hostMatches(svc.Hosts, av.agent.Hostname) {
			hosts = append(hosts, p.address(av))
		}
	}
	sort.Strings(hosts)
	p.regHosts, p.regHostsDone = slices.Compact(hosts), true // agents may share a hostname
	return p.regHosts
}

// address is how services reach av: its hostname, or with quobyte.address
// = "ip" the IP address Mesos reports for it (its hostname while no offer
// has said: after a framework restart, until the agent offers again).
func (p *planner) address(av *agentView) string {
	if p.c.Quobyte.Address == spec.AddressIP && av.agent.IP != "" {
		return av.agent.IP
	}
	return av.host()
}

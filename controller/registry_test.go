package controller

import (
	"reflect"
	"testing"
	"time"

	"github.com/quobyte/quobyte-mesos/observe/probe"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

func TestRegistryHosts_RunningAndToBe(t *testing.T) {
	c := &spec.Cluster{
		Placement: spec.Placement{Hosts: []string{"node*"}},
		Services:  map[spec.Kind]*spec.Service{spec.Registry: {Kind: spec.Registry, Enabled: true}},
	}
	dir := &snapshot.Probe{Report: probe.Report{Devices: []probe.Device{{Path: "/mnt/r", Types: []spec.DeviceType{spec.DirDevice}}}}}
	data := &snapshot.Probe{Report: probe.Report{Devices: []probe.Device{{Path: "/mnt/d", Types: []spec.DeviceType{spec.DataDevice}}}}}
	agents := []*snapshot.Agent{
		{ID: "a1", Hostname: "node1", Reachable: true, Probe: dir},  // to be: device, no task yet
		{ID: "a2", Hostname: "node2", Reachable: true, Probe: data}, // no DIR_DEVICE
		{ID: "a3", Hostname: "node3", Reachable: false, Probe: dir}, // unreachable, no task: unknown
		{ID: "a4", Hostname: "node4", Reachable: false, Probe: dir}, // unreachable with a task: stays
		{ID: "a5", Hostname: "other5", Reachable: true, Probe: dir}, // outside the placement
		{ID: "a6", Hostname: "node6", Reachable: true, Probe: data}, // registry being killed
		{ID: "a7", Hostname: "node7", Reachable: true, Probe: data}, // registry launching
	}
	tasks := []*snapshot.Task{
		{ID: "r4", Kind: "registry", AgentID: "a4", State: snapshot.Unreachable},
		{ID: "r6", Kind: "registry", AgentID: "a6", State: snapshot.Running, KillSent: time.Unix(1, 0)},
		{ID: "r7", Kind: "registry", AgentID: "a7", State: snapshot.Launching},
		{ID: "r7b", Kind: "registry", AgentID: "a7", State: snapshot.Failed},
		{ID: "rx", Kind: "registry", AgentID: "gone", State: snapshot.Running}, // agent unknown: no hostname
		{ID: "d2", Kind: "data", AgentID: "a2", State: snapshot.Running},
	}
	s := snapshot.New(1, time.Unix(2, 0), snapshot.Subscription{}, agents, tasks, nil)
	hosts := func() []string { return (&planner{c: c, ix: indexFor(c, s, nil)}).registryHosts() }
	if got, want := hosts(), []string{"node1", "node4", "node7"}; !reflect.DeepEqual(got, want) {
		t.Errorf("registryHosts = %v, want %v", got, want)
	}
	// A disabled registry (an external one is used) adds no hosts to be.
	c.Services[spec.Registry].Enabled = false
	if got, want := hosts(), []string{"node4", "node7"}; !reflect.DeepEqual(got, want) {
		t.Errorf("disabled registry: registryHosts = %v, want %v", got, want)
	}
}

// The plan carries QUOBYTE_REGISTRY computed from the snapshot it planned
// from, so the actuator needs no snapshot of its own.
func TestPlan_RegistryAddrs(t *testing.T) {
	c := testCluster()
	w := newWorld()
	w.agent("node2", spec.DirDevice)
	w.service(c, spec.Registry, w.agent("node1", spec.DirDevice))
	w.agent("node3", spec.DataDevice)
	r := Plan(input(c, w))
	if got, want := r.RegistryAddrs, "node1:7861,node2:7861"; got != want {
		t.Errorf("RegistryAddrs = %q, want %q", got, want)
	}
}

// With quobyte.address = "ip", QUOBYTE_REGISTRY names the registries by
// the agents' IP addresses (from their offers), so that services reach them
// where hostnames do not resolve; a registry launch carries its own
// address, by which it finds itself in the list. An agent whose IP no offer
// has told yet is named by its hostname.
func TestPlan_RegistryAddrs_ByIP(t *testing.T) {
	c := testCluster()
	c.Quobyte.Address = spec.AddressIP
	w := newWorld()
	n1 := w.agent("storage-node-01.dc1.example.com", spec.DirDevice)
	n1.IP = "10.0.9.1"
	w.agent("storage-node-02.dc1.example.com", spec.DirDevice).IP = "10.0.9.2"
	w.agent("storage-node-03.dc1.example.com", spec.DirDevice) // no offer yet
	r := Plan(input(c, w))
	if got, want := r.RegistryAddrs, "10.0.9.1:7861,10.0.9.2:7861,storage-node-03.dc1.example.com:7861"; got != want {
		t.Errorf("RegistryAddrs = %q, want %q", got, want)
	}
	for _, a := range r.Actions {
		if a.Type == Launch && a.Hostname == n1.Hostname && a.Address != "10.0.9.1" {
			t.Errorf("launch on %s: address %q, want its IP", a.Hostname, a.Address)
		}
	}
	c.Quobyte.Address = spec.AddressHostname
	if got, want := Plan(input(c, w)).RegistryAddrs, "storage-node-01.dc1.example.com:7861,storage-node-02.dc1.example.com:7861,storage-node-03.dc1.example.com:7861"; got != want {
		t.Errorf("by hostname: RegistryAddrs = %q, want %q", got, want)
	}
}

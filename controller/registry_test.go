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
	}
	tasks := []*snapshot.Task{
		{ID: "r4", Kind: "registry", AgentID: "a4", State: snapshot.Unreachable},
		{ID: "r6", Kind: "registry", AgentID: "a6", State: snapshot.Running, KillSent: time.Unix(1, 0)},
		{ID: "d2", Kind: "data", AgentID: "a2", State: snapshot.Running},
	}
	s := snapshot.New(1, time.Unix(2, 0), snapshot.Subscription{}, agents, tasks, nil)
	if got, want := RegistryHosts(c, s), []string{"node1", "node4"}; !reflect.DeepEqual(got, want) {
		t.Errorf("RegistryHosts = %v, want %v", got, want)
	}
	// A disabled registry (an external one is used) adds no hosts to be.
	c.Services[spec.Registry].Enabled = false
	if got, want := RegistryHosts(c, s), []string{"node4"}; !reflect.DeepEqual(got, want) {
		t.Errorf("disabled registry: RegistryHosts = %v, want %v", got, want)
	}
}

package actuate

import (
	"testing"
	"time"

	"github.com/quobyte/quobyte-mesos/observe/snapshot"
)

func TestRegistryAddrs(t *testing.T) {
	c := dockerCluster(t)
	agents := []*snapshot.Agent{
		{ID: "a1", Hostname: "node1"}, {ID: "a2", Hostname: "node2"}, {ID: "a3", Hostname: "node3"},
		{ID: "a4", Hostname: "node4"}, {ID: "a5", Hostname: "node5"},
	}
	tasks := []*snapshot.Task{
		{ID: "r3", Kind: "registry", AgentID: "a3", State: snapshot.Running},
		{ID: "r1", Kind: "registry", AgentID: "a1", State: snapshot.Launching},
		{ID: "r1b", Kind: "registry", AgentID: "a1", State: snapshot.Running}, // same host twice
		{ID: "r2", Kind: "registry", AgentID: "a2", State: snapshot.Unreachable},
		{ID: "r4", Kind: "registry", AgentID: "a4", State: snapshot.Running, KillSent: time.Unix(1, 0)},
		{ID: "r5", Kind: "registry", AgentID: "a5", State: snapshot.Failed},
		{ID: "d5", Kind: "data", AgentID: "a5", State: snapshot.Running},
		{ID: "rx", Kind: "registry", AgentID: "gone", State: snapshot.Running},
	}
	s := snapshot.New(1, time.Unix(2, 0), snapshot.Subscription{}, agents, tasks, nil)
	if got, want := RegistryAddrs(c, s), "node1:7861,node2:7861,node3:7861"; got != want {
		t.Errorf("RegistryAddrs = %q, want %q", got, want)
	}
	if got := RegistryAddrs(c, nil); got != "" {
		t.Errorf("nil snapshot: %q", got)
	}
}

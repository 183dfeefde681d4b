package events

import (
	"fmt"
	"strings"
	"testing"

	"github.com/quobyte/quobyte-mesos/observe/probe"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

func agent(id string, reachable bool, devs ...probe.Device) *snapshot.Agent {
	a := &snapshot.Agent{ID: id, Hostname: "host-" + id, Reachable: reachable}
	if devs != nil {
		a.Probe = &snapshot.Probe{Report: probe.Report{Devices: devs}}
	}
	return a
}

func dev(path string, t spec.DeviceType) probe.Device {
	return probe.Device{Path: path, Types: []spec.DeviceType{t}}
}

func snap(agents ...*snapshot.Agent) *snapshot.Snapshot {
	return snapshot.New(1, t0, snapshot.Subscription{}, agents, nil, nil)
}

func texts(evs []Event) string {
	var b strings.Builder
	for _, e := range evs {
		warn := ""
		if e.Warning {
			warn = "!"
		}
		b.WriteString(string(e.Type) + warn + " " + e.Host + ": " + e.Text + "\n")
	}
	return b.String()
}

func TestChanges(t *testing.T) {
	data1 := dev("/mnt/data1", spec.DataDevice)
	meta1 := dev("/mnt/meta1", spec.MetadataDevice)
	unchanged := agent("a0", true, data1)
	prev := snap(unchanged, agent("a1", true, data1), agent("a2", true, data1), agent("a3", false), agent("a4", true))
	next := snap(unchanged, agent("a1", false, data1), agent("a2", true, meta1), agent("a3", true), agent("a5", true, data1))
	got := texts(Changes(prev, next))
	want := `agent! host-a1: agent host-a1 is unreachable: its tasks are unknown, not gone
device host-a2: new device on host-a2: /mnt/meta1 (METADATA_DEVICE)
device! host-a2: device gone from host-a2: /mnt/data1 (DATA_DEVICE)
agent host-a3: agent host-a3 is reachable again
agent! host-a4: agent host-a4 left the cluster
device host-a5: prober on host-a5 found /mnt/data1 (DATA_DEVICE)
`
	if got != want {
		t.Errorf("Changes:\n%s\nwant:\n%s", got, want)
	}
	for _, e := range Changes(prev, next) {
		if !e.Time.Equal(next.Time) {
			t.Errorf("%s: time %v, want the snapshot's", e.Text, e.Time)
		}
	}
	if evs := Changes(nil, next); evs != nil {
		t.Errorf("no previous snapshot: %v", evs)
	}
	if evs := Changes(prev, prev); evs != nil {
		t.Errorf("same snapshot: %v", texts(evs))
	}
	// A keep-alive report with the same devices (a new Probe) is no change;
	// a first report (no Probe before) is told once.
	first := agent("a1", true)
	again, keepAlive := agent("a1", true, data1), agent("a1", true, data1)
	if got := texts(Changes(snap(first), snap(again))); got != "device host-a1: prober on host-a1 found /mnt/data1 (DATA_DEVICE)\n" {
		t.Errorf("first report: %q", got)
	}
	if evs := Changes(snap(again), snap(keepAlive)); evs != nil {
		t.Errorf("keep-alive: %v", texts(evs))
	}
}

// BenchmarkChanges_10000FirstReports: a fresh cluster's probers report in
// one plan (it runs on the loop's goroutine, after that plan's apply).
func BenchmarkChanges_10000FirstReports(b *testing.B) {
	var before, after []*snapshot.Agent
	for i := range 10000 {
		id := fmt.Sprintf("agent-%05d", i)
		before = append(before, agent(id, true))
		after = append(after, agent(id, true, dev("/mnt/data", spec.DataDevice), dev("/mnt/meta", spec.MetadataDevice)))
	}
	prev, next := snap(before...), snap(after...)
	b.ReportAllocs()
	for b.Loop() {
		if evs := Changes(prev, next); len(evs) != 10000 {
			b.Fatalf("%d events", len(evs))
		}
	}
}

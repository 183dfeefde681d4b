package scale

import (
	"encoding/json"
	"sync"

	mesos "github.com/mesos/mesos-go/api/v1/lib"

	"github.com/quobyte/quobyte-mesos/observe/probe"
	"github.com/quobyte/quobyte-mesos/observe/taskid"
	"github.com/quobyte/quobyte-mesos/spec"
)

// layout says which device types each agent's prober finds.
type layout func(agentIndex int) []spec.DeviceType

// standardLayout: DIR_DEVICE on the first three agents, METADATA_DEVICE on
// the next three (so the two device-bound core kinds do not share hosts and
// neither hides the other's placement cost), DATA_DEVICE on every agent.
func standardLayout(i int) []spec.DeviceType {
	var ts []spec.DeviceType
	switch {
	case i < 3:
		ts = append(ts, spec.DirDevice)
	case i < 6:
		ts = append(ts, spec.MetadataDevice)
	}
	return append(ts, spec.DataDevice)
}

// proberReports returns mesossim's ExecutorData hook, standing in for the
// prober executor (observe/prober): a task of kind "prober" reports the
// devices lay gives its agent as a JSON probe.Report, on launch and again
// on every MESSAGE (the framework's "probe now"), with the next sequence
// number. Agents are told apart by hostname, which index maps back to
// their position in the cluster. It sends no keep-alive reports: the
// spec's prober interval is long enough that none is due while a
// measurement runs, and a stale report is answered by the MESSAGE path.
func proberReports(index map[string]int, lay layout) func(hostname string, task mesos.TaskInfo) []byte {
	var mu sync.Mutex
	seq := map[string]uint64{}
	return func(hostname string, task mesos.TaskInfo) []byte {
		id, ok := taskid.Parse(task.TaskID.Value)
		i, known := index[hostname]
		if !ok || id.Kind != taskid.ProberKind || !known {
			return nil // not a prober, or an agent outside the layout: no report, and the harness names it when it times out
		}
		mu.Lock()
		seq[hostname]++
		n := seq[hostname]
		mu.Unlock()
		r := reportFor(hostname, lay(i))
		r.Seq = n
		data, err := json.Marshal(r)
		if err != nil {
			return nil // a probe.Report of plain fields always encodes
		}
		return data
	}
}

// reportFor is what the real prober's Scan would report in directories mode
// for a host with one marked device per type.
func reportFor(hostname string, types []spec.DeviceType) probe.Report {
	r := probe.Report{
		Version:    probe.ReportVersion,
		Hostname:   hostname,
		DeviceRoot: "/srv/quobyte",
		Mode:       "directories",
	}
	for _, t := range types {
		r.Devices = append(r.Devices, probe.Device{
			Path:       "/srv/quobyte/" + string(t),
			Filesystem: "xfs",
			Types:      []spec.DeviceType{t},
			Serial:     hostname + "-" + string(t),
			FreeBytes:  900 << 30,
			TotalBytes: 1 << 40,
		})
	}
	return r
}

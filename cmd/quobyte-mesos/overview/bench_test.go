package overview

import (
	"encoding/json"
	"fmt"
	"io"
	"testing"

	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

// BenchmarkBuild builds (and encodes, as /v1/overview does) the overview
// of a converged cluster of 500 and of 10,000 agents (four tasks each): the
// cost of one dashboard poll, or one Prometheus scrape of
// quobyte_mesos_services.
func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{500, 10000} {
		b.Run(fmt.Sprintf("%dAgents", n), func(b *testing.B) { benchmarkBuild(b, n) })
	}
}

func benchmarkBuild(b *testing.B, agents int) {
	f := newFixture(b)
	for i := range agents {
		a := fmt.Sprintf("a%05d", i)
		types := []spec.DeviceType{spec.DataDevice}
		if i < 3 {
			types = append(types, spec.DirDevice, spec.MetadataDevice)
		}
		f.agent(a, true, types...)
		f.task("prober", a, snapshot.Running, nil, "p1")
		f.task("data", a, snapshot.Running, &yes, "")
		f.task("metadata", a, snapshot.Running, &yes, "")
		f.task("client", a, snapshot.Running, &yes, "p2")
	}
	in := Input{Spec: f.c, Snapshot: f.snapshot(), Plan: &controller.Result{}, Now: t0}
	b.ReportAllocs()
	for b.Loop() {
		ov := Build(in)
		if err := json.NewEncoder(io.Discard).Encode(ov); err != nil {
			b.Fatal(err)
		}
	}
}

package actuate

import (
	"fmt"
	"testing"

	mesos "github.com/mesos/mesos-go/api/v1/lib"

	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/internal/benchcpu"
	"github.com/quobyte/quobyte-mesos/spec"
)

// A fresh 5,000-agent cluster: an offer from every agent, and a registry,
// a metadata and a data service wanted on each.
func BenchmarkMatch_5000Agents(b *testing.B) {
	var offers []mesos.Offer
	var acts []controller.Action
	for i := range 5000 {
		agent, host := fmt.Sprintf("a%d", i), fmt.Sprintf("node%d", i)
		offers = append(offers, bigOffer("o"+agent, agent, host))
		acts = append(acts,
			launch(agent, host, spec.Registry, spec.Resources{CPUs: 1, Mem: 2048, Disk: 64}, 7861, 7871),
			launch(agent, host, spec.Metadata, spec.Resources{CPUs: 2, Mem: 4096, Disk: 64}, 7862, 7872),
			launch(agent, host, spec.Data, spec.Resources{CPUs: 2, Mem: 4096, Disk: 64}, 7863, 7873))
	}
	b.ReportAllocs()
	b.ResetTimer()
	stop := benchcpu.Start(b)
	for i := 0; i < b.N; i++ {
		if m := match(acts, offers); len(m.Assigned) != len(acts) {
			b.Fatalf("assigned %d of %d", len(m.Assigned), len(acts))
		}
	}
	stop()
}

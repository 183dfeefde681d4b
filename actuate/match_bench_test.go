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
	benchmarkMatch(b, 1)
}

// The same with offers from every tenth agent only, as while a fresh
// cluster's offers come in: 13,500 launches wait, each saying why.
func BenchmarkMatch_5000Agents_OffersFromATenth(b *testing.B) {
	benchmarkMatch(b, 10)
}

// benchmarkMatch matches the launches of 5,000 agents to offers from
// every nth one.
func benchmarkMatch(b *testing.B, nth int) {
	var offers []mesos.Offer
	var acts []controller.Action
	for i := range 5000 {
		agent, host := fmt.Sprintf("a%d", i), fmt.Sprintf("node%d", i)
		if i%nth == 0 {
			offers = append(offers, bigOffer("o"+agent, agent, host))
		}
		acts = append(acts,
			launch(agent, host, spec.Registry, spec.Resources{CPUs: 1, Mem: 2048, Disk: 64}, 7861, 7871),
			launch(agent, host, spec.Metadata, spec.Resources{CPUs: 2, Mem: 4096, Disk: 64}, 7862, 7872),
			launch(agent, host, spec.Data, spec.Resources{CPUs: 2, Mem: 4096, Disk: 64}, 7863, 7873))
	}
	b.ReportAllocs()
	b.ResetTimer()
	stop := benchcpu.Start(b)
	for i := 0; i < b.N; i++ {
		if m := match(acts, offers); len(m.Assigned) != 3*len(offers) {
			b.Fatalf("assigned %d of %d", len(m.Assigned), 3*len(offers))
		}
	}
	stop()
}

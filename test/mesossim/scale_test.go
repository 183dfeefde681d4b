package mesossim

import (
	"fmt"
	"math/rand"
	"os"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// scaleConfig is a simulated cluster of n agents whose timers stay out of the
// way of a benchmark that drives allocation itself.
func scaleConfig(n int) Config {
	cfg := Config{
		Mode:                      ModeSimulated,
		AllocationInterval:        time.Hour,
		HeartbeatInterval:         time.Hour,
		StatusUpdateRetryInterval: time.Hour,
		Rand:                      rand.New(rand.NewSource(1)),
		Now:                       func() time.Time { return time.Unix(1700000000, 0) },
	}
	for i := 0; i < n; i++ {
		cfg.Agents = append(cfg.Agents, DefaultAgent(fmt.Sprintf("agent%05d", i)))
	}
	return cfg
}

// drain keeps a raw stream's reader from filling up.
func drain(f *rawFw) (offers chan []mesos.Offer) {
	offers = make(chan []mesos.Offer, 16)
	go func() {
		for b := range f.s.frames {
			var ev scheduler.Event
			if ev.Unmarshal(b) == nil && ev.Type == scheduler.Event_OFFERS {
				offers <- ev.Offers.Offers
			}
		}
		close(offers)
	}()
	return offers
}

// BenchmarkAllocate5000Agents measures one allocation cycle that offers all
// 5,000 agents to a framework (offers built, encoded and queued on its stream),
// with 20,000 tasks running in the cluster.
func BenchmarkAllocate5000Agents(b *testing.B) {
	c := startCluster(b, scaleConfig(5000))
	f := subscribeRaw(b, c, partitionAwareInfo("bench"))
	offers := drain(f)
	launchOnEveryAgent(b, c, f, offers, 4)
	m := c.m
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.allocate()
		b.StopTimer()
		m.mu.Lock()
		n := len(m.offers)
		for _, fw := range m.frameworks {
			m.rescindAll(fw, false)
		}
		m.unlock()
		if n != 5000 {
			b.Fatalf("cycle made %d offers, want 5000", n)
		}
		<-offers
		b.StartTimer()
	}
}

// BenchmarkAllocate5000Agents_Refused measures an allocation cycle that
// offers nothing: the framework has declined the rest of all 5,000 agents
// for an hour (as it does with what its launches leave). While a framework
// launches on thousands of agents most cycles are like this one, and each
// holds the master's lock for its length.
func BenchmarkAllocate5000Agents_Refused(b *testing.B) {
	c := startCluster(b, scaleConfig(5000))
	f := subscribeRaw(b, c, partitionAwareInfo("bench"))
	offers := drain(f)
	launchOnEveryAgent(b, c, f, offers, 4)
	m := c.m
	m.allocate()
	<-offers
	hour := time.Hour.Seconds()
	m.mu.Lock()
	fw := m.frameworks[f.id]
	var ids []mesos.OfferID
	for id := range fw.offers {
		ids = append(ids, mesos.OfferID{Value: id})
	}
	m.decline(fw, &scheduler.Call_Decline{OfferIDs: ids, Filters: &mesos.Filters{RefuseSeconds: &hour}})
	m.unlock()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.allocate()
	}
	b.StopTimer()
	if n := len(m.offers); n != 0 {
		b.Fatalf("cycles made %d offers, want none", n)
	}
}

// launchOnEveryAgent allocates once and launches perAgent tasks on every
// offered agent over HTTP, then waits until every task is RUNNING.
func launchOnEveryAgent(tb testing.TB, c *Cluster, f *rawFw, offers chan []mesos.Offer, perAgent int) {
	tb.Helper()
	c.m.allocate()
	batch := <-offers
	for _, o := range batch {
		tasks := make([]mesos.TaskInfo, perAgent)
		for i := range tasks {
			tasks[i] = commandTask(fmt.Sprintf("%s-t%d", o.Hostname, i), o, 0.5, 256)
		}
		f.launch(o, 0, tasks...)
	}
	want := len(batch) * perAgent
	deadline := time.Now().Add(2 * time.Minute)
	for {
		c.m.mu.Lock()
		running := 0
		for _, fw := range c.m.frameworks {
			for _, t := range fw.tasks {
				if t.status.GetState() == mesos.TASK_RUNNING {
					running++
				}
			}
		}
		c.m.unlock()
		if running == want {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%d of %d tasks running after two minutes", running, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestScale5000Agents20000Tasks launches 20,000 simulated tasks on 5,000
// agents over the HTTP API and reports the figures. It takes tens of seconds,
// so it runs only with MESOSSIM_SCALE=1.
func TestScale5000Agents20000Tasks(t *testing.T) {
	if os.Getenv("MESOSSIM_SCALE") == "" {
		t.Skip("set MESOSSIM_SCALE=1 to run the scale test")
	}
	start := time.Now()
	c := startCluster(t, scaleConfig(5000))
	t.Logf("start with 5000 agents: %v", time.Since(start))
	f := subscribeRaw(t, c, partitionAwareInfo("scale"))
	offers := drain(f)
	start = time.Now()
	launchOnEveryAgent(t, c, f, offers, 4)
	t.Logf("launch 20000 tasks over HTTP until RUNNING: %v", time.Since(start))
	start = time.Now()
	st := c.State()
	t.Logf("State() with %d tasks: %v", len(st.Frameworks[0].Tasks), time.Since(start))
	start = time.Now()
	f.reconcile()
	t.Logf("implicit reconciliation call of 20000 tasks: %v", time.Since(start))
}

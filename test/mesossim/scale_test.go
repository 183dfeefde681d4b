package mesossim

import (
	"bytes"
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"syscall"
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
	c, _, offers := busyCluster(b)
	m := c.m
	var cpu time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c0 := processCPU()
		m.allocate()
		cpu += processCPU() - c0
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
	reportCPU(b, cpu)
}

// reportCPU reports the process's CPU time per op (every thread: the
// master, the stream writers, the benchmark's reader, GC), which holds on
// a machine others load, where ns/op does not.
func reportCPU(b *testing.B, cpu time.Duration) {
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/op")
}

// processCPU is the CPU time (user and system) of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAllocate5000Agents_Refused measures an allocation cycle that
// offers nothing: the framework has declined the rest of all 5,000 agents
// for an hour (as it does with what its launches leave). While a framework
// launches on thousands of agents most cycles are like this one, and each
// holds the master's lock for its length.
func BenchmarkAllocate5000Agents_Refused(b *testing.B) {
	c, f, offers := busyCluster(b)
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
	c0 := processCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.allocate()
	}
	b.StopTimer()
	reportCPU(b, processCPU()-c0)
	if n := len(m.offers); n != 0 {
		b.Fatalf("cycles made %d offers, want none", n)
	}
}

// BenchmarkLaunchAndAcknowledge measures the master's side of launching a
// task: an ACCEPT of one agent's offer, then the task's three status updates
// (STARTING, RUNNING, healthy RUNNING) each sent and acknowledged, one
// task per agent and op. Calls go to the scheduler handler in the process
// (no network, no HTTP client); the updates go out on the SUBSCRIBE stream
// and are read back. This is what a framework costs the simulated master
// while it launches on a whole cluster.
func BenchmarkLaunchAndAcknowledge(b *testing.B) {
	c := startCluster(b, scaleConfig(b.N))
	f := subscribeRaw(b, c, partitionAwareInfo("bench"))
	h := c.handler(0) // the call log and the refusal count included
	call := func(call *scheduler.Call) {
		call.FrameworkID = &mesos.FrameworkID{Value: f.id}
		body, err := call.Marshal()
		if err != nil {
			b.Fatal(err)
		}
		r := httptest.NewRequest(http.MethodPost, schedulerPath, bytes.NewReader(body))
		r.Header.Set("Content-Type", mediaProtobuf)
		r.Header.Set(headerStreamID, f.streamID)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusAccepted {
			b.Fatalf("%s: %d %s", call.Type, w.Code, w.Body)
		}
	}
	c.m.allocate()
	offers := f.wait(isType(scheduler.Event_OFFERS)).Offers.Offers
	refuse := time.Hour.Seconds()
	c0 := processCPU()
	b.ResetTimer()
	for _, o := range offers {
		task := commandTask(o.Hostname, o, 1, 1024)
		task.HealthCheck = &mesos.HealthCheck{}
		call(&scheduler.Call{Type: scheduler.Call_ACCEPT, Accept: &scheduler.Call_Accept{
			OfferIDs:   []mesos.OfferID{o.ID},
			Operations: []mesos.Offer_Operation{{Type: mesos.Offer_Operation_LAUNCH, Launch: &mesos.Offer_Operation_Launch{TaskInfos: []mesos.TaskInfo{task}}}},
			Filters:    &mesos.Filters{RefuseSeconds: &refuse},
		}})
	}
	for acked := 0; acked < 3*len(offers); acked++ {
		st := f.wait(isType(scheduler.Event_UPDATE)).Update.Status
		call(&scheduler.Call{Type: scheduler.Call_ACKNOWLEDGE, Acknowledge: &scheduler.Call_Acknowledge{
			AgentID: *st.AgentID, TaskID: st.TaskID, UUID: st.UUID,
		}})
	}
	b.StopTimer()
	reportCPU(b, processCPU()-c0)
}

// busyCluster is a cluster of 5,000 agents running 4 tasks each for a
// framework subscribed over HTTP, whose OFFERS events come on offers.
func busyCluster(b *testing.B) (*Cluster, *rawFw, chan []mesos.Offer) {
	c := startCluster(b, scaleConfig(5000))
	f := subscribeRaw(b, c, partitionAwareInfo("bench"))
	offers := drain(f)
	launchOnEveryAgent(b, c, f, offers, 4)
	return c, f, offers
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

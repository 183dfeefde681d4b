package actuate

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/client"
	"github.com/mesos/mesos-go/api/v1/lib/encoding/codecs"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"

	"github.com/quobyte/quobyte-mesos/controller"
)

// BenchmarkApply_5000Accepts applies a plan of 5,000 data launches, one per
// agent, to 5,000 held offers: 5,000 ACCEPT calls over HTTP to a stand-in
// master on loopback that decodes each call (protobuf, as mesos-go sends
// it) and answers 202 Accepted, as Mesos does; with rtt_1ms it answers
// 1 ms late, as a master across a network would. The HTTP client keeps 16
// connections alive, as mesosconn's does. One op is one Apply, with the
// matching and the TaskInfos it builds; "sequential" sends the calls one
// after another (as before), "concurrent" CallConcurrency (8) at a time.
func BenchmarkApply_5000Accepts(b *testing.B) {
	for _, rtt := range []time.Duration{0, time.Millisecond} {
		name := "loopback"
		if rtt > 0 {
			name = fmt.Sprintf("rtt_%s", rtt)
		}
		b.Run(name, func(b *testing.B) { benchmarkAccepts(b, rtt) })
	}
}

func benchmarkAccepts(b *testing.B, rtt time.Duration) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(rtt)
		body, err := io.ReadAll(r.Body)
		var c scheduler.Call
		if err == nil {
			err = c.Unmarshal(body)
		}
		if err != nil || c.Type != scheduler.Call_ACCEPT {
			http.Error(w, fmt.Sprintf("want an ACCEPT: %v", err), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
	}}
	cli := httpcli.New(
		httpcli.Endpoint(srv.URL+"/api/v1/scheduler"),
		httpcli.Codec(codecs.ByMediaType[codecs.MediaTypeProtobuf]),
		httpcli.Do(hc.Do),
	)
	caller := calls.CallerFunc(func(ctx context.Context, c *scheduler.Call) (mesos.Response, error) {
		return cli.Send(client.RequestSingleton(c), client.ResponseClassAuto, httpcli.Context(ctx))
	})

	offers, plan := dataLaunches(b, 5000)
	for _, bc := range []struct {
		name        string
		concurrency int
	}{{"sequential", 1}, {"concurrent", defaultCallConcurrency}} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				act := New(Config{Caller: caller, FrameworkID: func() string { return "fw" }, CallConcurrency: bc.concurrency, FrameworkHTTPBase: "http://fw:7888"})
				act.HandleOffers(offers)
				b.StartTimer()
				rep := act.Apply(context.Background(), plan)
				b.StopTimer()
				if len(rep.Failed) > 0 || len(rep.Errors) > 0 {
					b.Fatalf("apply: %d failed (first: %+v), errors %v", len(rep.Failed), rep.Failed[0], rep.Errors)
				}
				b.StartTimer()
			}
		})
	}
}

// dataLaunches returns n offers, one per agent, and a plan that launches a
// data service on each agent.
func dataLaunches(b *testing.B, n int) ([]mesos.Offer, *controller.Result) {
	c := dockerCluster(b)
	var offers []mesos.Offer
	var acts []controller.Action
	for i := range n {
		agent, host := fmt.Sprintf("a%d", i), fmt.Sprintf("node%d", i)
		offers = append(offers, bigOffer("o"+agent, agent, host))
		a := dataAction(agent, host)
		a.ConfigHash = c.Service("data").ConfigHash
		acts = append(acts, a)
	}
	return offers, &controller.Result{Generation: 1, SpecHash: c.Hash, Spec: c, RegistryAddrs: "node0:7861", Actions: acts}
}

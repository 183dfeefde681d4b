package mesossim

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"strconv"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

const waitLimit = 10 * time.Second

// fastConfig is a cluster that allocates and heartbeats quickly.
func fastConfig(agents int) Config {
	cfg := Config{
		AllocationInterval:            50 * time.Millisecond,
		HeartbeatInterval:             200 * time.Millisecond,
		StatusUpdateRetryInterval:     300 * time.Millisecond,
		AgentPingTimeout:              20 * time.Millisecond,
		ExecutorReregistrationTimeout: 200 * time.Millisecond,
		Rand:                          rand.New(rand.NewSource(1)),
	}
	for i := 1; i <= agents; i++ {
		cfg.Agents = append(cfg.Agents, DefaultAgent(fmt.Sprintf("agent%d", i)))
	}
	return cfg
}

func startCluster(t testing.TB, cfg Config) *Cluster {
	t.Helper()
	if cfg.WorkDir == "" {
		cfg.WorkDir = t.TempDir()
	}
	c, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(c.Close)
	t.Cleanup(func() { checkAvail(t, c) }) // before Close
	return c
}

// checkAvail fails unless every agent's available resources, which the
// master keeps in step as they are used and offered, are its total less
// what is used and offered.
func checkAvail(t testing.TB, c *Cluster) {
	t.Helper()
	m := c.m
	m.mu.Lock()
	defer m.unlock()
	for _, a := range m.agentOrder {
		want := a.total.clone()
		want.sub(a.used)
		want.sub(a.offered)
		if !samePool(a.avail, want) {
			t.Errorf("agent %s: available %v, want total %v - used %v - offered %v = %v",
				a.cfg.Hostname, a.avail.scalarTotals(), a.total.scalarTotals(), a.used.scalarTotals(), a.offered.scalarTotals(), want.scalarTotals())
		}
	}
}

// samePool compares pools, ignoring empty buckets and zero scalars.
func samePool(p, q pool) bool {
	pq, _ := p.contains(q)
	qp, _ := q.contains(p)
	return pq && qp
}

// rawStream is a SUBSCRIBE response read frame by frame, as the RecordIO doc
// describes: "<length>\n<bytes>".
type rawStream struct {
	resp   *http.Response
	frames chan []byte
	errs   chan error
}

func rawPost(t testing.TB, url, contentType string, body []byte, hdr map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	return resp
}

func openRawStream(t testing.TB, resp *http.Response) *rawStream {
	t.Helper()
	s := &rawStream{resp: resp, frames: make(chan []byte, 1000), errs: make(chan error, 1)}
	t.Cleanup(func() { resp.Body.Close() })
	go func() {
		r := bufio.NewReader(resp.Body)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				s.errs <- err
				close(s.frames)
				return
			}
			n, err := strconv.Atoi(line[:len(line)-1])
			if err != nil {
				s.errs <- fmt.Errorf("bad RecordIO length %q: %w", line, err)
				close(s.frames)
				return
			}
			b := make([]byte, n)
			if _, err := io.ReadFull(r, b); err != nil {
				s.errs <- err
				close(s.frames)
				return
			}
			s.frames <- b
		}
	}()
	return s
}

// nextJSON returns the next event of a JSON stream as a generic map.
func (s *rawStream) nextJSON(t testing.TB) map[string]any {
	t.Helper()
	select {
	case b, ok := <-s.frames:
		if !ok {
			t.Fatalf("stream ended: %v", <-s.errs)
		}
		var ev map[string]any
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatalf("event is not JSON: %v: %s", err, b)
		}
		return ev
	case <-time.After(waitLimit):
		t.Fatal("no event within the wait limit")
	}
	return nil
}

// nextProto returns the next event of a protobuf stream.
func (s *rawStream) nextProto(t testing.TB) *scheduler.Event {
	t.Helper()
	select {
	case b, ok := <-s.frames:
		if !ok {
			t.Fatalf("stream ended: %v", <-s.errs)
		}
		var ev scheduler.Event
		if err := ev.Unmarshal(b); err != nil {
			t.Fatalf("event is not protobuf: %v", err)
		}
		return &ev
	case <-time.After(waitLimit):
		t.Fatal("no event within the wait limit")
	}
	return nil
}

// waitProto returns the first protobuf event that matches, skipping others.
func (s *rawStream) waitProto(t testing.TB, match func(*scheduler.Event) bool) *scheduler.Event {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for time.Now().Before(deadline) {
		if ev := s.nextProto(t); match(ev) {
			return ev
		}
	}
	t.Fatal("no matching event within the wait limit")
	return nil
}

func isType(ty scheduler.Event_Type) func(*scheduler.Event) bool {
	return func(ev *scheduler.Event) bool { return ev.Type == ty }
}

// protoSubscribe subscribes with protobuf over plain HTTP and returns the stream,
// the stream ID and the framework ID.
func protoSubscribe(t testing.TB, c *Cluster, info mesos.FrameworkInfo) (*rawStream, string, string) {
	t.Helper()
	call := &scheduler.Call{Type: scheduler.Call_SUBSCRIBE, Subscribe: &scheduler.Call_Subscribe{FrameworkInfo: &info}}
	if info.ID != nil {
		call.FrameworkID = info.ID
	}
	body, err := call.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	resp := rawPost(t, c.URL()+schedulerPath, mediaProtobuf, body, map[string]string{"Accept": mediaProtobuf})
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("SUBSCRIBE: %d %s", resp.StatusCode, b)
	}
	s := openRawStream(t, resp)
	ev := s.nextProto(t)
	if ev.Type != scheduler.Event_SUBSCRIBED {
		t.Fatalf("first event %s, want SUBSCRIBED", ev.Type)
	}
	return s, resp.Header.Get(headerStreamID), ev.Subscribed.FrameworkID.Value
}

// protoCall sends a non-SUBSCRIBE call and returns the status code and body.
func protoCall(t testing.TB, c *Cluster, streamID string, call *scheduler.Call) (int, string) {
	t.Helper()
	body, err := call.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	hdr := map[string]string{"Accept": mediaProtobuf}
	if streamID != "" {
		hdr[headerStreamID] = streamID
	}
	resp := rawPost(t, c.URL()+schedulerPath, mediaProtobuf, body, hdr)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func mustCall(t testing.TB, c *Cluster, streamID string, call *scheduler.Call) {
	t.Helper()
	if code, body := protoCall(t, c, streamID, call); code != http.StatusAccepted {
		t.Fatalf("%s: %d %s", call.Type, code, body)
	}
}

func partitionAwareInfo(name string) mesos.FrameworkInfo {
	return mesos.FrameworkInfo{
		User: "root", Name: name,
		Capabilities: []mesos.FrameworkInfo_Capability{{Type: mesos.FrameworkInfo_Capability_PARTITION_AWARE}},
	}
}

// commandTask builds a task using part of an offer.
func commandTask(id string, o mesos.Offer, cpus, mem float64) mesos.TaskInfo {
	scalar := mesos.SCALAR
	return mesos.TaskInfo{
		Name: id, TaskID: mesos.TaskID{Value: id}, AgentID: o.AgentID,
		Command: &mesos.CommandInfo{Value: strPtr("sleep 1000")},
		Resources: []mesos.Resource{
			{Name: "cpus", Type: &scalar, Scalar: &mesos.Value_Scalar{Value: cpus}},
			{Name: "mem", Type: &scalar, Scalar: &mesos.Value_Scalar{Value: mem}},
		},
	}
}

func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

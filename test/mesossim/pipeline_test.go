package mesossim

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// TestPipelinedCallsAnsweredInOrder sends several scheduler calls in one
// write on one connection (HTTP/1.1 pipelining, which libprocess serves in
// order) and reads the answers: each comes in the order of its request,
// errors included, the calls take effect in that order, and the connection
// stays open for the next call.
func TestPipelinedCallsAnsweredInOrder(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	f := subscribeRaw(t, c, partitionAwareInfo("pipelined"))
	fwID := &mesos.FrameworkID{Value: f.id}
	reconcile := func(id string) *scheduler.Call {
		return &scheduler.Call{Type: scheduler.Call_RECONCILE, FrameworkID: fwID, Reconcile: &scheduler.Call_Reconcile{
			Tasks: []scheduler.Call_Reconcile_Task{reconcileTask(id, "")},
		}}
	}
	type req struct {
		call        *scheduler.Call
		contentType string
		streamID    string
		status      int
		body        string // the answer's body starts with it
	}
	reqs := []req{
		{call: &scheduler.Call{Type: scheduler.Call_REVIVE, FrameworkID: fwID}, status: http.StatusAccepted},
		{call: &scheduler.Call{Type: scheduler.Call_DECLINE, FrameworkID: fwID}, status: http.StatusBadRequest,
			body: "Failed to validate scheduler::Call: Expecting 'decline' to be present"},
		{call: reconcile("pipelined-1"), status: http.StatusAccepted},
		{call: &scheduler.Call{Type: scheduler.Call_KILL, FrameworkID: fwID, Kill: &scheduler.Call_Kill{TaskID: mesos.TaskID{Value: "x"}}},
			streamID: "stale", status: http.StatusBadRequest, body: "The stream ID 'stale' included in this request didn't match"},
		{call: reconcile("pipelined-2"), status: http.StatusAccepted},
		{call: &scheduler.Call{Type: scheduler.Call_SUPPRESS, FrameworkID: fwID}, contentType: "text/plain", status: http.StatusUnsupportedMediaType,
			body: "Expecting 'Content-Type' of application/json or application/x-protobuf"},
		{call: &scheduler.Call{Type: scheduler.Call_SUPPRESS, FrameworkID: fwID}, status: http.StatusAccepted},
	}
	host := strings.TrimPrefix(c.URL(), "http://")
	request := func(r req) []byte {
		body, err := r.call.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if r.contentType == "" {
			r.contentType = mediaProtobuf
		}
		if r.streamID == "" {
			r.streamID = f.streamID
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nAccept: %s\r\n%s: %s\r\nContent-Length: %d\r\n\r\n",
			schedulerPath, host, r.contentType, mediaProtobuf, headerStreamID, r.streamID, len(body))
		b.Write(body)
		return b.Bytes()
	}
	var batch []byte
	for _, r := range reqs {
		batch = append(batch, request(r)...)
	}
	before := len(c.Calls(0))

	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(waitLimit)); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(batch); err != nil {
		t.Fatalf("writing %d pipelined calls: %v", len(reqs), err)
	}
	rd := bufio.NewReader(conn)
	answer := func(i int, r req) {
		t.Helper()
		resp, err := http.ReadResponse(rd, nil)
		if err != nil {
			t.Fatalf("answer %d (%s): %v", i, r.call.Type, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("answer %d (%s): %v", i, r.call.Type, err)
		}
		if resp.StatusCode != r.status || !strings.HasPrefix(string(b), r.body) {
			t.Errorf("answer %d (%s) = %d %q, want %d %q...", i, r.call.Type, resp.StatusCode, b, r.status, r.body)
		}
		if resp.Close {
			t.Errorf("answer %d (%s) closes the connection", i, r.call.Type)
		}
	}
	for i, r := range reqs {
		answer(i, r)
	}

	// The master took the calls in the order they were written.
	var got []string
	for _, rec := range c.Calls(0)[before:] {
		got = append(got, rec.Type)
	}
	// (The call sent as text/plain is not decoded: it has no type.)
	want := []string{"REVIVE", "DECLINE", "RECONCILE", "KILL", "RECONCILE", "", "SUPPRESS"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("calls logged in the order %v, want %v", got, want)
	}
	first := f.wait(isType(scheduler.Event_UPDATE)).Update.Status.TaskID.Value
	second := f.wait(isType(scheduler.Event_UPDATE)).Update.Status.TaskID.Value
	if first != "pipelined-1" || second != "pipelined-2" {
		t.Errorf("reconciliation answers for %s then %s, want pipelined-1 then pipelined-2", first, second)
	}

	// The connection carries the next call too.
	next := req{call: &scheduler.Call{Type: scheduler.Call_REVIVE, FrameworkID: fwID}, status: http.StatusAccepted}
	if _, err := conn.Write(request(next)); err != nil {
		t.Fatalf("writing a call after the pipelined ones: %v", err)
	}
	answer(len(reqs), next)
}

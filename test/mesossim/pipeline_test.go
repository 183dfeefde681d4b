package mesossim

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
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

// countingListener counts the writes made to the connections it accepts.
type countingListener struct {
	net.Listener
	writes *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{Conn: c, writes: l.writes}, nil
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

// servePipelined serves next behind pipelined on a loopback port and
// returns its address, the count of writes to its connections and the
// connection set.
func servePipelined(t *testing.T, next http.Handler) (string, *atomic.Int64, *connSet) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	writes, conns := &atomic.Int64{}, &connSet{}
	srv := &http.Server{Handler: pipelined{next: next, conns: conns}}
	go srv.Serve(countingListener{Listener: l, writes: writes})
	t.Cleanup(func() {
		srv.Close()
		conns.close()
	})
	return l.Addr().String(), writes, conns
}

func dialRaw(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(waitLimit)); err != nil {
		t.Fatal(err)
	}
	return conn, bufio.NewReader(conn)
}

func rawRequest(method, path, body string, extra ...string) string {
	return fmt.Sprintf("%s %s HTTP/1.1\r\nHost: master\r\n%sContent-Length: %d\r\n\r\n%s", method, path, strings.Join(extra, ""), len(body), body)
}

// TestPipelined_AnswersWhatArrivedTogetherInOneWrite: calls that arrive in
// one read are answered in their order with one write, not one each (Go's
// server writes each answer on its own), and each answer carries its own
// status, headers and body.
func TestPipelined_AnswersWhatArrivedTogetherInOneWrite(t *testing.T) {
	addr, writes, _ := servePipelined(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if string(b) == "fail" {
			http.Error(w, "no: "+r.URL.Path, http.StatusBadRequest)
			return
		}
		w.Header().Set("X-Call", string(b))
		w.WriteHeader(http.StatusAccepted)
	}))
	conn, rd := dialRaw(t, addr)
	var batch string
	const n = 10
	for i := range n {
		body := fmt.Sprint("call-", i)
		if i == 4 {
			body = "fail"
		}
		batch += rawRequest("POST", schedulerPath, body, "Content-Type: application/x-protobuf\r\n")
	}
	if _, err := io.WriteString(conn, batch); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		resp, err := http.ReadResponse(rd, nil)
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case i == 4 && (resp.StatusCode != http.StatusBadRequest || string(b) != "no: "+schedulerPath+"\n"):
			t.Errorf("answer %d = %d %q, want 400 with the handler's text", i, resp.StatusCode, b)
		case i != 4 && (resp.StatusCode != http.StatusAccepted || resp.Header.Get("X-Call") != fmt.Sprint("call-", i) || len(b) != 0):
			t.Errorf("answer %d = %d X-Call %q body %q, want 202 for call-%d", i, resp.StatusCode, resp.Header.Get("X-Call"), b, i)
		}
	}
	if got := writes.Load(); got != 1 {
		t.Errorf("%d calls that arrived together were answered in %d writes, want 1", n, got)
	}
	// The connection carries the next call too, answered at once.
	if _, err := io.WriteString(conn, rawRequest("POST", schedulerPath, "later", "Content-Type: application/x-protobuf\r\n")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(rd, nil)
	if err != nil || resp.Header.Get("X-Call") != "later" {
		t.Fatalf("a call after the batch: %v %v", resp, err)
	}
}

// TestPipelined_OtherRequestsAndAMalformedOne: a GET on another path after
// a call is served by the same handler with its body; a request that does
// not parse is answered 400 and ends the connection; a first request that
// is not a scheduler call stays with net/http's server.
func TestPipelined_OtherRequestsAndAMalformedOne(t *testing.T) {
	addr, _, conns := servePipelined(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			io.WriteString(w, `{"path":"`+r.URL.Path+`"}`)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	conn, rd := dialRaw(t, addr)
	io.WriteString(conn, rawRequest("POST", masterPrefix+schedulerPath, "x")+rawRequest("GET", "/state", "")+"NONSENSE\r\n\r\n")
	for i, want := range []int{http.StatusAccepted, http.StatusOK, http.StatusBadRequest} {
		resp, err := http.ReadResponse(rd, nil)
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Errorf("answer %d: %d, want %d", i, resp.StatusCode, want)
		}
		if i == 1 && (string(b) != `{"path":"/state"}` || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain")) {
			// (net/http sniffs a JSON body as text/plain too.)
			t.Errorf("GET /state answered %q as %q", b, resp.Header.Get("Content-Type"))
		}
	}
	if _, err := rd.ReadByte(); err != io.EOF {
		t.Errorf("after the malformed request the connection stays open (%v)", err)
	}
	registered := func() int {
		conns.mu.Lock()
		defer conns.mu.Unlock()
		return len(conns.conns)
	}
	// (The server closes the connection, then forgets it.)
	for deadline := time.Now().Add(waitLimit); registered() != 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if n := registered(); n != 0 {
		t.Fatalf("%d connections still registered after the malformed request closed the only one", n)
	}

	// A GET first is not taken over: net/http answers, and nothing is registered.
	conn2, rd2 := dialRaw(t, addr)
	io.WriteString(conn2, rawRequest("GET", "/state", ""))
	if resp, err := http.ReadResponse(rd2, nil); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET first: %v %v", resp, err)
	}
	if registered() != 0 {
		t.Errorf("a connection that began with a GET was taken over")
	}
}

// TestPipelined_HeaderTooLarge: a header beyond net/http's default limit
// (1 MB) after a call is answered 431 and ends the connection, as net/http's
// server does, instead of being read into memory whatever its size.
func TestPipelined_HeaderTooLarge(t *testing.T) {
	addr, _, _ := servePipelined(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}))
	conn, rd := dialRaw(t, addr)
	go func() {
		io.WriteString(conn, rawRequest("POST", schedulerPath, "x"))
		io.WriteString(conn, "POST "+schedulerPath+" HTTP/1.1\r\nHost: master\r\nX-Big: "+strings.Repeat("a", 2<<20)+"\r\n\r\n")
	}()
	if resp, err := http.ReadResponse(rd, nil); err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("the call before: %v %v", resp, err)
	}
	resp, err := http.ReadResponse(rd, nil)
	if err != nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge || !resp.Close {
		t.Fatalf("a 2 MB header: %v %v, want 431 closing the connection", resp, err)
	}
}

// TestPipelined_StreamEndsWithTheClient: a handler that flushes streams a
// chunked answer, and the client closing the connection cancels the
// request's context, as net/http's server does (the master notices a
// framework that went away that way).
func TestPipelined_StreamEndsWithTheClient(t *testing.T) {
	cancelled := make(chan struct{})
	addr, _, _ := servePipelined(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("stream") == "" {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.Header().Set("Content-Type", "application/recordio")
		io.WriteString(w, "first")
		w.(http.Flusher).Flush()
		io.WriteString(w, "second")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		close(cancelled)
	}))
	conn, rd := dialRaw(t, addr)
	io.WriteString(conn, rawRequest("POST", schedulerPath, "call")+rawRequest("POST", schedulerPath+"?stream=1", "subscribe"))
	if resp, err := http.ReadResponse(rd, nil); err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("the call before the stream: %v %v", resp, err)
	}
	resp, err := http.ReadResponse(rd, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || len(resp.TransferEncoding) == 0 || resp.TransferEncoding[0] != "chunked" || !resp.Close {
		t.Fatalf("stream answer %d, transfer encoding %v, closing %v; want 200 chunked, closing the connection (a client must not pool it)", resp.StatusCode, resp.TransferEncoding, resp.Close)
	}
	b := make([]byte, len("firstsecond"))
	if _, err := io.ReadFull(resp.Body, b); err != nil || string(b) != "firstsecond" {
		t.Fatalf("streamed %q (%v)", b, err)
	}
	conn.Close()
	select {
	case <-cancelled:
	case <-time.After(waitLimit):
		t.Fatal("the stream's context was not cancelled when the client closed the connection")
	}
}

// TestCluster_ClosesPipelinedConnections: connections taken over from
// net/http's server are closed when the cluster stops, as the server's own
// are, so a framework notices its master is gone.
func TestCluster_ClosesPipelinedConnections(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	conn, rd := dialRaw(t, strings.TrimPrefix(c.URL(), "http://"))
	io.WriteString(conn, rawRequest("POST", schedulerPath, "x", "Content-Type: application/x-protobuf\r\n"))
	resp, err := http.ReadResponse(rd, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	c.Close()
	if _, err := rd.ReadByte(); err == nil {
		t.Fatal("a pipelined connection outlived the cluster")
	}
}

// TestSubscribeOnAPipelinedConnection: a framework that sends SUBSCRIBE on
// a connection that carried calls before gets its stream there, and
// closing that connection disconnects it in the master.
func TestSubscribeOnAPipelinedConnection(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	info := partitionAwareInfo("pipelined-subscribe")
	sub, err := (&scheduler.Call{Type: scheduler.Call_SUBSCRIBE, Subscribe: &scheduler.Call_Subscribe{FrameworkInfo: &info}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	conn, rd := dialRaw(t, strings.TrimPrefix(c.URL(), "http://"))
	hdr := "Content-Type: " + mediaProtobuf + "\r\nAccept: " + mediaProtobuf + "\r\n"
	// A REVIVE without a framework ID first: refused, but it is a call.
	io.WriteString(conn, rawRequest("POST", schedulerPath, "\x08\x05", hdr)+rawRequest("POST", schedulerPath, string(sub), hdr))
	if resp, err := http.ReadResponse(rd, nil); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("the call before SUBSCRIBE: %v %v", resp, err)
	} else {
		io.Copy(io.Discard, resp.Body)
	}
	resp, err := http.ReadResponse(rd, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("SUBSCRIBE: %v %v", resp, err)
	}
	s := openRawStream(t, resp)
	if ev := s.nextProto(t); ev.Type != scheduler.Event_SUBSCRIBED {
		t.Fatalf("first event %s, want SUBSCRIBED", ev.Type)
	}
	connected := func() bool {
		for _, fw := range c.State().Frameworks {
			if fw.Name == info.Name {
				return fw.Connected
			}
		}
		return false
	}
	if !connected() {
		t.Fatal("the subscribed framework is not connected")
	}
	conn.Close()
	deadline := time.Now().Add(waitLimit)
	for connected() {
		if time.Now().After(deadline) {
			t.Fatal("closing the stream's connection did not disconnect the framework")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

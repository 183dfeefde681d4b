package mesosconn

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli/apierrors"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"

	"github.com/quobyte/quobyte-mesos/observe/internal/fakemaster"
)

// rawMaster is a master at the TCP level: it reads pipelined requests and
// answers them as answer says, so that tests control when and in which
// grouping answers go out, which net/http's server does not let them.
type rawMaster struct {
	ln     net.Listener
	answer func(req *http.Request, call *scheduler.Call) (status int, body string)
	// hold, when set, is waited on before each answer is written.
	hold chan struct{}

	mu       sync.Mutex
	calls    []*scheduler.Call
	headers  []http.Header
	accepted int
	// inOneRead counts requests that arrived in a read that held more than
	// one: proof that requests were pipelined, not sent one at a time.
	inOneRead int
	conns     []net.Conn
	ended     int // connections whose reading ended (the client closed them)
}

func startRawMaster(t *testing.T, answer func(*http.Request, *scheduler.Call) (int, string)) *rawMaster {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &rawMaster{ln: ln, answer: answer}
	t.Cleanup(func() {
		ln.Close()
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, c := range m.conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			m.mu.Lock()
			m.accepted++
			m.conns = append(m.conns, c)
			m.mu.Unlock()
			go m.serve(c)
		}
	}()
	return m
}

func (m *rawMaster) serve(c net.Conn) {
	defer func() {
		c.Close()
		m.mu.Lock()
		m.ended++
		m.mu.Unlock()
	}()
	br := bufio.NewReader(c)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		// Whatever is buffered beyond this request arrived with it.
		more := br.Buffered() > int(req.ContentLength)
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return
		}
		var call scheduler.Call
		if err := call.Unmarshal(body); err != nil {
			fmt.Fprintf(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
			continue
		}
		m.mu.Lock()
		m.calls = append(m.calls, &call)
		m.headers = append(m.headers, req.Header)
		if more {
			m.inOneRead++
		}
		m.mu.Unlock()
		if m.hold != nil {
			<-m.hold
		}
		status, text := m.answer(req, &call)
		if status == 0 {
			return // hang up without an answer
		}
		if _, err := fmt.Fprintf(c, "HTTP/1.1 %d %s\r\nContent-Length: %d\r\n\r\n%s", status, http.StatusText(status), len(text), text); err != nil {
			return
		}
	}
}

func (m *rawMaster) pipeline(t *testing.T, lost func()) *pipeline {
	t.Helper()
	if lost == nil {
		lost = func() {}
	}
	p := newPipeline(pipelineConfig{Host: m.ln.Addr().String(), Path: "/api/v1/scheduler", StreamID: "stream-1", User: "fw", Password: "s3cret", Lost: lost})
	t.Cleanup(p.close)
	return p
}

// killCall is a KILL whose task ID says which call it is.
func killCall(i int) *scheduler.Call {
	return calls.Kill(fmt.Sprintf("task-%d", i), "agent-1")
}

func taskOf(c *scheduler.Call) string { return c.GetKill().GetTaskID().Value }

func TestPipeline_AnswersReachTheirCallsInOrder(t *testing.T) {
	// Odd calls fail with a text naming them: a call that got another's
	// answer would see the wrong text or none.
	m := startRawMaster(t, func(_ *http.Request, c *scheduler.Call) (int, string) {
		var i int
		fmt.Sscanf(taskOf(c), "task-%d", &i)
		if i%2 == 1 {
			return http.StatusBadRequest, "refused " + taskOf(c)
		}
		return http.StatusAccepted, ""
	})
	p := m.pipeline(t, nil)
	const n = 400
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := p.Call(context.Background(), killCall(i))
			if resp != nil {
				resp.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if i%2 == 0 {
			if err != nil {
				t.Errorf("call %d: %v", i, err)
			}
			continue
		}
		if !apierrors.CodeMalformedRequest.Matches(err) || !strings.HasSuffix(err.Error(), fmt.Sprintf("refused task-%d", i)) {
			t.Errorf("call %d: want its own 400, got %v", i, err)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.calls) != n {
		t.Fatalf("master got %d calls, want %d", len(m.calls), n)
	}
	if m.accepted > pipeConns {
		t.Errorf("%d connections for %d calls, want at most %d", m.accepted, n, pipeConns)
	}
	if m.inOneRead == 0 {
		t.Errorf("no two of %d concurrent calls arrived together: not pipelined", n)
	}
	h := m.headers[0]
	if h.Get("Mesos-Stream-Id") != "stream-1" || h.Get("Content-Type") != "application/x-protobuf" || !strings.HasPrefix(h.Get("Authorization"), "Basic ") {
		t.Errorf("headers: %v", h)
	}
}

func TestPipeline_SubscriptionLossEndsSubscription(t *testing.T) {
	for _, status := range []int{http.StatusForbidden, http.StatusTemporaryRedirect} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			m := startRawMaster(t, func(*http.Request, *scheduler.Call) (int, string) { return status, "gone" })
			var lost atomic.Int32
			p := m.pipeline(t, func() { lost.Add(1) })
			_, err := p.Call(context.Background(), killCall(1))
			if !apierrors.Code(status).Matches(err) {
				t.Fatalf("want a %d error, got %v", status, err)
			}
			if lost.Load() != 1 {
				t.Errorf("subscription ended %d times, want once", lost.Load())
			}
		})
	}
	t.Run("other errors keep it", func(t *testing.T) {
		m := startRawMaster(t, func(*http.Request, *scheduler.Call) (int, string) { return http.StatusServiceUnavailable, "busy" })
		var lost atomic.Int32
		p := m.pipeline(t, func() { lost.Add(1) })
		_, err := p.Call(context.Background(), killCall(1))
		var apiErr *apierrors.Error
		if !errors.As(err, &apiErr) || !apiErr.Temporary() {
			t.Fatalf("want a temporary 503 error, got %v", err)
		}
		if lost.Load() != 0 {
			t.Error("a 503 ended the subscription")
		}
	})
}

func TestPipeline_BrokenConnectionFailsItsCallsAndRedials(t *testing.T) {
	var hangUp atomic.Bool
	hangUp.Store(true)
	m := startRawMaster(t, func(*http.Request, *scheduler.Call) (int, string) {
		if hangUp.Load() {
			return 0, ""
		}
		return http.StatusAccepted, ""
	})
	p := m.pipeline(t, nil)
	if _, err := p.Call(context.Background(), killCall(1)); err == nil {
		t.Fatal("a call whose connection closed before its answer succeeded")
	}
	hangUp.Store(false)
	// The broken connection is dropped; the calls after it dial anew.
	eventually(t, "calls succeed on a new connection", func() bool {
		_, err := p.Call(context.Background(), killCall(2))
		return err == nil
	})
}

func TestPipeline_AbandonedCallClosesItsConnection(t *testing.T) {
	m := startRawMaster(t, func(*http.Request, *scheduler.Call) (int, string) { return http.StatusAccepted, "" })
	m.hold = make(chan struct{}) // no answer until released
	p := m.pipeline(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := p.Call(ctx, killCall(1)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want the deadline's error, got %v", err)
	}
	// The connection is closed: the master's read ends (it holds the
	// answer, which now has nowhere to go).
	close(m.hold)
	eventually(t, "a fresh connection answers", func() bool {
		_, err := p.Call(context.Background(), killCall(2))
		return err == nil
	})
}

// A master may end a subscription's stream before it answers a call made
// on it (TEARDOWN): the answer must still reach the call.
func TestPipeline_CloseLetsCallsInFlightFinish(t *testing.T) {
	m := startRawMaster(t, func(*http.Request, *scheduler.Call) (int, string) { return http.StatusAccepted, "" })
	m.hold = make(chan struct{})
	p := m.pipeline(t, nil)
	done := make(chan error, 1)
	go func() {
		_, err := p.Call(context.Background(), killCall(1))
		done <- err
	}()
	eventually(t, "the call reached the master", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return len(m.calls) == 1
	})
	p.close()
	if _, err := p.Call(context.Background(), killCall(2)); !errors.Is(err, ErrNotSubscribed) {
		t.Fatalf("call after close: want %v, got %v", ErrNotSubscribed, err)
	}
	close(m.hold)
	if err := <-done; err != nil {
		t.Fatalf("the call sent before close: %v", err)
	}
	// Then its connection closes: the master's read of it ends.
	eventually(t, "the idle connection closed", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.ended == 1
	})
}

func TestPipeline_FencedCallIsNotSent(t *testing.T) {
	m := startRawMaster(t, func(*http.Request, *scheduler.Call) (int, string) { return http.StatusAccepted, "" })
	p := m.pipeline(t, nil)
	p.fence = func() error { return errors.New("not the leader") }
	if _, err := p.Call(context.Background(), killCall(1)); !errors.Is(err, ErrFenced) {
		t.Fatalf("want ErrFenced, got %v", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.accepted != 0 || len(m.calls) != 0 {
		t.Errorf("a fenced call reached the master (%d connections, %d calls)", m.accepted, len(m.calls))
	}
}

func TestPipeline_AnswerWithBodyDecodes(t *testing.T) {
	ev := scheduler.Event{Type: scheduler.Event_HEARTBEAT}
	data, err := ev.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	m := startRawMaster(t, func(*http.Request, *scheduler.Call) (int, string) { return http.StatusOK, string(data) })
	p := m.pipeline(t, nil)
	resp, err := p.Call(context.Background(), killCall(1))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Close()
	var got scheduler.Event
	if err := resp.Decode(&got); err != nil || got.GetType() != scheduler.Event_HEARTBEAT {
		t.Fatalf("decode: %v, %v", got.GetType(), err)
	}
}

var _ mesos.Response = emptyResponse{}

// Where a proxy stands between the framework and the master, calls go
// through it one request per connection (net/http), not pipelined.
func TestRun_CallsGoThroughAProxyUnpipelined(t *testing.T) {
	m := fakemaster.Start(t, 0)
	target, err := url.Parse(m.URL())
	if err != nil {
		t.Fatal(err)
	}
	var proxied atomic.Int32
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.FlushInterval = -1 // the event stream
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied.Add(1)
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	proxyURL, err := url.Parse(proxy.URL)
	if err != nil {
		t.Fatal(err)
	}
	h := start(t, Config{Masters: []string{m.URL()}}, func(c *Conn) {
		c.http.Transport.(*http.Transport).Proxy = http.ProxyURL(proxyURL)
	})
	h.waitSubscriptions(t, 1)
	for i := range 3 {
		if err := decline(t, h.conn.Caller()); err != nil {
			t.Fatalf("decline %d: %v", i, err)
		}
	}
	h.conn.mu.Lock()
	pipe := h.conn.session.pipe
	h.conn.mu.Unlock()
	if pipe != nil {
		t.Error("calls pipelined although a proxy is configured")
	}
	if n := len(m.Calls()); n != 3 {
		t.Errorf("master got %d calls, want 3", n)
	}
	if n := proxied.Load(); n != 4 { // SUBSCRIBE and three DECLINEs
		t.Errorf("the proxy carried %d requests, want 4", n)
	}
}

func TestReadAnswerBody(t *testing.T) {
	big := strings.Repeat("x", maxAnswerBody+1)
	for _, tc := range []struct {
		name, answer, want string
		fails              bool
	}{
		{name: "none", answer: "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"},
		{name: "declared", answer: "HTTP/1.1 400 Bad Request\r\nContent-Length: 5\r\n\r\nhello", want: "hello"},
		{name: "chunked", answer: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", want: "hello"},
		{name: "declared too large", answer: fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", maxAnswerBody+1), fails: true},
		{name: "chunked too large", answer: fmt.Sprintf("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(big), big), fails: true},
		{name: "cut short", answer: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", fails: true},
	} {
		res, err := http.ReadResponse(bufio.NewReader(strings.NewReader(tc.answer)), nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		body, err := readAnswerBody(res)
		if (err != nil) != tc.fails || string(body) != tc.want {
			t.Errorf("%s: body %.20q, error %v; want %q, failing %v", tc.name, body, err, tc.want, tc.fails)
		}
	}
}

// A call whose answer does not come within the pipeline's timeout fails,
// and so do the calls behind it on its connection (answers come in
// order); the next call goes over a new connection.
func TestPipeline_UnansweredCallTimesOut(t *testing.T) {
	var hang atomic.Bool
	hang.Store(true)
	m := startRawMaster(t, func(*http.Request, *scheduler.Call) (int, string) {
		for hang.Load() {
			time.Sleep(5 * time.Millisecond)
		}
		return http.StatusAccepted, ""
	})
	p := newPipeline(pipelineConfig{Host: m.ln.Addr().String(), Path: "/api/v1/scheduler", StreamID: "s", Lost: func() {}, Timeout: 100 * time.Millisecond})
	t.Cleanup(p.close)
	start := time.Now()
	_, err := p.Call(context.Background(), killCall(1))
	if err == nil || !strings.Contains(err.Error(), "no answer from") {
		t.Fatalf("a call the master does not answer: %v, want no answer within the timeout", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
		t.Errorf("the call failed after %s, want soon after its 100ms timeout", d)
	}
	hang.Store(false)
	if _, err := p.Call(context.Background(), killCall(2)); err != nil {
		t.Fatalf("the next call, on a new connection: %v", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.accepted < 2 {
		t.Errorf("%d connections, want the timed-out one replaced", m.accepted)
	}
}

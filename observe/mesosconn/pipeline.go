package mesosconn

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/encoding"
	"github.com/mesos/mesos-go/api/v1/lib/encoding/codecs"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli/apierrors"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// A subscription's calls (every one but SUBSCRIBE) go out with HTTP/1.1
// pipelining: each of a few kept-alive connections to the leader carries
// many requests at once, written back to back, and one reader takes the
// answers in the order of the requests. Mesos' HTTP server (libprocess)
// answers pipelined requests in order (3rdparty/libprocess/src/process.cpp
// queues every answer on the socket's HttpProxy "so that it respects the
// order of requests to account for HTTP/1.1 pipelining"), and so does Go's
// net/http server. net/http's client sends one request per connection at
// a time; a plan that applies 5,000 ACCEPTs, or a burst of 30,000
// acknowledgements, then pays a write, a read and two goroutine hand-offs
// per call. Here concurrent callers share the writes (the last writer in
// line flushes for everyone before it) and the reads (one read takes many
// answers). Figures: actuate's BenchmarkApply_5000Accepts_FrameworkSide.
const (
	// pipeConns is how many connections a subscription's calls share: more
	// than one, so that a slow answer (a large ACCEPT being checked) does
	// not hold every call behind it.
	pipeConns = 4
	// maxAnswerBody bounds what is read of an answer's body. Scheduler calls
	// are answered 202 without a body or with an error text; 4 MiB leaves
	// room for the few calls answered with data.
	maxAnswerBody = 4 << 20
	// writeTimeout bounds one write to a master that stopped reading.
	writeTimeout = 15 * time.Second
)

// errPipeClosed breaks a connection of an ended subscription once it is idle.
var errPipeClosed = errors.New("subscription ended")

// pipeline sends the calls of one subscription. Create with newPipeline;
// close when the subscription ends.
type pipeline struct {
	addr  string      // host:port of the leader
	tls   *tls.Config // nil: plain http
	head  []byte      // the request line and headers up to Content-Length's value
	fence func() error
	// lost ends the subscription: the master answered 403 (not subscribed)
	// or 307 (no longer the leader).
	lost    func()
	timeout time.Duration
	dialer  net.Dialer

	mu     sync.Mutex
	conns  [pipeConns]*pipeConn // nil: none yet, or broken
	next   int
	closed bool
}

// pipelineConfig is what a subscription knows when SUBSCRIBED arrives.
type pipelineConfig struct {
	Host     string // host:port of the pinned leader
	TLS      *tls.Config
	Path     string // the scheduler endpoint's path
	StreamID string
	User     string // basic auth; empty: none
	Password string
	Fence    func() error
	Lost     func()
	// Timeout bounds the wait for each answer (0: none): see pipeConn.watch.
	Timeout time.Duration
}

func newPipeline(cfg pipelineConfig) *pipeline {
	var h bytes.Buffer
	fmt.Fprintf(&h, "POST %s HTTP/1.1\r\nHost: %s\r\n", cfg.Path, cfg.Host)
	// Not "libprocess/...": libprocess takes such a request for a message
	// between its processes.
	h.WriteString("User-Agent: quobyte-mesos\r\n")
	h.WriteString("Content-Type: application/x-protobuf\r\nAccept: application/x-protobuf\r\n")
	fmt.Fprintf(&h, "%s: %s\r\n", headerStreamID, cfg.StreamID)
	if cfg.User != "" {
		fmt.Fprintf(&h, "Authorization: Basic %s\r\n", base64.StdEncoding.EncodeToString([]byte(cfg.User+":"+cfg.Password)))
	}
	h.WriteString("Content-Length: ")
	p := &pipeline{
		addr:    cfg.Host,
		head:    h.Bytes(),
		fence:   cfg.Fence,
		lost:    cfg.Lost,
		timeout: cfg.Timeout,
		dialer:  net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second},
	}
	if cfg.TLS != nil {
		p.tls = cfg.TLS.Clone()
		if p.tls.ServerName == "" {
			host, _, err := net.SplitHostPort(cfg.Host)
			if err != nil {
				host = cfg.Host
			}
			p.tls.ServerName = host
		}
	}
	return p
}

// Call sends call and waits for its answer. A 2xx answer comes back as a
// Response (empty for 202); any other as mesos-go's apierrors.Error, so that
// callers see the errors the mesos-go path gives.
func (p *pipeline) Call(ctx context.Context, call *scheduler.Call) (mesos.Response, error) {
	// Every request passes here, so nothing can bypass the fence.
	if err := checkFence(p.fence); err != nil {
		return nil, err
	}
	c, err := p.conn(ctx)
	if err != nil {
		return nil, err
	}
	w, err := c.send(p.head, call)
	if err != nil {
		return nil, err
	}
	select {
	case <-w.done:
	case <-ctx.Done():
		// The answer may still come, but nothing would wait for it, and
		// the calls behind it on this connection would wait as long: close
		// the connection, as net/http does with a cancelled request.
		select {
		case <-w.done: // it came after all
		default:
			c.fail(fmt.Errorf("a call on this connection was abandoned: %w", ctx.Err()))
			<-w.done
		}
	}
	if w.err != nil {
		return nil, w.err
	}
	return p.answer(w.status, w.body)
}

func (p *pipeline) answer(status int, body []byte) (mesos.Response, error) {
	code := apierrors.Code(status)
	if !code.IsError() {
		if len(body) == 0 {
			return emptyResponse{}, nil
		}
		dec := codecs.ByMediaType[codecs.MediaTypeProtobuf].NewDecoder(encoding.SourceReader(bytes.NewReader(body)))
		return &mesos.ResponseWrapper{Decoder: dec}, nil
	}
	if len(body) > apierrors.MaxSizeDetails {
		body = body[:apierrors.MaxSizeDetails]
	}
	err := code.Error(string(body))
	// As mesos-go's httpsched: the subscription is over when the error
	// says so (403), or when the master no longer leads (307).
	if apiErr, ok := err.(*apierrors.Error); (ok && apiErr.SubscriptionLoss()) || code == apierrors.CodeNotLeader {
		p.lost()
	}
	return nil, err
}

// conn returns the next connection in turn, dialling it if it is not up.
func (p *pipeline) conn(ctx context.Context) (*pipeConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrNotSubscribed
	}
	i := p.next
	p.next = (p.next + 1) % pipeConns
	if c := p.conns[i]; c != nil {
		return c, nil
	}
	nc, err := p.dial(ctx)
	if err != nil {
		return nil, err
	}
	c := newPipeConn(nc, p.timeout, func(c *pipeConn) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.conns[i] == c {
			p.conns[i] = nil
		}
	})
	p.conns[i] = c
	return c, nil
}

func (p *pipeline) dial(ctx context.Context) (net.Conn, error) {
	nc, err := p.dialer.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", p.addr, err)
	}
	if p.tls == nil {
		return nc, nil
	}
	tc := tls.Client(nc, p.tls)
	hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		nc.Close()
		return nil, fmt.Errorf("tls handshake with %s: %w", p.addr, err)
	}
	return tc, nil
}

// close refuses new calls. The calls already sent get their answers (a
// master may end the stream of a framework it tore down before it answers
// the TEARDOWN); each connection closes once it has no call waiting.
func (p *pipeline) close() {
	p.mu.Lock()
	p.closed = true
	conns := p.conns
	p.conns = [pipeConns]*pipeConn{}
	p.mu.Unlock()
	for _, c := range conns {
		if c != nil {
			c.closeWhenIdle()
		}
	}
}

// pipeConn is one connection. Callers append their requests to out and
// wake the writer, which hands everything appended since its last write to
// one write: while a write is under way, the calls made meanwhile gather
// for the next. Waiters are queued in the order of their requests, and the
// reader hands each answer to the oldest.
type pipeConn struct {
	nc      net.Conn
	removed func(*pipeConn) // takes it out of the pipeline once broken
	kick    chan struct{}   // wakes the writer; capacity 1

	mu      sync.Mutex
	out     []byte    // requests not yet handed to the writer
	waiting []*waiter // in request order
	err     error     // set once broken
	broken  chan struct{}
	// draining: close once no call waits (the subscription ended).
	draining bool
}

type waiter struct {
	done   chan struct{}
	sent   time.Time // when it was queued
	status int
	body   []byte
	err    error
}

func newPipeConn(nc net.Conn, timeout time.Duration, removed func(*pipeConn)) *pipeConn {
	c := &pipeConn{nc: nc, removed: removed, kick: make(chan struct{}, 1), broken: make(chan struct{})}
	go c.write()
	go c.read(bufio.NewReaderSize(nc, 64<<10))
	if timeout > 0 {
		go c.watch(timeout)
	}
	return c
}

// watch breaks the connection once its oldest call has waited longer than
// timeout for its answer. Answers come in request order, so every call
// behind that one waits as long; breaking the connection fails them all
// (their outcome unknown), as a call abandoned by its caller does. One
// watch per connection, rather than a timer per call: at 40,000 calls a
// second the timers cost about as much as the calls' own encoding
// (test/scale's profile).
func (c *pipeConn) watch(timeout time.Duration) {
	t := time.NewTicker(min(max(timeout/4, 10*time.Millisecond), time.Second))
	defer t.Stop()
	for {
		select {
		case <-c.broken:
			return
		case now := <-t.C:
			c.mu.Lock()
			if len(c.waiting) > 0 && now.Sub(c.waiting[0].sent) > timeout {
				c.failLocked(fmt.Errorf("no answer from %s within %s", c.nc.RemoteAddr(), timeout))
			}
			c.mu.Unlock()
		}
	}
}

// send queues call as a request whose head (up to Content-Length's value)
// is head.
func (c *pipeConn) send(head []byte, call *scheduler.Call) (*waiter, error) {
	w := &waiter{done: make(chan struct{}), sent: time.Now()}
	size := call.Size()
	c.mu.Lock()
	if err := c.err; err != nil {
		c.mu.Unlock()
		return nil, err
	}
	start := len(c.out)
	c.out = append(c.out, head...)
	c.out = strconv.AppendInt(c.out, int64(size), 10)
	c.out = append(c.out, "\r\n\r\n"...)
	c.out = slices.Grow(c.out, size)
	if _, err := call.MarshalTo(c.out[len(c.out) : len(c.out)+size]); err != nil {
		c.out = c.out[:start]
		c.mu.Unlock()
		return nil, fmt.Errorf("encode: %w", err)
	}
	c.out = c.out[:len(c.out)+size]
	c.waiting = append(c.waiting, w)
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default: // the writer is awake already and will see it
	}
	return w, nil
}

// write hands what callers appended to the connection until it breaks.
func (c *pipeConn) write() {
	var buf []byte
	for {
		select {
		case <-c.kick:
		case <-c.broken:
			return
		}
		// Let the callers that are about to append do so first: on a
		// machine whose cores are busy the writer would otherwise wake for
		// every call and write them one by one (measured: 5,000 ACCEPTs
		// took 190 cpu-ms without this yield and 150 with it, before
		// other savings).
		runtime.Gosched()
		c.mu.Lock()
		buf, c.out = c.out, buf[:0]
		c.mu.Unlock()
		if len(buf) == 0 {
			continue
		}
		_ = c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := c.nc.Write(buf); err != nil {
			c.fail(fmt.Errorf("write to %s: %w", c.nc.RemoteAddr(), err))
			return
		}
	}
}

// read takes the answers in order until the connection breaks.
func (c *pipeConn) read(br *bufio.Reader) {
	for {
		a, err := readAnswer(br)
		if err != nil {
			c.fail(fmt.Errorf("read from %s: %w", c.nc.RemoteAddr(), err))
			return
		}
		c.mu.Lock()
		if len(c.waiting) == 0 {
			c.failLocked(fmt.Errorf("%s answered a request that was not sent (%d %s)", c.nc.RemoteAddr(), a.status, http.StatusText(a.status)))
			c.mu.Unlock()
			return
		}
		w := c.waiting[0]
		c.waiting[0] = nil
		c.waiting = c.waiting[1:]
		if c.draining && len(c.waiting) == 0 {
			c.failLocked(errPipeClosed) // (w is no longer among those it fails)
		}
		c.mu.Unlock()
		w.status, w.body = a.status, a.body
		close(w.done)
		if a.closing {
			c.fail(fmt.Errorf("%s closed the connection", c.nc.RemoteAddr()))
			return
		}
	}
}

// readAnswerBody reads an answer's body, at most maxAnswerBody bytes.
// Most answers have none (202 Accepted): io.ReadAll's buffer of 512 bytes
// for each was most of what reading 40,000 answers allocated.
func readAnswerBody(res *http.Response) ([]byte, error) {
	switch n := res.ContentLength; {
	case n == 0:
		return nil, nil
	case n > maxAnswerBody:
		return nil, fmt.Errorf("answer body of %d bytes, more than %d", n, maxAnswerBody)
	case n > 0:
		body := make([]byte, n)
		if _, err := io.ReadFull(res.Body, body); err != nil {
			return nil, err
		}
		return body, nil
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxAnswerBody+1))
	switch {
	case err != nil:
		return nil, err
	case len(body) > maxAnswerBody:
		return nil, fmt.Errorf("answer body larger than %d bytes", maxAnswerBody)
	}
	return body, nil
}

func (c *pipeConn) closeWhenIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.draining = true
	if len(c.waiting) == 0 {
		c.failLocked(errPipeClosed)
	}
}

// fail breaks the connection: every call waiting on it fails with err (its
// outcome unknown, as with any call whose answer is lost).
func (c *pipeConn) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failLocked(err)
}

func (c *pipeConn) failLocked(err error) {
	if c.err != nil {
		return
	}
	c.err = err
	close(c.broken)
	c.nc.Close()
	for _, w := range c.waiting {
		w.err = err
		close(w.done)
	}
	c.waiting = nil
	c.removed(c)
}

// emptyResponse is the answer to a call that Mesos answers without a body.
type emptyResponse struct{}

func (emptyResponse) Close() error                      { return nil }
func (emptyResponse) Decode(encoding.Unmarshaler) error { return io.EOF }

package mesossim

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// pipelined serves a connection that carries scheduler calls with a loop
// of its own once its first call arrives, and hands everything else to
// next (net/http's server).
//
// Why: frameworks pipeline their calls (HTTP/1.1), thousands at a time at
// scale, and Go's server answers each request with a write of its own and
// starts a goroutine and a read per request to notice a client that went
// away. At 10,000 agents that was a third of the simulated master's CPU
// (test/scale), on the cores the framework under test needs. This loop
// reads requests from the connection's buffer, answers them in order (as
// libprocess does: process.cpp's HttpProxy queues the answers of a
// socket), and writes the answers of what arrived together in one write:
// it flushes when no further request is buffered. Every request, whatever
// its path, still goes through next's handler, with a ResponseWriter that
// behaves as net/http's for what the handlers use (status, headers, a body,
// http.Flusher for a SUBSCRIBE's stream).
type pipelined struct {
	next  http.Handler
	conns *connSet
}

func (p pipelined) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hj, ok := w.(http.Hijacker)
	if !ok || r.Method != http.MethodPost || !isSchedulerPath(r.URL.Path) || !r.ProtoAtLeast(1, 1) || r.Close {
		p.next.ServeHTTP(w, r)
		return
	}
	// The body is read before the connection is taken over: after Hijack,
	// the request's body must not be used.
	body, err := readBody(r)
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errorReader{err}))
	if err != nil {
		p.next.ServeHTTP(w, r)
		return
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		p.next.ServeHTTP(w, r)
		return
	}
	if !p.conns.add(conn) {
		conn.Close() // the cluster is closing
		return
	}
	defer p.conns.remove(conn)
	defer conn.Close()
	_ = conn.SetDeadline(time.Time{})
	// Headers are read within a budget, as net/http's server reads them
	// within MaxHeaderBytes: what the server had read ahead comes first.
	peeked, _ := rw.Reader.Peek(rw.Reader.Buffered())
	ahead := bytes.NewReader(bytes.Clone(peeked))
	src := &budgetReader{r: io.MultiReader(ahead, conn), n: math.MaxInt64}
	rw = bufio.NewReadWriter(bufio.NewReaderSize(src, 64<<10), rw.Writer)
	// One context for the connection's requests: only a stream watches
	// it, and a stream is the last thing a connection carries.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reqs := requestReader{br: rw.Reader, ctx: ctx}
	remote := conn.RemoteAddr().String()
	r = r.WithContext(ctx)
	var dates dateCache
	for {
		if !p.serveOne(rw, r, cancel, &dates) {
			_ = rw.Flush()
			return
		}
		if rw.Reader.Buffered() == 0 && ahead.Len() == 0 {
			if err := rw.Flush(); err != nil {
				return
			}
		}
		src.n = http.DefaultMaxHeaderBytes
		r, err = reqs.read()
		src.n = math.MaxInt64
		if err != nil {
			switch {
			case errors.Is(err, errHeaderTooLarge):
				_, _ = io.WriteString(rw, "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
			case !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.ErrUnexpectedEOF):
				_, _ = io.WriteString(rw, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
			}
			_ = rw.Flush()
			return
		}
		r.RemoteAddr = remote
		if r.Header.Get("Expect") == "100-continue" && r.ContentLength != 0 {
			if _, err := io.WriteString(rw, "HTTP/1.1 100 Continue\r\n\r\n"); err != nil || rw.Flush() != nil {
				return
			}
		}
	}
}

// serveOne answers r and reports whether the connection carries on.
// cancel ends the connection's context (a stream's client went away).
func (p pipelined) serveOne(rw *bufio.ReadWriter, r *http.Request, cancel context.CancelFunc, dates *dateCache) bool {
	resp := &pipelinedResponse{header: http.Header{}, out: rw, in: rw.Reader, cancel: cancel, dates: dates, head: r.Method == http.MethodHead}
	p.next.ServeHTTP(resp, r)
	// What the handler left of the body must go, or the next request would
	// be read from its middle; a handler that left much ends the connection.
	if n, _ := io.CopyN(io.Discard, r.Body, 256<<10); n == 256<<10 {
		resp.header.Set("Connection", "close")
	}
	if r.Close {
		resp.header.Set("Connection", "close")
	}
	resp.finish()
	return resp.err == nil && !resp.streamed && resp.header.Get("Connection") != "close"
}

// pipelinedResponse is the ResponseWriter of pipelined's loop. A body is
// kept until the handler returns and sent with its length; a handler that
// flushes (a SUBSCRIBE's stream) gets a chunked answer that ends the
// connection ("Connection: close"), as the stream is the last thing a
// framework sends on it.
type pipelinedResponse struct {
	header   http.Header
	out      *bufio.ReadWriter
	in       *bufio.Reader
	cancel   context.CancelFunc
	dates    *dateCache
	head     bool
	status   int
	body     []byte
	streamed bool
	err      error
}

func (w *pipelinedResponse) Header() http.Header { return w.header }

func (w *pipelinedResponse) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *pipelinedResponse) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	if w.err != nil {
		return 0, w.err
	}
	if !w.streamed {
		w.body = append(w.body, b...)
		return len(b), nil
	}
	if len(b) == 0 {
		return 0, nil
	}
	fmt.Fprintf(w.out, "%x\r\n", len(b))
	w.out.Write(b)
	_, w.err = w.out.WriteString("\r\n")
	if w.err != nil {
		return 0, w.err
	}
	return len(b), nil
}

// Flush starts the streamed answer on its first call, and sends what was
// written so far on every call. While it streams, a read from the
// connection (the client closing it) cancels the request's context, as
// net/http's server does.
func (w *pipelinedResponse) Flush() {
	w.WriteHeader(http.StatusOK)
	if w.err != nil {
		return
	}
	if !w.streamed {
		w.streamed = true
		w.header.Del("Content-Length")
		w.header.Set("Transfer-Encoding", "chunked")
		// The stream ends the connection (a read is waiting on it for the
		// client's going away): say so, or a client would put it back in
		// its pool when the stream ends.
		w.header.Set("Connection", "close")
		w.writeHead(-1)
		body := w.body
		w.body = nil
		if len(body) > 0 {
			if _, err := w.Write(body); err != nil {
				return
			}
		}
		go func() {
			var b [1]byte
			_, _ = w.in.Read(b[:])
			w.cancel()
		}()
	}
	if err := w.out.Flush(); err != nil && w.err == nil {
		w.err = err
	}
}

// finish sends the answer (or ends the stream).
func (w *pipelinedResponse) finish() {
	w.WriteHeader(http.StatusOK)
	if w.err != nil {
		return
	}
	if w.streamed {
		_, w.err = w.out.WriteString("0\r\n\r\n")
		if w.err == nil {
			w.err = w.out.Flush()
		}
		return
	}
	bodyAllowed := w.status >= 200 && w.status != http.StatusNoContent && w.status != http.StatusNotModified
	length := -1
	if bodyAllowed {
		length = len(w.body)
		if length > 0 && w.header.Get("Content-Type") == "" {
			w.header.Set("Content-Type", http.DetectContentType(w.body))
		}
	}
	w.writeHead(length)
	if bodyAllowed && !w.head {
		_, w.err = w.out.Write(w.body)
	}
}

// writeHead writes the status line and the headers (in no particular
// order; net/http sorts them, which costs more than the answer's body at
// tens of thousands of answers a second), with a Content-Length of length
// unless it is negative, and a Date unless the handler set one.
func (w *pipelinedResponse) writeHead(length int) {
	var line [128]byte
	b := append(line[:0], "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(w.status), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(w.status)...)
	b = append(b, "\r\n"...)
	if _, ok := w.header["Date"]; !ok {
		b = append(b, "Date: "...)
		b = append(b, w.dates.now()...)
		b = append(b, "\r\n"...)
	}
	if length >= 0 {
		delete(w.header, "Content-Length")
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(length), 10)
		b = append(b, "\r\n"...)
	}
	w.out.Write(b)
	for k, vs := range w.header {
		for _, v := range vs {
			if strings.ContainsAny(v, "\r\n") {
				v = strings.NewReplacer("\r", " ", "\n", " ").Replace(v) // as net/http does
			}
			w.out.WriteString(k)
			w.out.WriteString(": ")
			w.out.WriteString(v)
			w.out.WriteString("\r\n")
		}
	}
	_, w.err = w.out.WriteString("\r\n")
}

// dateCache formats the Date header once a second.
type dateCache struct {
	sec  int64
	text string
}

func (d *dateCache) now() string {
	t := time.Now()
	if s := t.Unix(); s != d.sec {
		d.sec, d.text = s, t.UTC().Format(http.TimeFormat)
	}
	return d.text
}

func isSchedulerPath(p string) bool {
	return p == schedulerPath || p == masterPrefix+schedulerPath
}

var errHeaderTooLarge = errors.New("request header too large")

// budgetReader reads at most n more bytes from r, then fails with
// errHeaderTooLarge.
type budgetReader struct {
	r io.Reader
	n int64
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, errHeaderTooLarge
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.r.Read(p)
	b.n -= int64(n)
	return n, err
}

// errorReader returns err (io.EOF when nil).
type errorReader struct{ err error }

func (e errorReader) Read([]byte) (int, error) {
	if e.err == nil {
		return 0, io.EOF
	}
	return 0, e.err
}

// connSet are the connections pipelined took over from net/http's server,
// which no longer tracks them: the cluster closes them when it stops.
type connSet struct {
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

// add registers c, or reports false once the set is closed.
func (s *connSet) add(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.conns == nil {
		s.conns = map[net.Conn]struct{}{}
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *connSet) remove(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
}

// close closes every connection in the set and any added later.
func (s *connSet) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
}

package mesossim

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/textproto"
	"net/url"

	"github.com/quobyte/quobyte-mesos/internal/httpwire"
)

// requestReader reads the requests that follow on a connection pipelined
// took over. A request in the plain form a framework's calls take (an
// HTTP/1.1 request line, "Name: value" lines, a Content-Length, all of it
// already in the buffer) is parsed from the buffer with the strings of
// earlier requests on the connection reused; anything else (a chunked
// body, Expect, Connection, a folded line, a header that straddles the
// buffer's end, a malformed request) goes to net/http's ReadRequest, which
// either way decides what is malformed. At 10,000 agents ReadRequest was
// about a seventh of the simulated master's CPU (test/scale): each of the
// tens of thousands of acknowledgements a second allocated its header
// anew.
type requestReader struct {
	br  *bufio.Reader
	ctx context.Context
	// strs are the request targets, header names and values seen on this
	// connection (a framework sends the same ones with every call),
	// bounded: a client sending ever new ones gets new strings.
	strs map[string]string
	// lastURI and lastURL: the last request target, parsed.
	lastURI string
	lastURL url.URL
	// header and values are reused from one request to the next: a
	// handler does not keep a request's header once it has returned (the
	// handlers of this package read what they need from it), and a
	// stream, which does, is the last request of its connection.
	header http.Header
	values []string
}

const maxReusedStrings = 64

// read reads the next request, or returns ReadRequest's error.
func (rr *requestReader) read() (*http.Request, error) {
	head, size, ok := httpwire.Head(rr.br)
	if !ok {
		return rr.readSlow()
	}
	r, ok := rr.parse(head)
	if !ok {
		return rr.readSlow()
	}
	_, _ = rr.br.Discard(size)
	return r, nil
}

func (rr *requestReader) readSlow() (*http.Request, error) {
	r, err := http.ReadRequest(rr.br)
	if err != nil {
		return nil, err
	}
	return r.WithContext(rr.ctx), nil
}

// parse parses head (the request line and header lines, each ending in
// CRLF, without the empty line) when it is in the plain form, and reports
// whether it was.
func (rr *requestReader) parse(head []byte) (*http.Request, bool) {
	line, rest, _ := bytes.Cut(head, []byte("\r\n"))
	if httpwire.HasControl(line) {
		return nil, false // (a bare LF ends a line for net/http)
	}
	method, line, ok1 := bytes.Cut(line, []byte(" "))
	target, proto, ok2 := bytes.Cut(line, []byte(" "))
	if !ok1 || !ok2 || !httpwire.IsToken(method) || string(proto) != "HTTP/1.1" || len(target) == 0 || target[0] != '/' {
		return nil, false
	}
	r := http.Request{
		Method: rr.str(method), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		RequestURI: rr.str(target), Body: http.NoBody,
	}
	if r.RequestURI != rr.lastURI {
		u, err := url.ParseRequestURI(r.RequestURI)
		if err != nil {
			return nil, false
		}
		rr.lastURI, rr.lastURL = r.RequestURI, *u
	}
	u := rr.lastURL
	r.URL = &u

	n := bytes.Count(rest, []byte("\r\n"))
	if rr.header == nil {
		rr.header = make(http.Header, n)
	}
	clear(rr.header)
	r.Header = rr.header
	if cap(rr.values) < n {
		rr.values = make([]string, n) // one array for every header's value
	}
	values := rr.values[:n]
	length := false
	for i := 0; len(rest) > 0; i++ {
		line, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || !httpwire.IsToken(name) {
			return nil, false // (a folded line starts with a space)
		}
		value = bytes.Trim(value, " \t")
		if httpwire.HasControl(value) {
			return nil, false
		}
		key := rr.str(name)
		if c := textproto.CanonicalMIMEHeaderKey(key); c != key {
			key = c // (allocates: a framework sends canonical names)
		}
		switch key {
		case "Host":
			if r.Header[key] != nil {
				return nil, false // net/http refuses it
			}
		case "Content-Length":
			if length {
				return nil, false
			}
			n, ok := httpwire.ContentLength(value)
			if !ok {
				return nil, false
			}
			length, r.ContentLength = true, n
		case "Transfer-Encoding", "Expect", "Connection", "Pragma", "Upgrade", "Trailer":
			return nil, false // what they change, ReadRequest does
		}
		values[i] = rr.str(value)
		if vs := r.Header[key]; vs != nil {
			r.Header[key] = append(vs, values[i])
		} else {
			r.Header[key] = values[i : i+1 : i+1]
		}
	}
	r.Host = r.Header.Get("Host")
	delete(r.Header, "Host") // (as net/http's server and ReadRequest do)
	if r.ContentLength > 0 {
		r.Body = &bodyReader{r: rr.br, n: r.ContentLength}
	}
	return r.WithContext(rr.ctx), true
}

// str returns b as a string, the same one for the same bytes on this
// connection.
func (rr *requestReader) str(b []byte) string {
	if s, ok := rr.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(b) <= 256 && len(rr.strs) < maxReusedStrings {
		if rr.strs == nil {
			rr.strs = map[string]string{}
		}
		rr.strs[s] = s
	}
	return s
}

// bodyReader reads a body of n bytes from the connection's buffer.
type bodyReader struct {
	r *bufio.Reader
	n int64
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.r.Read(p)
	b.n -= int64(n)
	if err == io.EOF && b.n > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (b *bodyReader) Close() error { return nil }

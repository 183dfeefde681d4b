package mesossim

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// frameworkRequest is a scheduler call as mesosconn's pipeline sends it.
const frameworkRequest = "POST /api/v1/scheduler HTTP/1.1\r\nHost: 127.0.0.1:5050\r\nUser-Agent: quobyte-mesos\r\n" +
	"Content-Type: application/x-protobuf\r\nAccept: application/x-protobuf\r\nMesos-Stream-Id: 5d1e6a0c-1b7e-4b59-9d0c-3f2a1c9e8b7a\r\n" +
	"Content-Length: 5\r\n\r\nhello"

// pipelinedRequestSeeds are requests of every shape the reader must tell
// apart: the framework's own (parsed from the buffer) and those it leaves
// to net/http.
var pipelinedRequestSeeds = []string{
	frameworkRequest + frameworkRequest,
	"GET /state?jsonp=f HTTP/1.1\r\nHost: x\r\n\r\n",
	"POST /api/v1/scheduler HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
	"POST /api/v1/scheduler HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\nX-A: 1\r\nX-A: 2\r\n\r\nabc",
	"POST /api/v1/scheduler HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
	"POST /api/v1/scheduler HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\na",
	"POST /api/v1/scheduler HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1\r\n\r\na",
	"POST /api/v1/scheduler HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na",
	"POST /api/v1/scheduler HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
	"POST /api/v1/scheduler HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
	"POST /api/v1/scheduler HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n",
	"POST /api/v1/scheduler HTTP/1.1\r\nHost: x\r\nBad Name: a\r\n\r\n",
	"POST /api/v1/scheduler HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\na",
	"POST /api/v1/scheduler HTTP/1.0\r\nHost: x\r\n\r\n",
	"POST http://x/api/v1/scheduler HTTP/1.1\r\nHost: y\r\n\r\n",
	"POST /api/v1/scheduler HTTP/1.1\nHost: x\n\n",
	"POST /api/v1/scheduler HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nshort",
	"BAD\r\n\r\n",
	"",
}

// TestRequestReader_AsNetHTTP reads each seed with requestReader and with
// net/http's ReadRequest: the same requests, errors and bodies, and the
// same bytes left for the next request.
func TestRequestReader_AsNetHTTP(t *testing.T) {
	for _, s := range pipelinedRequestSeeds {
		checkRequestReader(t, []byte(s))
	}
}

func FuzzRequestReader(f *testing.F) {
	for _, s := range pipelinedRequestSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(checkRequestReader)
}

// checkRequestReader reads up to three requests from data with both
// readers and fails where they differ.
func checkRequestReader(t *testing.T, data []byte) {
	type connKey struct{}
	ctx := context.WithValue(context.Background(), connKey{}, "conn")
	ours := &requestReader{br: bufio.NewReaderSize(bytes.NewReader(data), 64<<10), ctx: ctx}
	theirs := bufio.NewReader(bytes.NewReader(data))
	for range 3 {
		got, gotErr := ours.read()
		want, wantErr := http.ReadRequest(theirs)
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("%q: error %v, net/http's %v", data, gotErr, wantErr)
		}
		if gotErr != nil {
			return
		}
		if got.Context() != ctx {
			t.Fatalf("%q: the request does not carry the connection's context", data)
		}
		type view struct {
			Method, RequestURI, URL, Proto, Host string
			Major, Minor                         int
			Header                               http.Header
			ContentLength                        int64
			Close                                bool
			Body                                 string
			BodyErr                              bool
		}
		see := func(r *http.Request) view {
			body, err := io.ReadAll(r.Body)
			return view{r.Method, r.RequestURI, r.URL.String(), r.Proto, r.Host, r.ProtoMajor, r.ProtoMinor,
				r.Header, r.ContentLength, r.Close, string(body), err != nil}
		}
		if g, w := see(got), see(want); !reflect.DeepEqual(g, w) {
			t.Fatalf("%q:\n got %+v\nwant %+v", data, g, w)
		}
	}
}

// TestRequestReader_FrameworkCallsFromTheBuffer: the framework's calls take
// the parsed path, with its strings reused from one call to the next
// (net/http's ReadRequest allocated several times as often).
func TestRequestReader_FrameworkCallsFromTheBuffer(t *testing.T) {
	const n = 100
	stream := []byte(strings.Repeat(frameworkRequest, n+2))
	rr := &requestReader{br: bufio.NewReaderSize(bytes.NewReader(stream), 64<<10), ctx: context.Background()}
	read := func() {
		r, err := rr.read()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			t.Fatal(err)
		}
	}
	read() // the strings are seen once
	ours := testing.AllocsPerRun(n, read)
	br := bufio.NewReader(bytes.NewReader(stream))
	theirs := testing.AllocsPerRun(n, func() {
		r, err := http.ReadRequest(br)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, r.Body)
	})
	t.Logf("allocations per request: %.0f (net/http's ReadRequest: %.0f)", ours, theirs)
	if ours > 8 || ours*2 > theirs {
		t.Errorf("%.0f allocations per framework call (net/http: %.0f): not parsed from the buffer with reused strings", ours, theirs)
	}
}

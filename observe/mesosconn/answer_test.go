package mesosconn

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// answerSeeds are answers of every shape readAnswer must tell apart: a
// master's own (parsed from the buffer) and those it leaves to net/http.
var answerSeeds = []string{
	"HTTP/1.1 202 Accepted\r\nDate: Sat, 28 Nov 2026 05:00:00 GMT\r\nContent-Length: 0\r\n\r\n" +
		"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n\r\nhello",
	"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabc",
	"HTTP/1.1 202\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
	"HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na",
	"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
	"HTTP/1.1 200 OK\r\n\r\nto the end",
	"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n",
	"HTTP/1.0 202 Accepted\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 202 Accepted\r\nX-Folded: a\r\n b\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 202 Accepted\r\nBad Name: a\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
	"HTTP/1.1 2x2 OK\r\n\r\n",
	"HTTP/1.1 202 Accepted\nContent-Length: 0\n\n",
	"",
}

// TestReadAnswer_AsNetHTTP reads each seed with readAnswer and with
// net/http alone: the same answers and errors.
func TestReadAnswer_AsNetHTTP(t *testing.T) {
	for _, s := range answerSeeds {
		checkReadAnswer(t, []byte(s))
	}
}

func FuzzReadAnswer(f *testing.F) {
	for _, s := range answerSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(checkReadAnswer)
}

func checkReadAnswer(t *testing.T, data []byte) {
	ours := bufio.NewReaderSize(bytes.NewReader(data), 64<<10)
	theirs := bufio.NewReader(bytes.NewReader(data))
	for range 3 {
		got, gotErr := readAnswer(ours)
		want, wantErr := readAnswerSlow(theirs)
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("%q: error %v, net/http's %v", data, gotErr, wantErr)
		}
		if gotErr != nil {
			return
		}
		if g, w := fmt.Sprintf("%d %q %v", got.status, got.body, got.closing), fmt.Sprintf("%d %q %v", want.status, want.body, want.closing); g != w {
			t.Fatalf("%q: got %s, want %s", data, g, w)
		}
	}
}

// TestReadAnswer_MastersAnswersFromTheBuffer: a master's answers are
// parsed without allocating (net/http's ReadResponse allocated a header
// for each).
func TestReadAnswer_MastersAnswersFromTheBuffer(t *testing.T) {
	const n = 100
	stream := strings.Repeat("HTTP/1.1 202 Accepted\r\nDate: Sat, 28 Nov 2026 05:00:00 GMT\r\nContent-Length: 0\r\n\r\n", n+1)
	br := bufio.NewReaderSize(strings.NewReader(stream), 64<<10)
	allocs := testing.AllocsPerRun(n, func() {
		if a, err := readAnswer(br); err != nil || a.status != 202 {
			t.Fatalf("%+v, %v", a, err)
		}
	})
	if allocs > 0 {
		t.Errorf("%.0f allocations per answer, want none", allocs)
	}
}

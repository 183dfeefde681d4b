package httpwire

import (
	"bufio"
	"io"
	"strings"
	"testing"
)

func TestHead(t *testing.T) {
	for _, tc := range []struct {
		name, in   string
		bufSize    int
		head, rest string // rest: what is left after discarding size
		ok         bool
	}{
		{name: "whole", in: "GET / HTTP/1.1\r\nA: b\r\n\r\nbody", bufSize: 64, head: "GET / HTTP/1.1\r\nA: b\r\n", rest: "body", ok: true},
		{name: "no header", in: "HTTP/1.1 202 Accepted\r\n\r\n", bufSize: 64, head: "HTTP/1.1 202 Accepted\r\n", ok: true},
		{name: "larger than the buffer", in: "GET / HTTP/1.1\r\n" + strings.Repeat("A: b\r\n", 20) + "\r\n", bufSize: 32},
		{name: "connection ends in the head", in: "GET / HTTP/1.1\r\nA: b\r\n", bufSize: 64},
		{name: "nothing", in: "", bufSize: 64},
	} {
		// One byte a read: the head arrives in pieces.
		br := bufio.NewReaderSize(io.LimitReader(&slowReader{s: tc.in}, int64(len(tc.in))), tc.bufSize)
		head, size, ok := Head(br)
		if ok != tc.ok || string(head) != tc.head {
			t.Errorf("%s: %q, %v; want %q, %v", tc.name, head, ok, tc.head, tc.ok)
			continue
		}
		if !ok {
			if rest, _ := io.ReadAll(br); string(rest) != tc.in {
				t.Errorf("%s: %q left to read, want all of it (nothing consumed)", tc.name, rest)
			}
			continue
		}
		if _, err := br.Discard(size); err != nil {
			t.Fatal(err)
		}
		if rest, _ := io.ReadAll(br); string(rest) != tc.rest {
			t.Errorf("%s: %q after the head, want %q", tc.name, rest, tc.rest)
		}
	}
}

// slowReader returns one byte a read.
type slowReader struct{ s string }

func (r *slowReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0], r.s = r.s[0], r.s[1:]
	return 1, nil
}

func TestTokenControlLength(t *testing.T) {
	for s, want := range map[string]bool{"Content-Length": true, "X_a.b~1": true, "": false, "Bad Name": false, "a:b": false, "é": false} {
		if IsToken([]byte(s)) != want {
			t.Errorf("IsToken(%q) = %v", s, !want)
		}
	}
	for s, want := range map[string]bool{"plain\tvalue": false, "a\nb": true, "a\rb": true, "\x7f": true, "é": false} {
		if HasControl([]byte(s)) != want {
			t.Errorf("HasControl(%q) = %v", s, !want)
		}
	}
	for s, want := range map[string]int64{"0": 0, "42": 42, "007": 7, "+1": -1, "": -1, "1 ": -1, "1234567890123456789": -1} {
		n, ok := ContentLength([]byte(s))
		if ok != (want >= 0) || ok && n != want {
			t.Errorf("ContentLength(%q) = %d, %v; want %d", s, n, ok, want)
		}
	}
}

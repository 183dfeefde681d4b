// Package httpwire holds the pieces of HTTP/1.1 parsing that the
// framework's pipelined calls (observe/mesosconn, the master's answers) and
// the simulated master (test/mesossim, the framework's requests) share.
// Both parse a message in its plain form from their read buffer, and leave
// everything else to net/http, which decides what is malformed: these
// functions only tell whether a message is plain.
package httpwire

import (
	"bufio"
	"bytes"
)

// Head returns the head of the next message in br (its start line and
// header lines, each ending in CRLF, without the empty line that ends it)
// and how many bytes it takes with that line, waiting for the rest of a
// head that began to arrive. ok is false when the head is not in the
// buffer whole (as large as the buffer, or the connection ended): nothing
// was consumed, and net/http should read the message.
func Head(br *bufio.Reader) (head []byte, size int, ok bool) {
	if _, err := br.Peek(1); err != nil {
		return nil, 0, false
	}
	for {
		buf, _ := br.Peek(br.Buffered())
		if end := bytes.Index(buf, []byte("\r\n\r\n")); end >= 0 {
			return buf[:end+2], end + 4, true
		}
		if len(buf) == br.Size() {
			return nil, 0, false
		}
		if _, err := br.Peek(len(buf) + 1); err != nil {
			return nil, 0, false
		}
	}
}

// IsToken reports whether b is an HTTP token (RFC 9110 5.6.2): a method or
// a header name.
func IsToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c >= 0x80 || !tokenChars[c] {
			return false
		}
	}
	return true
}

var tokenChars = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// HasControl reports whether b holds a control character other than a
// tab (a bare CR or LF among them, which net/http may take as a line's end).
func HasControl(b []byte) bool {
	for _, c := range b {
		if c < ' ' && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}

// ContentLength parses a Content-Length value as net/http accepts it:
// digits only, within int64.
func ContentLength(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

package mesosconn

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"

	"github.com/quobyte/quobyte-mesos/internal/httpwire"
)

// answer is what a pipelined call needs of the master's answer.
type answer struct {
	status int
	body   []byte
	// closing: the master closes the connection after this answer.
	closing bool
}

// readAnswer reads the next answer from br. An answer in the form a Mesos
// master gives a scheduler call (an HTTP/1.1 status line, plain header
// lines, a Content-Length, all of it already in the buffer) is parsed from
// the buffer without building its header; anything else (chunked, no
// length, Connection, a 1xx, a header that straddles the buffer's end, a
// malformed answer) goes to net/http's ReadResponse, which decides what is
// malformed. 40,000 answers a second go through here while a 10,000-agent
// cluster starts (test/scale), where ReadResponse's header maps were a
// tenth of the framework's CPU.
func readAnswer(br *bufio.Reader) (answer, error) {
	head, size, ok := httpwire.Head(br)
	if !ok {
		return readAnswerSlow(br)
	}
	status, length, ok := parseAnswerHead(head)
	if !ok {
		return readAnswerSlow(br)
	}
	_, _ = br.Discard(size)
	a := answer{status: status}
	if length > 0 {
		a.body = make([]byte, length)
		if _, err := io.ReadFull(br, a.body); err != nil {
			return answer{}, fmt.Errorf("answer body: %w", err)
		}
	}
	return a, nil
}

// readAnswerSlow reads an answer with net/http.
func readAnswerSlow(br *bufio.Reader) (answer, error) {
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	body, err := readAnswerBody(res)
	if err != nil {
		return answer{}, err
	}
	return answer{status: res.StatusCode, body: body, closing: res.Close}, nil
}

// parseAnswerHead parses head (the status line and header lines, each
// ending in CRLF) when it is in the plain form: HTTP/1.1, a final status
// that may have a body, a valid Content-Length within maxAnswerBody, and
// nothing that changes how the body is framed or whether the connection
// stays open.
func parseAnswerHead(head []byte) (status int, length int64, ok bool) {
	line, rest, _ := bytes.Cut(head, []byte("\r\n"))
	if httpwire.HasControl(line) {
		return 0, 0, false // (a bare LF ends a line for net/http)
	}
	proto, line, ok1 := bytes.Cut(line, []byte(" "))
	code, _, _ := bytes.Cut(line, []byte(" "))
	if !ok1 || string(proto) != "HTTP/1.1" || len(code) != 3 {
		return 0, 0, false
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return 0, 0, false
		}
		status = status*10 + int(c-'0')
	}
	if status < 200 || status == http.StatusNoContent || status == http.StatusNotModified {
		return 0, 0, false
	}
	length = -1
	for len(rest) > 0 {
		line, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, value, found := bytes.Cut(line, []byte(":"))
		if !found || !httpwire.IsToken(name) {
			return 0, 0, false // (a folded line starts with a space)
		}
		value = bytes.Trim(value, " \t")
		if httpwire.HasControl(value) {
			return 0, 0, false
		}
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, valid := httpwire.ContentLength(value)
			if !valid || length >= 0 || n > maxAnswerBody {
				return 0, 0, false
			}
			length = n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")), bytes.EqualFold(name, []byte("Connection")),
			bytes.EqualFold(name, []byte("Trailer")):
			return 0, 0, false
		}
	}
	return status, length, length >= 0
}

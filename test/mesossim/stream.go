package mesossim

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// stream is one SUBSCRIBE connection's outbound event queue. The master appends
// encoded events without ever blocking on the network; the connection's own
// handler goroutine writes them out as RecordIO frames.
type stream struct {
	id    string
	codec codec
	log   hclog.Logger

	mu     sync.Mutex
	frames [][]byte
	closed bool
	wake   chan struct{} // capacity 1: "frames or closed changed"
	done   chan struct{} // closed when the HTTP handler has returned
}

func newStream(id string, c codec, log hclog.Logger) *stream {
	return &stream{id: id, codec: c, log: log, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// send queues an event; it reports false once the stream is closed.
func (s *stream) send(ev *scheduler.Event) bool {
	b, err := s.codec.marshal(ev)
	if err != nil {
		// Only an update from an agent runtime that lacks a required field
		// can fail here; it is dropped rather than taking the master down.
		s.log.Error("dropping an event that cannot be encoded", "type", ev.Type.String(), "error", err)
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.frames = append(s.frames, b)
	s.poke()
	return true
}

// close ends the stream once the queued events are written.
func (s *stream) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.poke()
}

func (s *stream) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// serve writes frames until the stream is closed or the client goes away;
// it queues a HEARTBEAT every interval. It returns true when the client went
// away (as opposed to the master closing the stream).
func (s *stream) serve(ctx context.Context, w http.ResponseWriter, heartbeat time.Duration) (clientGone bool) {
	defer close(s.done)
	flusher, _ := w.(http.Flusher)
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		s.mu.Lock()
		frames, closed := s.frames, s.closed
		s.frames = nil
		s.mu.Unlock()
		var prefix []byte
		for _, f := range frames {
			// RecordIO: "<length>\n<bytes>". The response buffers the two writes.
			prefix = append(strconv.AppendInt(prefix[:0], int64(len(f)), 10), '\n')
			if _, err := w.Write(prefix); err != nil {
				s.close()
				return true
			}
			if _, err := w.Write(f); err != nil {
				s.close()
				return true
			}
		}
		if flusher != nil && len(frames) > 0 {
			flusher.Flush()
		}
		if closed {
			return false
		}
		select {
		case <-ctx.Done():
			s.close()
			return true
		case <-s.wake:
		case <-tick.C:
			s.send(&scheduler.Event{Type: scheduler.Event_HEARTBEAT})
		}
	}
}

package agentrt

import (
	"context"
	"sync"

	execpb "github.com/mesos/mesos-go/api/v1/lib/executor"
)

// eventStream is the queue of events for one executor subscription. Pushing
// never blocks (the queue is unbounded), so the agent never waits on a slow
// executor while holding its locks; the HTTP handler drains it.
type eventStream struct {
	mu        sync.Mutex
	events    []execpb.Event
	notify    chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
}

func newEventStream() *eventStream {
	return &eventStream{notify: make(chan struct{}, 1), closed: make(chan struct{})}
}

func (s *eventStream) push(ev execpb.Event) {
	s.mu.Lock()
	s.events = append(s.events, ev)
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// close ends the subscription; queued events are dropped.
func (s *eventStream) close() { s.closeOnce.Do(func() { close(s.closed) }) }

// next waits for queued events; ok is false when the stream is closed or ctx
// is done.
func (s *eventStream) next(ctx context.Context) (evs []execpb.Event, ok bool) {
	for {
		s.mu.Lock()
		evs, s.events = s.events, nil
		s.mu.Unlock()
		select {
		case <-s.closed:
			return nil, false
		default:
		}
		if len(evs) > 0 {
			return evs, true
		}
		select {
		case <-s.notify:
		case <-s.closed:
			return nil, false
		case <-ctx.Done():
			return nil, false
		}
	}
}

package leader

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/hashicorp/go-hclog"
)

// session follows one go-zookeeper connection's first session: when it is
// established (and with which timeout), whether it is connected, and when it
// is over. go-zookeeper silently starts a new session after an expiry; for
// this package that is the end of the session it followed.
type session struct {
	requested time.Duration
	changed   func() // called after every change (status)

	mu        sync.Mutex
	id        int64
	granted   time.Duration // the smallest timeout granted to id
	connected bool
	lostErr   error

	established chan struct{} // closed once id and granted are known
	lost        chan struct{} // closed when the session is over
}

func newSession(requested time.Duration, changed func()) *session {
	return &session{requested: requested, changed: changed, established: make(chan struct{}), lost: make(chan struct{})}
}

// follow reads the connection's events until the channel closes.
func (s *session) follow(events <-chan zk.Event) {
	for ev := range events {
		if ev.Type != zk.EventSession {
			continue
		}
		switch ev.State {
		case zk.StateHasSession:
			s.setConnected(true)
		case zk.StateDisconnected, zk.StateConnecting:
			s.setConnected(false)
		case zk.StateExpired:
			s.end(errors.New("ZooKeeper session expired"))
		case zk.StateAuthFailed:
			s.end(errors.New("ZooKeeper authentication failed"))
		}
	}
	s.end(errors.New("ZooKeeper connection closed"))
}

// authenticated records a session the server granted (from go-zookeeper's
// log call, which follows every successful handshake).
func (s *session) authenticated(id int64, timeout time.Duration) {
	s.mu.Lock()
	switch {
	case s.id == 0 && s.lostErr == nil:
		s.id, s.granted = id, timeout
		close(s.established)
	case id == s.id:
		s.granted = min(s.granted, timeout)
	default:
		s.mu.Unlock()
		s.end(fmt.Errorf("ZooKeeper session %#x expired (the server gave a new one, %#x)", s.id, id))
		return
	}
	s.mu.Unlock()
	s.changed()
}

func (s *session) setConnected(c bool) {
	s.mu.Lock()
	s.connected = c
	s.mu.Unlock()
	s.changed()
}

func (s *session) end(err error) {
	s.mu.Lock()
	if s.lostErr != nil {
		s.mu.Unlock()
		return
	}
	s.lostErr = err
	close(s.lost)
	s.mu.Unlock()
	s.changed()
}

// err is why the session is over (nil while it is not).
func (s *session) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lostErr
}

// timeout is what the lease is measured in: the smaller of the timeout
// asked for and every one granted.
func (s *session) timeout() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.granted > 0 {
		return min(s.granted, s.requested)
	}
	return s.requested
}

func (s *session) state() (id int64, connected bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id, s.connected
}

// authFormat is go-zookeeper's (v1.0.x) log call after a handshake, with
// the session ID and the granted timeout in milliseconds as arguments.
const authFormat = "authenticated: id=%d, timeout=%d"

// zkLogger takes go-zookeeper's log calls: the handshake's to learn the
// granted timeout, the rest as debug lines.
type zkLogger struct {
	log  hclog.Logger
	auth func(id int64, timeout time.Duration)
}

func (l zkLogger) Printf(format string, args ...any) {
	if format == authFormat && len(args) == 2 {
		id, ok1 := args[0].(int64)
		ms, ok2 := args[1].(int32)
		if ok1 && ok2 {
			l.auth(id, time.Duration(ms)*time.Millisecond)
		}
	}
	l.log.Debug(strings.TrimSpace(fmt.Sprintf(format, args...)))
}

package leader

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/quobyte/quobyte-mesos/test/zktest"
)

// Session timeouts here: the test server's tick is 250ms, so it grants
// 500ms to 5s.
const (
	testTick    = 250 * time.Millisecond
	testTimeout = 2 * time.Second
)

// instance is one elector under test, with what its lead saw.
type instance struct {
	name string
	e    *Elector
	stop context.CancelFunc
	done chan struct{}

	mu    sync.Mutex
	terms []*Term
	// lastOK is the last moment Check returned nil, per term; checked
	// every millisecond while the term lasts, as a busy leader would.
	lastOK map[*Term]time.Time
	ended  map[*Term]time.Time
}

func startInstance(t *testing.T, name, url string, timeout time.Duration) *instance {
	t.Helper()
	e, err := New(Config{
		URL: url, Group: "quobyte", SessionTimeout: timeout,
		Self:   Member{ID: name, URL: "http://" + name, SpecHash: "h1"},
		Logger: hclog.New(&hclog.LoggerOptions{Name: name, Output: os.Stderr, Level: hclog.Info}),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{name: name, e: e, stop: cancel, done: make(chan struct{}), lastOK: map[*Term]time.Time{}, ended: map[*Term]time.Time{}}
	go func() {
		defer close(in.done)
		_ = e.Run(ctx, in.lead)
	}()
	t.Cleanup(in.close)
	return in
}

func (in *instance) close() {
	in.stop()
	<-in.done
}

func (in *instance) lead(term *Term) {
	in.mu.Lock()
	in.terms = append(in.terms, term)
	in.mu.Unlock()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		if term.Check() == nil {
			in.mu.Lock()
			in.lastOK[term] = time.Now()
			in.mu.Unlock()
		}
		select {
		case <-term.Done():
			in.mu.Lock()
			in.ended[term] = time.Now()
			in.mu.Unlock()
			return
		case <-tick.C:
		}
	}
}

func (in *instance) term(i int) *Term {
	in.mu.Lock()
	defer in.mu.Unlock()
	if i >= len(in.terms) {
		return nil
	}
	return in.terms[i]
}

func (in *instance) leading() bool { return in.e.Status().Role == Leader }

func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s", what, within)
}

func leaders(ins ...*instance) []*instance {
	var out []*instance
	for _, in := range ins {
		if in.leading() {
			out = append(out, in)
		}
	}
	return out
}

// Three instances: exactly one leads and every one names it; a standby's
// spec hash shows on the leader; the leader resigning hands over at once
// (far sooner than a session timeout), and its term ended before the next
// began.
func TestElector_OneLeaderResignHandsOverAtOnce(t *testing.T) {
	zs := zktest.StartWith(t, zktest.Options{Tick: testTick})
	url := zs.URL("/quobyte-mesos")
	a := startInstance(t, "a", url, testTimeout)
	eventually(t, 10*time.Second, "a leads", a.leading)
	b := startInstance(t, "b", url, testTimeout)
	c := startInstance(t, "c", url, testTimeout)
	all := []*instance{a, b, c}
	eventually(t, 10*time.Second, "every instance sees three members, a leading", func() bool {
		for _, in := range all {
			st := in.e.Status()
			if len(st.Members) != 3 || st.Leader == nil || st.Leader.ID != "a" {
				return false
			}
		}
		return b.e.Status().Role == Standby && c.e.Status().Role == Standby
	})
	if got := leaders(all...); len(got) != 1 {
		t.Fatalf("%d leaders", len(got))
	}
	if st := a.e.Status(); st.Session == "" || !st.Connected || st.SessionTimeout != "2s" || st.Self.Node == "" {
		t.Errorf("leader status %+v", st)
	}

	b.e.SetSpecHash("h2")
	eventually(t, 5*time.Second, "the leader sees b's new spec hash", func() bool {
		m := a.e.Status().SpecMismatch("h1")
		return len(m) == 1 && m[0].ID == "b" && m[0].SpecHash == "h2"
	})

	first := a.term(0)
	resigned := time.Now()
	a.close()
	eventually(t, testTimeout/2, "b or c leads after a resigned", func() bool { return len(leaders(b, c)) == 1 })
	t.Logf("handover took %s", time.Since(resigned).Round(time.Millisecond))
	next := leaders(b, c)[0]
	second := next.term(0)
	if !errors.Is(first.Err(), ErrResigned) {
		t.Errorf("a's term ended with %v, want ErrResigned", first.Err())
	}
	if a.lastOK[first].After(second.Won) {
		t.Errorf("a acted until %s, after b won at %s", a.lastOK[first], second.Won)
	}
	time.Sleep(testTimeout)
	if got := leaders(b, c); len(got) != 1 || got[0] != next {
		t.Errorf("leaders after handover: %d", len(got))
	}
}

// A leader cut off from ZooKeeper (a partition: its connection falls
// silent) stops acting within half the session timeout, before its session
// can expire and so before the standby can win; after the partition heals it
// joins again in a new session, as a standby.
func TestElector_PartitionedLeaderStopsBeforeTheNextStarts(t *testing.T) {
	zs := zktest.StartWith(t, zktest.Options{Tick: testTick})
	proxy := zs.Proxy(t)
	a := startInstance(t, "a", proxy.URL("/q"), testTimeout)
	eventually(t, 10*time.Second, "a leads", a.leading)
	b := startInstance(t, "b", zs.URL("/q"), testTimeout)
	eventually(t, 10*time.Second, "b stands by", func() bool { return b.e.Status().Role == Standby })
	oldSession := a.e.Status().Session

	cut := time.Now()
	proxy.Cut(nil)
	eventually(t, 3*testTimeout, "b leads", b.leading)
	first, second := a.term(0), b.term(0)
	a.mu.Lock()
	lastOK := a.lastOK[first]
	a.mu.Unlock()
	t.Logf("a acted until %s after the cut; b won %s after it", lastOK.Sub(cut).Round(time.Millisecond), second.Won.Sub(cut).Round(time.Millisecond))
	if !lastOK.Before(second.Won) {
		t.Fatalf("a acted until %s, b won at %s: two leaders", lastOK, second.Won)
	}
	if d := lastOK.Sub(cut); d > testTimeout/2+200*time.Millisecond {
		t.Errorf("a acted %s after the cut, want at most half the session timeout", d)
	}
	if err := first.Check(); !errors.Is(err, ErrNotLeader) {
		t.Errorf("a's Check after the cut: %v", err)
	}

	proxy.Heal()
	eventually(t, 5*testTimeout, "a stands by again in a new session", func() bool {
		st := a.e.Status()
		return st.Role == Standby && st.Session != "" && st.Session != oldSession
	})
	if !b.leading() || a.term(1) != nil {
		t.Errorf("after healing: b leads %v, a's second term %v", b.leading(), a.term(1))
	}
}

// ZooKeeper down: the leader stops acting once its lease runs out and says
// why; when ZooKeeper is back an instance leads again, in a session other
// than the lost one.
func TestElector_ZooKeeperDownThenBack(t *testing.T) {
	zs := zktest.StartWith(t, zktest.Options{Tick: testTick})
	a := startInstance(t, "a", zs.URL("/q"), testTimeout)
	eventually(t, 10*time.Second, "a leads", a.leading)
	b := startInstance(t, "b", zs.URL("/q"), testTimeout)
	eventually(t, 10*time.Second, "b stands by", func() bool { return b.e.Status().Role == Standby })
	first := a.term(0)

	zs.Stop()
	eventually(t, testTimeout, "a's term ends", func() bool { return first.Err() != nil })
	// The status follows once the term's work has stopped (the lead
	// function has returned), a moment after the term ended.
	eventually(t, time.Second, "a no longer says it leads", func() bool { return a.e.Status().Role != Leader })
	t.Logf("a's term ended: %v", first.Err())

	zs.Restart()
	eventually(t, 10*testTimeout, "someone leads again", func() bool { return len(leaders(a, b)) == 1 })
	var next *Term
	if b.leading() {
		next = b.term(0)
	} else {
		next = a.term(1)
	}
	if next.Session == first.Session {
		t.Errorf("leading again in the lost session %#x", first.Session)
	}
}

// The lease is measured in the timeout the server granted, not the one
// asked for: asking 60s of a server that grants at most 20 ticks (5s).
func TestElector_LearnsTheGrantedTimeout(t *testing.T) {
	zs := zktest.StartWith(t, zktest.Options{Tick: testTick})
	a := startInstance(t, "a", zs.URL("/q"), time.Minute)
	eventually(t, 10*time.Second, "a leads", a.leading)
	if got := a.e.Status().SessionTimeout; got != "5s" {
		t.Fatalf("session timeout %q, want the granted 5s", got)
	}
	if lease := time.Until(a.term(0).Lease()); lease > 2500*time.Millisecond {
		t.Errorf("lease runs %s ahead, want at most half the granted 5s", lease)
	}
}

func TestElectionPath(t *testing.T) {
	for _, tc := range []struct{ base, group, want string }{
		{"/quobyte-mesos", "quobyte", "/quobyte-mesos/election/quobyte"},
		{"/q/", "a/b", "/q/election/a%2Fb"},
		{"/q", "..", "/q/election/%2E%2E"},
	} {
		if got := ElectionPath(tc.base, tc.group); got != tc.want {
			t.Errorf("ElectionPath(%q, %q) = %q, want %q", tc.base, tc.group, got, tc.want)
		}
	}
	if got := candidates([]string{"_c_ab-candidate-0000000010", "x", "_c_cd-candidate-0000000002"}); fmt.Sprint(got) != "[_c_cd-candidate-0000000002 _c_ab-candidate-0000000010]" {
		t.Errorf("candidates = %v", got)
	}
}

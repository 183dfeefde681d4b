package mesosconn

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"

	"github.com/quobyte/quobyte-mesos/observe/fwid"
	"github.com/quobyte/quobyte-mesos/observe/internal/fakemaster"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
)

// recorder is a Handler that keeps what it was given.
type recorder struct {
	mu       sync.Mutex
	statuses []Status
	events   []*scheduler.Event
	// storeAtSubscribed is what the store held when Subscribed was reported.
	store             fwid.Store
	storeAtSubscribed []string
}

func (r *recorder) HandleStatus(s Status) {
	var held string
	if s.State == snapshot.Subscribed && r.store != nil {
		held, _ = r.store.Load(context.Background())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.statuses = append(r.statuses, s)
	if s.State == snapshot.Subscribed {
		r.storeAtSubscribed = append(r.storeAtSubscribed, held)
	}
}

func (r *recorder) HandleEvent(_ context.Context, ev *scheduler.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

func (r *recorder) eventsOf(t scheduler.Event_Type) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e.GetType() == t {
			n++
		}
	}
	return n
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

type harness struct {
	conn  *Conn
	rec   *recorder
	store fwid.Store
	done  chan struct{}
}

func start(t *testing.T, cfg Config, before ...func(*Conn)) *harness {
	t.Helper()
	if cfg.Store == nil {
		cfg.Store = fwid.NewFileStore(filepath.Join(t.TempDir(), "framework-id"))
	}
	if cfg.InitialBackoff == 0 {
		cfg.InitialBackoff = 20 * time.Millisecond
		cfg.MaxBackoff = 200 * time.Millisecond
	}
	cfg.Framework.Name = "quobyte-test"
	cfg.Logger = hclog.New(&hclog.LoggerOptions{Output: testWriter{t}, Level: hclog.Debug})
	cfg.Framework.FailoverTimeout = 3 * 7 * 24 * time.Hour
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range before {
		f(c)
	}
	h := &harness{conn: c, rec: &recorder{store: cfg.Store}, store: cfg.Store, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer close(h.done)
		if err := c.Run(ctx, h.rec); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-h.done:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return h
}

func (h *harness) waitSubscriptions(t *testing.T, n int) Status {
	t.Helper()
	eventually(t, fmt.Sprintf("%d subscriptions", n), func() bool {
		s := h.conn.Status()
		return s.State == snapshot.Subscribed && s.Subscriptions >= n
	})
	return h.conn.Status()
}

func decline(t *testing.T, c calls.Caller) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := c.Call(ctx, calls.Decline(mesos.OfferID{Value: "o1"}))
	if resp != nil {
		resp.Close()
	}
	return err
}

func TestRun_SubscribesPersistsIDAndSendsFrameworkInfo(t *testing.T) {
	m := fakemaster.Start(t, 0)
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := start(t, Config{Masters: []string{m.URL()}, SecretFile: secret, Framework: Framework{Principal: "quobyte", Role: "storage"}})
	st := h.waitSubscriptions(t, 1)
	if st.FrameworkID != "fw-1" || st.Master != m.URL() {
		t.Fatalf("status = %+v", st)
	}
	// The ID was in the store before Subscribed was reported, both by
	// Status (read just now) and to the Handler. The Handler is told after
	// Status has changed (setStatus), so wait for it rather than assume it
	// has been called: under load it may not have been yet.
	if held, err := h.store.Load(context.Background()); err != nil || held != "fw-1" {
		t.Fatalf("store held %q (%v) once Status said subscribed, want fw-1", held, err)
	}
	var held []string
	eventually(t, "Subscribed reported to the handler", func() bool {
		h.rec.mu.Lock()
		defer h.rec.mu.Unlock()
		held = h.rec.storeAtSubscribed
		return len(held) > 0
	})
	if len(held) != 1 || held[0] != "fw-1" {
		t.Fatalf("store held %q when subscribed was reported, want fw-1", held)
	}
	fi := m.Subscribes()[0].GetSubscribe().GetFrameworkInfo()
	if fi.GetID() != nil {
		t.Errorf("first SUBSCRIBE carried framework id %v", fi.GetID())
	}
	if !fi.GetCheckpoint() || fi.GetFailoverTimeout() != (3*7*24*time.Hour).Seconds() || fi.GetRole() != "storage" || fi.GetPrincipal() != "quobyte" || fi.GetUser() == "" {
		t.Errorf("framework info = %+v", fi)
	}
	caps := map[mesos.FrameworkInfo_Capability_Type]bool{}
	for _, c := range fi.GetCapabilities() {
		caps[c.GetType()] = true
	}
	if !caps[mesos.FrameworkInfo_Capability_PARTITION_AWARE] || !caps[mesos.FrameworkInfo_Capability_TASK_KILLING_STATE] {
		t.Errorf("capabilities = %v", fi.GetCapabilities())
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("quobyte:s3cret"))
	if a := m.AuthHeaders(); len(a) == 0 || a[0] != want {
		t.Errorf("auth headers = %v, want %q", a, want)
	}
	// SUBSCRIBED reaches the handler too.
	eventually(t, "SUBSCRIBED event", func() bool { return h.rec.eventsOf(scheduler.Event_SUBSCRIBED) == 1 })
	// A call gets the framework ID filled in.
	if err := decline(t, h.conn.Caller()); err != nil {
		t.Fatalf("decline: %v", err)
	}
	if c := m.Calls(); len(c) != 1 || c[0].GetFrameworkID().GetValue() != "fw-1" {
		t.Fatalf("calls = %v", c)
	}
}

func TestRun_UsesStoredFrameworkID(t *testing.T) {
	m := fakemaster.Start(t, 0)
	store := fwid.NewFileStore(filepath.Join(t.TempDir(), "id"))
	if err := store.Save(context.Background(), "fw-stored"); err != nil {
		t.Fatal(err)
	}
	h := start(t, Config{Masters: []string{m.URL()}, Store: store})
	st := h.waitSubscriptions(t, 1)
	if st.FrameworkID != "fw-stored" {
		t.Fatalf("framework id = %q", st.FrameworkID)
	}
	if id := m.Subscribes()[0].GetSubscribe().GetFrameworkInfo().GetID().GetValue(); id != "fw-stored" {
		t.Fatalf("SUBSCRIBE carried %q", id)
	}
}

func TestCaller_FailsClearlyWhileDisconnected(t *testing.T) {
	h := start(t, Config{Masters: []string{"http://127.0.0.1:1"}})
	err := decline(t, h.conn.Caller())
	if !errors.Is(err, ErrNotSubscribed) {
		t.Fatalf("call while disconnected: %v, want ErrNotSubscribed", err)
	}
}

// mesos-go sends only SUBSCRIBE to a redirect's target; every later call
// must go to the leader as well.
func TestRun_RedirectPinsLeaderForAllCalls(t *testing.T) {
	leader := fakemaster.Start(t, 0)
	follower := fakemaster.Start(t, 0)
	follower.RedirectTo(leader)
	h := start(t, Config{Masters: []string{follower.URL()}})
	st := h.waitSubscriptions(t, 1)
	if st.Master != leader.URL() {
		t.Fatalf("master = %s, want the leader %s", st.Master, leader.URL())
	}
	for i := 0; i < 3; i++ {
		if err := decline(t, h.conn.Caller()); err != nil {
			t.Fatalf("decline %d: %v", i, err)
		}
	}
	if n := len(leader.Calls()); n != 3 {
		t.Fatalf("leader got %d calls, want 3", n)
	}
	if n := len(follower.Calls()); n != 0 {
		t.Fatalf("follower got %d calls, want 0", n)
	}
}

func TestRun_TriesNextMasterWhenOneIsDown(t *testing.T) {
	m := fakemaster.Start(t, 0)
	h := start(t, Config{Masters: []string{"http://127.0.0.1:1", m.URL()}})
	if st := h.waitSubscriptions(t, 1); st.Master != m.URL() {
		t.Fatalf("master = %s", st.Master)
	}
}

func TestCaller_FailingCallKeepsSubscription(t *testing.T) {
	m := fakemaster.Start(t, 0)
	h := start(t, Config{Masters: []string{m.URL()}})
	h.waitSubscriptions(t, 1)
	m.Fail(scheduler.Call_DECLINE, 400)
	if err := decline(t, h.conn.Caller()); err == nil {
		t.Fatal("decline answered 400 succeeded")
	}
	m.Fail(scheduler.Call_DECLINE, 500)
	if err := decline(t, h.conn.Caller()); err == nil {
		t.Fatal("decline answered 500 succeeded")
	}
	m.Fail(scheduler.Call_DECLINE, 0)
	if err := decline(t, h.conn.Caller()); err != nil {
		t.Fatalf("decline after failures: %v", err)
	}
	// Still the first subscription: a failing call tore nothing down.
	time.Sleep(100 * time.Millisecond)
	if st := h.conn.Status(); st.State != snapshot.Subscribed || st.Subscriptions != 1 || m.Streams() != 1 {
		t.Fatalf("status %+v, streams %d; want one unbroken subscription", st, m.Streams())
	}
}

func TestRun_DroppedStreamResubscribesWithSameID(t *testing.T) {
	m := fakemaster.Start(t, 0)
	h := start(t, Config{Masters: []string{m.URL()}})
	h.waitSubscriptions(t, 1)
	m.DropStream()
	st := h.waitSubscriptions(t, 2)
	if st.FrameworkID != "fw-1" {
		t.Fatalf("framework id after resubscribe = %q", st.FrameworkID)
	}
	subs := m.Subscribes()
	if got := subs[len(subs)-1].GetSubscribe().GetFrameworkInfo().GetID().GetValue(); got != "fw-1" {
		t.Fatalf("resubscribe carried %q, want fw-1", got)
	}
	if err := decline(t, h.conn.Caller()); err != nil {
		t.Fatalf("call after resubscribe: %v", err)
	}
	// The handler saw the gap (it is told after Status changed: wait).
	var states []string
	eventually(t, "the handler told of the resubscription", func() bool {
		h.rec.mu.Lock()
		defer h.rec.mu.Unlock()
		states = states[:0]
		subscribed := 0
		for _, s := range h.rec.statuses {
			states = append(states, string(s.State))
			if s.State == snapshot.Subscribed {
				subscribed++
			}
		}
		return subscribed >= 2
	})
	if !strings.Contains(strings.Join(states, ","), "subscribed,disconnected,subscribing,subscribed") {
		t.Fatalf("status sequence %v", states)
	}
}

func TestRun_ErrorEventResubscribes(t *testing.T) {
	m := fakemaster.Start(t, 0)
	h := start(t, Config{Masters: []string{m.URL()}})
	h.waitSubscriptions(t, 1)
	m.Send(&scheduler.Event{Type: scheduler.Event_ERROR, Error: &scheduler.Event_Error{Message: "framework failed over"}})
	h.waitSubscriptions(t, 2)
	if st := h.conn.Status(); !strings.Contains(st.LastError, "framework failed over") {
		t.Fatalf("last error = %q", st.LastError)
	}
}

func TestRun_WatchdogDropsSilentMaster(t *testing.T) {
	m := fakemaster.Start(t, 50*time.Millisecond)
	h := start(t, Config{Masters: []string{m.URL()}, WatchdogIntervals: 4})
	h.waitSubscriptions(t, 1)
	eventually(t, "heartbeats", func() bool { return h.rec.eventsOf(scheduler.Event_HEARTBEAT) >= 2 })
	// Heartbeats flowing: no resubscription.
	time.Sleep(400 * time.Millisecond)
	if n := m.Streams(); n != 1 {
		t.Fatalf("streams = %d while heartbeats flow", n)
	}
	m.SetSilent(true)
	eventually(t, "resubscription after silence", func() bool { return m.Streams() >= 2 })
	m.SetSilent(false)
	st := h.waitSubscriptions(t, 2)
	if !strings.Contains(st.LastError, "heartbeat") {
		t.Fatalf("last error = %q, want the watchdog's", st.LastError)
	}
}

// flakyStore fails its first saves.
type flakyStore struct {
	fwid.Store
	mu    sync.Mutex
	fails int
}

func (s *flakyStore) Save(ctx context.Context, id string) error {
	s.mu.Lock()
	if s.fails > 0 {
		s.fails--
		s.mu.Unlock()
		return errors.New("disk full")
	}
	s.mu.Unlock()
	return s.Store.Save(ctx, id)
}

func TestRun_SaveFailureHoldsBackSubscription(t *testing.T) {
	m := fakemaster.Start(t, 0)
	store := &flakyStore{Store: fwid.NewFileStore(filepath.Join(t.TempDir(), "id")), fails: 2}
	h := start(t, Config{Masters: []string{m.URL()}, Store: store})
	st := h.waitSubscriptions(t, 1)
	// Two SUBSCRIBED were refused for want of a saved ID; the retries
	// carried the same ID, so no second framework was registered.
	if n := m.Streams(); n != 3 {
		t.Fatalf("streams = %d, want 3", n)
	}
	subs := m.Subscribes()
	for i, s := range subs[1:] {
		if id := s.GetSubscribe().GetFrameworkInfo().GetID().GetValue(); id != "fw-1" {
			t.Fatalf("subscribe %d carried %q, want fw-1", i+1, id)
		}
	}
	if st.FrameworkID != "fw-1" || st.Subscriptions != 1 {
		t.Fatalf("status = %+v", st)
	}
	h.rec.mu.Lock()
	defer h.rec.mu.Unlock()
	if h.rec.storeAtSubscribed[0] != "fw-1" {
		t.Fatalf("store held %q at subscribed", h.rec.storeAtSubscribed[0])
	}
}

func TestRun_ZooKeeperLeaderFailover(t *testing.T) {
	zs, zc, reg := zkElection(t)
	m1 := fakemaster.Start(t, 0)
	m2 := fakemaster.Start(t, 0)
	p1 := reg(m1)
	reg(m2)
	// m2 learns the framework from the replicated log after failover.
	m2.SetFrameworkID("fw-1")
	h := start(t, Config{ZK: zs.URL("/mesos")})
	if st := h.waitSubscriptions(t, 1); st.Master != m1.URL() {
		t.Fatalf("master = %s, want %s", st.Master, m1.URL())
	}
	if err := zc.Delete(p1, -1); err != nil {
		t.Fatal(err)
	}
	st := h.waitSubscriptions(t, 2)
	if st.Master != m2.URL() || st.FrameworkID != "fw-1" {
		t.Fatalf("after failover: %+v", st)
	}
	if id := m2.Subscribes()[0].GetSubscribe().GetFrameworkInfo().GetID().GetValue(); id != "fw-1" {
		t.Fatalf("resubscribe to the new leader carried %q", id)
	}
}

func TestNew_RejectsBadConfig(t *testing.T) {
	store := fwid.NewFileStore(filepath.Join(t.TempDir(), "id"))
	for name, cfg := range map[string]Config{
		"no masters":        {Store: store},
		"no store":          {Masters: []string{"http://m:5050"}},
		"bad master":        {Masters: []string{"m:5050"}, Store: store},
		"missing secret":    {Masters: []string{"http://m:5050"}, Store: store, SecretFile: "/nonexistent", Framework: Framework{Principal: "p"}},
		"missing CA":        {Masters: []string{"http://m:5050"}, Store: store, CAFile: "/nonexistent"},
		"secret, no princ.": {Masters: []string{"http://m:5050"}, Store: store, SecretFile: writeTemp(t, "x")},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

func writeTemp(t *testing.T, content string) string {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// testWriter sends log lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func TestRun_TLSWithCAFile(t *testing.T) {
	m := fakemaster.StartTLS(t, 0)
	ca := writeTemp(t, string(m.CAPEM()))
	h := start(t, Config{Masters: []string{m.URL()}, CAFile: ca})
	if st := h.waitSubscriptions(t, 1); !strings.HasPrefix(st.Master, "https://") {
		t.Fatalf("master = %s", st.Master)
	}
	if err := decline(t, h.conn.Caller()); err != nil {
		t.Fatalf("call over TLS: %v", err)
	}
}

func TestRun_TLSUntrustedMasterRefused(t *testing.T) {
	m := fakemaster.StartTLS(t, 0)
	h := start(t, Config{Masters: []string{m.URL()}})
	eventually(t, "a certificate error", func() bool {
		return strings.Contains(h.conn.Status().LastError, "certificate")
	})
	if m.Streams() != 0 {
		t.Fatal("subscribed to an untrusted master")
	}
}

// A 403 says the master no longer knows the subscription: resubscribe.
func TestCaller_ForbiddenEndsSubscription(t *testing.T) {
	m := fakemaster.Start(t, 0)
	h := start(t, Config{Masters: []string{m.URL()}})
	h.waitSubscriptions(t, 1)
	m.Fail(scheduler.Call_DECLINE, 403)
	if err := decline(t, h.conn.Caller()); err == nil {
		t.Fatal("decline answered 403 succeeded")
	}
	m.Fail(scheduler.Call_DECLINE, 0)
	h.waitSubscriptions(t, 2)
}

// A 307 to a call means leadership moved: the subscription ends and the
// next SUBSCRIBE follows the redirect to the new leader.
func TestCaller_RedirectOnCallFollowsNewLeader(t *testing.T) {
	old := fakemaster.Start(t, 0)
	leader := fakemaster.Start(t, 0)
	leader.SetFrameworkID("fw-1")
	h := start(t, Config{Masters: []string{old.URL()}})
	h.waitSubscriptions(t, 1)
	old.RedirectTo(leader)
	if err := decline(t, h.conn.Caller()); err == nil {
		t.Fatal("decline answered 307 succeeded")
	}
	st := h.waitSubscriptions(t, 2)
	if st.Master != leader.URL() || st.FrameworkID != "fw-1" {
		t.Fatalf("after leader change: %+v", st)
	}
	if err := decline(t, h.conn.Caller()); err != nil {
		t.Fatalf("call to the new leader: %v", err)
	}
	if n := len(leader.Calls()); n != 1 {
		t.Fatalf("new leader got %d calls", n)
	}
}

// Another instance took the framework over: do not steal it back at once.
func TestRun_FailedOverWaitsMaxBackoff(t *testing.T) {
	m := fakemaster.Start(t, 0)
	h := start(t, Config{Masters: []string{m.URL()}, InitialBackoff: 10 * time.Millisecond, MaxBackoff: 700 * time.Millisecond})
	h.waitSubscriptions(t, 1)
	at := time.Now()
	m.Send(&scheduler.Event{Type: scheduler.Event_ERROR, Error: &scheduler.Event_Error{Message: "Framework failed over"}})
	h.waitSubscriptions(t, 2)
	if d := time.Since(at); d < 600*time.Millisecond {
		t.Fatalf("resubscribed %v after a failover to another instance, want >= MaxBackoff", d)
	}
	if st := h.conn.Status(); !strings.Contains(st.LastError, "took over") {
		t.Fatalf("last error = %q", st.LastError)
	}
}

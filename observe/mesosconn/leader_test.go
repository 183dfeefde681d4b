package mesosconn

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/hashicorp/go-hclog"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"

	"github.com/quobyte/quobyte-mesos/observe/fwid"
	"github.com/quobyte/quobyte-mesos/observe/internal/fakemaster"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/test/mesossim"
	"github.com/quobyte/quobyte-mesos/test/zktest"
)

// Issue 10, bug 4: after the leading master crashed the framework waited
// out a backoff grown against the dead master although ZooKeeper had
// already named the new one. It must subscribe to a new leader at once.
func TestRun_ZooKeeperNewLeaderSubscribesAtOnce(t *testing.T) {
	zs, zc, reg := zkElection(t)
	m1 := fakemaster.Start(t, 0)
	m2 := fakemaster.Start(t, 0)
	p1 := reg(m1)
	m2.SetFrameworkID("fw-1")
	// A long backoff, so that waiting it out shows.
	h := start(t, Config{ZK: zs.URL("/mesos"), InitialBackoff: 3 * time.Second, MaxBackoff: 3 * time.Second})
	h.waitSubscriptions(t, 1)

	// m1 crashes: its stream ends, and it answers no SUBSCRIBE.
	m1.Fail(scheduler.Call_SUBSCRIBE, 503)
	m1.DropStream()
	eventually(t, "the framework to notice the crash", func() bool { return h.conn.Status().State != snapshot.Subscribed })
	time.Sleep(300 * time.Millisecond) // now inside the backoff
	// ZooKeeper elects m2.
	reg(m2)
	if err := zc.Delete(p1, -1); err != nil {
		t.Fatal(err)
	}
	elected := time.Now()
	st := h.waitSubscriptions(t, 2)
	if d := time.Since(elected); d > time.Second {
		t.Errorf("subscribed to the new leader %v after ZooKeeper named it, want at once (backoff 3s)", d.Round(time.Millisecond))
	}
	if st.Master != m2.URL() {
		t.Fatalf("subscribed to %s, want %s", st.Master, m2.URL())
	}
}

// zkElection starts ZooKeeper with a /mesos node; reg registers a master
// there as Mesos does (an ephemeral sequential json.info_ node; the lowest
// leads) and returns its path.
func zkElection(t *testing.T) (*zktest.Server, *zk.Conn, func(*fakemaster.Master) string) {
	t.Helper()
	zs := zktest.Start(t)
	zc := zs.Connect(t)
	if _, err := zc.Create("/mesos", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	reg := func(m *fakemaster.Master) string {
		host, port, _ := strings.Cut(m.Host(), ":")
		data := fmt.Sprintf(`{"id":%q,"address":{"hostname":"localhost","ip":%q,"port":%s}}`, m.Host(), host, port)
		p, err := zc.Create("/mesos/json.info_", []byte(data), zk.FlagEphemeral|zk.FlagSequence, zk.WorldACL(zk.PermAll))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	return zs, zc, reg
}

// lockedBuffer is a log sink safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Issue 10, bug 7: after a successful TEARDOWN the master closes the
// stream; Run ends quietly instead of logging "subscription ended;
// resubscribing ... EOF" and trying again.
func TestRun_TeardownEndsRunQuietly(t *testing.T) {
	sim, err := mesossim.Start(context.Background(), mesossim.Config{Agents: []mesossim.AgentConfig{mesossim.DefaultAgent("agent1")}})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	logs := &lockedBuffer{}
	cfg := Config{
		Masters:        []string{sim.URL()},
		Store:          fwid.NewFileStore(filepath.Join(t.TempDir(), "id")),
		InitialBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		Logger: hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Debug}),
	}
	cfg.Framework.Name = "quobyte-test"
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{store: cfg.Store}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, rec) }()
	eventually(t, "subscribed", func() bool { return c.Status().State == snapshot.Subscribed })
	resp, err := c.Caller().Call(ctx, &scheduler.Call{Type: scheduler.Call_TEARDOWN})
	if resp != nil {
		resp.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("Run still going 5s after TEARDOWN; log:\n%s", logs.String())
	}
	if out := logs.String(); strings.Contains(out, "subscription ended") {
		t.Errorf("teardown logged a resubscription:\n%s", out)
	}
}

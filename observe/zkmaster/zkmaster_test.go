package zkmaster

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/quobyte/quobyte-mesos/test/zktest"
)

func TestParseMasterInfo(t *testing.T) {
	for _, tc := range []struct {
		data    string
		want    Leader
		wantErr bool
	}{
		{`{"id":"m1","address":{"hostname":"master-1.example","ip":"10.0.0.5","port":5050},"hostname":"master-1.example","port":5050}`,
			Leader{ID: "m1", Hostname: "master-1.example", IP: "10.0.0.5", Port: 5050}, false},
		// Legacy: ip as a little-endian uint32 (127.0.0.1 = 16777343).
		{`{"id":"m2","ip":16777343,"port":5051}`, Leader{ID: "m2", IP: "127.0.0.1", Port: 5051}, false},
		{`{"id":"m3"}`, Leader{}, true},
		{`not json`, Leader{}, true},
	} {
		got, err := ParseMasterInfo([]byte(tc.data))
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseMasterInfo(%s) = %+v, %v; want %+v, err %v", tc.data, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestLeaderNode_LowestSequenceWins(t *testing.T) {
	got := leaderNode([]string{"json.info_0000000012", "log_replicas", "info_0000000001", "json.info_0000000010", "json.info_x"})
	if got != "json.info_0000000010" {
		t.Fatalf("leaderNode = %q", got)
	}
}

func TestLeaderURL(t *testing.T) {
	l := Leader{Hostname: "m.example", IP: "10.0.0.1", Port: 5050}
	if u := l.URL("http"); u != "http://10.0.0.1:5050" {
		t.Errorf("http URL = %s", u)
	}
	if u := l.URL("https"); u != "https://m.example:5050" {
		t.Errorf("https URL = %s", u)
	}
}

func register(t *testing.T, c *zk.Conn, path string, id string, port int) string {
	t.Helper()
	data := fmt.Sprintf(`{"id":%q,"address":{"hostname":"localhost","ip":"127.0.0.1","port":%d},"port":%d}`, id, port, port)
	p, err := c.Create(path+"/"+nodePrefix, []byte(data), zk.FlagEphemeral|zk.FlagSequence, zk.WorldACL(zk.PermAll))
	if err != nil {
		t.Fatalf("register master: %v", err)
	}
	return p
}

func next(t *testing.T, ch <-chan Leader) Leader {
	t.Helper()
	select {
	case l, ok := <-ch:
		if !ok {
			t.Fatal("watch channel closed")
		}
		return l
	case <-time.After(15 * time.Second):
		t.Fatal("no leader change within 15s")
	}
	return Leader{}
}

func TestWatch_FollowsLeaderThroughFailover(t *testing.T) {
	zs := zktest.Start(t)
	c := zs.Connect(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	ch, err := Watch(ctx, zs.URL("/mesos"), nil)
	if err != nil {
		t.Fatal(err)
	}
	// No group node yet: no leader.
	if l := next(t, ch); !l.IsZero() {
		t.Fatalf("first = %v, want no leader", l)
	}
	if _, err := c.Create("/mesos", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	p1 := register(t, c, "/mesos", "m1", 5050)
	if l := next(t, ch); l.ID != "m1" || l.Port != 5050 {
		t.Fatalf("leader = %v, want m1", l)
	}
	// A second master joins as follower: the leader stays m1, nothing is sent.
	register(t, c, "/mesos", "m2", 5051)
	// Foreign nodes in the group are ignored.
	if _, err := c.Create("/mesos/log_replicas", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	select {
	case l := <-ch:
		t.Fatalf("unexpected leader change to %v", l)
	case <-time.After(300 * time.Millisecond):
	}
	// The leader dies: m2 leads.
	if err := c.Delete(p1, -1); err != nil {
		t.Fatal(err)
	}
	if l := next(t, ch); l.ID != "m2" || l.Port != 5051 {
		t.Fatalf("leader after failover = %v, want m2", l)
	}
	cancel()
	for range ch { // closed once ctx ends
	}
}

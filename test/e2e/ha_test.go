package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/statusapi"
	"github.com/quobyte/quobyte-mesos/observe/leader"
	"github.com/quobyte/quobyte-mesos/test/mesossim"
	"github.com/quobyte/quobyte-mesos/test/zktest"
)

// Several framework instances elect a leader in a real ZooKeeper (ha
// block). The ZooKeeper server's tick is 500ms, so it grants the 4s session
// timeout the spec asks for; a leader's lease is half of it.
const (
	haTick           = 500 * time.Millisecond
	haSessionTimeout = 4 * time.Second
)

var haLayout = want{"prober": 5, "registry": 1, "metadata": 1, "data": 2, "api": 1, "webconsole": 1}

func haSpec(zkURL string) string {
	return fmt.Sprintf("ha {\n  zookeeper       = %q\n  session_timeout = %q\n}\n", zkURL, haSessionTimeout)
}

// instance is one `quobyte-mesos run` of an HA cluster.
type instance struct {
	name string
	url  string // status API
	cmd  *exec.Cmd
	done <-chan struct{}
}

func (c *cluster) startInstance(name string) *instance {
	c.t.Helper()
	port := freePort(c.t)
	in := &instance{name: name, url: fmt.Sprintf("http://127.0.0.1:%d", port)}
	in.cmd = exec.Command(bins.framework, "run", "--spec", c.specPath, "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "debug")
	in.done = c.start(in.cmd, name)
	c.waitHTTP(in.url+"/v1/status", 10*time.Second)
	return in
}

// health is the instance's /v1/health (zero when it does not answer).
func (in *instance) health() statusapi.HealthReport {
	var h statusapi.HealthReport
	resp, err := http.Get(in.url + "/v1/health")
	if err != nil {
		return h
	}
	defer resp.Body.Close()
	_ = json.NewDecoder(resp.Body).Decode(&h)
	return h
}

func (in *instance) status(t *testing.T) statusapi.Status {
	t.Helper()
	var st statusapi.Status
	resp, err := http.Get(in.url + "/v1/status")
	if err != nil {
		t.Fatalf("%s: %v", in.name, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("%s status: %v", in.name, err)
	}
	return st
}

// leaderOf returns the one instance whose health says it leads, or nil
// when none or several do.
func leaderOf(ins ...*instance) (*instance, string) {
	var leaders []string
	var l *instance
	for _, in := range ins {
		if in.health().Role == string(leader.Leader) {
			leaders = append(leaders, in.name)
			l = in
		}
	}
	if len(leaders) != 1 {
		return nil, fmt.Sprintf("leaders %v", leaders)
	}
	return l, ""
}

// calls is the simulated master's call log after seq.
func (c *cluster) calls(after int) []mesossim.CallRecord {
	c.t.Helper()
	resp, err := http.Get(fmt.Sprintf("%s/debug/calls?after=%d", c.masterURL, after))
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var log struct {
		Calls     []mesossim.CallRecord
		Truncated bool
	}
	if err := json.NewDecoder(resp.Body).Decode(&log); err != nil || log.Truncated {
		c.t.Fatalf("call log: %v (truncated %v)", err, log.Truncated)
	}
	return log.Calls
}

func lastSeq(calls []mesossim.CallRecord) int {
	if len(calls) == 0 {
		return 0
	}
	return calls[len(calls)-1].Seq
}

// byInstance maps every call of the log (from the start) to the instance
// whose SUBSCRIBE opened the stream it used.
func byInstance(calls []mesossim.CallRecord, ins ...*instance) map[string][]mesossim.CallRecord {
	owner := map[string]string{}
	for _, r := range calls {
		if r.Type == "SUBSCRIBE" {
			for _, in := range ins {
				if r.WebUIURL == in.url+"/v1/status" {
					owner[r.Stream] = in.name
				}
			}
		}
	}
	out := map[string][]mesossim.CallRecord{}
	for _, r := range calls {
		out[owner[r.Stream]] = append(out[owner[r.Stream]], r)
	}
	return out
}

// subscribedAfter is the first successful SUBSCRIBE of in after seq.
func subscribedAfter(calls []mesossim.CallRecord, in *instance, seq int) (mesossim.CallRecord, bool) {
	for _, r := range calls {
		if r.Seq > seq && r.Type == "SUBSCRIBE" && r.Status == 200 && r.WebUIURL == in.url+"/v1/status" {
			return r, true
		}
	}
	return mesossim.CallRecord{}, false
}

// noLaunchOrKill fails the test for any ACCEPT (a launch) or KILL after seq:
// a change of leader restarts no Quobyte service.
func noLaunchOrKill(t *testing.T, calls []mesossim.CallRecord, seq int, why string) {
	t.Helper()
	for _, r := range calls {
		if r.Seq > seq && (r.Type == "ACCEPT" || r.Type == "KILL") {
			t.Errorf("%s: %s (seq %d) after the change of leader", why, r.Type, r.Seq)
		}
	}
}

// Three instances: exactly one leads and every one names it. SIGKILL of the
// leader: a standby leads within the session timeout, resubscribes with the
// same framework ID, reconciles and adopts every task (nothing killed or
// launched). SIGTERM of the next leader hands over at once, and it sends
// nothing after its successor subscribed.
func TestHA_KillLeader_TermLeader(t *testing.T) {
	zs := zktest.StartWith(t, zktest.Options{Tick: haTick})
	c := startCluster(t, clusterOpts{subnet: "127.0.21", registry: 1, metadata: 1, data: 2, version: "v1",
		extra: haSpec(zs.URL("/quobyte-mesos")), noFramework: true})
	a := c.startInstance("fw-a")
	c.eventually(20*time.Second, "fw-a leads", func() (bool, string) {
		return a.health().Role == string(leader.Leader), fmt.Sprintf("%+v", a.health())
	})
	b, d := c.startInstance("fw-b"), c.startInstance("fw-c")
	all := []*instance{a, b, d}
	c.eventually(20*time.Second, "one leader, two standbys, all naming it", func() (bool, string) {
		for _, in := range all {
			st := in.status(t)
			if st.HA == nil || st.HA.Leader == nil || st.HA.Leader.URL != a.url || len(st.HA.Members) != 3 {
				return false, fmt.Sprintf("%s: %+v", in.name, st.HA)
			}
		}
		l, why := leaderOf(all...)
		return l == a && b.health().Healthy && d.health().Healthy, why
	})
	c.apiURL = a.url
	c.eventually(convergeWithin, "convergence", func() (bool, string) { return c.converged(haLayout) })
	before := c.taskIDs()
	fwID := c.status().Subscription.FrameworkID
	// A standby answers /v1/plan from the leader.
	if resp, err := http.Get(b.url + "/v1/plan"); err != nil || resp.StatusCode != 200 || resp.Header.Get("X-Quobyte-Mesos-Leader") != a.url {
		t.Errorf("GET /v1/plan on a standby: %v %v", err, resp)
	} else {
		resp.Body.Close()
	}

	// SIGKILL: the session ends only by timeout.
	seq := lastSeq(c.calls(0))
	killed := time.Now()
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var next *instance
	c.eventually(2*haSessionTimeout, "a standby leads", func() (bool, string) {
		l, why := leaderOf(b, d)
		next = l
		return l != nil, why
	})
	tookOver := time.Since(killed)
	c.apiURL = next.url
	c.eventually(10*time.Second, "the new leader reconciled", func() (bool, string) {
		st := c.status().Subscription
		return st.Reconciled, fmt.Sprintf("%+v", st)
	})
	t.Logf("SIGKILL: %s led after %s, reconciled after %s", next.name, tookOver.Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))
	if got := c.status().Subscription.FrameworkID; got != fwID {
		t.Errorf("new leader subscribed as %q, want the same framework ID %q", got, fwID)
	}
	c.eventually(convergeWithin, "convergence under the new leader", func() (bool, string) { return c.converged(haLayout) })
	if after := c.taskIDs(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("tasks changed with the leader:\nbefore %v\nafter  %v", before, after)
	}
	noLaunchOrKill(t, c.calls(0), seq, "SIGKILL")

	// SIGTERM hands over at once: the other standby leads long before a
	// session could time out, and the old leader sent nothing after it
	// subscribed.
	other := b
	if next == b {
		other = d
	}
	seq = lastSeq(c.calls(0))
	termed := time.Now()
	if err := next.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	c.eventually(haSessionTimeout/2, "the last standby leads", func() (bool, string) {
		return other.health().Role == string(leader.Leader), fmt.Sprintf("%+v", other.health())
	})
	t.Logf("SIGTERM: %s led after %s", other.name, time.Since(termed).Round(time.Millisecond))
	select {
	case <-next.done:
		if code := next.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("%s after SIGTERM: exit %d", next.name, code)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("%s still running 15s after SIGTERM", next.name)
	}
	c.apiURL = other.url
	c.eventually(convergeWithin, "convergence under the last leader", func() (bool, string) { return c.converged(haLayout) })
	calls := c.calls(0)
	sub, ok := subscribedAfter(calls, other, seq)
	if !ok {
		t.Fatalf("%s never subscribed", other.name)
	}
	for _, r := range byInstance(calls, all...)[next.name] {
		if r.Seq > sub.Seq {
			t.Errorf("%s sent %s (seq %d) after %s subscribed (seq %d)", next.name, r.Type, r.Seq, other.name, sub.Seq)
		}
	}
	noLaunchOrKill(t, calls, seq, "SIGTERM")
	if after := c.taskIDs(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("tasks changed with the leader:\nbefore %v\nafter  %v", before, after)
	}
}

// A leader partitioned from ZooKeeper (but not from Mesos) stops acting
// before the standby starts: over the master's call log, no call of the
// old leader after the new one subscribed. Then ZooKeeper goes down: the
// leader stops acting once its lease runs out (nothing is killed) and says
// why; when ZooKeeper is back an instance acts again only after winning in
// a new session.
func TestHA_PartitionedLeader_ZooKeeperDown(t *testing.T) {
	zs := zktest.StartWith(t, zktest.Options{Tick: haTick})
	proxy := zs.Proxy(t)
	c := startCluster(t, clusterOpts{subnet: "127.0.22", registry: 1, metadata: 1, data: 2, version: "v1",
		extra: haSpec(proxy.URL("/quobyte-mesos")), noFramework: true})
	a := c.startInstance("fw-a")
	c.eventually(20*time.Second, "fw-a leads", func() (bool, string) {
		return a.health().Role == string(leader.Leader), fmt.Sprintf("%+v", a.health())
	})
	b := c.startInstance("fw-b")
	c.apiURL = a.url
	c.eventually(convergeWithin, "convergence", func() (bool, string) { return c.converged(haLayout) })
	c.eventually(10*time.Second, "fw-b stands by", func() (bool, string) { return b.health().Healthy, fmt.Sprintf("%+v", b.health()) })
	before := c.taskIDs()

	// Partition fw-a from ZooKeeper: its connection falls silent.
	seq := lastSeq(c.calls(0))
	proxy.Cut(ownedBy(t, a.cmd.Process.Pid, proxy.Addr))
	c.eventually(3*haSessionTimeout, "fw-b leads", func() (bool, string) {
		return b.health().Role == string(leader.Leader), fmt.Sprintf("%+v", b.health())
	})
	c.apiURL = b.url
	c.eventually(convergeWithin, "convergence under fw-b", func() (bool, string) { return c.converged(haLayout) })
	calls := c.calls(0)
	sub, ok := subscribedAfter(calls, b, seq)
	if !ok {
		t.Fatal("fw-b never subscribed")
	}
	fromA := byInstance(calls, a, b)[a.name]
	for _, r := range fromA {
		if r.Seq > sub.Seq {
			t.Errorf("fw-a sent %s (seq %d, status %d) after fw-b subscribed (seq %d)", r.Type, r.Seq, r.Status, sub.Seq)
		}
	}
	if h := a.health(); h.Healthy || !strings.Contains(strings.Join(h.Reasons, " "), "lease ran out") {
		t.Errorf("partitioned fw-a health: %+v", h)
	}
	if c.logLines("fw-a", "leadership lost") == 0 {
		t.Error("fw-a did not log that it lost the leadership")
	}
	noLaunchOrKill(t, calls, seq, "partition")
	if after := c.taskIDs(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("tasks changed with the leader:\nbefore %v\nafter  %v", before, after)
	}
	proxy.Heal()
	c.eventually(5*haSessionTimeout, "fw-a stands by again", func() (bool, string) {
		h := a.health()
		return h.Healthy && h.Role == string(leader.Standby), fmt.Sprintf("%+v", h)
	})

	// ZooKeeper down.
	lost := b.status(t).HA.Session
	zs.Stop()
	c.eventually(haSessionTimeout, "fw-b stops leading", func() (bool, string) {
		h := b.health()
		return !h.Healthy && strings.Contains(strings.Join(h.Reasons, " "), "not in the leader election"), fmt.Sprintf("%+v", h)
	})
	time.Sleep(time.Second) // calls in flight settle
	seq = lastSeq(c.calls(0))
	time.Sleep(haSessionTimeout)
	if quiet := c.calls(seq); len(quiet) > 0 {
		t.Errorf("calls while no instance may lead: %+v", quiet)
	}
	if c.logLines("fw-b", "leadership lost") == 0 {
		t.Error("fw-b did not log that it lost the leadership")
	}
	total := 0
	for _, n := range haLayout {
		total += n
	}
	if n := mesosTasks(t, c); n != total {
		t.Errorf("%d tasks running on Mesos with ZooKeeper down, want all %d (nothing killed)", n, total)
	}

	zs.Restart()
	var next *instance
	c.eventually(10*haSessionTimeout, "an instance leads again", func() (bool, string) {
		l, why := leaderOf(a, b)
		next = l
		return l != nil, why
	})
	if s := next.status(t).HA.Session; s == lost || s == "" {
		t.Errorf("%s leads in session %q; the lost one was %q", next.name, s, lost)
	}
	c.apiURL = next.url
	c.eventually(convergeWithin, "convergence after ZooKeeper came back", func() (bool, string) { return c.converged(haLayout) })
	if after := c.taskIDs(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("tasks changed with the leader:\nbefore %v\nafter  %v", before, after)
	}
}

// mesosTasks counts the live tasks the simulated master knows.
func mesosTasks(t *testing.T, c *cluster) int {
	t.Helper()
	var st mesossim.State
	resp, err := http.Get(c.masterURL + "/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range st.Frameworks {
		for _, task := range f.Tasks {
			if task.State == "TASK_RUNNING" {
				n++
			}
		}
	}
	return n
}

// ownedBy matches the proxy's clients whose connection is a socket of
// process pid: the socket connected from the client's address to the
// proxy's. Both ends are compared because Linux reuses an ephemeral port
// for connections to other destinations: another process may hold a socket
// with the same local address, connected elsewhere.
func ownedBy(t *testing.T, pid int, proxyAddr string) func(*net.TCPAddr) bool {
	t.Helper()
	proxy, err := net.ResolveTCPAddr("tcp", proxyAddr)
	if err != nil {
		t.Fatalf("proxy address %q: %v", proxyAddr, err)
	}
	return func(client *net.TCPAddr) bool {
		inode := socketInode(client, proxy)
		if inode == "" {
			return false
		}
		fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
		for _, fd := range fds {
			if link, err := os.Readlink(fd); err == nil && link == "socket:["+inode+"]" {
				return true
			}
		}
		return false
	}
}

// socketInode finds the inode of the IPv4 TCP socket from local to remote.
func socketInode(local, remote *net.TCPAddr) string {
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return ""
	}
	defer f.Close()
	wantLocal, wantRemote := procNetAddr(local), procNetAddr(remote)
	if wantLocal == "" || wantRemote == "" {
		return ""
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 9 && fields[1] == wantLocal && fields[2] == wantRemote {
			if _, err := strconv.Atoi(fields[9]); err == nil {
				return fields[9]
			}
		}
	}
	return ""
}

// procNetAddr writes an IPv4 address as /proc/net/tcp does: the in-memory
// (little-endian) 32-bit word in hex, then the port in hex.
func procNetAddr(a *net.TCPAddr) string {
	ip := a.IP.To4()
	if ip == nil {
		return ""
	}
	return fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], a.Port)
}

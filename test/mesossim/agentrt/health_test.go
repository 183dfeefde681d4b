package agentrt

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// toggleServer answers its health endpoint 200 or 503 as told.
func toggleServer(t *testing.T) (port uint32, healthy *atomic.Bool) {
	t.Helper()
	healthy = &atomic.Bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			http.NotFound(w, r)
			return
		}
		if healthy.Load() {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	_, p, _ := net.SplitHostPort(srv.Listener.Addr().String())
	n, _ := strconv.Atoi(p)
	return uint32(n), healthy
}

func fastCheck(hc mesos.HealthCheck, grace float64, failures uint32) *mesos.HealthCheck {
	hc.DelaySeconds = floatPtr(0)
	hc.IntervalSeconds = floatPtr(0.05)
	hc.TimeoutSeconds = floatPtr(1)
	hc.GracePeriodSeconds = floatPtr(grace)
	hc.ConsecutiveFailures = &failures
	return &hc
}

func floatPtr(f float64) *float64 { return &f }

func healthUpdates(ups []mesos.TaskStatus) []bool {
	var out []bool
	for _, st := range ups {
		if st.GetState() == mesos.TASK_RUNNING && st.GetReason() == mesos.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED {
			out = append(out, st.GetHealthy())
		}
	}
	return out
}

func TestHTTPHealthCheckTransitionsAndKill(t *testing.T) {
	port, healthy := toggleServer(t)
	healthy.Store(true)
	a, rec := newTestAgent(t, nil)
	// Like a Quobyte service, the task exits 0 on SIGTERM.
	task := shellTask("hc", "trap 'exit 0' TERM; sleep 30 & wait")
	task.HealthCheck = fastCheck(mesos.HealthCheck{Type: mesos.HealthCheck_HTTP,
		HTTP: &mesos.HealthCheck_HTTPCheckInfo{Port: port, Path: strPtr("/health")}}, 0, 3)
	a.Launch(frameworkInfo(), task)

	rec.waitFor(t, "hc", 10*time.Second, func(st mesos.TaskStatus) bool { return st.Healthy != nil && st.GetHealthy() })
	time.Sleep(300 * time.Millisecond) // several more healthy results: none may be reported
	healthy.Store(false)
	killed := rec.waitState(t, "hc", mesos.TASK_KILLED, 10*time.Second)
	// launcher/executor.cpp: healthy=false, no reason, "Command " + WSTRINGIFY.
	if killed.Healthy == nil || killed.GetHealthy() || killed.Reason != nil || killed.GetMessage() != "Command exited with status 0" {
		t.Errorf("TASK_KILLED after failing health checks must carry healthy=false, no reason, \"Command exited with status 0\": %s", describe([]mesos.TaskStatus{killed}))
	}
	// Only the turn to healthy is reported, but every failure is (and the
	// third one kills the task).
	if got := healthUpdates(rec.of("hc")); !slices.Equal(got, []bool{true, false, false, false}) {
		t.Errorf("health updates = %v, want [true false false false]", got)
	}
}

func TestHealthCheckGracePeriodIgnoresFailuresUntilFirstSuccess(t *testing.T) {
	port, healthy := toggleServer(t)
	a, rec := newTestAgent(t, nil)
	task := shellTask("grace", "sleep 30")
	task.HealthCheck = fastCheck(mesos.HealthCheck{Type: mesos.HealthCheck_HTTP,
		HTTP: &mesos.HealthCheck_HTTPCheckInfo{Port: port, Path: strPtr("/health")}}, 60, 1)
	a.Launch(frameworkInfo(), task)
	rec.waitState(t, "grace", mesos.TASK_RUNNING, 10*time.Second)
	time.Sleep(400 * time.Millisecond) // ~8 failing checks, all inside the grace period
	if got := healthUpdates(rec.of("grace")); len(got) != 0 {
		t.Fatalf("failures inside the grace period were reported: %v", got)
	}
	healthy.Store(true)
	rec.waitFor(t, "grace", 10*time.Second, func(st mesos.TaskStatus) bool { return st.GetHealthy() })
	// After the first success the grace period no longer applies: one
	// failure (consecutive_failures=1) kills the task.
	healthy.Store(false)
	rec.waitState(t, "grace", mesos.TASK_KILLED, 10*time.Second)
}

func TestTCPAndCommandHealthChecks(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	a, rec := newTestAgent(t, nil)

	tcp := shellTask("tcp", "sleep 30")
	tcp.HealthCheck = fastCheck(mesos.HealthCheck{Type: mesos.HealthCheck_TCP,
		TCP: &mesos.HealthCheck_TCPCheckInfo{Port: uint32(ln.Addr().(*net.TCPAddr).Port)}}, 0, 3)
	a.Launch(frameworkInfo(), tcp)

	// The command check runs in the task's sandbox with its environment:
	// healthy once the marker file exists.
	cmd := shellTask("cmd", "sleep 30")
	check := `test -f "$MESOS_SANDBOX/ready"`
	cmd.HealthCheck = fastCheck(mesos.HealthCheck{Type: mesos.HealthCheck_COMMAND,
		Command: &mesos.CommandInfo{Value: &check}}, 0, 100)
	a.Launch(frameworkInfo(), cmd)

	rec.waitFor(t, "tcp", 10*time.Second, func(st mesos.TaskStatus) bool { return st.GetHealthy() })
	unhealthy := rec.waitFor(t, "cmd", 10*time.Second, func(st mesos.TaskStatus) bool { return st.Healthy != nil && !st.GetHealthy() })
	sandbox := filepath.Join(a.cfg.WorkDir, "frameworks", testFW, "executors", "cmd", "runs",
		unhealthy.GetContainerStatus().GetContainerID().GetValue())
	if err := os.WriteFile(filepath.Join(sandbox, "ready"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "cmd", 10*time.Second, func(st mesos.TaskStatus) bool { return st.GetHealthy() })
	if got := healthUpdates(rec.of("cmd")); len(got) < 2 || got[0] || !got[len(got)-1] {
		t.Errorf("command check updates = %v, want failures then true", got)
	}
}

// An agent with an address of its own checks its tasks there, and tells the
// tasks the address in LIBPROCESS_IP: a service bound to it (and not to
// 127.0.0.1) is healthy, as it would be on a host of its own.
func TestHealthCheckTargetsTheAgentsOwnAddress(t *testing.T) {
	const ip = "127.0.1.7"
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Skipf("cannot bind %s: %v", ip, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	port := uint32(ln.Addr().(*net.TCPAddr).Port)

	a, rec := newTestAgent(t, func(c *Config) { c.IP = ip })
	task := shellTask("own-ip", `echo "$LIBPROCESS_IP" > ip.txt; sleep 30`)
	task.HealthCheck = fastCheck(mesos.HealthCheck{Type: mesos.HealthCheck_HTTP,
		HTTP: &mesos.HealthCheck_HTTPCheckInfo{Port: port, Path: strPtr("/")}}, 0, 3)
	a.Launch(frameworkInfo(), task)
	running := rec.waitFor(t, "own-ip", 10*time.Second, func(st mesos.TaskStatus) bool { return st.Healthy != nil && st.GetHealthy() })
	if got := running.GetContainerStatus().GetNetworkInfos(); len(got) == 0 || got[0].IPAddresses[0].GetIPAddress() != ip {
		t.Errorf("container status addresses = %v, want %s", got, ip)
	}
	first := rec.waitState(t, "own-ip", mesos.TASK_RUNNING, time.Second)
	sandbox := filepath.Join(a.cfg.WorkDir, "frameworks", testFW, "executors", "own-ip", "runs",
		first.GetContainerStatus().GetContainerID().GetValue())
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := os.ReadFile(filepath.Join(sandbox, "ip.txt"))
		if err == nil && len(b) > 0 {
			if got := string(b); got != ip+"\n" {
				t.Errorf("LIBPROCESS_IP = %q, want %s", got, ip)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("task wrote no ip.txt: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

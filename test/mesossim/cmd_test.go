package mesossim

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// TestMesosSimBinaryOffersThreeAgents is the acceptance check: the
// mesos-sim binary, started with --agents 3, serves a SUBSCRIBE from a plain
// HTTP client and sends offers for all three agents within two allocation
// intervals (the default, one second).
func TestMesosSimBinaryOffersThreeAgents(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := filepath.Join(t.TempDir(), "mesos-sim")
	build := exec.Command("go", "build", "-o", bin, "github.com/quobyte/quobyte-mesos/cmd/mesos-sim")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	addr := freeLoopbackAddr(t)
	cmd := exec.Command(bin, "--listen", addr, "--agents", "3", "--workdir", t.TempDir(), "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		// SIGTERM first, so that mesos-sim kills its tasks even when the test failed.
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(waitLimit):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	base := "http://" + addr
	waitUntil(t, "mesos-sim to serve /health", func() bool {
		resp, err := http.Get(base + "/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	resp := rawPost(t, base+schedulerPath, mediaJSON, []byte(docSubscribeJSON), map[string]string{"Accept": mediaJSON})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("SUBSCRIBE: %d", resp.StatusCode)
	}
	s := openRawStream(t, resp)
	if ev := s.nextJSON(t); ev["type"] != "SUBSCRIBED" {
		t.Fatalf("first event %v", ev["type"])
	}
	subscribed := time.Now()
	agents := map[string]bool{}
	var first map[string]any
	for len(agents) < 3 {
		ev := s.nextJSON(t)
		if ev["type"] != scheduler.Event_OFFERS.String() {
			continue
		}
		for _, o := range ev["offers"].(map[string]any)["offers"].([]any) {
			agents[o.(map[string]any)["hostname"].(string)] = true
			if first == nil {
				first = o.(map[string]any)
			}
		}
	}
	if took := time.Since(subscribed); took > 2*time.Second {
		t.Errorf("offers for three agents took %v, more than two allocation intervals", took)
	}
	for _, h := range []string{"agent1", "agent2", "agent3"} {
		if !agents[h] {
			t.Errorf("no offer for %s (got %v)", h, agents)
		}
	}

	// A real process runs (the default mode) and must not outlive mesos-sim.
	fwID := first["framework_id"].(map[string]any)["value"].(string)
	offerID := first["id"].(map[string]any)["value"].(string)
	agentID := first["agent_id"].(map[string]any)["value"].(string)
	launch := fmt.Sprintf(`{"framework_id": {"value": %q}, "type": "ACCEPT", "accept": {
	  "offer_ids": [{"value": %q}],
	  "operations": [{"type": "LAUNCH", "launch": {"task_infos": [{
	    "name": "sleeper", "task_id": {"value": "sleeper"}, "agent_id": {"value": %q},
	    "command": {"value": "sleep 4321"},
	    "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
	                  {"name": "mem", "type": "SCALAR", "scalar": {"value": 32}}]}]}}]}}`, fwID, offerID, agentID)
	resp = rawPost(t, base+schedulerPath, mediaJSON, []byte(launch), map[string]string{headerStreamID: resp.Header.Get(headerStreamID)})
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("ACCEPT: %d", resp.StatusCode)
	}
	for {
		ev := s.nextJSON(t)
		if ev["type"] != "UPDATE" {
			continue
		}
		st := ev["update"].(map[string]any)["status"].(map[string]any)
		if st["state"] != "TASK_STARTING" {
			t.Fatalf("task update %v: %v", st["state"], st["message"])
		}
		break
	}
	waitUntil(t, "the task's process to run", func() bool { return processRunning("sleep 4321") })

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		close(exited) // for the cleanup
		if err != nil {
			t.Fatalf("mesos-sim exited with %v after SIGTERM", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("mesos-sim did not exit after SIGTERM")
	}
	waitUntil(t, "the task's process to be gone", func() bool { return !processRunning("sleep 4321") })
}

// processRunning reports whether a live process has exactly this command line.
func processRunning(cmdline string) bool {
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		if strings.TrimRight(strings.ReplaceAll(string(b), "\x00", " "), " ") == cmdline {
			stat, err := os.ReadFile(filepath.Join(filepath.Dir(d), "stat"))
			if err == nil && !strings.Contains(string(stat), ") Z ") {
				return true
			}
		}
	}
	return false
}

func freeLoopbackAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

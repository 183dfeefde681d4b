package mesossim

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
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
		_ = cmd.Process.Kill()
		<-exited
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
	for len(agents) < 3 {
		ev := s.nextJSON(t)
		if ev["type"] != scheduler.Event_OFFERS.String() {
			continue
		}
		for _, o := range ev["offers"].(map[string]any)["offers"].([]any) {
			agents[o.(map[string]any)["hostname"].(string)] = true
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

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Fatalf("mesos-sim exited with %v after SIGTERM", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("mesos-sim did not exit after SIGTERM")
	}
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

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/quobyte/quobyte-mesos/internal/freeport"
)

// binary is the quobyte-standin built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "quobyte-standin-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "quobyte-standin")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// syncBuffer collects a process's stderr for failure messages.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// proc is one running stand-in process.
type proc struct {
	cmd    *exec.Cmd
	http   string // status address
	stderr *syncBuffer
	exited chan struct{}
	err    error // Wait's result, valid once exited is closed
}

// startProc runs the binary with exactly env (nothing inherited) and kills
// it when the test ends, should it still run.
func startProc(t *testing.T, name string, env ...string) *proc {
	t.Helper()
	p := &proc{stderr: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(binary)
	p.cmd.Env = append([]string{"STANDIN_POLL_INTERVAL=50ms", "STANDIN_LOG_LEVEL=debug"}, env...)
	p.cmd.Stderr = p.stderr
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "QUOBYTE_HTTP_PORT="); ok {
			p.http = "127.0.0.1:" + v
		}
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("%s stderr:\n%s", name, p.stderr.String())
		}
	})
	return p
}

// exitCode waits for the process to end and returns its exit code.
func (p *proc) exitCode(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(timeout):
		t.Fatalf("process still running after %s", timeout)
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatalf("wait: %v", p.err)
	}
	return 0
}

// health waits until /serviceHealth answers code with a body containing sub.
func (p *proc) health(t *testing.T, code int, sub string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	client := http.Client{Timeout: time.Second}
	last := ""
	for time.Now().Before(deadline) {
		resp, err := client.Get("http://" + p.http + "/serviceHealth")
		if err != nil {
			last = err.Error()
		} else {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == code && strings.Contains(string(b), sub) {
				return
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, b)
		}
		select {
		case <-p.exited:
			t.Fatalf("process exited (%v) waiting for %d %q; last: %s", p.err, code, sub, last)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("timed out waiting for /serviceHealth %d %q on %s; last: %s", code, sub, p.http, last)
}

// freePorts returns n distinct loopback ports that were free a moment ago,
// for the stand-in process to bind (freeport: none an outgoing connection
// takes meanwhile).
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for len(ports) < n {
		p, err := freeport.Loopback()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	return ports
}

// deviceRoot makes a device root with one device of typ (none when typ is "").
func deviceRoot(t *testing.T, typ string) string {
	t.Helper()
	root := t.TempDir()
	if typ != "" {
		writeMarker(t, filepath.Join(root, "dev0"), typ)
	}
	return root
}

func writeMarker(t *testing.T, dir, typ string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "QUOBYTE_DEV_SETUP"), []byte("device.type="+typ+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func port(n int) string { return strconv.Itoa(n) }

// registry starts a registry process on the given ports.
func registry(t *testing.T, name string, rpc, httpPort int, peers string, extra ...string) *proc {
	t.Helper()
	env := []string{
		"QUOBYTE_SERVICE=registry",
		"QUOBYTE_RPC_PORT=" + port(rpc),
		"QUOBYTE_HTTP_PORT=" + port(httpPort),
		"QUOBYTE_REGISTRY=" + peers,
		"QUOBYTE_DEVICE_ROOT=" + deviceRoot(t, "DIR_DEVICE"),
		"QUOBYTE_VERSION=1.0",
	}
	return startProc(t, name, append(env, extra...)...)
}

func TestThreeRegistriesNeedTwo(t *testing.T) {
	p := freePorts(t, 6)
	peers := fmt.Sprintf("127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d", p[0], p[1], p[2])
	r1 := registry(t, "r1", p[0], p[3], peers)
	r1.health(t, http.StatusServiceUnavailable, "1 of 3 registries reachable, need 2")

	r2 := registry(t, "r2", p[1], p[4], peers)
	r1.health(t, http.StatusOK, "OK")
	r2.health(t, http.StatusOK, "OK")
	r3 := registry(t, "r3", p[2], p[5], peers)
	r3.health(t, http.StatusOK, "OK")

	// Losing two of three loses the majority again.
	for _, r := range []*proc{r2, r3} {
		if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []*proc{r2, r3} {
		if code := r.exitCode(t, 10*time.Second); code != 0 {
			t.Errorf("exit code %d after SIGTERM, want 0", code)
		}
	}
	r1.health(t, http.StatusServiceUnavailable, "1 of 3 registries reachable")
}

func TestMetadataNeedsMarkerAndCatchesUp(t *testing.T) {
	p := freePorts(t, 4)
	reg := registry(t, "registry", p[0], p[1], "")
	reg.health(t, http.StatusOK, "OK")

	root := deviceRoot(t, "DATA_DEVICE") // a device, but not for metadata
	md := startProc(t, "metadata",
		"QUOBYTE_SERVICE=metadata",
		"QUOBYTE_RPC_PORT="+port(p[2]),
		"QUOBYTE_HTTP_PORT="+port(p[3]),
		"QUOBYTE_REGISTRY="+fmt.Sprintf("127.0.0.1:%d", p[0]),
		"MESOS_SIM_HOST_DIR="+root, // the simulator's variable, as on a simulated agent
		"STANDIN_CATCHUP=1s",
	)
	md.health(t, http.StatusServiceUnavailable, "no METADATA_DEVICE device under "+root)

	dev := filepath.Join(root, "md0")
	writeMarker(t, dev, "METADATA_DEVICE")
	md.health(t, http.StatusServiceUnavailable, "catching up with registry")
	marked := time.Now()
	md.health(t, http.StatusOK, "OK")
	if since := time.Since(marked); since > 5*time.Second {
		t.Errorf("healthy only %s after catching up began", since)
	}
	b, err := os.ReadFile(filepath.Join(dev, "QUOBYTE_DEV_ID"))
	if err != nil || !strings.Contains(string(b), "device.id=") {
		t.Errorf("QUOBYTE_DEV_ID: %q, %v", b, err)
	}
}

func TestSIGTERM(t *testing.T) {
	p := freePorts(t, 2)
	r := registry(t, "registry", p[0], p[1], "", "STANDIN_STOP_GRACE=1s")
	r.health(t, http.StatusOK, "OK")
	sent := time.Now()
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r.health(t, http.StatusServiceUnavailable, "shutting down")
	if code := r.exitCode(t, 10*time.Second); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
	if took := time.Since(sent); took < time.Second {
		t.Errorf("exited %s after SIGTERM, grace is 1s", took)
	}
}

func TestSIGINT(t *testing.T) {
	p := freePorts(t, 2)
	r := registry(t, "registry", p[0], p[1], "", "STANDIN_STOP_GRACE=100ms")
	r.health(t, http.StatusOK, "OK")
	if err := r.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := r.exitCode(t, 10*time.Second); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
}

func TestNeverHealthyVersion(t *testing.T) {
	p := freePorts(t, 2)
	r := registry(t, "registry", p[0], p[1], "", "STANDIN_NEVER_HEALTHY_VERSION=1.0")
	r.health(t, http.StatusServiceUnavailable, `version "1.0" never becomes healthy`)
}

func TestCrashAfter(t *testing.T) {
	p := freePorts(t, 2)
	r := registry(t, "registry", p[0], p[1], "", "STANDIN_CRASH_AFTER=500ms")
	r.health(t, http.StatusOK, "OK")
	if code := r.exitCode(t, 10*time.Second); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
}

func TestSlowStart(t *testing.T) {
	p := freePorts(t, 2)
	begin := time.Now()
	r := registry(t, "registry", p[0], p[1], "", "STANDIN_SLOW_START=700ms")
	r.health(t, http.StatusOK, "OK")
	if took := time.Since(begin); took < 700*time.Millisecond {
		t.Errorf("answering %s after start, slow start is 700ms", took)
	}
}

func TestConfigErrorExits2(t *testing.T) {
	r := startProc(t, "registry", "QUOBYTE_SERVICE=registry", "QUOBYTE_RPC_PORT=7861")
	if code := r.exitCode(t, 10*time.Second); code != 2 {
		t.Errorf("exit code %d, want 2", code)
	}
	if !strings.Contains(r.stderr.String(), "QUOBYTE_HTTP_PORT: not set") {
		t.Errorf("stderr does not name the missing port:\n%s", r.stderr.String())
	}
}

func TestRunHelpAndLogLevel(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"--help"}, nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), "QUOBYTE_SERVICE") {
		t.Errorf("--help: %d %q", code, out.String())
	}
	env := []string{"QUOBYTE_SERVICE=registry", "QUOBYTE_RPC_PORT=1", "QUOBYTE_HTTP_PORT=2", "STANDIN_LOG_LEVEL=loud"}
	if code := run(nil, env, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "STANDIN_LOG_LEVEL") {
		t.Errorf("bad log level: %d %q", code, errOut.String())
	}
}

package standin

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// testConfig is a Config with fast timings and a test logger.
func testConfig(t *testing.T, kind Kind) Config {
	t.Helper()
	return Config{
		Service:      kind,
		Bind:         "127.0.0.1",
		Ports:        map[string]int{},
		Version:      "1.0-test",
		Catchup:      100 * time.Millisecond,
		StopGrace:    10 * time.Millisecond,
		PollInterval: 20 * time.Millisecond,
		Logger: hclog.New(&hclog.LoggerOptions{
			Name: t.Name(), Level: hclog.Debug, Output: testWriter{t},
		}),
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// running is a Service started by start, with its Run result.
type running struct {
	*Service
	cancel context.CancelFunc
	done   chan error
}

// start runs cfg until the test ends and waits until it listens.
func start(t *testing.T, cfg Config) *running {
	t.Helper()
	svc, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Service: svc, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return after cancel")
		}
	})
	select {
	case <-svc.Listening():
	case err := <-r.done:
		r.done <- err
		t.Fatalf("Run returned before listening: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatalf("not listening after 5s")
	}
	return r
}

// waitFor polls cond until it holds or the deadline passes; cond returns
// what it saw, for the failure message.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		ok, seen := cond()
		if ok {
			return
		}
		last = seen
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s; last seen: %s", timeout, what, last)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// get fetches url and returns status code and body (code 0 on error).
func get(url string) (int, string) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// healthIs waits until /serviceHealth answers code with a body containing sub.
func healthIs(t *testing.T, r *running, code int, sub string) {
	t.Helper()
	url := "http://" + r.Addr(PortHTTP) + "/serviceHealth"
	waitFor(t, 5*time.Second, "/serviceHealth "+http.StatusText(code)+" "+sub, func() (bool, string) {
		c, body := get(url)
		return c == code && strings.Contains(body, sub), http.StatusText(c) + " " + body
	})
}

// device makes a subdirectory of root with a marker for typ.
func device(t *testing.T, root, name, typ string) string {
	t.Helper()
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	marker := "# test device\ndevice.serial=" + name + "\ndevice.type=" + typ + "\n"
	if err := os.WriteFile(filepath.Join(dir, SetupFile), []byte(marker), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// deadAddr returns a loopback address nothing listens on (a port just freed).
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func waitDone(t *testing.T, r *running, timeout time.Duration) error {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err // for Cleanup
		return err
	case <-time.After(timeout):
		t.Fatalf("Run did not return within %s", timeout)
		return errors.New("unreachable")
	}
}

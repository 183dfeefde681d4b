package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// The running framework survives a spec nested 100,000 levels deep, on
// SIGHUP and on POST /v1/plan (each killed the process with a stack
// overflow), and reports it with its position; --pid-file holds the
// process's ID while it runs and is removed when it stops.
func TestRun_SurvivesDeepSpecOnReloadAndDryRun_PidFile(t *testing.T) {
	dir := t.TempDir()
	specFile := filepath.Join(dir, "spec.hcl")
	good := fmt.Sprintf(`mesos {
  master             = "http://127.0.0.1:1"
  framework_id_store = "file://%s/framework-id"
}
quobyte {
  version = "v1"
  runtime = "command"
  command = "true"
}
`, dir)
	if err := os.WriteFile(specFile, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(dir, "run", "quobyte-mesos.pid")
	if err := os.Mkdir(filepath.Dir(pidFile), 0o755); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncBuffer
	sigs := make(chan os.Signal, 1)
	exit := make(chan int, 1)
	go func() {
		exit <- run([]string{"--spec", specFile, "--listen", "127.0.0.1:0", "--pid-file", pidFile, "--log-level", "warn"}, &stdout, &stderr, sigs)
	}()
	addr := regexp.MustCompile(`status API on (http://[0-9.:]+)/v1/status`)
	eventually(t, "the status API", func() bool { return addr.MatchString(stdout.String()) })
	base := addr.FindStringSubmatch(stdout.String())[1]
	if b, err := os.ReadFile(pidFile); err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Fatalf("pid file: %q, %v; want %d", b, err, os.Getpid())
	}

	deep := "quobyte {\n  env = " + strings.Repeat("[", 100_000) + "\n}\n"
	if err := os.WriteFile(specFile, []byte(good+deep), 0o644); err != nil {
		t.Fatal(err)
	}
	sigs <- syscall.SIGHUP
	var reload struct {
		OK          bool   `json:"ok"`
		Diagnostics string `json:"diagnostics"`
	}
	eventually(t, "the failed reload in /v1/status", func() bool {
		var st struct {
			Reload *struct {
				OK          bool   `json:"ok"`
				Diagnostics string `json:"diagnostics"`
			} `json:"last_reload"`
		}
		resp, err := http.Get(base + "/v1/status")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		if json.NewDecoder(resp.Body).Decode(&st) != nil || st.Reload == nil || st.Reload.Diagnostics == "" {
			return false
		}
		reload.OK, reload.Diagnostics = st.Reload.OK, st.Reload.Diagnostics
		return true
	})
	if reload.OK || !strings.Contains(reload.Diagnostics, specFile+":11:40: Nested too deeply") {
		t.Errorf("last reload ok=%v, diagnostics:\n%.1000s", reload.OK, reload.Diagnostics)
	}

	resp, err := http.Post(base+"/v1/plan?filename=deep.hcl", "text/plain", strings.NewReader(good+deep))
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body.String(), "deep.hcl:11:40: Nested too deeply") {
		t.Errorf("POST /v1/plan of a deep spec: %s\n%.1000s", resp.Status, body.String())
	}

	sigs <- syscall.SIGTERM
	select {
	case code := <-exit:
		if code != 0 {
			t.Errorf("run exit %d\n%s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop on SIGTERM")
	}
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Errorf("pid file left behind: %v", err)
	}
}

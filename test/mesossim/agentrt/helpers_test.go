package agentrt

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

const testFW = "fw-1"

// recorder collects the updates an agent emits.
type recorder struct {
	mu     sync.Mutex
	ups    []mesos.TaskStatus
	fwIDs  []string
	notify chan struct{}
	msgs   [][]byte
}

func newRecorder() *recorder { return &recorder{notify: make(chan struct{}, 1)} }

func (r *recorder) update(fwID string, st mesos.TaskStatus) {
	r.mu.Lock()
	r.ups = append(r.ups, st)
	r.fwIDs = append(r.fwIDs, fwID)
	r.mu.Unlock()
	r.poke()
}

func (r *recorder) message(_, _ string, data []byte) {
	r.mu.Lock()
	r.msgs = append(r.msgs, append([]byte(nil), data...))
	r.mu.Unlock()
	r.poke()
}

func (r *recorder) poke() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// of returns the updates of one task so far.
func (r *recorder) of(taskID string) []mesos.TaskStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []mesos.TaskStatus
	for _, st := range r.ups {
		if st.TaskID.Value == taskID {
			out = append(out, st)
		}
	}
	return out
}

// waitFor polls until an update of the task satisfies pred.
func (r *recorder) waitFor(t *testing.T, taskID string, timeout time.Duration, pred func(mesos.TaskStatus) bool) mesos.TaskStatus {
	t.Helper()
	deadline := time.After(timeout)
	for {
		for _, st := range r.of(taskID) {
			if pred(st) {
				return st
			}
		}
		select {
		case <-r.notify:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("task %s: no matching update within %v; got %s", taskID, timeout, describe(r.of(taskID)))
		}
	}
}

func (r *recorder) waitState(t *testing.T, taskID string, state mesos.TaskState, timeout time.Duration) mesos.TaskStatus {
	t.Helper()
	return r.waitFor(t, taskID, timeout, func(st mesos.TaskStatus) bool { return st.GetState() == state })
}

func describe(ups []mesos.TaskStatus) string {
	var parts []string
	for _, st := range ups {
		s := st.GetState().String()
		if st.Reason != nil {
			s += "/" + st.Reason.String()
		}
		if st.Healthy != nil {
			s += fmt.Sprintf("/healthy=%v", *st.Healthy)
		}
		if st.Message != nil {
			s += fmt.Sprintf("(%q)", *st.Message)
		}
		parts = append(parts, s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func states(ups []mesos.TaskStatus) []mesos.TaskState {
	var out []mesos.TaskState
	for _, st := range ups {
		out = append(out, st.GetState())
	}
	return out
}

func newTestAgent(t testing.TB, mod func(*Config)) (*Agent, *recorder) {
	t.Helper()
	rec := newRecorder()
	cfg := Config{
		AgentID:  "agent-S1",
		Hostname: "host-1.example",
		WorkDir:  t.TempDir(),
		HostDir:  t.TempDir(),
		Updates:  rec.update,
		Messages: rec.message,
		Logger:   hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: os.Stderr}),
	}
	if mod != nil {
		mod(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	t.Cleanup(func() { dumpSandboxes(t, cfg.WorkDir) })
	return a, rec
}

// dumpSandboxes logs every sandbox's stderr when a test failed: the first
// thing to look at when an executor misbehaves.
func dumpSandboxes(t testing.TB, workDir string) {
	if !t.Failed() {
		return
	}
	_ = filepath.WalkDir(workDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == "stderr" {
			if b, rerr := os.ReadFile(path); rerr == nil && len(b) > 0 {
				t.Logf("%s:\n%s", path, b)
			}
		}
		return nil
	})
}

func frameworkInfo(caps ...mesos.FrameworkInfo_Capability_Type) mesos.FrameworkInfo {
	fw := mesos.FrameworkInfo{User: "root", Name: "test", ID: &mesos.FrameworkID{Value: testFW}}
	for _, c := range caps {
		fw.Capabilities = append(fw.Capabilities, mesos.FrameworkInfo_Capability{Type: c})
	}
	return fw
}

func shellTask(id, cmd string) mesos.TaskInfo {
	return mesos.TaskInfo{
		Name:    id,
		TaskID:  mesos.TaskID{Value: id},
		AgentID: mesos.AgentID{Value: "agent-S1"},
		Command: &mesos.CommandInfo{Value: &cmd},
	}
}

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The whole installation's life: a dry run offline against a saved snapshot,
// state = "stopped" (services stop data first, registries last; probers
// stay), and an explicit teardown after the framework is stopped.
func TestLifecycle_OfflinePlan_Stop_Teardown(t *testing.T) {
	small := want{"prober": 5, "registry": 1, "metadata": 1, "data": 2, "api": 1, "webconsole": 1}
	c := startCluster(t, clusterOpts{subnet: "127.0.6", registry: 1, metadata: 1, data: 2, version: "v1"})
	c.eventually(convergeWithin, "convergence", func() (bool, string) { return c.converged(small) })

	// Offline dry runs against a snapshot saved from the status API.
	resp, err := http.Get(c.apiURL + "/v1/snapshot")
	if err != nil {
		t.Fatal(err)
	}
	var saved bytes.Buffer
	_, _ = saved.ReadFrom(resp.Body)
	resp.Body.Close()
	snapFile := filepath.Join(c.dir, "snapshot.json")
	if err := os.WriteFile(snapFile, saved.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	stopped := filepath.Join(c.dir, "stopped.hcl")
	stoppedSpec := strings.Replace(c.spec("v1", ""), `runtime     = "command"`, "runtime     = \"command\"\n  state       = \"stopped\"", 1)
	if err := os.WriteFile(stopped, []byte(stoppedSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := runCLI(t, "plan", "--snapshot", snapFile, "-detailed-exitcode", c.specPath); code != 0 {
		t.Errorf("offline plan of the spec in force = %d, want 0\n%s", code, out)
	}
	code, out := runCLI(t, "plan", "--snapshot", snapFile, "-detailed-exitcode", stopped)
	if code != 2 || !strings.Contains(out, "to stop") || !strings.Contains(out, "- data") {
		t.Errorf("offline plan of state = stopped = %d, want 2 with stops\n%s", code, out)
	}

	// Stop: every service ends, in reverse start order; probers stay.
	if err := os.Rename(stopped, c.specPath); err != nil {
		t.Fatal(err)
	}
	c.signal(syscall.SIGHUP)
	c.eventually(convergeWithin, "every service stopped", func() (bool, string) {
		got := map[string]int{}
		for _, h := range c.status().Hosts {
			for kind, tasks := range h.Services {
				got[kind] += len(tasks)
			}
		}
		if got["registry"] == 0 && got["data"]+got["metadata"] > 0 {
			t.Errorf("the registry stopped before data and metadata: %v", got)
		}
		if got["prober"] != 5 {
			return false, fmt.Sprintf("probers %d, want 5", got["prober"])
		}
		return len(got) == 1, fmt.Sprint(got)
	})

	// Teardown is explicit: a wrong confirmation does nothing; after the
	// framework is stopped, --yes removes it and clears the stored ID.
	cmd := exec.Command(bins.framework, "teardown", "--spec", c.specPath)
	cmd.Stdin = strings.NewReader("not-the-name\n")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "Not confirmed") {
		t.Errorf("teardown with a wrong confirmation: %v\n%s", err, out)
	}
	if err := c.fw.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select { // teardown takes the framework's ID: the framework must be gone
	case <-c.fwDone:
	case <-time.After(15 * time.Second):
		t.Fatal("framework still running 15s after SIGTERM")
	}
	idFile := filepath.Join(c.dir, "framework-id")
	id, _ := os.ReadFile(idFile)
	if code, out := runCLI(t, "teardown", "--spec", c.specPath, "--yes"); code != 0 || !strings.Contains(out, "torn down") {
		t.Fatalf("teardown --yes = %d\n%s", code, out)
	}
	if left, _ := os.ReadFile(idFile); strings.TrimSpace(string(left)) != "" {
		t.Errorf("framework ID still stored after teardown: %q", left)
	}
	c.eventually(20*time.Second, "the framework removed with all its tasks", func() (bool, string) {
		var st struct {
			Frameworks []struct {
				ID    string
				Tasks []json.RawMessage
			}
			CompletedFrameworks []struct{ ID string } `json:"completed_frameworks"`
		}
		r, err := http.Get(c.masterURL + "/state")
		if err != nil {
			return false, err.Error()
		}
		defer r.Body.Close()
		if err := json.NewDecoder(r.Body).Decode(&st); err != nil {
			return false, err.Error()
		}
		for _, f := range st.CompletedFrameworks {
			if f.ID == strings.TrimSpace(string(id)) && len(st.Frameworks) == 0 {
				return true, ""
			}
		}
		return false, fmt.Sprintf("frameworks %d, completed %v", len(st.Frameworks), st.CompletedFrameworks)
	})
}

// runCLI runs quobyte-mesos with args and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bins.framework, args...)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

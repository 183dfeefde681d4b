package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mesos/mesos-go/api/v1/lib/executor/config"

	"github.com/quobyte/quobyte-mesos/observe/probe"
	"github.com/quobyte/quobyte-mesos/observe/prober/probertest"
	"github.com/quobyte/quobyte-mesos/spec"
)

func testProberEnv(vars map[string]string) proberEnv {
	return proberEnv{
		getenv: func(k string) string { return vars[k] },
		executor: func() (config.Config, error) {
			return config.Config{}, errors.New("missing environment variable: MESOS_AGENT_ENDPOINT")
		},
	}
}

func runProberTest(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := proberMain(context.Background(), args, &out, &errOut, testProberEnv(vars))
	return code, out.String(), errOut.String()
}

func TestProber_Help(t *testing.T) {
	code, out, _ := runProberTest(t, nil, "--help")
	if code != 0 {
		t.Fatalf("--help exit %d", code)
	}
	for _, want := range []string{"--device-root", "-mode", "-interval", "-client-mount-point", "-scan", "-hostname", "QUOBYTE_DEVICE_ROOT", "MESOS_AGENT_ENDPOINT"} {
		if !strings.Contains(out, strings.TrimLeft(want, "-")) {
			t.Errorf("--help lacks %q:\n%s", want, out)
		}
	}
}

func TestProber_ScanDirectories(t *testing.T) {
	root := t.TempDir()
	dev := filepath.Join(root, "d1")
	if err := os.MkdirAll(dev, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dev, probe.SetupFile), []byte("device.type=DATA_DEVICE\ndevice.serial=S1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The device root comes from the environment (with a variable in it,
	// as the simulated cluster passes it), the rest from flags.
	code, out, errOut := runProberTest(t, map[string]string{"QUOBYTE_DEVICE_ROOT": "${MESOS_SIM_HOST_DIR}", "MESOS_SIM_HOST_DIR": root},
		"--scan", "--mode", "directories", "--hostname", "h1", "--client-mount-point", "$MESOS_SIM_HOST_DIR")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r probe.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("output is no report: %v\n%s", err, out)
	}
	if r.Version != probe.ReportVersion || r.Hostname != "h1" || r.DeviceRoot != root || !r.ClientMountPoint ||
		len(r.Devices) != 1 || !r.HasType(spec.DataDevice) || r.Devices[0].Serial != "S1" ||
		len(r.Rejected) != 1 || r.Rejected[0].Reason != "no marker" {
		t.Errorf("report = %s", out)
	}
}

func TestProber_BadUsage(t *testing.T) {
	for _, c := range []struct {
		vars map[string]string
		args []string
		want string
	}{
		{nil, []string{"--scan", "--mode", "disks"}, "mode"},
		{nil, []string{"--scan", "--device-root", "relative"}, "absolute"},
		{nil, []string{"--interval", "0s"}, "not positive"},
		{map[string]string{"QUOBYTE_PROBER_INTERVAL": "soon"}, nil, "QUOBYTE_PROBER_INTERVAL"},
		{nil, []string{"--log-level", "loud"}, "log-level"},
		{nil, []string{"extra"}, "unexpected arguments"},
		{nil, []string{"--no-such-flag"}, "no-such-flag"},
	} {
		code, _, errOut := runProberTest(t, c.vars, c.args...)
		if code != 1 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v %v: exit %d, stderr %q; want 1 mentioning %q", c.vars, c.args, code, errOut, c.want)
		}
	}
}

func TestProber_ExecutorNeedsAgentEnvironment(t *testing.T) {
	code, _, errOut := runProberTest(t, nil, "--device-root", t.TempDir(), "--mode", "directories")
	if code != 1 || !strings.Contains(errOut, "not started by a Mesos agent") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// TestProber_ExecutorMode runs the subcommand as the agent would start it,
// against a fake agent: flags reach the report, the authentication token is
// sent, and KILL ends the process with exit code 0.
func TestProber_ExecutorMode(t *testing.T) {
	agent := probertest.NewAgent(t)
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "d1", "quobyte-data"), 0o755); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"MESOS_EXECUTOR_AUTHENTICATION_TOKEN": "secret", "QUOBYTE_PROBER_MODE": "directories"}
	env := testProberEnv(vars)
	env.executor = func() (config.Config, error) {
		return config.Config{FrameworkID: probertest.FrameworkID, ExecutorID: probertest.ExecutorID,
			AgentEndpoint: agent.Endpoint(), Checkpoint: true, RecoveryTimeout: 5 * time.Second}, nil
	}
	var out, errOut bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- proberMain(context.Background(), []string{"--device-root", root, "--hostname", "agent7", "--log-level", "debug"}, &out, &errOut, env)
	}()
	agent.Launch("quobyte.prober.h.s1")
	u := agent.NextUpdate(5 * time.Second)
	var r probe.Report
	if err := json.Unmarshal(u.Status.Data, &r); err != nil {
		t.Fatalf("update data: %v", err)
	}
	if r.Hostname != "agent7" || r.Mode != "directories" || !r.HasType(spec.DataDevice) || r.Seq != 1 {
		t.Errorf("report = %+v", r)
	}
	if got := agent.AuthHeader(); got != "Bearer secret" {
		t.Errorf("Authorization = %q, want the bearer token", got)
	}
	agent.Kill("quobyte.prober.h.s1")
	agent.NextUpdate(2 * time.Second)
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("prober did not exit after KILL")
	}
}

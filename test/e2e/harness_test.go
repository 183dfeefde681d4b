package e2e

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/statusapi"
	"github.com/quobyte/quobyte-mesos/internal/freeport"
)

// binaries are built once per test binary run.
type binaries struct{ framework, sim, standin string }

func buildBinaries(dir string) (binaries, error) {
	b := binaries{
		framework: filepath.Join(dir, "quobyte-mesos"),
		sim:       filepath.Join(dir, "mesos-sim"),
		standin:   filepath.Join(dir, "quobyte-standin"),
	}
	for out, pkg := range map[string]string{b.framework: "./cmd/quobyte-mesos", b.sim: "./cmd/mesos-sim", b.standin: "./cmd/quobyte-standin"} {
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Dir = repoRoot()
		if msg, err := cmd.CombinedOutput(); err != nil {
			return b, fmt.Errorf("go build %s: %v\n%s", pkg, err, msg)
		}
	}
	return b, nil
}

func repoRoot() string {
	wd, _ := os.Getwd()
	return filepath.Clean(filepath.Join(wd, "..", ".."))
}

var bins binaries // set by TestMain, read-only afterwards

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("e2e: skipped in -short mode")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bins, err = buildBinaries(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freePort(t *testing.T) int {
	t.Helper()
	port, err := freeport.Loopback()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// cluster is one simulated Mesos cluster with the framework on it.
type cluster struct {
	t         *testing.T
	dir       string
	specPath  string
	masterURL string
	apiURL    string
	sim, fw   *exec.Cmd
	// fwDone is closed once the framework process has exited; only then
	// may fw.ProcessState be read.
	fwDone <-chan struct{}
	hosts  []string
	docker bool     // see clusterOpts.docker
	fwArgs []string // extra arguments of `quobyte-mesos run`
}

// clusterOpts shape a test cluster.
type clusterOpts struct {
	// subnet is the first three octets of the agents' loopback addresses;
	// each test uses its own so that leftovers can never collide.
	subnet string
	// registry, metadata, data: how many of the five agents carry each
	// device type (the first ones).
	registry, metadata, data int
	version                  string
	// docker runs every Quobyte service in a container of the stand-in
	// server image (dockerSpec): mesos-sim --docker, devices under each
	// host's devices/, probers from the framework image. The test must
	// have built the images (dockerImages).
	docker bool
	// extra is appended to the spec; noFramework leaves starting framework
	// instances to the test (ha_test.go).
	extra       string
	noFramework bool
	// clusterFile, when set, is a mesos-sim cluster file (relative to the
	// repository) whose agents are taken instead of the five made here,
	// their addresses moved into subnet.
	clusterFile string
}

// startCluster starts mesos-sim and the framework on the test's spec.
func startCluster(t *testing.T, o clusterOpts) *cluster {
	t.Helper()
	c := startSim(t, o)
	if !o.noFramework {
		c.startFramework("framework")
	}
	return c
}

// startSim writes the cluster file and the spec and starts mesos-sim.
func startSim(t *testing.T, o clusterOpts) *cluster {
	t.Helper()
	c := &cluster{t: t, dir: t.TempDir(), docker: o.docker}
	masterPort, apiPort := freePort(t), freePort(t)
	c.masterURL = fmt.Sprintf("http://127.0.0.1:%d", masterPort)
	c.apiURL = fmt.Sprintf("http://127.0.0.1:%d", apiPort)

	type marker struct {
		Device  string `json:"device"`
		Content string `json:"content"`
	}
	type agent struct {
		Hostname string   `json:"hostname"`
		Markers  []marker `json:"markers"`
	}
	var agents []agent
	for i := 1; i <= 5 && o.clusterFile == ""; i++ {
		a := agent{Hostname: fmt.Sprintf("%s.%d", o.subnet, i)}
		add := func(dev, typ string) {
			a.Markers = append(a.Markers, marker{c.deviceDir() + dev, fmt.Sprintf("device.serial=%s-%d\ndevice.type=%s\n", dev, i, typ)})
		}
		if i <= o.registry {
			add("registry1", "DIR_DEVICE")
		}
		if i <= o.metadata {
			add("metadata1", "METADATA_DEVICE")
		}
		if i <= o.data {
			add("data1", "DATA_DEVICE")
		}
		agents = append(agents, a)
		c.hosts = append(c.hosts, a.Hostname)
	}
	clusterFile := filepath.Join(c.dir, "cluster.json")
	if o.clusterFile != "" {
		writeJSON(t, clusterFile, c.readClusterFile(o.clusterFile, o.subnet))
	} else {
		writeJSON(t, clusterFile, map[string]any{"agents": agents})
	}

	c.specPath = filepath.Join(c.dir, "spec.hcl")
	c.writeSpec(o.version, o.extra)

	c.sim = exec.Command(bins.sim, "--listen", fmt.Sprintf("127.0.0.1:%d", masterPort), "--cluster", clusterFile,
		"--workdir", filepath.Join(c.dir, "sim"), "--allocation-interval", "200ms",
		"--heartbeat-interval", "2s", "--update-retry-interval", "2s", "--log-level", "debug")
	c.sim.Env = append(os.Environ(), "QUOBYTE_STANDIN_BIN="+bins.standin, "STANDIN_CATCHUP=300ms", "STANDIN_STOP_GRACE=200ms")
	if c.docker {
		c.sim.Args = append(c.sim.Args, "--docker")
		c.fwArgs = []string{"--framework-image", dockerFrameworkImage}
		c.checkNoContainersLeft()
	}
	c.start(c.sim, "mesos-sim")
	c.waitHTTP(c.masterURL+"/health", 10*time.Second)
	return c
}

// startFramework starts `quobyte-mesos run` on the cluster's spec, logging
// to <name>.log.
func (c *cluster) startFramework(name string) {
	c.t.Helper()
	args := append([]string{"run", "--spec", c.specPath, "--listen", strings.TrimPrefix(c.apiURL, "http://"), "--log-level", "debug"}, c.fwArgs...)
	c.fw = exec.Command(bins.framework, args...)
	c.fwDone = c.start(c.fw, name)
	c.waitHTTP(c.apiURL+"/v1/status", 10*time.Second)
}

// readClusterFile reads a mesos-sim cluster file of the repository, moves
// each agent's address (127.0.1.N) into subnet (subnet.N) and records the
// agents' hostnames.
func (c *cluster) readClusterFile(name, subnet string) map[string][]map[string]any {
	b, err := os.ReadFile(filepath.Join(repoRoot(), name))
	if err != nil {
		c.t.Fatal(err)
	}
	var f map[string][]map[string]any
	if err := json.Unmarshal(b, &f); err != nil {
		c.t.Fatalf("%s: %v", name, err)
	}
	for _, a := range f["agents"] {
		ip, _ := a["ip"].(string)
		host, _ := a["hostname"].(string)
		last := ip[strings.LastIndex(ip, ".")+1:]
		if ip == "" || host == "" {
			c.t.Fatalf("%s: agent %v lacks a hostname or an ip", name, a)
		}
		a["ip"] = subnet + "." + last
		c.hosts = append(c.hosts, host)
	}
	return f
}

// spec is examples/local.hcl (local-docker.hcl for a Docker cluster) with
// this cluster's master, framework ID store and version, timings shortened
// for tests, and extra appended verbatim.
func (c *cluster) spec(version, extra string) string {
	example := "local.hcl"
	if c.docker {
		example = "local-docker.hcl"
	}
	b, err := os.ReadFile(filepath.Join(repoRoot(), "examples", example))
	if err != nil {
		c.t.Fatal(err)
	}
	s := string(b)
	for old, repl := range map[string]string{
		`"http://127.0.0.1:5050"`:                        `"` + c.masterURL + `"`,
		`"file:///tmp/quobyte-mesos-local/framework-id"`: `"file://` + filepath.Join(c.dir, "framework-id") + `"`,
		`version     = "local"`:                          `version     = "` + version + `"`,
		`min_healthy_time = "2s"`:                        `min_healthy_time = "1s"`,
	} {
		if !strings.Contains(s, old) {
			c.t.Fatalf("examples/local.hcl no longer contains %s", old)
		}
		s = strings.Replace(s, old, repl, 1)
	}
	if c.docker {
		s = dockerSpec(c.t, s)
	}
	return s + extra
}

func (c *cluster) writeSpec(version, extra string) {
	if err := os.WriteFile(c.specPath, []byte(c.spec(version, extra)), 0o644); err != nil {
		c.t.Fatal(err)
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// start runs cmd with its output in a log file; cleanup stops it with
// SIGTERM (and SIGKILL after 15s) and shows the log's tail on failure. The
// returned channel is closed when the process has exited.
func (c *cluster) start(cmd *exec.Cmd, name string) <-chan struct{} {
	t := c.t
	logPath := filepath.Join(c.dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("%s did not stop within 15s of SIGTERM", name)
		}
		f.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			if len(b) > 6000 {
				b = b[len(b)-6000:]
			}
			t.Logf("--- tail of %s log:\n%s", name, b)
		}
	})
	return done
}

func (c *cluster) waitHTTP(url string, within time.Duration) {
	c.t.Helper()
	c.eventually(within, "GET "+url, func() (bool, string) {
		resp, err := http.Get(url)
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode < 500, resp.Status
	})
}

// eventually polls cond until it holds or within has passed.
func (c *cluster) eventually(within time.Duration, what string, cond func() (bool, string)) {
	c.t.Helper()
	deadline := time.Now().Add(within)
	last := ""
	for time.Now().Before(deadline) {
		ok, why := cond()
		if ok {
			return
		}
		last = why
		time.Sleep(100 * time.Millisecond)
	}
	c.t.Fatalf("%s: not within %s; last: %s", what, within, last)
}

func (c *cluster) status() statusapi.Status {
	c.t.Helper()
	var st statusapi.Status
	c.getJSON("/v1/status", &st)
	return st
}

func (c *cluster) getJSON(path string, v any) int {
	c.t.Helper()
	resp, err := http.Get(c.apiURL + path)
	if err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			c.t.Fatalf("GET %s: %v\n%s", path, err, b)
		}
	}
	return resp.StatusCode
}

// want is the service layout of a converged cluster: kind -> number of
// hosts running it.
type want map[string]int

// converged reports whether every wanted service runs healthy with the
// spec's config, nothing else runs, and the plan is empty.
func (c *cluster) converged(w want) (bool, string) {
	st := c.status()
	if st.Plan == nil || st.Plan.Launch+st.Plan.Replace+st.Plan.Stop+st.Plan.Blocked > 0 {
		return false, fmt.Sprintf("plan %+v", st.Plan)
	}
	got := map[string]int{}
	for _, h := range st.Hosts {
		for kind, tasks := range h.Services {
			for _, ts := range tasks {
				if kind != "prober" && (ts.State != "RUNNING" || ts.Healthy == nil || !*ts.Healthy || !ts.Current) {
					return false, fmt.Sprintf("%s on %s: %s healthy=%v current=%v", kind, h.Hostname, ts.State, ts.Healthy, ts.Current)
				}
				got[kind]++
			}
		}
	}
	for kind, n := range w {
		if got[kind] != n {
			return false, fmt.Sprintf("%d %s, want %d (all: %v)", got[kind], kind, n, got)
		}
	}
	return true, ""
}

// taskIDs lists the live service tasks by host and kind.
func (c *cluster) taskIDs() map[string]string {
	ids := map[string]string{}
	for _, h := range c.status().Hosts {
		for kind, tasks := range h.Services {
			for _, ts := range tasks {
				ids[h.Hostname+"/"+kind] += ts.TaskID + " "
			}
		}
	}
	return ids
}

func (c *cluster) signal(sig os.Signal) {
	c.t.Helper()
	if err := c.fw.Process.Signal(sig); err != nil {
		c.t.Fatal(err)
	}
}

// planExit runs `quobyte-mesos plan --server ... -detailed-exitcode FILE`.
func (c *cluster) planExit(specFile string) (int, string) {
	c.t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(bins.framework, "plan", "--server", c.apiURL, "-detailed-exitcode", specFile)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String()
	} else if err != nil {
		c.t.Fatal(err)
	}
	return 0, out.String()
}

// admin posts a fault to mesos-sim's admin endpoint.
func (c *cluster) admin(name string, body map[string]any) {
	c.t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(c.masterURL+"/admin/"+name, "application/json", bytes.NewReader(b))
	if err != nil {
		c.t.Fatalf("POST /admin/%s: %v", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		c.t.Fatalf("POST /admin/%s: %s %s", name, resp.Status, msg)
	}
}

// restartFramework stops the framework with SIGTERM (it must exit 0 and
// leave Quobyte running) and starts it again with the same spec.
func (c *cluster) restartFramework() {
	c.t.Helper()
	if err := c.fw.Process.Signal(syscall.SIGTERM); err != nil {
		c.t.Fatal(err)
	}
	select {
	case <-c.fwDone:
	case <-time.After(15 * time.Second):
		c.t.Fatal("framework still running 15s after SIGTERM")
	}
	if code := c.fw.ProcessState.ExitCode(); code != 0 {
		c.t.Fatalf("framework after SIGTERM: exit %d, want 0", code)
	}
	c.startFramework("framework-2")
}

// logLines counts lines of a process log that contain s.
func (c *cluster) logLines(name, s string) int {
	b, _ := os.ReadFile(filepath.Join(c.dir, name+".log"))
	return strings.Count(string(b), s)
}

package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var updateScreenshot = flag.Bool("update-screenshot", false, "also write the converged dashboard's screenshot to docs/dashboard.png")

// The dashboard and `quobyte-mesos status` on one cluster: the real
// binaries, and the page in headless Chromium. The page loads without a
// console error, has one row per agent with the cells the status API
// implies, follows a crashed service (not healthy, then healthy again)
// without a reload, shows a blocked item's reason, and a refused reload's
// diagnostics. A screenshot of the converged cluster is kept as a test
// artifact. The browser parts skip, saying why, only without Chromium.
func TestDashboard_StatusCommandAndBrowser(t *testing.T) {
	c := startCluster(t, clusterOpts{subnet: "127.0.9", registry: 3, metadata: 3, data: 5, version: "v1"})
	c.eventually(convergeWithin, "convergence", func() (bool, string) { return c.converged(fullLayout) })

	code, out := c.statusCommand()
	if code != 0 || strings.Count(out, "\n127.0.9.") != 5 || !strings.Contains(out, "converged: No changes") {
		t.Errorf("status of a converged cluster: exit %d, want 0 and five hosts:\n%s", code, out)
	}

	b := startBrowser(t)
	if b != nil {
		b.open(c.apiURL + "/")
		b.checkGrid(c)
		b.checkConsole()
		b.screenshot("dashboard-converged.png", *updateScreenshot)
	}

	// A crashed data service: not healthy in the grid, then healthy again
	// once it is relaunched on its host, on the same page.
	host := c.hosts[1]
	taskID := c.taskOn(host, "data")
	c.admin("kill-task", map[string]any{"task_id": taskID})
	if b != nil {
		b.waitCell(host, "data", 15*time.Second, func(state string) bool { return state != "healthy" })
		b.waitCell(host, "data", 30*time.Second, func(state string) bool { return state == "healthy" })
		b.waitText("#events tbody", "Command terminated with signal Killed", 5*time.Second)
		if !b.sameDocument() {
			t.Error("the page was reloaded: the grid must update in place")
		}
	}

	// A launch waiting for resources: an s3 service no agent has the
	// memory for. Its cell says so, and what falls short.
	c.writeSpec("v1", "\nservice \"s3\" {\n  enabled = true\n  count   = 1\n  resources {\n    mem = 1000000\n  }\n}\n")
	c.signal(syscall.SIGHUP)
	c.eventually(20*time.Second, "the s3 launch waiting", func() (bool, string) {
		code, out := c.statusCommand()
		return code == 2 && strings.Contains(out, "Waiting for resources (1)"), fmt.Sprintf("exit %d\n%s", code, out)
	})
	if b != nil {
		b.waitText("#waiting-table", "mem=1e+06", 10*time.Second)
		// The host with the waiting s3 comes first, and is the only one
		// with a problem.
		first := b.rows()[0]
		if first.Cells["s3"] != "waiting" {
			t.Errorf("first row %+v, want the s3 waiting there", first)
		}
		if got := b.filter("", "problem"); len(got) != 1 || got[0] != first.Host {
			t.Errorf("hosts with a problem: %v, want [%s]", got, first.Host)
		}
	}

	// A blocked item: the s3 service placed on hosts that do not exist.
	c.writeSpec("v1", "\nservice \"s3\" {\n  enabled = true\n  count   = 1\n  hosts   = [\"nowhere-*\"]\n}\n")
	c.signal(syscall.SIGHUP)
	const blockedReason = "0 of 1 s3 placed"
	c.eventually(20*time.Second, "the s3 launch blocked", func() (bool, string) {
		code, out := c.statusCommand()
		return code == 2 && strings.Contains(out, blockedReason), fmt.Sprintf("exit %d\n%s", code, out)
	})
	if b != nil {
		b.waitText("#blocked-table", blockedReason, 10*time.Second)
		if got := b.filter(c.hosts[2], "all"); len(got) != 1 || got[0] != c.hosts[2] {
			t.Errorf("hosts named %s: %v", c.hosts[2], got)
		}
		if got := b.filter("", "all"); len(got) != 5 {
			t.Errorf("no filter: %v", got)
		}
	}

	// A refused reload: its diagnostics, with the file's line and column.
	broken := strings.Replace(c.spec("v1", ""), `version     = "v1"`, `verison     = "v2"`, 1)
	if err := os.WriteFile(c.specPath, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	c.signal(syscall.SIGHUP)
	diag := regexp.MustCompile(regexp.QuoteMeta(c.specPath) + `:\d+:\d+`)
	if b != nil {
		got := b.waitText("#reload-diagnostics", "verison", 10*time.Second)
		if !diag.MatchString(got) {
			t.Errorf("reload diagnostics without file:line:column:\n%s", got)
		}
		b.waitText("#events tbody", "reload failed", 5*time.Second)
		b.screenshot("dashboard-problems.png", false)
		b.checkConsole()
	}
	code, out = c.statusCommand()
	if code != 2 || !strings.Contains(out, "Reload    FAILED") || !diag.MatchString(out) {
		t.Errorf("status after a refused reload: exit %d\n%s", code, out)
	}
}

// statusCommand runs `quobyte-mesos status --server` against the cluster.
func (c *cluster) statusCommand() (int, string) {
	c.t.Helper()
	cmd := exec.Command(bins.framework, "status", "--server", c.apiURL)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	} else if err != nil {
		c.t.Fatal(err)
	}
	return 0, string(out)
}

// taskOn is the live task of kind on host.
func (c *cluster) taskOn(host, kind string) string {
	c.t.Helper()
	for _, h := range c.status().Hosts {
		if h.Hostname == host && len(h.Services[kind]) == 1 {
			return h.Services[kind][0].TaskID
		}
	}
	c.t.Fatalf("no %s task on %s", kind, host)
	return ""
}

// browser is a headless Chromium with one tab, and the console errors of
// the page it shows.
type browser struct {
	t   *testing.T
	ctx context.Context

	mu     sync.Mutex
	errors []string
}

// chromiumPath finds Chromium: $CHROMIUM, else Debian's chromium (as
// scripts/install-deps.sh installs it) or another build on the PATH.
func chromiumPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// startBrowser starts headless Chromium with a fresh profile and nothing
// that reaches the network by itself; nil (the browser parts skip) when
// Chromium is not installed.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	exe := chromiumPath()
	if exe == "" {
		t.Run("browser", func(t *testing.T) {
			t.Skip("Chromium is not installed (Debian's chromium: scripts/install-deps.sh installs it as root; or set CHROMIUM): the browser checks are skipped")
		})
		return nil
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 900),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx}
	messages := chromedp.Console(ctx) // starts the browser
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.mu.Lock()
				b.errors = append(b.errors, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line+1))
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// run runs a browser action within a time limit.
func run[T any](b *browser, within time.Duration, a chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(b.ctx, within)
	defer cancel()
	return chromedp.Run(ctx, a)
}

// open loads the page and marks the document, so that a reload is seen.
func (b *browser) open(url string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible("#grid tbody tr[data-host]")); err != nil {
		b.t.Fatalf("loading %s: %v", url, err)
	}
	if _, err := run(b, 5*time.Second, chromedp.Evaluate[bool](`window.__sameDocument = true`)); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) sameDocument() bool {
	same, err := run(b, 5*time.Second, chromedp.Evaluate[bool](`window.__sameDocument === true`))
	return err == nil && same
}

// row is a grid row as the page shows it.
type row struct {
	Host  string            `json:"host"`
	Cells map[string]string `json:"cells"` // kind -> data-state
}

func (b *browser) rows() []row {
	b.t.Helper()
	rows, err := run(b, 5*time.Second, chromedp.Evaluate[[]row](`[...document.querySelectorAll("#grid tbody tr[data-host]")].map((r) => ({
		host: r.dataset.host,
		cells: Object.fromEntries([...r.querySelectorAll("td[data-kind]")].map((td) => [td.dataset.kind, td.dataset.state])),
	}))`))
	if err != nil {
		b.t.Fatalf("reading the grid: %v", err)
	}
	return rows
}

// checkGrid compares the grid with the status API: one row per agent; a
// healthy cell where a service of that kind runs, "none" elsewhere.
func (b *browser) checkGrid(c *cluster) {
	b.t.Helper()
	rows := b.rows()
	st := c.status()
	if len(rows) != len(st.Hosts) || len(rows) != 5 {
		b.t.Fatalf("%d rows for %d agents: %+v", len(rows), len(st.Hosts), rows)
	}
	for _, h := range st.Hosts {
		i := slices.IndexFunc(rows, func(r row) bool { return r.Host == h.Hostname })
		if i < 0 {
			b.t.Errorf("no row for %s", h.Hostname)
			continue
		}
		for _, kind := range []string{"registry", "metadata", "data", "api", "webconsole"} {
			want := "none"
			if len(h.Services[kind]) > 0 {
				want = "healthy"
			}
			if got := rows[i].Cells[kind]; got != want {
				b.t.Errorf("%s %s: %q, want %q", h.Hostname, kind, got, want)
			}
		}
	}
}

// filter types name into the host name filter (as a person would),
// chooses show in the problem filter, and returns the hosts shown.
func (b *browser) filter(name, show string) []string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("filter").value = ""`), chromedp.SendKeys("#filter", name),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`{ const s = document.getElementById("show"); s.value = %q; s.dispatchEvent(new Event("change")); }`, show)))
	if err != nil {
		b.t.Fatalf("filtering: %v", err)
	}
	shown, err := run(b, 5*time.Second, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#grid tbody tr[data-host]")].filter((r) => !r.hidden).map((r) => r.dataset.host)`))
	if err != nil {
		b.t.Fatalf("reading the grid: %v", err)
	}
	return shown
}

// waitCell waits until the state of kind's cell on host satisfies ok.
func (b *browser) waitCell(host, kind string, within time.Duration, ok func(string) bool) {
	b.t.Helper()
	deadline := time.Now().Add(within)
	last := ""
	for time.Now().Before(deadline) {
		for _, r := range b.rows() {
			if r.Host == host {
				last = r.Cells[kind]
			}
		}
		if ok(last) {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.t.Fatalf("%s on %s: still %q after %s", kind, host, last, within)
}

// waitText waits until the element sel shows want, and returns its text.
func (b *browser) waitText(sel, want string, within time.Duration) string {
	b.t.Helper()
	deadline := time.Now().Add(within)
	got := ""
	for time.Now().Before(deadline) {
		text, err := run(b, 5*time.Second, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {}).innerText || ""`, sel)))
		if err != nil {
			b.t.Fatalf("reading %s: %v", sel, err)
		}
		if got = text; strings.Contains(got, want) {
			return got
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.t.Fatalf("%s does not show %q within %s; it shows:\n%s", sel, want, within, got)
	return ""
}

// screenshot saves the whole page in the artifacts folder
// ($TEST_ARTIFACTS_DIR, else bin/test-artifacts) and, with docs, as
// docs/dashboard.png for the README.
func (b *browser) screenshot(name string, docs bool) {
	b.t.Helper()
	png, err := run(b, 20*time.Second, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("TEST_ARTIFACTS_DIR")
	if dir == "" {
		dir = filepath.Join(repoRoot(), "bin", "test-artifacts")
	}
	paths := []string{filepath.Join(dir, name)}
	if docs {
		paths = append(paths, filepath.Join(repoRoot(), "docs", "dashboard.png"))
	}
	for _, p := range paths {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.t.Fatal(err)
		}
		if err := os.WriteFile(p, png, 0o644); err != nil {
			b.t.Fatal(err)
		}
		b.t.Logf("screenshot: %s", p)
	}
}

// checkConsole fails the test for every console error and uncaught
// exception the page had since the last check.
func (b *browser) checkConsole() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.errors {
		b.t.Errorf("browser console: %s", e)
	}
	b.errors = nil
}

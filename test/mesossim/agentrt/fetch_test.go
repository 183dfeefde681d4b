package agentrt

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"

	"github.com/quobyte/quobyte-mesos/internal/mesosstate"
)

func tarGz(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestFetchURIsIntoSandbox(t *testing.T) {
	files := map[string][]byte{
		"/bin/tool.sh":        []byte("#!/bin/sh\necho tool-ran > tool.out\n"),
		"/dl/bundle.tar.gz":   tarGz(t, map[string]string{"dir/a.txt": "A"}),
		"/dl/bundle.zip":      zipOf(t, map[string]string{"z.txt": "Z"}),
		"/dl/keep.tar.gz":     tarGz(t, map[string]string{"notextracted.txt": "N"}),
		"/dl/blob":            []byte("blob"),
		"/dl/plain-file.conf": []byte("conf"),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)

	a, rec := newTestAgent(t, nil)
	task := shellTask("fetch", "./tool.sh && test -f dir/a.txt && test -f z.txt && test -f renamed.bin && "+
		"test -f plain-file.conf && test -f keep.tar.gz && test ! -e notextracted.txt && test -f bundle.tar.gz")
	task.Command.URIs = []mesos.CommandInfo_URI{
		{Value: srv.URL + "/bin/tool.sh", Executable: boolPtr(true)},
		{Value: srv.URL + "/dl/bundle.tar.gz"}, // extract defaults to true
		{Value: srv.URL + "/dl/bundle.zip", Extract: boolPtr(true)},
		{Value: srv.URL + "/dl/keep.tar.gz", Extract: boolPtr(false)},
		{Value: srv.URL + "/dl/blob?version=2", OutputFile: strPtr("renamed.bin")},
		{Value: srv.URL + "/dl/plain-file.conf"},
	}
	a.Launch(frameworkInfo(), task)
	running := rec.waitState(t, "fetch", mesos.TASK_RUNNING, 10*time.Second)
	rec.waitFor(t, "fetch", 10*time.Second, func(st mesos.TaskStatus) bool { return mesosstate.Terminal(st.GetState()) })
	if final := rec.of("fetch"); final[len(final)-1].GetState() != mesos.TASK_FINISHED {
		t.Fatalf("updates = %s", describe(final))
	}
	sandbox := filepath.Join(a.cfg.WorkDir, "frameworks", testFW, "executors", "fetch", "runs",
		running.GetContainerStatus().GetContainerID().GetValue())
	if b, _ := os.ReadFile(filepath.Join(sandbox, "tool.out")); string(b) != "tool-ran\n" {
		t.Errorf("tool.out = %q", b)
	}

	bad := shellTask("fetch-404", "true")
	bad.Command.URIs = []mesos.CommandInfo_URI{{Value: srv.URL + "/missing.tgz"}}
	a.Launch(frameworkInfo(), bad)
	st := rec.waitState(t, "fetch-404", mesos.TASK_FAILED, 10*time.Second)
	if st.GetReason() != mesos.REASON_CONTAINER_LAUNCH_FAILED || st.GetSource() != mesos.SOURCE_AGENT {
		t.Errorf("fetch failure = %s", describe([]mesos.TaskStatus{st}))
	}
	if len(rec.of("fetch-404")) != 1 {
		t.Errorf("a task whose fetch fails never starts: %s", describe(rec.of("fetch-404")))
	}
}

func TestExtractRefusesPathsOutsideTheSandbox(t *testing.T) {
	dir := t.TempDir()
	archive := filepath.Join(dir, "evil.tar.gz")
	if err := os.WriteFile(archive, tarGz(t, map[string]string{"../escape.txt": "x"}), 0o644); err != nil {
		t.Fatal(err)
	}
	sandbox := filepath.Join(dir, "sandbox")
	if err := os.MkdirAll(sandbox, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := extract(archive, sandbox); err == nil {
		t.Fatal("extracting ../escape.txt succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "escape.txt")); err == nil {
		t.Fatal("file written outside the sandbox")
	}
}

func TestExtractPlainGzip(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte("payload"))
	_ = zw.Close()
	gz := filepath.Join(dir, "data.txt.gz")
	if err := os.WriteFile(gz, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := extract(gz, dir); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "data.txt")); string(b) != "payload" {
		t.Errorf("data.txt = %q", b)
	}
}

// Many tasks that fetch an executable and run it at once: while one task's
// fetcher writes its copy, the others fork. A child forked while a
// descriptor was open for writing on a file holds it until its exec, and a
// task that execs that file then fails with "Text file busy" (issue 9).
func TestFetchedExecutablesRunUnderConcurrentLaunches(t *testing.T) {
	a, rec := newTestAgent(t, nil)
	// A few MB of script, so that writing each copy takes a while.
	var script bytes.Buffer
	script.WriteString("#!/bin/sh\nexit 0\n")
	pad := bytes.Repeat([]byte("#"), 1023)
	for script.Len() < 4<<20 {
		script.Write(pad)
		script.WriteByte('\n')
	}
	src := filepath.Join(t.TempDir(), "run.sh")
	if err := os.WriteFile(src, script.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// Other processes start meanwhile, as on an agent running many tasks.
	stop := make(chan struct{})
	var forkers sync.WaitGroup
	for i := 0; i < 4; i++ {
		forkers.Add(1)
		go func() {
			defer forkers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_ = exec.Command("/bin/true").Run()
			}
		}()
	}
	defer func() { close(stop); forkers.Wait() }()
	const tasks = 24
	for i := 0; i < tasks; i++ {
		task := shellTask(fmt.Sprintf("busy-%d", i), "./run.sh")
		exe := true
		task.Command.URIs = []mesos.CommandInfo_URI{{Value: src, Executable: &exe}}
		go a.Launch(frameworkInfo(), task)
	}
	for i := 0; i < tasks; i++ {
		id := fmt.Sprintf("busy-%d", i)
		st := rec.waitFor(t, id, 60*time.Second, func(s mesos.TaskStatus) bool { return mesosstate.Terminal(s.GetState()) })
		if st.GetState() != mesos.TASK_FINISHED {
			t.Errorf("%s: %s", id, describe([]mesos.TaskStatus{st}))
		}
	}
	// Nothing but the installed file is left of the fetch.
	matches, _ := filepath.Glob(filepath.Join(a.cfg.WorkDir, "frameworks", "*", "executors", "*", "runs", "*", ".*"))
	if len(matches) > 0 {
		t.Errorf("temporary files left in sandboxes: %v", matches)
	}
}

// blockingReader hands out one byte, then blocks until released.
type blockingReader struct {
	started chan struct{}
	release chan struct{}
	n       int
}

func (r *blockingReader) Read(p []byte) (int, error) {
	switch r.n {
	case 0:
		r.n++
		p[0] = '#'
		close(r.started)
		return 1, nil
	case 1:
		r.n++
		<-r.release
	}
	return 0, io.EOF
}

// While a fetched file is open for writing no process may be forked: the
// child would inherit the descriptor until its exec, and a task exec'ing the
// file meanwhile fails with "Text file busy".
func TestNoForkWhileAFetchedFileIsOpenForWriting(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "tool")
	r := &blockingReader{started: make(chan struct{}), release: make(chan struct{})}
	written := make(chan error, 1)
	go func() { written <- writeFile(dst, r, 0o755) }()
	<-r.started
	forked := make(chan error, 1)
	go func() { forked <- exec.Command("/bin/true").Run() }()
	select {
	case err := <-forked:
		t.Errorf("a process was forked and ran (err %v) while %s was open for writing", err, dst)
		close(r.release)
		<-written
		return
	case <-time.After(300 * time.Millisecond):
	}
	close(r.release)
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	if err := <-forked; err != nil {
		t.Fatalf("fork after the write: %v", err)
	}
	if b, err := os.ReadFile(dst); err != nil || string(b) != "#" {
		t.Errorf("installed file %q, %v", b, err)
	}
}

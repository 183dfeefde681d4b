package agentrt

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
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
	rec.waitFor(t, "fetch", 10*time.Second, func(st mesos.TaskStatus) bool { return isTerminal(st.GetState()) })
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

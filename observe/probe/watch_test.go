package probe

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// watcher runs Watch in the background and counts its calls.
type watcher struct {
	mu     sync.Mutex
	calls  int
	notify chan struct{}
	done   chan error
	cancel context.CancelFunc
}

func startWatch(t *testing.T, s *Scanner) *watcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &watcher{notify: make(chan struct{}, 100), done: make(chan error, 1), cancel: cancel}
	go func() {
		w.done <- s.Watch(ctx, func() {
			w.mu.Lock()
			w.calls++
			w.mu.Unlock()
			w.notify <- struct{}{}
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-w.done:
			if err != nil {
				t.Errorf("Watch: %v", err)
			}
		case <-time.After(2 * time.Second):
			t.Error("Watch did not return after cancel")
		}
	})
	// Let Watch take its first fingerprint before the test changes things.
	time.Sleep(50 * time.Millisecond)
	return w
}

// await waits for one onChange call and returns how long it took.
func (w *watcher) await(t *testing.T, what string, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	select {
	case <-w.notify:
		d := time.Since(start)
		t.Logf("%s noticed after %v", what, d.Round(time.Millisecond))
		return d
	case <-time.After(limit):
		t.Fatalf("%s not noticed within %v", what, limit)
		return 0
	}
}

// quiet checks that no onChange call arrives for d.
func (w *watcher) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-w.notify:
		t.Fatal("onChange called though nothing changed")
	case <-time.After(d):
	}
}

func TestWatch_Directories(t *testing.T) {
	root := t.TempDir()
	device(t, filepath.Join(root, "d1"), map[string]string{SetupFile: "device.type=DATA_DEVICE\n"})
	w := startWatch(t, NewScanner(Config{DeviceRoot: root, Mode: ModeDirectories}))
	w.quiet(t, 600*time.Millisecond)

	dir := device(t, filepath.Join(root, "d2"), nil)
	w.await(t, "new directory", time.Second)
	if err := os.WriteFile(filepath.Join(dir, SetupFile), []byte("device.type=DIR_DEVICE\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w.await(t, "new marker", time.Second)
	if err := os.WriteFile(filepath.Join(dir, SetupFile), []byte("device.type=METADATA_DEVICE\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w.await(t, "changed marker", time.Second)
	if err := os.Mkdir(filepath.Join(root, "d1", "quobyte-dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	w.await(t, "new legacy marker directory", time.Second)
	if err := os.RemoveAll(filepath.Join(root, "d1")); err != nil {
		t.Fatal(err)
	}
	w.await(t, "removed device", time.Second)
	w.quiet(t, 600*time.Millisecond)
}

// TestWatch_Mounts_FakeTable covers mounts mode where the kernel sends no
// notification (a plain file as mount table): marker changes are still
// seen by the stat poll, mount changes by the fallback re-read.
func TestWatch_Mounts_FakeTable(t *testing.T) {
	root := t.TempDir()
	dev := device(t, filepath.Join(root, "d1"), nil)
	mi := filepath.Join(t.TempDir(), "mountinfo")
	write := func(table string) {
		if err := os.WriteFile(mi, []byte(table), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("1 0 8:1 / " + dev + " rw - ext4 /dev/sdb rw\n")
	w := startWatch(t, NewScanner(Config{DeviceRoot: root, Mode: ModeMounts, MountInfoPath: mi}))
	if err := os.WriteFile(filepath.Join(dev, SetupFile), []byte("device.type=DATA_DEVICE\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w.await(t, "marker on a mounted device", time.Second)
	dev2 := device(t, filepath.Join(root, "d2"), map[string]string{SetupFile: "device.type=DATA_DEVICE\n"})
	write("1 0 8:1 / " + dev + " rw - ext4 /dev/sdb rw\n2 0 8:2 / " + dev2 + " rw - xfs /dev/sdc rw\n")
	w.await(t, "new mount without notification", mountFallback+time.Second)
}

// testLogger logs through t at trace level.
func testLogger(t *testing.T) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: t.Name(), Level: hclog.Trace, Output: testWriter{t}})
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

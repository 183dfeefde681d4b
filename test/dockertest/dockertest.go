// Package dockertest gives tests a Docker engine and the project's images:
// Engine skips a test, saying why, when no engine answers or when host
// networking would not reach the test (a test under /work/bin/isolated runs in
// a network namespace of its own, Docker's containers in dockerd's); Images
// builds the framework and stand-in server images with `make images`, once
// per test binary and tag. CI (.ci/run) starts an engine, so these tests run
// there.
package dockertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quobyte/quobyte-mesos/test/mesossim/agentrt"
)

// Image repositories `make images` builds (the Makefile's defaults).
const (
	FrameworkImage = "quobyte-mesos"
	ServerImage    = "quobyte-server"
)

var (
	engineOnce sync.Once
	engineErr  error

	imagesMu sync.Mutex
	built    = map[string]error{}
)

// Engine returns the engine's configuration (the docker CLI on PATH, the
// socket of DOCKER_HOST or the default), or skips the test.
func Engine(t testing.TB) agentrt.DockerConfig {
	t.Helper()
	engineOnce.Do(func() { engineErr = agentrt.DockerConfig{}.Check(context.Background()) })
	if engineErr != nil {
		t.Skipf("Docker tests skipped: %v (CI's .ci/run starts an engine; run these tests outside /work/bin/isolated)", engineErr)
	}
	return agentrt.DockerConfig{}
}

// Images builds FrameworkImage:tag and ServerImage:tag with `make images`
// (static binaries, FROM scratch) unless this test binary built them already.
func Images(t testing.TB, tag string) {
	t.Helper()
	Engine(t)
	imagesMu.Lock()
	defer imagesMu.Unlock()
	err, done := built[tag]
	if !done {
		start := time.Now()
		err = runMake(RepoRoot(t), "images", "IMAGE_TAG="+tag, "IMAGE_BIN="+t.TempDir())
		built[tag] = err
		t.Logf("make images IMAGE_TAG=%s: %s", tag, time.Since(start).Round(100*time.Millisecond))
	}
	if err != nil {
		t.Fatal(err)
	}
}

// Tag gives an image built by Images another tag (a "new version" that is
// the same image).
func Tag(t testing.TB, repo, from, to string) {
	t.Helper()
	if out, err := exec.Command("docker", "tag", repo+":"+from, repo+":"+to).CombinedOutput(); err != nil {
		t.Fatalf("docker tag %s:%s %s:%s: %v\n%s", repo, from, repo, to, err, out)
	}
}

// Containers lists the IDs of the containers (running or not) that carry
// the label key=value.
func Containers(t testing.TB, key, value string) []string {
	t.Helper()
	out, err := exec.Command("docker", "ps", "-aq", "--filter", "label="+key+"="+value).CombinedOutput()
	if err != nil {
		t.Fatalf("docker ps: %v\n%s", err, out)
	}
	return strings.Fields(string(out))
}

// RemoveContainers force-removes the containers carrying key=value and
// reports how many there were: tests register it as cleanup, so that a
// failed test leaves nothing running.
func RemoveContainers(t testing.TB, key, value string) int {
	t.Helper()
	ids := Containers(t, key, value)
	if len(ids) > 0 {
		if out, err := exec.Command("docker", append([]string{"rm", "-f"}, ids...)...).CombinedOutput(); err != nil {
			t.Errorf("docker rm -f: %v\n%s", err, out)
		}
	}
	return len(ids)
}

// RepoRoot is the directory holding go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

func runMake(dir string, args ...string) error {
	cmd := exec.Command("make", append([]string{"--no-print-directory", "-C", dir}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("make %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

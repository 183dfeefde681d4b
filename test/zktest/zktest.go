// Package zktest starts a real ZooKeeper server for tests: Debian's
// zookeeper package run in the foreground on a free loopback port, with its
// data in the test's temporary directory. Tests skip when java or the
// ZooKeeper jars are missing.
package zktest

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/quobyte/quobyte-mesos/internal/freeport"
)

// jarDirs are where Debian installs the ZooKeeper jars and their dependencies.
var jarDirs = []string{"/usr/share/java", "/usr/share/zookeeper", "/usr/share/zookeeper/lib"}

// jars are the jar names (without ".jar") the standalone server needs.
var jars = []string{
	"zookeeper", "zookeeper-jute", "slf4j-api", "slf4j-simple", "metrics-core", "commons-cli",
	"netty-handler", "netty-common", "netty-buffer", "netty-transport", "netty-codec",
	"netty-resolver", "netty-transport-native-epoll", "netty-transport-native-unix-common",
}

// Server is a running ZooKeeper server.
type Server struct {
	// Addr is the client address, "127.0.0.1:port".
	Addr string

	t        testing.TB
	java, cp string
	dir      string
	tick     time.Duration
	stop     func() // kills the running server process; nil while stopped
}

// Options shape a server.
type Options struct {
	// Tick is the server's tickTime (default 3s, ZooKeeper's own). The
	// session timeouts it grants lie between 2 and 20 ticks: tests of
	// session expiry want a short tick.
	Tick time.Duration
}

// URL returns a zk:// URL for path on this server.
func (s *Server) URL(path string) string { return "zk://" + s.Addr + path }

// Connect returns a client connected to the server, closed at the end of the test.
func (s *Server) Connect(t testing.TB) *zk.Conn {
	t.Helper()
	c, _, err := zk.Connect([]string{s.Addr}, 5*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatalf("zktest: connect: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

func classpath() (string, error) {
	var cp []string
	for _, j := range jars {
		found := ""
		for _, d := range jarDirs {
			p := filepath.Join(d, j+".jar")
			if _, err := os.Stat(p); err == nil {
				found = p
				break
			}
		}
		if found == "" {
			return "", fmt.Errorf("%s.jar not found in %v", j, jarDirs)
		}
		cp = append(cp, found)
	}
	return strings.Join(cp, ":"), nil
}

// Start runs a ZooKeeper server for the duration of the test and returns
// once it answers. It skips the test when java or the jars are absent.
func Start(t testing.TB) *Server { t.Helper(); return StartWith(t, Options{}) }

// StartWith is Start with options.
func StartWith(t testing.TB, o Options) *Server {
	t.Helper()
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("zktest: java not installed (apt-get install zookeeper); skipping ZooKeeper test")
	}
	cp, err := classpath()
	if err != nil {
		t.Skipf("zktest: ZooKeeper not installed (apt-get install zookeeper): %v", err)
	}
	// A port can still be taken between choosing it and the server's bind: retry a few times.
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freeport.Loopback()
		if err != nil {
			t.Fatalf("zktest: free port: %v", err)
		}
		s := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), t: t, java: java, cp: cp, dir: t.TempDir(), tick: o.Tick}
		if s.try() {
			t.Cleanup(func() {
				if t.Failed() {
					b, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
					t.Logf("zktest: server log:\n%s", b)
				}
			})
			t.Cleanup(s.Stop)
			return s
		}
	}
	t.Fatal("zktest: ZooKeeper server did not start")
	return nil
}

// Stop kills the server (as a crash would: clients get no goodbye). Its
// data stays, so Restart brings back every session that has not expired.
func (s *Server) Stop() {
	if s.stop != nil {
		s.stop()
		s.stop = nil
	}
}

// Restart starts a stopped server again on the same port and data.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if s.try() {
			return
		}
		time.Sleep(200 * time.Millisecond) // the port may linger a moment
	}
	s.t.Fatal("zktest: ZooKeeper server did not restart")
}

// try starts the server process and waits until it serves.
func (s *Server) try() bool {
	t := s.t
	_, port, _ := net.SplitHostPort(s.Addr)
	args := []string{"-Xmx128m", "-cp", s.cp,
		"-Dzookeeper.admin.enableServer=false",
		"-Dzookeeper.4lw.commands.whitelist=*",
		"org.apache.zookeeper.server.ZooKeeperServerMain",
		port, s.dir}
	if s.tick > 0 {
		args = append(args, fmt.Sprint(s.tick.Milliseconds()))
	}
	cmd := exec.Command(s.java, args...)
	logf, err := os.OpenFile(filepath.Join(s.dir, "server.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatalf("zktest: %v", err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("zktest: start java: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
		logf.Close()
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			logf.Close()
			return false
		default:
		}
		if serving(s.Addr) {
			s.stop = stop
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	return false
}

// serving asks the server's four-letter "srvr" command: it reports a Mode
// only once the server serves requests ("ruok" answers "imok" earlier).
func serving(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("srvr")); err != nil {
		return false
	}
	b, _ := io.ReadAll(c)
	return strings.Contains(string(b), "Mode:")
}

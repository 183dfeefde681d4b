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

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start runs a ZooKeeper server for the duration of the test and returns
// once it answers. It skips the test when java or the jars are absent.
func Start(t testing.TB) *Server {
	t.Helper()
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("zktest: java not installed (apt-get install zookeeper); skipping ZooKeeper test")
	}
	cp, err := classpath()
	if err != nil {
		t.Skipf("zktest: ZooKeeper not installed (apt-get install zookeeper): %v", err)
	}
	// A port can be taken between freePort and the server's bind: retry a few times.
	for attempt := 0; attempt < 3; attempt++ {
		if s, ok := try(t, java, cp); ok {
			return s
		}
	}
	t.Fatal("zktest: ZooKeeper server did not start")
	return nil
}

func try(t testing.TB, java, cp string) (*Server, bool) {
	port, err := freePort()
	if err != nil {
		t.Fatalf("zktest: free port: %v", err)
	}
	dir := t.TempDir()
	cmd := exec.Command(java, "-Xmx128m", "-cp", cp,
		"-Dzookeeper.admin.enableServer=false",
		"-Dzookeeper.4lw.commands.whitelist=*",
		"org.apache.zookeeper.server.ZooKeeperServerMain",
		fmt.Sprint(port), dir)
	logf, err := os.Create(filepath.Join(dir, "server.log"))
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
	s := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", port)}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			logf.Close()
			return nil, false
		default:
		}
		if serving(s.Addr) {
			t.Cleanup(func() {
				if t.Failed() {
					b, _ := os.ReadFile(filepath.Join(dir, "server.log"))
					t.Logf("zktest: server log:\n%s", b)
				}
			})
			t.Cleanup(stop)
			return s, true
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	return nil, false
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

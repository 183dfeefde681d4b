package actuate

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"

	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/observe/fwid"
	"github.com/quobyte/quobyte-mesos/observe/mesosconn"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
)

// BenchmarkApply_5000Accepts_FrameworkSide measures what 5,000 ACCEPTs (a
// plan of 5,000 data launches, one per agent, applied to 5,000 held
// offers) cost the framework alone: the calls go through the framework's
// own call path (mesosconn.Conn's Caller: pipelined HTTP/1.1 over a few
// kept-alive connections) to a master in another process that does as
// little as an HTTP server can (TestMinimalMasterProcess: no decoding, 202
// to every call). With rtt_1ms the master answers what arrived together
// 1 ms after it read it, as a master across a network would be seen.
// cpu-ms/op is the benchmark process's CPU time (every thread: matching,
// TaskInfos, encoding, HTTP, GC) per Apply; master-cpu-ms/op is the master
// process's; ns/op is the Apply's wall time.
func BenchmarkApply_5000Accepts_FrameworkSide(b *testing.B) {
	for _, rtt := range []time.Duration{0, time.Millisecond} {
		name := "loopback"
		if rtt > 0 {
			name = fmt.Sprintf("rtt_%s", rtt)
		}
		b.Run(name, func(b *testing.B) { benchmarkFrameworkSide(b, rtt) })
	}
}

func benchmarkFrameworkSide(b *testing.B, rtt time.Duration) {
	master, masterCPU := startMinimalMaster(b, rtt)
	dir := b.TempDir()
	conn, err := mesosconn.New(mesosconn.Config{
		Masters:   []string{master},
		Framework: mesosconn.Framework{Name: "bench", User: "root"},
		Store:     fwid.NewFileStore(filepath.Join(dir, "fwid")),
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	subscribed := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- conn.Run(ctx, subscribedHandler{subscribed, &sync.Once{}}) }()
	defer func() {
		cancel()
		<-done
	}()
	select {
	case <-subscribed:
	case err := <-done:
		b.Fatalf("subscription ended: %v", err)
	case <-time.After(10 * time.Second):
		b.Fatal("not subscribed to the minimal master")
	}

	offers, plan := dataLaunches(b, 5000)
	var cpu, mcpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		act := New(Config{Caller: conn.Caller(), FrameworkHTTPBase: "http://fw:7888"})
		act.HandleOffers(offers)
		c0, m0 := processCPU(), masterCPU()
		b.StartTimer()
		rep := act.apply(context.Background(), plan) // (Apply, with the report of what was launched)
		b.StopTimer()
		cpu, mcpu = cpu+processCPU()-c0, mcpu+masterCPU()-m0
		if len(rep.Failed) > 0 || len(rep.Errors) > 0 || len(rep.Launched) != len(plan.Actions) {
			b.Fatalf("apply: %d launched, %d failed (%+v), errors %v", len(rep.Launched), len(rep.Failed), rep.Failed, rep.Errors)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(cpu)/float64(b.N)/1e6, "cpu-ms/op")
	b.ReportMetric(float64(mcpu)/float64(b.N)/1e6, "master-cpu-ms/op")
}

// BenchmarkHTTP_5000Posts_Floor is the floor under the figure above: 5,000
// POSTs of an ACCEPT's size (700 bytes: one data launch) through net/http
// alone, 8 at a time
// over kept-alive connections, to the same minimal master. cpu-ms/op is
// this process's CPU time per 5,000: what any call path built on net/http
// costs here before it encodes or decides anything.
func BenchmarkHTTP_5000Posts_Floor(b *testing.B) {
	master, masterCPU := startMinimalMaster(b, 0)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	body := bytes.Repeat([]byte{'x'}, 700)
	post := func() error {
		req, err := http.NewRequest("POST", master+"/api/v1/scheduler", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Mesos-Stream-Id", "bench-stream")
		req.Header.Set("Content-Type", "application/x-protobuf")
		res, err := hc.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusAccepted {
			return fmt.Errorf("answer %s", res.Status)
		}
		return nil
	}
	var cpu, mcpu time.Duration
	for i := 0; i < b.N; i++ {
		c0, m0 := processCPU(), masterCPU()
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= 5000 {
					if err := post(); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		cpu, mcpu = cpu+processCPU()-c0, mcpu+masterCPU()-m0
		select {
		case err := <-errs:
			b.Fatal(err)
		default:
		}
	}
	b.ReportMetric(float64(cpu)/float64(b.N)/1e6, "cpu-ms/op")
	b.ReportMetric(float64(mcpu)/float64(b.N)/1e6, "master-cpu-ms/op")
}

type subscribedHandler struct {
	ch   chan struct{}
	once *sync.Once
}

func (h subscribedHandler) HandleStatus(s mesosconn.Status) {
	if s.State == snapshot.Subscribed {
		h.once.Do(func() { close(h.ch) })
	}
}

func (subscribedHandler) HandleEvent(context.Context, *scheduler.Event) {}

// processCPU is the CPU time (user and system) of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// minimalMasterEnv makes the test binary serve as the minimal master
// (TestMinimalMasterProcess) when it is run by startMinimalMaster; its value
// is the delay of the master's answers (a time.Duration).
const minimalMasterEnv = "QUOBYTE_BENCH_MINIMAL_MASTER"

// startMinimalMaster runs this test binary as a minimal master in a
// process of its own, until the benchmark ends. It returns the master's
// URL and a function that reads the master process's CPU time. The master
// answers what it read rtt later.
func startMinimalMaster(b *testing.B, rtt time.Duration) (url string, cpu func() time.Duration) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestMinimalMasterProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), minimalMasterEnv+"="+rtt.String())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close() // the master ends when its stdin does
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		b.Fatalf("minimal master: %q, %v", line, err)
	}
	pid := cmd.Process.Pid
	return "http://" + addr, func() time.Duration { return procCPU(pid) }
}

// procCPU reads the CPU time (user and system) of process pid from
// /proc/<pid>/stat, in clock ticks of 10 ms.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// TestMinimalMasterProcess is the minimal master when startMinimalMaster
// runs the test binary; otherwise it is skipped.
func TestMinimalMasterProcess(t *testing.T) {
	if os.Getenv(minimalMasterEnv) == "" {
		t.Skip("run by BenchmarkApply_5000Accepts_FrameworkSide only")
	}
	rtt, err := time.ParseDuration(os.Getenv(minimalMasterEnv))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		ln.Close()
		os.Exit(0)
	}()
	subscribed, err := subscribedFrame()
	if err != nil {
		t.Fatal(err)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go serveMinimal(c, subscribed, rtt)
	}
}

// subscribedFrame is the SUBSCRIBED event as one chunk of a chunked
// RecordIO stream. Heartbeats are an hour apart: the stream stays silent.
func subscribedFrame() ([]byte, error) {
	hb := 3600.0
	ev := scheduler.Event{Type: scheduler.Event_SUBSCRIBED, Subscribed: &scheduler.Event_Subscribed{
		FrameworkID: &mesos.FrameworkID{Value: "bench-fw"}, HeartbeatIntervalSeconds: &hb}}
	pb, err := ev.Marshal()
	if err != nil {
		return nil, err
	}
	record := strconv.Itoa(len(pb)) + "\n" + string(pb)
	return []byte(fmt.Sprintf("%x\r\n%s\r\n", len(record), record)), nil
}

// serveMinimal answers the HTTP/1.1 requests of one connection: a request
// without Mesos-Stream-Id (SUBSCRIBE) with the event stream, every other
// with 202 Accepted, unread. Answers to pipelined requests go out
// together, rtt after the read that brought the requests: as if they had
// crossed a network (the requests sent meanwhile wait in the socket, as
// they would on the wire).
func serveMinimal(c net.Conn, subscribed []byte, rtt time.Duration) {
	defer c.Close()
	tc := &timedConn{Conn: c}
	r, w := bufio.NewReaderSize(tc, 64<<10), bufio.NewWriter(c)
	for {
		if _, err := r.ReadSlice('\n'); err != nil { // the request line
			return
		}
		length, stream := 0, false
		for {
			h, err := r.ReadSlice('\n')
			if err != nil {
				return
			}
			if len(bytes.TrimSpace(h)) == 0 {
				break
			}
			name, value, _ := bytes.Cut(h, []byte(":"))
			switch {
			case bytes.EqualFold(name, []byte("Content-Length")):
				length, _ = strconv.Atoi(string(bytes.TrimSpace(value)))
			case bytes.EqualFold(name, []byte("Mesos-Stream-Id")):
				stream = true
			}
		}
		if _, err := r.Discard(length); err != nil {
			return
		}
		if !stream {
			w.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n" +
				"Mesos-Stream-Id: bench-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
			w.Write(subscribed)
			if w.Flush() != nil {
				return
			}
			_, _ = io.Copy(io.Discard, r) // the stream stays open until the framework leaves
			return
		}
		w.WriteString("HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
		if r.Buffered() == 0 {
			time.Sleep(time.Until(tc.read.Add(rtt)))
			if w.Flush() != nil {
				return
			}
		}
	}
}

// timedConn notes when its last read returned.
type timedConn struct {
	net.Conn
	read time.Time
}

func (c *timedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read = time.Now()
	return n, err
}

// dataLaunches returns n offers, one per agent, and a plan that launches a
// data service on each agent.
func dataLaunches(b *testing.B, n int) ([]mesos.Offer, *controller.Result) {
	c := dockerCluster(b)
	var offers []mesos.Offer
	var acts []controller.Action
	for i := range n {
		agent, host := fmt.Sprintf("a%d", i), fmt.Sprintf("node%d", i)
		offers = append(offers, bigOffer("o"+agent, agent, host))
		a := dataAction(agent, host)
		a.ConfigHash = c.Service("data").ConfigHash
		acts = append(acts, a)
	}
	return offers, &controller.Result{Generation: 1, SpecHash: c.Hash, Spec: c, RegistryAddrs: "node0:7861", Actions: acts}
}

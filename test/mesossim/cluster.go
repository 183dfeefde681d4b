package mesossim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Cluster is a running simulated Mesos cluster.
type Cluster struct {
	m         *master
	factory   RuntimeFactory
	workDir   string
	ownWork   bool
	listeners []net.Listener
	servers   []*http.Server
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	calls     callLog // every scheduler call (calllog.go)
	// pipelined are the connections whose calls the master answers in a
	// loop of its own (pipelined.go).
	pipelined connSet
}

// Start starts a cluster: its master(s) listen on loopback ports and its agents
// register at once. Cancelling ctx or calling Close stops it.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Cluster{m: newMaster(cfg), workDir: cfg.WorkDir}
	if c.workDir == "" {
		dir, err := os.MkdirTemp("", "mesossim-")
		if err != nil {
			return nil, fmt.Errorf("mesossim: creating work directory: %w", err)
		}
		c.workDir, c.ownWork = dir, true
	}
	c.factory = cfg.RuntimeFactory
	if c.factory == nil {
		c.factory = func(rc RuntimeConfig) (Runtime, error) { return newSimRuntime(rc, c.m.newUUID, cfg.ExecutorData), nil }
	}
	listens := []string{cfg.Listen}
	if cfg.Masters == 2 {
		listens = append(listens, "127.0.0.1:0")
	}
	for _, addr := range listens {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("mesossim: listening on %s: %w", addr, err)
		}
		c.listeners = append(c.listeners, l)
		c.m.addrs = append(c.m.addrs, l.Addr().String())
	}
	c.m.mu.Lock()
	for _, ac := range cfg.Agents {
		if _, err := c.m.addAgent(ac, c.factory, c.agentWorkDir(ac.Hostname)); err != nil {
			c.m.unlock()
			c.Close()
			return nil, fmt.Errorf("mesossim: %w", err)
		}
	}
	c.m.unlock()
	for i, l := range c.listeners {
		srv := &http.Server{Handler: pipelined{next: c.handler(i), conns: &c.pipelined}, ReadHeaderTimeout: 10 * time.Second, ErrorLog: nil}
		c.servers = append(c.servers, srv)
		c.wg.Add(1)
		go func(l net.Listener) {
			defer c.wg.Done()
			if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				cfg.Logger.Error("master server stopped", "error", err)
			}
		}(l)
	}
	ctx, c.cancel = context.WithCancel(ctx)
	c.loop(ctx, cfg.AllocationInterval, c.m.allocateNow, c.m.allocate)
	c.loop(ctx, retryTick(cfg.StatusUpdateRetryInterval), nil, c.m.retryUnacknowledged)
	go func() {
		<-ctx.Done()
		c.Close()
	}()
	cfg.Logger.Info("mesos-sim started", "masters", c.m.addrs, "agents", len(cfg.Agents), "mode", cfg.Mode)
	return c, nil
}

// retryTick checks for unacknowledged updates often enough to resend them
// close to the retry interval.
func retryTick(retry time.Duration) time.Duration {
	t := retry / 4
	if t > time.Second {
		t = time.Second
	}
	if t < 10*time.Millisecond {
		t = 10 * time.Millisecond
	}
	return t
}

// loop runs f every interval, and whenever kick (if not nil) receives.
func (c *Cluster) loop(ctx context.Context, every time.Duration, kick <-chan struct{}, f func()) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				f()
			case <-kick:
				f()
			}
		}
	}()
}

func (c *Cluster) agentWorkDir(hostname string) string {
	return filepath.Join(c.workDir, "agents", hostname)
}

func (c *Cluster) handler(index int) http.Handler {
	mux := http.NewServeMux()
	api := schedulerHandler{m: c.m, calls: &c.calls, index: index}
	mux.Handle(schedulerPath, api)
	mux.Handle(masterPrefix+schedulerPath, api)
	mux.HandleFunc("GET /debug/calls", c.calls.serve)
	mux.HandleFunc("/state", c.serveState(index))
	mux.HandleFunc("/master/state", c.serveState(index))
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("/master/health", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	c.registerAdmin(mux)
	return mux
}

// URL is the leading master's base URL, e.g. http://127.0.0.1:5050.
func (c *Cluster) URL() string {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	return "http://" + c.m.addrs[c.m.leader]
}

// MasterURLs are the base URLs of all masters, leader or not, in start order.
func (c *Cluster) MasterURLs() []string {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	out := make([]string, len(c.m.addrs))
	for i, a := range c.m.addrs {
		out[i] = "http://" + a
	}
	return out
}

// Close stops the masters, closes every stream, kills every task and removes
// the work directory if Start created it. It is safe to call more than once.
func (c *Cluster) Close() {
	c.closeOnce.Do(func() {
		if c.cancel != nil {
			c.cancel()
		}
		m := c.m
		m.mu.Lock()
		m.closed = true
		var rts []Runtime
		for _, fw := range m.frameworks {
			if fw.stream != nil {
				fw.stream.close()
			}
			if fw.failoverTimer != nil {
				fw.failoverTimer.Stop()
			}
		}
		for _, tm := range m.timers {
			tm.Stop()
		}
		for _, a := range m.agentOrder {
			if a.rt != nil && !a.state.retired() {
				rts = append(rts, a.rt)
			}
		}
		m.unlock()
		for _, srv := range c.servers {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = srv.Shutdown(ctx)
			cancel()
			_ = srv.Close()
		}
		c.pipelined.close()
		for _, l := range c.listeners {
			_ = l.Close()
		}
		for _, rt := range rts {
			rt.Close()
		}
		c.wg.Wait()
		if c.ownWork {
			_ = os.RemoveAll(c.workDir)
		}
	})
}

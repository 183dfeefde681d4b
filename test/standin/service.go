package standin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
)

// ErrCrash is returned by Run when STANDIN_CRASH_AFTER fires.
var ErrCrash = errors.New("crashing as asked by STANDIN_CRASH_AFTER")

// shutdownTimeout bounds how long open HTTP requests may delay the exit.
const shutdownTimeout = 2 * time.Second

// Peer is the last PING result for one address of QUOBYTE_REGISTRY.
type Peer struct {
	Addr      string
	Reachable bool // answered PING as a registry
	Self      bool // the answer came from this process
	Version   string
	Err       string
}

// Status is a snapshot of a stand-in's state, as the status page shows it.
type Status struct {
	Service  Kind
	Version  string
	Instance string
	Started  time.Time
	Healthy  bool
	Reason   string // why not healthy; "healthy" when healthy
	Stopping bool
	Peers    []Peer
	Devices  []Device
	// Registry is where a metadata or data service registered, and when.
	Registry   string
	Registered time.Time
}

// Service is one stand-in. New, then Run once.
type Service struct {
	cfg       Config
	log       hclog.Logger
	instance  string
	started   time.Time
	listening chan struct{}
	addrs     map[string]string // by port name; written before listening closes
	ran       atomic.Bool       // Run was called

	mu     sync.Mutex
	st     Status
	nextID uint64 // device IDs this registry hands out
}

// New checks cfg and prepares a Service; nothing listens before Run.
func New(cfg Config) (*Service, error) {
	if !cfg.Service.valid() {
		return nil, &ConfigError{"QUOBYTE_SERVICE", fmt.Sprintf("unknown service %q", cfg.Service)}
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.Bind == "" {
		cfg.Bind = DefaultBind
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("instance id: %w", err)
	}
	s := &Service{
		cfg:       cfg,
		log:       cfg.Logger,
		instance:  hex.EncodeToString(b[:]),
		started:   time.Now(),
		listening: make(chan struct{}),
		addrs:     make(map[string]string),
	}
	s.st = Status{
		Service:  cfg.Service,
		Version:  cfg.Version,
		Instance: s.instance,
		Started:  s.started,
		Reason:   "starting",
	}
	return s, nil
}

// Listening is closed once every port is bound (after any slow start).
func (s *Service) Listening() <-chan struct{} { return s.listening }

// Addr returns the bound host:port of a port name (PortRPC, ...), or "" if
// the service does not listen on it. Valid once Listening is closed.
func (s *Service) Addr(name string) string {
	select {
	case <-s.listening:
		return s.addrs[name]
	default:
		return ""
	}
}

// Status returns a copy of the current state.
func (s *Service) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	st.Peers = append([]Peer(nil), st.Peers...)
	st.Devices = append([]Device(nil), st.Devices...)
	return st
}

// Run listens and serves until ctx ends, then turns unhealthy, waits
// StopGrace and returns nil. It returns ErrCrash when CrashAfter fires and
// another error when a port cannot be bound or a server fails.
func (s *Service) Run(ctx context.Context) error {
	if s.ran.Swap(true) {
		return errors.New("standin: Run called twice on one Service")
	}
	var crash <-chan time.Time
	if s.cfg.CrashAfter > 0 {
		t := time.NewTimer(s.cfg.CrashAfter)
		defer t.Stop()
		crash = t.C
	}
	if d := s.cfg.SlowStart; d > 0 {
		s.log.Info("slow start: listening later", "after", d)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			s.log.Info("stopped before listening")
			return nil
		case <-crash:
			t.Stop()
			s.log.Error("crash", "reason", ErrCrash)
			return ErrCrash
		case <-t.C:
		}
	}

	lns, err := s.listen()
	if err != nil {
		return err
	}
	httpSrvs := make(map[string]*http.Server)
	for name, h := range s.handlers() {
		httpSrvs[name] = &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	}
	var rpc *rpcServer
	if ln, ok := lns[PortRPC]; ok {
		rpc = newRPCServer(ln, s.handleRPC)
	}

	serveErr := make(chan error, len(lns))
	var wg sync.WaitGroup
	for name, srv := range httpSrvs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Serve(lns[name]); err != nil && !errors.Is(err, http.ErrServerClosed) {
				serveErr <- fmt.Errorf("serve %s port: %w", name, err)
			}
		}()
	}
	if rpc != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := rpc.serve(); err != nil {
				serveErr <- err
			}
		}()
	}
	close(s.listening)
	s.log.Info("listening", s.addrFields()...)

	loopCtx, stopLoop := context.WithCancel(context.Background())
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		s.healthLoop(loopCtx)
	}()

	var result error
	select {
	case <-ctx.Done():
		s.setStopping()
		s.log.Info("stopping: unhealthy now, exiting after grace", "grace", s.cfg.StopGrace)
		t := time.NewTimer(s.cfg.StopGrace)
		select {
		case <-t.C:
		case err := <-serveErr:
			t.Stop()
			result = err
		}
	case <-crash:
		s.log.Error("crash", "reason", ErrCrash)
		result = ErrCrash
	case err := <-serveErr:
		s.log.Error("server failed", "error", err)
		result = err
	}

	stopLoop()
	<-loopDone
	shCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	for _, srv := range httpSrvs {
		if err := srv.Shutdown(shCtx); err != nil {
			srv.Close()
		}
	}
	if rpc != nil {
		rpc.close()
	}
	wg.Wait()
	if result == nil {
		s.log.Info("stopped")
	}
	return result
}

// listen binds every port the kind needs; on failure it closes what it bound.
func (s *Service) listen() (map[string]net.Listener, error) {
	lns := make(map[string]net.Listener)
	for _, name := range s.cfg.Service.RequiredPorts() {
		addr := net.JoinHostPort(s.cfg.Bind, strconv.Itoa(s.cfg.Ports[name]))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, fmt.Errorf("listen on %s port %s: %w", name, addr, err)
		}
		lns[name] = ln
		s.addrs[name] = ln.Addr().String()
	}
	return lns, nil
}

func (s *Service) addrFields() []any {
	names := make([]string, 0, len(s.addrs))
	for n := range s.addrs {
		names = append(names, n)
	}
	sort.Strings(names)
	var f []any
	for _, n := range names {
		f = append(f, n, s.addrs[n])
	}
	return f
}

// handleRPC answers one line of the RPC protocol.
func (s *Service) handleRPC(line string) string {
	f := strings.Fields(line)
	if len(f) == 0 {
		return "ERR empty request"
	}
	switch f[0] {
	case "PING":
		return fmt.Sprintf("PONG %s %s %s", s.cfg.Service, wireVersion(s.cfg.Version), s.instance)
	case "REGISTER":
		if s.cfg.Service != Registry {
			return "ERR not a registry"
		}
		kind, addr, n, err := parseRegister(f[1:])
		if err != nil {
			return "ERR " + err.Error()
		}
		ids := s.newDeviceIDs(n)
		s.log.Info("service registered", "kind", kind, "addr", addr, "device_ids", strings.Join(ids, ","))
		return strings.TrimSpace("OK " + strings.Join(ids, " "))
	}
	return "ERR unknown command " + strconv.Quote(f[0])
}

// newDeviceIDs hands out n device IDs. Each registry counts on its own (the
// stand-in replicates nothing), so IDs are unique per registry only.
func (s *Service) newDeviceIDs(n int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, n)
	for i := range ids {
		s.nextID++
		ids[i] = strconv.FormatUint(s.nextID, 10)
	}
	return ids
}

func (s *Service) setStopping() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.Stopping = true
	s.st.Healthy = false
	s.st.Reason = "shutting down"
}

// publish records the outcome of one evaluation and logs a change.
func (s *Service) publish(healthy bool, reason string) {
	s.mu.Lock()
	if s.st.Stopping {
		s.mu.Unlock()
		return
	}
	changed := s.st.Healthy != healthy || s.st.Reason != reason
	s.st.Healthy, s.st.Reason = healthy, reason
	s.mu.Unlock()
	if !changed {
		return
	}
	if healthy {
		s.log.Info("healthy")
	} else {
		s.log.Info("unhealthy", "reason", reason)
	}
}

func (s *Service) update(f func(st *Status)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.st)
}

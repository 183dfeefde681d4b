package framework

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	mesos "github.com/mesos/mesos-go/api/v1/lib"

	"github.com/quobyte/quobyte-mesos/actuate"
	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/statusapi"
	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/observe"
	"github.com/quobyte/quobyte-mesos/observe/mesosconn"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

// Config configures a running framework.
type Config struct {
	// SpecFile is the spec in force; Reload reads it again.
	SpecFile string
	// Listen is the address of the status API, metrics and the prober
	// artifact. AdvertiseURL is how agents reach it (derived when empty).
	Listen       string
	AdvertiseURL string
	// FrameworkImage runs the prober when the spec's prober artifact is "image".
	FrameworkImage string
	// Executable is served as the prober artifact (default: this process's).
	Executable string
	Logger     hclog.Logger
	// Tick is the controller loop's period without news (default 5s).
	Tick time.Duration
	// Conn adjusts the Mesos connection (tests: fast backoff).
	Conn func(*mesosconn.Config)
	// Observer adjusts the observer's settings (tests: short settle times).
	Observer func(*observe.Config)
}

// Framework is `quobyte-mesos run`: one spec, one subscription, one loop.
type Framework struct {
	cfg     Config
	log     hclog.Logger
	specs   *SpecHolder
	metrics *statusapi.Metrics
	conn    *observe.Connection
	act     *actuate.Actuator
	step    *controller.Step
	loop    *controller.Loop
	ln      net.Listener

	mu           sync.Mutex
	blockedSince time.Time
	subscribed   int // SUBSCRIBED events seen, for the resubscription counter
	reconciledAt time.Time
}

// LoadSpec loads and validates a spec file; the error text lists every
// diagnostic with file:line:column and a source snippet.
func LoadSpec(path string) (*spec.Cluster, error) {
	c, src, diags := spec.LoadWithSource(path)
	if diags.HasErrors() {
		return nil, errors.New(spec.DiagnosticsText(map[string][]byte{path: src}, diags))
	}
	return c, nil
}

// New loads the spec, binds the listener and builds every part. Nothing talks
// to Mesos before Run.
func New(cfg Config) (*Framework, error) {
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	f := &Framework{cfg: cfg, log: cfg.Logger, metrics: statusapi.NewMetrics()}
	specs, err := NewSpecHolder(cfg.SpecFile, LoadSpec, time.Now, cfg.Logger.Named("spec"))
	if err != nil {
		return nil, err
	}
	f.specs = specs
	f.metrics.ObserveReload(time.Now(), true)

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", cfg.Listen, err)
	}
	f.ln = ln
	advertise := cfg.AdvertiseURL
	if advertise == "" {
		advertise = advertiseURL(ln.Addr().(*net.TCPAddr))
	}

	c := specs.Current()
	ocfg := observe.Config{
		OnOffers: func(ctx context.Context, offers []mesos.Offer) {
			f.metrics.OffersReceived.Add(float64(len(offers)))
			f.act.HandleOffers(offers)
		},
		OnRescind: func(offerID string) { f.act.HandleRescind(offerID) },
		OnStatus:  f.onSubscriptionStatus,
	}
	if cfg.Observer != nil {
		cfg.Observer(&ocfg)
	}
	hostname, _ := os.Hostname()
	conn, err := observe.Connect(c.Mesos, observe.Options{
		Logger:   cfg.Logger.Named("mesos"),
		Hostname: hostname,
		WebUIURL: advertise + "/v1/status",
		Observer: ocfg,
		Conn:     cfg.Conn,
	})
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("connecting to Mesos: %w", err)
	}
	f.conn = conn
	obs := conn.Observer

	f.act = actuate.New(actuate.Config{
		Caller: conn.Conn.Caller(),
		Logger: cfg.Logger.Named("actuate"),
		OnLaunch: func(taskID, agentID, kind, configHash string) {
			if err := obs.RecordLaunch(taskID, agentID); err != nil {
				f.log.Error("recording a launch", "task_id", taskID, "error", err)
			}
		},
		OnReport:          f.onReport,
		FrameworkHTTPBase: advertise,
		FrameworkImage:    cfg.FrameworkImage,
	})
	f.step = newStep()
	f.loop = controller.NewLoop(controller.LoopConfig{
		Spec:    specs.Current,
		Source:  obs,
		Applier: f.act,
		Step:    f.step,
		Tick:    cfg.Tick,
		OnPlan:  f.onPlan,
		Logger:  cfg.Logger.Named("controller"),
	})
	f.log.Info("framework ready", "spec", cfg.SpecFile, "spec_hash", c.Hash, "listen", ln.Addr().String(), "advertise", advertise)
	return f, nil
}

// newStep is production's Step: the wall clock, and a random source of its
// own for the backoff jitter, so that items failing together (every data
// service on a bad image) do not retry in lockstep.
func newStep() *controller.Step {
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	return controller.NewStep(controller.StepConfig{Now: time.Now, Random: rng.Float64})
}

// advertiseURL is how agents reach a listener: its own address unless it
// listens on every interface, then this host's name.
func advertiseURL(a *net.TCPAddr) string {
	host := a.IP.String()
	if a.IP == nil || a.IP.IsUnspecified() {
		if h, err := os.Hostname(); err == nil {
			host = h
		}
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(a.Port))
}

// Addr is the status API's address.
func (f *Framework) Addr() net.Addr { return f.ln.Addr() }

// Run serves the API, keeps the subscription and runs the loop until ctx
// ends. It never tears the framework down: Quobyte keeps running and the
// next start picks its tasks up.
func (f *Framework) Run(ctx context.Context) error {
	exe := f.cfg.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return fmt.Errorf("finding the prober artifact: %w", err)
		}
	}
	srv := &http.Server{
		Handler: statusapi.Handler(statusapi.Config{
			Source:  f,
			Metrics: f.metrics,
			Extra: map[string]http.Handler{
				"GET " + actuate.ProberArtifactPath: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					http.ServeFile(w, r, exe)
				}),
			},
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	statusapi.ConfigureServer(srv)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	wg.Add(3)
	go func() {
		defer wg.Done()
		if err := srv.Serve(f.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs <- fmt.Errorf("status API: %w", err)
			cancel()
		}
	}()
	go func() {
		defer wg.Done()
		if err := f.conn.Run(ctx); err != nil && ctx.Err() == nil {
			errs <- fmt.Errorf("mesos connection: %w", err)
			cancel()
		}
	}()
	go func() {
		defer wg.Done()
		_ = f.loop.Run(ctx) // returns ctx's error
	}()
	<-ctx.Done()
	shutdownCtx, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	_ = srv.Shutdown(shutdownCtx)
	wg.Wait()
	close(errs)
	return <-errs // nil when stopped by ctx
}

// Reload reads the spec file again (SIGHUP). On error the old spec stays.
func (f *Framework) Reload() error {
	old := f.specs.Current()
	next, err := f.specs.Reload()
	f.metrics.ObserveReload(time.Now(), err == nil)
	if err == nil {
		f.updateMesos(old, next)
		f.loop.Kick()
	}
	return err
}

func (f *Framework) onSubscriptionStatus(st mesosconn.Status) {
	if st.State != snapshot.Subscribed {
		// Offers die with the connection.
		f.act.Disconnected()
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if st.Subscriptions > f.subscribed {
		if f.subscribed > 0 {
			f.metrics.Resubscriptions.Add(float64(st.Subscriptions - f.subscribed))
		}
		f.subscribed = st.Subscriptions
		f.reconciledAt = time.Time{}
	}
}

func (f *Framework) onPlan(in controller.Input, r *controller.Result, _ controller.ApplyReport) {
	s := in.Snapshot
	f.metrics.ObserveSnapshot(s)
	f.metrics.ObservePlan(r)
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case len(r.Actions) == 0 && len(r.Blocked) > 0:
		if f.blockedSince.IsZero() {
			f.blockedSince = in.Now
		}
	default:
		f.blockedSince = time.Time{}
	}
	if s.Subscription.Reconciled && f.reconciledAt.IsZero() && !s.Subscription.Since.IsZero() {
		f.reconciledAt = s.Time
		f.metrics.Reconciliation.Observe(s.Time.Sub(s.Subscription.Since).Seconds())
	}
}

// onReport records what an apply did (the actuator's full report; the loop
// gets its failures and when to plan again). The actuator has already
// logged each launch, kill and waiting launch with its reason and task ID.
func (f *Framework) onReport(r actuate.Report) {
	for _, k := range r.Killed {
		f.conn.Observer.RecordKillSent(k.TaskID)
	}
	f.metrics.OffersDeclined.Add(float64(len(r.Declined)))
	used := map[string]bool{}
	for _, l := range r.Launched {
		used[l.OfferID] = true
	}
	f.metrics.OffersUsed.Add(float64(len(used)))
}

// lastInput is what the last plan was made from; before the first, the
// spec in force and the observer's snapshot now, with no holds.
func (f *Framework) lastInput() controller.Input {
	if in, r := f.loop.Last(); r != nil {
		return in
	}
	return controller.Input{Spec: f.specs.Current(), Snapshot: f.conn.Observer.Latest(), Now: time.Now()}
}

// Snapshot implements statusapi.Source: the snapshot the last plan was made
// from (the observer's own before the first plan).
func (f *Framework) Snapshot() *snapshot.Snapshot { return f.lastInput().Snapshot }

// Holds implements statusapi.Source: the holds in force when the last plan
// was made.
func (f *Framework) Holds() map[string]controller.Hold {
	in := f.lastInput()
	out := map[string]controller.Hold{}
	for item, h := range in.Holds {
		if h.Until.After(in.Now) {
			out[item] = h
		}
	}
	return out
}

// Spec implements statusapi.Source.
func (f *Framework) Spec() *spec.Cluster { return f.specs.Current() }

// Plan implements statusapi.Source.
func (f *Framework) Plan() *controller.Result {
	_, r := f.loop.Last()
	return r
}

// PlanBlockedSince implements statusapi.Source.
func (f *Framework) PlanBlockedSince() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.blockedSince
}

// LastReload implements statusapi.Source.
func (f *Framework) LastReload() statusapi.Reload { return f.specs.LastReload() }

// DryRun implements statusapi.Source: the candidate spec planned as `run`
// would plan it now, from what the last plan was made from (its snapshot,
// holds and reverts); nothing is applied.
func (f *Framework) DryRun(src []byte, filename string) (*controller.Result, error) {
	c, diags := spec.LoadBytes(src, filename)
	if diags.HasErrors() {
		return nil, statusapi.InvalidSpecError(spec.DiagnosticsText(map[string][]byte{filename: src}, diags))
	}
	return controller.Plan(f.lastInput().ForSpec(c, time.Now())), nil
}

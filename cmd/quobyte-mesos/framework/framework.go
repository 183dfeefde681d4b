package framework

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	mesos "github.com/mesos/mesos-go/api/v1/lib"

	"github.com/quobyte/quobyte-mesos/actuate"
	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/dashboard"
	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/events"
	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/statusapi"
	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/observe"
	"github.com/quobyte/quobyte-mesos/observe/leader"
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
	// Version is this binary's version, told to the other instances.
	Version string
}

// Framework is `quobyte-mesos run`: one spec, and while this instance leads
// (always without an ha block) one term: a subscription and a loop.
type Framework struct {
	cfg       Config
	log       hclog.Logger
	specs     *SpecHolder
	metrics   *statusapi.Metrics
	ln        net.Listener
	advertise string
	// elector is nil without an ha block: this instance always leads.
	elector *leader.Elector
	// events is what happened, for /v1/events and the dashboard.
	events *events.Log

	mu sync.Mutex
	// cur is the term acting now (nil while not leading); next is the one
	// New built, which checks the spec's Mesos settings before anything
	// runs, and acts without HA (with HA each leadership builds its own
	// from the spec in force then).
	cur, next    *term
	leaderTerm   *leader.Term // the leadership cur acts under (nil without HA)
	blockedSince time.Time
	subscribed   int // SUBSCRIBED events seen, for the resubscription counter
	reconciledAt time.Time
	// subState and lastSnap are the term's last subscription state and
	// planned snapshot: events tell what changed since.
	subState snapshot.SubscriptionState
	lastSnap *snapshot.Snapshot
}

// term is what acts on Mesos during one leadership: the subscription with
// its observer, the actuator and the controller loop. Each leadership gets
// a new one, which reconciles and adopts every task as a restart would.
type term struct {
	conn *observe.Connection
	act  *actuate.Actuator
	step *controller.Step
	loop *controller.Loop
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
	f := &Framework{cfg: cfg, log: cfg.Logger, metrics: statusapi.NewMetrics(), events: events.NewLog(0, nil)}
	specs, err := NewSpecHolder(cfg.SpecFile, LoadSpec, time.Now, cfg.Logger.Named("spec"))
	if err != nil {
		return nil, err
	}
	f.specs = specs
	f.metrics.ObserveReload(time.Now(), true)
	f.events.Add(reloadEvent(specs.LastReload()))

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", cfg.Listen, err)
	}
	f.ln = ln
	advertise := cfg.AdvertiseURL
	if advertise == "" {
		advertise = advertiseURL(ln.Addr().(*net.TCPAddr))
	}
	f.advertise = advertise
	c := specs.Current()
	if f.next, err = f.newTerm(); err != nil {
		ln.Close()
		return nil, err
	}
	if c.HA.Enabled() {
		u, _ := url.Parse(advertise)
		f.elector, err = leader.New(leader.Config{
			URL: c.HA.Zookeeper, Group: c.Mesos.FrameworkName, SessionTimeout: c.HA.SessionTimeout,
			Self:   leader.Member{ID: u.Host, URL: advertise, SpecHash: c.Hash, Version: cfg.Version},
			Logger: cfg.Logger.Named("leader"),
		})
		if err != nil {
			ln.Close()
			return nil, err
		}
	}
	f.log.Info("framework ready", "spec", cfg.SpecFile, "spec_hash", c.Hash, "listen", ln.Addr().String(), "advertise", advertise, "ha", c.HA.Enabled())
	return f, nil
}

// newTerm builds what acts during one leadership from the spec in force.
// Every request it makes to Mesos passes f.fence.
func (f *Framework) newTerm() (*term, error) {
	c := f.specs.Current()
	t := &term{}
	ocfg := observe.Config{
		OnOffers: func(ctx context.Context, offers []mesos.Offer) {
			f.metrics.OffersReceived.Add(float64(len(offers)))
			t.act.HandleOffers(offers)
		},
		OnRescind: func(offerID string) { t.act.HandleRescind(offerID) },
		OnStatus:  func(st mesosconn.Status) { f.onSubscriptionStatus(t, st) },
		OnFailure: func(kind, host string, end snapshot.TaskEnd) { f.events.Add(failureEvent(kind, host, end)) },
	}
	if f.cfg.Observer != nil {
		f.cfg.Observer(&ocfg)
	}
	hostname, _ := os.Hostname()
	conn, err := observe.Connect(c.Mesos, observe.Options{
		Logger:   f.cfg.Logger.Named("mesos"),
		Hostname: hostname,
		WebUIURL: f.advertise + "/v1/status",
		Observer: ocfg,
		Conn: func(mc *mesosconn.Config) {
			mc.Fence = f.fence
			if f.cfg.Conn != nil {
				f.cfg.Conn(mc)
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("connecting to Mesos: %w", err)
	}
	t.conn = conn
	obs := conn.Observer
	t.act = actuate.New(actuate.Config{
		Caller: conn.Conn.Caller(),
		Logger: f.cfg.Logger.Named("actuate"),
		OnLaunch: func(taskID, agentID, kind, configHash string) {
			if err := obs.RecordLaunch(taskID, agentID); err != nil {
				f.log.Error("recording a launch", "task_id", taskID, "error", err)
			}
		},
		OnReport:          func(r actuate.Report) { f.onReport(t, r) },
		FrameworkHTTPBase: f.advertise,
		FrameworkImage:    f.cfg.FrameworkImage,
	})
	t.step = newStep()
	t.loop = controller.NewLoop(controller.LoopConfig{
		Spec:    f.specs.Current,
		Source:  obs,
		Applier: t.act,
		Step:    t.step,
		Tick:    f.cfg.Tick,
		OnPlan:  f.onPlan,
		Logger:  f.cfg.Logger.Named("controller"),
	})
	return t, nil
}

// errNotLeading is the fence's answer while this instance does not lead.
var errNotLeading = errors.New("this instance does not lead")

// fence is asked before every request to Mesos (mesosconn's Config.Fence):
// nil only while this instance leads. Without HA it always does.
func (f *Framework) fence() error {
	if f.elector == nil {
		return nil
	}
	f.mu.Lock()
	lt := f.leaderTerm
	f.mu.Unlock()
	if lt == nil {
		return errNotLeading
	}
	return lt.Check()
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

// Run serves the API and, while this instance leads, keeps the
// subscription and runs the loop, until ctx ends. It never tears the
// framework down: Quobyte keeps running and the next start (or a standby)
// picks its tasks up.
func (f *Framework) Run(ctx context.Context) error {
	exe := f.cfg.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return fmt.Errorf("finding the prober artifact: %w", err)
		}
	}
	api := statusapi.Config{
		Source:  f,
		Metrics: f.metrics,
		Reload:  f.reloadOutcome,
		Extra: map[string]http.Handler{
			"GET " + actuate.ProberArtifactPath: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.ServeFile(w, r, exe)
			}),
		},
	}
	if f.elector != nil {
		api.HA = f.elector.Status
	}
	ui := dashboard.Config{Source: f, Events: f.events, HA: api.HA}
	api.Routes = dashboard.Routes(ui)
	f.metrics.Registry.MustRegister(dashboard.NewCollector(ui))
	srv := &http.Server{Handler: statusapi.Handler(api), ReadHeaderTimeout: 10 * time.Second}
	statusapi.ConfigureServer(srv)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := srv.Serve(f.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs <- fmt.Errorf("status API: %w", err)
			cancel()
		}
	}()
	go func() {
		defer wg.Done()
		var err error
		if f.elector == nil {
			f.metrics.ObserveLeadership(true)
			err = f.runTerm(ctx, f.takeTerm())
		} else {
			err = f.elector.Run(ctx, func(lt *leader.Term) {
				if err := f.lead(lt); err != nil {
					errs <- err
					cancel()
				}
			})
		}
		if err != nil {
			errs <- err
			cancel()
		}
	}()
	<-ctx.Done()
	shutdownCtx, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	_ = srv.Shutdown(shutdownCtx)
	wg.Wait()
	close(errs)
	return <-errs // nil when stopped by ctx
}

// takeTerm returns the term New built (without HA the only one).
func (f *Framework) takeTerm() *term {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.next
	f.next = nil
	return t
}

// lead acts for one leadership: it returns once the term has ended and
// nothing of it can reach Mesos any more (the elector gives the leadership
// up only then).
func (f *Framework) lead(lt *leader.Term) error {
	t, err := f.newTerm() // from the spec in force now
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.leaderTerm = lt
	f.mu.Unlock()
	f.metrics.ObserveLeadership(true)
	f.log.Info("leading: subscribing to Mesos and acting", "session", fmt.Sprintf("%#x", lt.Session), "spec_hash", f.specs.Current().Hash)
	f.events.Add(events.Event{Type: events.Leadership, Text: fmt.Sprintf("this instance leads (ZooKeeper session %#x): subscribing to Mesos", lt.Session)})
	err = f.runTerm(lt.Context(), t)
	f.mu.Lock()
	f.leaderTerm = nil
	f.mu.Unlock()
	f.metrics.ObserveLeadership(false)
	f.log.Warn("not leading: the subscription is closed and nothing more is sent to Mesos", "reason", lt.Err())
	f.events.Add(events.Event{Type: events.Leadership, Warning: true, Text: "this instance no longer leads: nothing more is sent to Mesos",
		Reason: fmt.Sprint(lt.Err())})
	return err
}

// runTerm runs a term until ctx ends: the subscription and the loop. It
// returns once both have stopped, or the connection's error when it
// cannot work at all.
func (f *Framework) runTerm(ctx context.Context, t *term) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f.mu.Lock()
	f.cur, f.subscribed, f.reconciledAt, f.blockedSince = t, 0, time.Time{}, time.Time{}
	f.subState, f.lastSnap = "", nil
	f.mu.Unlock()
	defer func() {
		if f.elector != nil { // a standby shows nothing of a past term
			f.mu.Lock()
			f.cur = nil
			f.mu.Unlock()
		}
	}()
	var wg sync.WaitGroup
	var connErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := t.conn.Run(ctx); err != nil && ctx.Err() == nil {
			connErr = fmt.Errorf("mesos connection: %w", err)
			cancel()
		}
	}()
	go func() {
		defer wg.Done()
		_ = t.loop.Run(ctx) // returns ctx's error
	}()
	wg.Wait()
	return connErr
}

// Reload reads the spec file again (SIGHUP). On error the old spec stays.
func (f *Framework) Reload() error {
	old := f.specs.Current()
	c, err := f.specs.Reload()
	f.metrics.ObserveReload(time.Now(), err == nil)
	f.events.Add(reloadEvent(f.specs.LastReload()))
	if err != nil {
		return err
	}
	if f.elector != nil {
		f.elector.SetSpecHash(c.Hash)
	}
	// A standby has no subscription to update: the term it may lead later
	// subscribes with the spec in force then.
	if t := f.current(); t != nil {
		t.updateMesos(old, c)
		t.loop.Kick()
	}
	return nil
}

// reloadOutcome is POST /v1/reload: Reload, and what it did.
func (f *Framework) reloadOutcome() (statusapi.Reload, error) {
	err := f.Reload()
	return f.specs.LastReload(), err
}

// current is the term acting now (nil while not leading).
func (f *Framework) current() *term {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cur
}

func (f *Framework) onSubscriptionStatus(t *term, st mesosconn.Status) {
	f.mu.Lock()
	if e, ok := subscriptionEvent(f.subState, st); ok {
		f.events.Add(e)
	}
	f.subState = st.State
	f.mu.Unlock()
	if st.State != snapshot.Subscribed {
		// Offers die with the connection.
		t.act.Disconnected()
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

func (f *Framework) onPlan(in controller.Input, r *controller.Result, rep controller.ApplyReport) {
	s := in.Snapshot
	f.metrics.ObserveSnapshot(s)
	f.metrics.ObservePlan(r)
	f.mu.Lock()
	defer f.mu.Unlock()
	evs := append(applyEvents(rep), events.Changes(f.lastSnap, s)...)
	f.events.AddN(len(evs), func(i int) events.Event { return evs[i] })
	f.lastSnap = s
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
func (f *Framework) onReport(t *term, r actuate.Report) {
	f.events.AddN(reportEvents(r))
	for _, k := range r.Killed {
		t.conn.Observer.RecordKillSent(k.TaskID)
	}
	f.metrics.OffersDeclined.Add(float64(len(r.Declined)))
	used := map[string]bool{}
	for _, l := range r.Launched {
		used[l.OfferID] = true
	}
	f.metrics.OffersUsed.Add(float64(len(used)))
}

// lastInput is what the last plan was made from; before the first, the
// spec in force and the observer's snapshot now, with no holds. ok is false
// while no term acts (a standby observes nothing).
func (f *Framework) lastInput() (in controller.Input, ok bool) {
	t := f.current()
	if t == nil {
		return controller.Input{Spec: f.specs.Current(), Now: time.Now()}, false
	}
	if in, r := t.loop.Last(); r != nil {
		return in, true
	}
	return controller.Input{Spec: f.specs.Current(), Snapshot: t.conn.Observer.Latest(), Now: time.Now()}, true
}

// Snapshot implements statusapi.Source: the snapshot the last plan was made
// from (the observer's own before the first plan).
func (f *Framework) Snapshot() *snapshot.Snapshot {
	in, _ := f.lastInput()
	return in.Snapshot
}

// Holds implements statusapi.Source: the holds in force when the last plan
// was made.
func (f *Framework) Holds() map[string]controller.Hold {
	in, _ := f.lastInput()
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
	t := f.current()
	if t == nil {
		return nil
	}
	_, r := t.loop.Last()
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
	in, ok := f.lastInput()
	if !ok {
		return nil, errNotLeading
	}
	return controller.Plan(in.ForSpec(c, time.Now())), nil
}

package statusapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/planview"
	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/observe/leader"
	"github.com/quobyte/quobyte-mesos/observe/mesosconn"
	"github.com/quobyte/quobyte-mesos/observe/probe"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

// Reload is the outcome of the last spec (re)load.
type Reload struct {
	At       time.Time `json:"at"`
	File     string    `json:"file"`
	OK       bool      `json:"ok"`
	SpecHash string    `json:"spec_hash,omitempty"`
	// Diagnostics holds every error, with file:line:column, when !OK.
	Diagnostics string `json:"diagnostics,omitempty"`
	// Changes lists, when OK, each setting the reload changed, one a line
	// (spec.DiffText: `quobyte.version: "3.4.1" -> "3.4.2"`).
	Changes string `json:"changes,omitempty"`
	// NextStart lists accepted changes a running framework cannot apply
	// ("mesos.master changes at the next start").
	NextStart []string `json:"next_start,omitempty"`
}

// errInvalidSpec marks a dry run of a spec that does not load.
var errInvalidSpec = errors.New("invalid spec")

// InvalidSpecError returns the error DryRun gives for a spec that does not
// load; its text is the diagnostics with positions.
func InvalidSpecError(diagnostics string) error {
	return fmt.Errorf("%w:\n%s", errInvalidSpec, diagnostics)
}

// Source is the framework state the API reads. Every method must be safe
// for concurrent use and return values the caller must not modify.
type Source interface {
	Snapshot() *snapshot.Snapshot // nil before the first
	// Holds are the items held back (backoff) when the last plan was made.
	Holds() map[string]controller.Hold
	Spec() *spec.Cluster
	Plan() *controller.Result // the last plan the loop made; nil before the first
	// PlanBlockedSince is when the plan last became "only blocked items"
	// (zero while it is empty or has actions to take).
	PlanBlockedSince() time.Time
	LastReload() Reload
	// DryRun plans spec source src against the current snapshot and applies
	// nothing. A spec that does not load gives InvalidSpecError.
	DryRun(src []byte, filename string) (*controller.Result, error)
}

// Config configures the HTTP handler.
type Config struct {
	Source  Source
	Metrics *Metrics
	// StuckAfter: a plan that has been only blocked for this long makes
	// /v1/health answer 503 (default 15m).
	StuckAfter time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Extra handlers mounted beside the API (e.g. /artifacts/), without
	// authentication (Mesos agents fetch them) and with ExtraWriteTimeout.
	Extra map[string]http.Handler
	// Auth guards every endpoint but /v1/health, /metrics and Extra
	// (default: NewAuth of the spec's status_api.auth_file, read from
	// Source). Endpoints added elsewhere wrap themselves with Auth.Require.
	Auth *Auth
	// MaxDryRuns bounds concurrent POST /v1/plan (default DefaultMaxDryRuns).
	MaxDryRuns int
	// HA, with several instances, returns the election as this instance
	// sees it (ha.go says what changes on instances that do not lead);
	// nil: one instance.
	HA func() leader.Status
	// Reload, if set, serves POST /v1/reload: reload the spec as SIGHUP
	// does, returning the outcome (an error when the old spec stays).
	Reload func() (Reload, error)
	// Routes are endpoints added by other packages (the dashboard), behind
	// Auth. A route for "GET /{$}" replaces the list of endpoints there.
	Routes []Route
}

// Route is an endpoint another package adds to the API.
type Route struct {
	Pattern string // as http.ServeMux takes it: "GET /v1/events"
	Handler http.Handler
	// Leader: answered by the leader; a standby forwards the request (as
	// it forwards /v1/plan).
	Leader bool
}

// Handler returns the API's HTTP handler: every endpoint, authentication
// and the body limit. Serve it from a server given ConfigureServer.
func Handler(cfg Config) http.Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.StuckAfter == 0 {
		cfg.StuckAfter = 15 * time.Minute
	}
	if cfg.MaxDryRuns <= 0 {
		cfg.MaxDryRuns = DefaultMaxDryRuns
	}
	if cfg.Auth == nil {
		cfg.Auth = NewAuth(func() string {
			if c := cfg.Source.Spec(); c != nil {
				return c.StatusAPI.AuthFile
			}
			return ""
		})
	}
	mux := http.NewServeMux()
	private := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, cfg.Auth.Require(h)) }

	// Public: Marathon's health check and Prometheus cannot authenticate.
	mux.HandleFunc("GET /v1/health", func(w http.ResponseWriter, r *http.Request) {
		var h HealthReport
		if cfg.leading() {
			h = Health(cfg.Source, cfg.Now(), cfg.StuckAfter)
			if cfg.HA != nil {
				h.Role = string(leader.Leader)
			}
		} else {
			h = standbyHealth(cfg.HA())
		}
		code := http.StatusOK
		if !h.Healthy {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, h)
	})
	if cfg.Metrics != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Metrics.Registry, promhttp.HandlerOpts{}))
	}
	for path, h := range cfg.Extra {
		mux.Handle(path, longWrites(h))
	}

	private("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		st := BuildStatus(cfg.Source, cfg.Now())
		st.HA = cfg.haStatus(st.SpecHash)
		writeJSON(w, http.StatusOK, st)
	})
	if cfg.Reload != nil {
		private("POST /v1/reload", cfg.serveReload)
	}
	private("GET /v1/plan", cfg.leaderOnly(func(w http.ResponseWriter, r *http.Request) {
		p := cfg.Source.Plan()
		if p == nil {
			writeJSON(w, http.StatusServiceUnavailable, errorBody("no plan yet: waiting for the first snapshot"))
			return
		}
		writeJSON(w, http.StatusOK, planview.NewDocument(p, cfg.Source.Snapshot(), cfg.Source.Holds()))
	}))
	dryRuns := newLimiter(cfg.MaxDryRuns)
	private("POST /v1/plan", cfg.leaderOnly(dryRuns.wrap(func(w http.ResponseWriter, r *http.Request) {
		src, err := io.ReadAll(r.Body)
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			writeJSON(w, http.StatusRequestEntityTooLarge, errorBody(fmt.Sprintf("spec larger than %d bytes", tooLarge.Limit)))
			return
		case err != nil:
			writeJSON(w, http.StatusBadRequest, errorBody("reading spec: "+err.Error()))
			return
		}
		name := r.URL.Query().Get("filename")
		if name == "" {
			name = "posted.hcl"
		}
		p, err := cfg.Source.DryRun(src, name)
		switch {
		case errors.Is(err, errInvalidSpec):
			writeJSON(w, http.StatusUnprocessableEntity, errorBody(err.Error()))
			return
		case err != nil:
			writeJSON(w, http.StatusServiceUnavailable, errorBody(err.Error()))
			return
		}
		doc := planview.NewDocument(p, cfg.Source.Snapshot(), cfg.Source.Holds())
		if cur := cfg.Source.Spec(); cur != nil && p.Spec != nil {
			doc = doc.WithMesos(mesosconn.MesosChanges(cur, p.Spec))
		}
		writeJSON(w, http.StatusOK, doc)
	})))
	private("GET /v1/snapshot", cfg.leaderOnly(func(w http.ResponseWriter, r *http.Request) {
		s := cfg.Source.Snapshot()
		if s == nil {
			writeJSON(w, http.StatusServiceUnavailable, errorBody("no snapshot yet"))
			return
		}
		writeJSON(w, http.StatusOK, s)
	}))
	root := false
	for _, rt := range cfg.Routes {
		h := rt.Handler.ServeHTTP
		if rt.Leader {
			h = cfg.leaderOnly(h)
		}
		private(rt.Pattern, h)
		root = root || rt.Pattern == "GET /{$}"
	}
	if !root {
		private("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintln(w, "quobyte-mesos: /v1/health /v1/status /v1/plan /v1/snapshot /v1/reload /metrics")
		})
	}
	return limitBody(mux)
}

func errorBody(msg string) map[string]string { return map[string]string{"error": msg} }

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client may have gone; nothing to do about it
}

// HealthReport is the body of /v1/health.
type HealthReport struct {
	Healthy bool `json:"healthy"`
	// Role and Leader, with several instances: this instance's role in the
	// election and, on a standby, the leader's URL.
	Role    string   `json:"role,omitempty"`
	Leader  string   `json:"leader,omitempty"`
	Reasons []string `json:"reasons,omitempty"`
	Summary string   `json:"summary,omitempty"`
}

// Health decides /v1/health: healthy when subscribed and the plan is empty or
// progressing (it has actions to take, or has been blocked for less than
// stuckAfter). A paused rollout is reported, but only turns unhealthy once it
// has been stuck for stuckAfter, so that Marathon does not restart a framework
// that is merely waiting for a service to become healthy.
func Health(src Source, now time.Time, stuckAfter time.Duration) HealthReport {
	var h HealthReport
	s := src.Snapshot()
	switch {
	case s == nil:
		h.Reasons = append(h.Reasons, "no snapshot yet")
	case s.Subscription.State != snapshot.Subscribed:
		h.Reasons = append(h.Reasons, fmt.Sprintf("not subscribed to Mesos (subscription %s)", s.Subscription.State))
	}
	p := src.Plan()
	if p == nil {
		h.Reasons = append(h.Reasons, "no plan yet")
	} else {
		// The document's line: never "No changes" while services do not
		// run healthy (which alone does not make the framework unhealthy).
		h.Summary = planview.NewDocument(p, s, src.Holds()).Line()
		if since := src.PlanBlockedSince(); !since.IsZero() && now.Sub(since) >= stuckAfter {
			h.Reasons = append(h.Reasons, fmt.Sprintf("plan blocked for %s:", now.Sub(since).Round(time.Second)))
			for _, b := range p.Blocked {
				h.Reasons = append(h.Reasons, fmt.Sprintf("%s %s: %s", b.Hostname, b.Kind, b.Reason))
			}
		}
	}
	h.Healthy = len(h.Reasons) == 0
	return h
}

// Status is the body of /v1/status. Its JSON is snake_case throughout.
type Status struct {
	Time         time.Time          `json:"time"`
	SpecFile     string             `json:"spec_file"`
	SpecHash     string             `json:"spec_hash"`
	State        spec.State         `json:"state"`
	Version      string             `json:"version"`
	Reload       Reload             `json:"last_reload"`
	Subscription SubscriptionStatus `json:"subscription"`
	Generation   uint64             `json:"generation"`
	Hosts        []HostStatus       `json:"hosts"`
	Upgrade      []KindProgress     `json:"upgrade"`
	Backoffs     []BackoffStatus    `json:"backoffs"`
	Plan         *planview.Summary  `json:"plan,omitempty"`
	// PlanLine is the plan's summary line, with the services not running
	// healthy ("No changes to make, but 2 of 13 services are not running
	// healthy.").
	PlanLine string `json:"plan_line,omitempty"`
	// Services says how many services run and which do not run healthy,
	// and why.
	Services planview.ServiceHealth `json:"service_health"`
	// HA is the leader election, with several instances (ha.go).
	HA *HAStatus `json:"ha,omitempty"`
}

// SubscriptionStatus is the Mesos subscription (snapshot.Subscription,
// whose JSON is the snapshot file's format, in the status's style).
type SubscriptionStatus struct {
	State           snapshot.SubscriptionState `json:"state"`
	FrameworkID     string                     `json:"framework_id"`
	Master          string                     `json:"master"`
	Since           time.Time                  `json:"since"`
	Reconciled      bool                       `json:"reconciled"`
	Resubscriptions int                        `json:"resubscriptions"`
}

// HostStatus is one agent's row of the hosts x services table.
type HostStatus struct {
	AgentID        string                   `json:"agent_id"`
	Hostname       string                   `json:"hostname"`
	Reachable      bool                     `json:"reachable"`
	ProbeAge       string                   `json:"probe_age,omitempty"`
	Devices        []probe.Device           `json:"devices"`
	Rejected       []probe.Rejected         `json:"rejected,omitempty"`
	Services       map[string][]TaskSummary `json:"services"`
	ClientMountDir bool                     `json:"client_mount_point,omitempty"`
}

// TaskSummary is one task in a host's row.
type TaskSummary struct {
	TaskID  string             `json:"task_id"`
	State   snapshot.TaskState `json:"state"`
	Healthy *bool              `json:"healthy,omitempty"`
	Config  string             `json:"config"`
	Current bool               `json:"current"` // config matches the spec
	Reason  string             `json:"reason,omitempty"`
}

// KindProgress is the rollout progress of one kind.
type KindProgress struct {
	Kind     string `json:"kind"`
	Live     int    `json:"live"`
	Current  int    `json:"current"`
	Outdated int    `json:"outdated"`
}

// BackoffStatus is one item held back after failures.
type BackoffStatus struct {
	Item      string    `json:"item"`
	Failures  int       `json:"failures"`
	Until     time.Time `json:"until"`
	LastError string    `json:"last_error,omitempty"`
}

// BuildStatus assembles /v1/status from the source.
func BuildStatus(src Source, now time.Time) Status {
	c := src.Spec()
	st := Status{Time: now, Reload: src.LastReload(), Hosts: []HostStatus{}, Upgrade: []KindProgress{}, Backoffs: []BackoffStatus{}}
	if c != nil {
		st.SpecFile, st.SpecHash, st.State, st.Version = c.File, c.Hash, c.Quobyte.State, c.Quobyte.Version
	}
	s := src.Snapshot()
	holds := src.Holds()
	st.Services = planview.CheckServices(c, s, holds)
	if p := src.Plan(); p != nil {
		doc := planview.NewDocument(p, s, holds)
		st.Plan, st.PlanLine = &doc.Summary, doc.Line()
	}
	if s == nil {
		return st
	}
	sub := s.Subscription
	st.Subscription = SubscriptionStatus{State: sub.State, FrameworkID: sub.FrameworkID, Master: sub.Master,
		Since: sub.Since, Reconciled: sub.Reconciled, Resubscriptions: sub.Resubscriptions}
	st.Generation = s.Generation
	hostIdx := map[string]int{}
	for _, a := range s.Agents {
		h := HostStatus{AgentID: a.ID, Hostname: a.Hostname, Reachable: a.Reachable, Devices: []probe.Device{}, Services: map[string][]TaskSummary{}}
		if a.Probe != nil {
			h.ProbeAge = now.Sub(a.Probe.ReceivedAt).Round(time.Second).String()
			h.Devices = a.Probe.Report.Devices
			h.Rejected = a.Probe.Report.Rejected
			h.ClientMountDir = a.Probe.Report.ClientMountPoint
		}
		hostIdx[a.ID] = len(st.Hosts)
		st.Hosts = append(st.Hosts, h)
	}
	progress := map[string]*KindProgress{}
	for _, t := range s.Tasks {
		current := true
		if c != nil {
			if svc := c.Service(spec.Kind(t.Kind)); svc != nil {
				current = svc.ConfigHash == t.Config
			}
		}
		if i, ok := hostIdx[t.AgentID]; ok && !t.State.Terminal() {
			st.Hosts[i].Services[t.Kind] = append(st.Hosts[i].Services[t.Kind],
				TaskSummary{TaskID: t.ID, State: t.State, Healthy: t.Healthy, Config: t.Config, Current: current, Reason: t.Reason})
		}
		if t.State.Terminal() {
			continue
		}
		kp := progress[t.Kind]
		if kp == nil {
			kp = &KindProgress{Kind: t.Kind}
			progress[t.Kind] = kp
		}
		kp.Live++
		if current {
			kp.Current++
		} else {
			kp.Outdated++
		}
	}
	for _, kp := range progress {
		st.Upgrade = append(st.Upgrade, *kp)
	}
	sort.Slice(st.Upgrade, func(i, j int) bool { return st.Upgrade[i].Kind < st.Upgrade[j].Kind })
	for item, b := range holds {
		st.Backoffs = append(st.Backoffs, BackoffStatus{Item: item, Failures: b.Failures, Until: b.Until, LastError: b.LastError})
	}
	sort.Slice(st.Backoffs, func(i, j int) bool { return st.Backoffs[i].Item < st.Backoffs[j].Item })
	return st
}

package mesosconn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/hashicorp/go-hclog"
	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/encoding/codecs"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli/httpsched"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"

	"github.com/quobyte/quobyte-mesos/internal/wait"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/observe/zkmaster"
)

// ErrNotSubscribed is returned by the Caller while no subscription is up.
var ErrNotSubscribed = errors.New("mesos: not subscribed (calls resume after resubscription)")

// ErrFenced marks a request that Config.Fence stopped unsent.
var ErrFenced = errors.New("mesos: request not sent: this instance may not act")

// ErrFailedOver marks a subscription ended because another scheduler
// instance subscribed with the same framework ID (Mesos' "Framework failed
// over"). Run waits MaxBackoff before resubscribing after it.
var ErrFailedOver = errors.New("another scheduler instance took over the framework")

// stableAfter: a subscription that lasted this long resets the
// resubscription backoff; shorter ones keep growing it, so a master that
// accepts and drops at once is not hammered.
const stableAfter = 10 * time.Second

// Status is the subscription's state, for the snapshot and for logs.
type Status struct {
	State snapshot.SubscriptionState
	// FrameworkID is the ID in use (known before the first SUBSCRIBED when
	// loaded from the store).
	FrameworkID string
	// Master is the leader's base URL while subscribing or subscribed.
	Master string
	// Since is when State was entered.
	Since time.Time
	// Subscriptions counts SUBSCRIBED events; every one after the first is
	// a resubscription.
	Subscriptions int
	// Heartbeat is the master's heartbeat interval (0 until subscribed).
	Heartbeat time.Duration
	// LastError says why the last subscription ended or failed.
	LastError string
}

// Handler receives what the subscription brings. Both methods are called
// from Run's goroutine, one at a time, in stream order; they should not
// block for long (the watchdog counts time spent in them as silence).
type Handler interface {
	// HandleStatus is called on every change of Status. Subscribed is
	// reported after the framework ID is persisted and the Caller works.
	HandleStatus(Status)
	// HandleEvent is called for every event of a subscription, SUBSCRIBED
	// and HEARTBEAT included, after SUBSCRIBED has been handled.
	HandleEvent(ctx context.Context, ev *scheduler.Event)
}

// Conn keeps one framework subscribed. Create it with New, call Run once.
type Conn struct {
	cfg    Config
	secret string
	http   *http.Client
	tls    *tls.Config // for https masters
	log    hclog.Logger
	now    func() time.Time

	mu      sync.Mutex
	status  Status
	session *session // nil while not subscribed
	stored  string   // the framework ID the store is known to hold
	leader  zkmaster.Leader
	// leaderChanged is closed (and replaced) when leader changes: a
	// broadcast to everyone waiting.
	leaderChanged chan struct{}
	// tornDown is set while a TEARDOWN call is made and stays set once it
	// succeeded: the master closes the stream and Run ends instead of
	// resubscribing.
	tornDown bool
}

// session is one live subscription.
type session struct {
	// pipe sends its calls; nil where a proxy stands between us and the
	// master, and calls then go through mesos-go's caller.
	pipe        *pipeline
	caller      calls.Caller
	frameworkID string
	cancel      context.CancelFunc
}

// call sends a call other than SUBSCRIBE on the subscription, its wait for
// the answer bounded by timeout (the pipeline's watch bounds it for
// pipelined calls).
func (s *session) call(ctx context.Context, call *scheduler.Call, timeout time.Duration) (mesos.Response, error) {
	if s.pipe != nil {
		return s.pipe.Call(ctx, call)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel() // scheduler calls other than SUBSCRIBE answer 202 with no body
	return s.caller.Call(ctx, call)
}

// New checks cfg and reads the secret and CA files.
func New(cfg Config) (*Conn, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	secret, err := readSecret(cfg.SecretFile)
	if err != nil {
		return nil, err
	}
	if secret != "" && cfg.Framework.Principal == "" {
		return nil, errors.New("mesos connection: a secret file needs a principal")
	}
	tc, err := tlsConfig(cfg.CAFile)
	if err != nil {
		return nil, err
	}
	return &Conn{
		cfg:           cfg,
		secret:        secret,
		http:          newHTTPClient(tc),
		tls:           tc,
		log:           cfg.Logger.Named("mesos"),
		now:           time.Now,
		status:        Status{State: snapshot.Disconnected, Since: time.Now()},
		leaderChanged: make(chan struct{}, 1),
	}, nil
}

// SetClock replaces the clock used for Status.Since (tests).
func (c *Conn) SetClock(now func() time.Time) { c.now = now }

func newHTTPClient(tc *tls.Config) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			TLSClientConfig:       tc,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: 15 * time.Second,
			// SUBSCRIBE, and every call where a proxy stands between us
			// and the master (no pipelining then): bound the connections
			// that the actuator's many calls in flight would open, and
			// keep them alive between plans.
			MaxConnsPerHost:     16,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     90 * time.Second,
		},
		// Redirects are the pinnedDoer's business: see the 307 here.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Status returns the current subscription status.
func (c *Conn) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// Caller returns a Caller bound to whatever subscription is current: calls
// go to the leader with the subscription's stream ID and get the framework
// ID filled in when they lack one. While disconnected they fail with
// ErrNotSubscribed. A failing call never ends the subscription, except the
// master's own signs that it is over (307: leader changed; 403: not
// subscribed), after which Run resubscribes.
//
// Each call is bounded by Config.CallTimeout. Close a returned non-nil
// Response.
func (c *Conn) Caller() calls.Caller { return calls.CallerFunc(c.call) }

func (c *Conn) call(ctx context.Context, call *scheduler.Call) (mesos.Response, error) {
	if call.GetType() == scheduler.Call_SUBSCRIBE {
		return nil, errors.New("mesos: SUBSCRIBE is Conn.Run's business")
	}
	c.mu.Lock()
	s := c.session
	c.mu.Unlock()
	if s == nil {
		return nil, fmt.Errorf("mesos %s: %w", call.GetType(), ErrNotSubscribed)
	}
	if call.FrameworkID == nil {
		cp := *call
		cp.FrameworkID = &mesos.FrameworkID{Value: s.frameworkID}
		call = &cp
	}
	teardown := call.GetType() == scheduler.Call_TEARDOWN
	if teardown {
		// Set before the call: the master may close the stream before its
		// answer arrives.
		c.setTornDown(true)
	}
	resp, err := s.call(ctx, call, c.cfg.CallTimeout)
	if err != nil {
		if teardown {
			c.setTornDown(false)
		}
		return resp, fmt.Errorf("mesos %s: %w", call.GetType(), err)
	}
	return resp, nil
}

func (c *Conn) setTornDown(v bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tornDown = v
}

func (c *Conn) isTornDown() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tornDown
}

// Resubscribe drops the current subscription (if any); Run subscribes anew.
func (c *Conn) Resubscribe() {
	c.mu.Lock()
	s := c.session
	c.mu.Unlock()
	if s != nil {
		s.cancel()
	}
}

func (c *Conn) setStatus(h Handler, f func(*Status)) {
	c.mu.Lock()
	old := c.status
	f(&c.status)
	if c.status.State != old.State {
		c.status.Since = c.now()
	}
	st := c.status
	c.mu.Unlock()
	h.HandleStatus(st)
}

// Run keeps the framework subscribed until ctx ends, feeding h. It returns
// nil when ctx ends or the subscription ends after a successful TEARDOWN
// (the master closes the stream of a framework it removed), or an error
// when the configuration cannot work at all (a bad zk URL).
func (c *Conn) Run(ctx context.Context, h Handler) error {
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = c.cfg.InitialBackoff
	bo.MaxInterval = c.cfg.MaxBackoff
	bo.RandomizationFactor = 0.3
	bo.MaxElapsedTime = 0 // never give up
	bo.Reset()

	// Rule 1: never subscribe without the stored framework ID.
	for {
		id, err := c.cfg.Store.Load(ctx)
		if err == nil {
			c.mu.Lock()
			c.stored = id
			c.status.FrameworkID = id
			c.mu.Unlock()
			if id != "" {
				c.log.Info("framework id loaded", "framework_id", id)
			}
			break
		}
		d := bo.NextBackOff()
		c.log.Error("cannot load the framework id; retrying", "error", err, "in", d)
		if !wait.Sleep(ctx, d) {
			return nil
		}
	}
	bo.Reset()

	useZK := c.cfg.ZK != ""
	if useZK {
		leaders, err := zkmaster.Watch(ctx, c.cfg.ZK, c.log)
		if err != nil {
			return fmt.Errorf("mesos connection: %w", err)
		}
		go func() {
			for l := range leaders {
				c.mu.Lock()
				c.leader = l
				close(c.leaderChanged)
				c.leaderChanged = make(chan struct{})
				c.mu.Unlock()
			}
		}()
	}

	next := 0
	for ctx.Err() == nil {
		var master string
		if useZK {
			master = c.waitLeader(ctx)
			if master == "" {
				return nil
			}
		} else {
			master = strings.TrimRight(c.cfg.Masters[next%len(c.cfg.Masters)], "/")
		}
		lasted, err := c.subscribeOnce(ctx, master, h)
		if ctx.Err() != nil {
			break
		}
		if c.isTornDown() {
			c.log.Info("framework torn down; subscription closed", "master", master)
			break
		}
		if lasted == 0 {
			next++ // never subscribed there: try the next master
		}
		if lasted >= stableAfter {
			bo.Reset()
		}
		d := bo.NextBackOff()
		if errors.Is(err, ErrFailedOver) {
			// Another instance subscribed under our framework ID. Taking
			// it back at once would make two instances steal the
			// subscription from each other; wait the longest delay.
			d = c.cfg.MaxBackoff
		}
		var newLeader <-chan struct{}
		if useZK {
			// ZooKeeper names the leader: once it names another one (a
			// crashed master's successor), subscribe there at once
			// rather than waiting out a backoff grown against the old.
			var l string
			l, newLeader = c.leaderURL()
			if l != "" && !strings.EqualFold(l, master) {
				d = 0
			}
		}
		c.log.Warn("subscription ended; resubscribing", "master", master, "error", err, "in", d)
		c.setStatus(h, func(s *Status) {
			s.State = snapshot.Disconnected
			s.Master = ""
			s.LastError = errString(err)
		})
		if !wait.SleepOrSignal(ctx, d, newLeader) {
			break
		}
	}
	c.setStatus(h, func(s *Status) { s.State = snapshot.Disconnected; s.Master = "" })
	return nil
}

// leaderURL returns the ZooKeeper leader's URL ("" while there is none)
// and a channel closed when it changes.
func (c *Conn) leaderURL() (string, <-chan struct{}) {
	scheme := "http"
	if c.cfg.CAFile != "" {
		scheme = "https"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.leader.IsZero() {
		return "", c.leaderChanged
	}
	return c.leader.URL(scheme), c.leaderChanged
}

// waitLeader returns the ZooKeeper leader's URL once there is one, or "" when
// ctx ends.
func (c *Conn) waitLeader(ctx context.Context) string {
	for {
		l, changed := c.leaderURL()
		if l != "" {
			return l
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ""
		}
	}
}

// subscribeOnce runs one subscription to master until it ends. lasted is
// how long it was subscribed (0: SUBSCRIBED never arrived).
func (c *Conn) subscribeOnce(ctx context.Context, master string, h Handler) (lasted time.Duration, err error) {
	mu, err := url.Parse(master)
	if err != nil {
		return 0, fmt.Errorf("master %q: %w", master, err)
	}
	doer := newPinnedDoer(c.http, mu, c.cfg.Framework.Principal, c.secret, c.cfg.Fence)
	cli := httpcli.New(
		httpcli.Endpoint(master+"/api/v1/scheduler"),
		// Protobuf always: the JSON decoder fails on enum values it does
		// not know, and masters newer than mesos-go send some.
		httpcli.Codec(codecs.ByMediaType[codecs.MediaTypeProtobuf]),
		httpcli.Do(doer.Do),
	)
	caller := httpsched.NewCaller(cli,
		// An empty candidate makes call errors come back as they are
		// instead of being taken for "no master" (which would end the
		// subscription on, say, a 400 to a DECLINE).
		httpsched.EndpointCandidates(func() string { return "" }),
		// The doer follows SUBSCRIBE redirects; a 307 reaching mesos-go is
		// a redirect loop, not worth its own retries.
		httpsched.MaxRedirects(0),
	)

	sctx, cancel := context.WithCancel(ctx)
	defer cancel()

	c.mu.Lock()
	id := c.status.FrameworkID
	info := c.cfg.Framework.frameworkInfo(id) // UpdateFramework may change it
	c.mu.Unlock()
	c.setStatus(h, func(s *Status) { s.State = snapshot.Subscribing; s.Master = master })

	resp, err := caller.Call(sctx, calls.Subscribe(info))
	if err != nil {
		return 0, fmt.Errorf("subscribe to %s: %w", master, err)
	}
	defer resp.Close()

	// Heartbeat watchdog: silence for WatchdogIntervals heartbeats ends the
	// subscription (a half-open TCP connection otherwise hangs forever).
	var silent atomic.Bool
	heartbeat := c.cfg.Heartbeat
	timeout := func() time.Duration { return time.Duration(c.cfg.WatchdogIntervals) * heartbeat }
	watchdog := time.AfterFunc(timeout(), func() { silent.Store(true); cancel() })
	defer watchdog.Stop()

	// Leader change (ZooKeeper): the old leader's stream may linger; drop it.
	if c.cfg.ZK != "" {
		go func() {
			for {
				c.mu.Lock()
				l, changed := c.leader, c.leaderChanged
				c.mu.Unlock()
				if l.IsZero() || !strings.EqualFold(l.URL(mu.Scheme), master) {
					c.log.Info("leading master changed; dropping subscription", "old", master, "new", l.String())
					cancel()
					return
				}
				select {
				case <-sctx.Done():
					return
				case <-changed:
				}
			}
		}()
	}

	var subscribedAt time.Time
	defer func() {
		c.mu.Lock()
		c.session = nil
		c.mu.Unlock()
		if !subscribedAt.IsZero() {
			lasted = max(c.now().Sub(subscribedAt), time.Nanosecond)
		}
		if silent.Load() {
			err = fmt.Errorf("no event from %s for %v (%d heartbeat intervals): %w", doer.leader(), timeout(), c.cfg.WatchdogIntervals, err)
		}
	}()

	for {
		var ev scheduler.Event
		if err := resp.Decode(&ev); err != nil {
			return lasted, fmt.Errorf("event stream from %s: %w", doer.leader(), err)
		}
		watchdog.Reset(timeout())

		switch ev.GetType() {
		case scheduler.Event_SUBSCRIBED:
			sub := ev.GetSubscribed()
			newID := sub.GetFrameworkID().GetValue()
			if newID == "" {
				return lasted, fmt.Errorf("SUBSCRIBED from %s without a framework ID", doer.leader())
			}
			if hb := sub.GetHeartbeatIntervalSeconds(); hb > 0 {
				heartbeat = time.Duration(hb * float64(time.Second))
				watchdog.Reset(timeout())
			}
			// Rule 2: persist the framework ID before relying on it.
			if err := c.persist(ctx, newID); err != nil {
				return lasted, err
			}
			// Rule 3: only now may calls go out under this subscription.
			pipe := c.newPipeline(doer, mu.Path, cancel)
			if pipe != nil {
				defer pipe.close()
			}
			c.mu.Lock()
			c.session = &session{pipe: pipe, caller: caller, frameworkID: newID, cancel: cancel}
			c.mu.Unlock()
			subscribedAt = c.now()
			c.log.Info("subscribed", "master", doer.leader(), "framework_id", newID, "heartbeat", heartbeat)
			c.setStatus(h, func(s *Status) {
				s.State = snapshot.Subscribed
				s.FrameworkID = newID
				s.Master = doer.leader()
				s.Subscriptions++
				s.Heartbeat = heartbeat
			})
		case scheduler.Event_ERROR:
			// Mesos says: resubscribe. mesos-go has already dropped the
			// stream's state; let the handler see it, then end.
			h.HandleEvent(ctx, &ev)
			msg := ev.GetError().GetMessage()
			if strings.Contains(msg, "removed") || strings.Contains(msg, "completed") {
				// Resubscribing under this ID will fail forever; only an
				// operator may decide to register a new framework.
				c.log.Error("mesos no longer knows this framework; remove the stored framework id to register anew",
					"framework_id", id, "message", msg)
			}
			if strings.Contains(msg, "failed over") {
				return lasted, fmt.Errorf("ERROR event from %s: %s: %w", doer.leader(), msg, ErrFailedOver)
			}
			return lasted, fmt.Errorf("ERROR event from %s: %s", doer.leader(), msg)
		}
		if subscribedAt.IsZero() {
			c.log.Warn("ignoring event before SUBSCRIBED", "type", ev.GetType().String())
			continue
		}
		h.HandleEvent(ctx, &ev)
	}
}

// newPipeline returns the pipelined call path to the leader doer is pinned
// to, or nil where the HTTP client would go through a proxy to it
// (HTTP_PROXY and friends): pipelining through a proxy is not to be relied
// on, and net/http speaks to proxies.
func (c *Conn) newPipeline(doer *pinnedDoer, path string, lost func()) *pipeline {
	leader, err := url.Parse(doer.leader())
	if err != nil {
		return nil
	}
	if t, ok := c.http.Transport.(*http.Transport); ok && t.Proxy != nil {
		if proxy, err := t.Proxy(&http.Request{URL: leader}); err != nil || proxy != nil {
			return nil
		}
	}
	cfg := pipelineConfig{
		Host:     leader.Host,
		Path:     strings.TrimRight(path, "/") + "/api/v1/scheduler",
		StreamID: doer.stream(),
		User:     c.cfg.Framework.Principal,
		Password: c.secret,
		Fence:    c.cfg.Fence,
		Lost:     lost,
		Timeout:  c.cfg.CallTimeout,
	}
	if leader.Scheme == "https" {
		cfg.TLS = c.tls
	}
	return newPipeline(cfg)
}

// persist saves id unless the store already holds it. On failure the ID is
// kept in memory (the next SUBSCRIBE reuses it, so no second framework is
// registered) and the caller drops the subscription.
func (c *Conn) persist(ctx context.Context, id string) error {
	c.mu.Lock()
	stored := c.stored
	c.status.FrameworkID = id
	c.mu.Unlock()
	if stored == id {
		return nil
	}
	sctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
	defer cancel()
	if err := c.cfg.Store.Save(sctx, id); err != nil {
		return fmt.Errorf("persist framework id %s (not relying on it until saved): %w", id, err)
	}
	c.mu.Lock()
	c.stored = id
	c.mu.Unlock()
	c.log.Info("framework id persisted", "framework_id", id)
	return nil
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

package actuate

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"

	"github.com/quobyte/quobyte-mesos/controller"
)

// The Actuator is the controller loop's Applier.
var _ controller.Applier = (*Actuator)(nil)

// Defaults for Config's durations.
const (
	// defaultRefuse keeps declined offers away for an hour: when we need
	// them again we REVIVE, which clears every filter.
	defaultRefuse = time.Hour
	// defaultPendingRefuse is the filter on offers from an agent a launch
	// still waits for: resources freed there come back soon.
	defaultPendingRefuse = 5 * time.Second
	// defaultGatedHold: how long after the plan became gated (a new
	// subscription waiting for its reconciliation) offers are held rather
	// than declined. See Config.GatedHold.
	defaultGatedHold = 15 * time.Second
	// defaultReviveMinInterval spaces REVIVEs (each one makes the master
	// re-offer every agent to us).
	defaultReviveMinInterval = time.Second
	// defaultKillRetryInterval spaces re-sent KILLs of one task: a kill can
	// be lost, but the task needs its kill grace period to stop.
	defaultKillRetryInterval = 10 * time.Second
	// defaultCallConcurrency bounds the calls an Apply has in flight. The
	// calls are pipelined (mesosconn): the more are in flight, the more
	// share one write and one read, and a master across a network costs
	// one round trip per batch rather than per call. Measured
	// (BenchmarkApply_5000Accepts_FrameworkSide, 2 shared cores), 5,000
	// ACCEPTs: 8 in flight 0.29-0.35 s on loopback, 1.5-2.0 s to a master
	// 1 ms away; 64 in flight 76-84 ms and 0.28-0.30 s; 256 in flight
	// 84-87 ms (75-78 ms of CPU) and 113-132 ms.
	defaultCallConcurrency = 256
	// defaultDiscoveryInterval: while suppressed, REVIVE this often anyway,
	// since offers are how we learn of new agents.
	defaultDiscoveryInterval = 5 * time.Minute
)

// Config configures an Actuator. Zero durations take the defaults.
type Config struct {
	// Caller sends calls on the current subscription (mesosconn.Conn.Caller).
	Caller calls.Caller
	// FrameworkID, if set, fills in calls' framework ID (the Caller of
	// mesosconn does it anyway).
	FrameworkID func() string
	Logger      hclog.Logger
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// NewSuffix returns a unique task ID suffix ([a-z0-9], no '.'); random
	// if nil. Task IDs are never reused, so it must never repeat.
	NewSuffix func() string
	// OnLaunch is told of every task an ACCEPT carried, as the ACCEPT's
	// answer comes and before Apply returns, so the observer records it as
	// Launching. It is called from several goroutines at once.
	OnLaunch func(taskID, agentID, kind, configHash string)
	// OnReport, if set, sees the full report of every Apply before Apply
	// returns (kills sent, offers used and declined: for the observer and
	// metrics).
	OnReport func(Report)

	// FrameworkHTTPBase and FrameworkImage: see taskParams.
	FrameworkHTTPBase string
	FrameworkImage    string

	// Refuse is the filter on declined offers nothing waits for (default
	// 1h), and on what a launch leaves of an offer; PendingRefuse the one
	// on offers from agents a launch waits for (default 5s). What a
	// prober's launch leaves is not filtered (see launch).
	Refuse        time.Duration
	PendingRefuse time.Duration
	// GatedHold: while a plan is gated (a new subscription before its
	// reconciliation), offers are held, not declined, for this long after
	// the gate began (default 15s; < 0: never). The first plan after
	// reconciliation then launches on them at once: declined, they would
	// come back only after a REVIVE, and the REVIVE that the launches after
	// the probers' reports need would then wait out ReviveMinInterval
	// (test/scale: a fresh cluster converged about one allocation interval
	// later at every size). A gate that lasts longer (a failed-over master
	// waiting for its agents) declines them with PendingRefuse, as before,
	// so that other frameworks are not kept from them.
	GatedHold         time.Duration
	ReviveMinInterval time.Duration
	KillRetryInterval time.Duration
	// CallConcurrency is how many ACCEPT, KILL and MESSAGE calls an Apply
	// has in flight at once (default 256; 1 sends them one after another).
	// The Caller should pipeline them (mesosconn's does).
	CallConcurrency int
	// DiscoveryInterval < 0 disables the discovery REVIVE.
	DiscoveryInterval time.Duration
}

// Actuator applies plans to Mesos. HandleOffers, HandleRescind and
// Disconnected may be called from the event goroutine while Apply runs;
// Applies are serialized.
type Actuator struct {
	cfg Config
	log hclog.Logger

	applyMu sync.Mutex // one Apply at a time

	mu     sync.Mutex // guards what follows
	offers map[string]*heldOffer
	epoch  uint64 // +1 on every Disconnected
	offerState
	killSent map[string]time.Time // task ID -> last KILL we sent
}

// offerState is what we asked Mesos about offers on this subscription.
type offerState struct {
	// offered: an offer arrived on this subscription. Until then the
	// framework has not seen the cluster (offers are how agents become
	// known), so an empty plan does not mean "converged".
	offered      bool
	suppressed   bool
	suppressedAt time.Time
	lastRevive   time.Time
	// lastProbers: when an Apply last launched probers.
	lastProbers time.Time
	// gatedSince: when the plans became gated (zero: not gated).
	gatedSince time.Time
}

type heldOffer struct {
	offer mesos.Offer
	// seen: an Apply has already had the chance to use it.
	seen bool
}

// New returns an Actuator with cfg's zero fields defaulted.
func New(cfg Config) *Actuator {
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NewSuffix == nil {
		cfg.NewSuffix = randomSuffix
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&cfg.Refuse, defaultRefuse)
	def(&cfg.PendingRefuse, defaultPendingRefuse)
	def(&cfg.GatedHold, defaultGatedHold)
	def(&cfg.ReviveMinInterval, defaultReviveMinInterval)
	def(&cfg.KillRetryInterval, defaultKillRetryInterval)
	def(&cfg.DiscoveryInterval, defaultDiscoveryInterval)
	if cfg.CallConcurrency <= 0 {
		cfg.CallConcurrency = defaultCallConcurrency
	}
	return &Actuator{
		cfg:      cfg,
		log:      cfg.Logger.Named("actuate"),
		offers:   map[string]*heldOffer{},
		killSent: map[string]time.Time{},
	}
}

// HandleOffers stores offers until a plan uses or declines them.
func (a *Actuator) HandleOffers(offers []mesos.Offer) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, o := range offers {
		a.offers[o.ID.Value] = &heldOffer{offer: o}
	}
	if len(offers) > 0 {
		a.offerState.offered = true
	}
}

// HandleRescind forgets an offer the master took back.
func (a *Actuator) HandleRescind(offerID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.offers, offerID)
}

// Disconnected forgets everything that dies with the subscription: its
// offers, and SUPPRESS (a new subscription starts unsuppressed).
func (a *Actuator) Disconnected() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.offers = map[string]*heldOffer{}
	a.offerState = offerState{lastRevive: a.lastRevive}
	a.epoch++
}

// randomSuffix is 13 base32 characters of crypto randomness (65 bits).
func randomSuffix() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	return strings.ToLower(base32.HexEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

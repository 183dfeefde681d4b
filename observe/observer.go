package observe

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"

	"github.com/quobyte/quobyte-mesos/observe/mesosconn"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/observe/taskid"
)

// Config wires an Observer.
type Config struct {
	// Caller sends ACKNOWLEDGE and RECONCILE (mesosconn.Conn.Caller()).
	Caller calls.Caller
	// Now is the only time source (default time.Now).
	Now func() time.Time
	// Logger; nil: none.
	Logger hclog.Logger
	// OnOffers hands every OFFERS event's offers to the actuator, after the
	// agents they describe are in the published snapshot. Called from the
	// event goroutine: keep it short.
	OnOffers func(ctx context.Context, offers []mesos.Offer)
	// OnRescind tells the actuator an offer is gone.
	OnRescind func(offerID string)
	// OnStatus, if set, sees every subscription status change (offers die
	// with the connection: the actuator forgets them on Disconnected).
	OnStatus func(mesosconn.Status)
	// OnFailure, if set, is told of every failure the observer counts in
	// Snapshot.Items (host: the agent's hostname, or its ID), as it is
	// logged. It is called with the observer's lock held: it must return
	// quickly and must not call the Observer.
	OnFailure func(kind, host string, end snapshot.TaskEnd)

	// ReconcileInitial and ReconcileMax bound the retry delay of explicit
	// reconciliation (defaults 2s, 1m).
	ReconcileInitial, ReconcileMax time.Duration
	// ImplicitSettle: after implicit reconciliation, Reconciled turns true
	// once no answer came for this long (default 3s). Mesos does not say
	// when it has answered for every task.
	ImplicitSettle time.Duration
	// ImplicitEvery is the period of implicit reconciliation (default 10m).
	ImplicitEvery time.Duration
	// TerminalRetention: terminal tasks stay in the snapshot this long
	// after their last update, then are forgotten (default 15m).
	TerminalRetention time.Duration
}

func (c *Config) setDefaults() {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = hclog.NewNullLogger()
	}
	if c.ReconcileInitial <= 0 {
		c.ReconcileInitial = 2 * time.Second
	}
	if c.ReconcileMax <= 0 {
		c.ReconcileMax = time.Minute
	}
	if c.ImplicitSettle <= 0 {
		c.ImplicitSettle = 3 * time.Second
	}
	if c.ImplicitEvery <= 0 {
		c.ImplicitEvery = 10 * time.Minute
	}
	if c.TerminalRetention <= 0 {
		c.TerminalRetention = 15 * time.Minute
	}
}

// Observer holds the observed state and publishes snapshots of it. It
// implements mesosconn.Handler.
type Observer struct {
	cfg Config
	log hclog.Logger

	mu sync.Mutex
	// agents and tasks hold immutable values: a change stores a modified
	// copy, so published snapshots can share them.
	agents map[string]*snapshot.Agent
	tasks  map[string]*snapshot.Task
	meta   map[string]taskMeta
	// items counts failures per item; a snapshot gets a copy when it
	// changed (itemsChanged).
	items        map[string]snapshot.ItemHistory
	itemsChanged bool
	// changedAgents and changedTasks name what changed since the last
	// snapshot: the next one is built from the last by applying just that.
	changedAgents, changedTasks map[string]struct{}
	sub                         snapshot.Subscription
	subs                        int // mesosconn subscriptions seen (to notice a new one)
	gen                         uint64
	dirty                       bool
	rec                         reconcileState
	reconciledOnce              bool // a reconciliation round ended: tasks are known

	// latest is the last snapshot built; a new one is built by Latest when
	// dirty (see publish).
	latest  *snapshot.Snapshot
	changed chan struct{}
	acks    chan ack
	wake    chan struct{}
}

// taskMeta is what the observer keeps about a task beyond the snapshot.
type taskMeta struct {
	// lastAgentTS is the timestamp of the newest agent or executor update.
	lastAgentTS float64
	// recent holds the uuids of the last updates applied (a repeat of one
	// is ignored).
	recent []string
	// longestHealthy is the longest healthy streak that has ended (a new
	// streak starts at Task.HealthySince).
	longestHealthy time.Duration
}

// recentUUIDs bounds taskMeta.recent: Mesos resends one update at a time
// per task, so a repeat is of one of the last few.
const recentUUIDs = 8

func (m *taskMeta) seen(uuid []byte) bool {
	if len(uuid) == 0 {
		return false
	}
	for _, u := range m.recent {
		if u == string(uuid) {
			return true
		}
	}
	return false
}

func (m *taskMeta) remember(uuid []byte) {
	if len(uuid) == 0 {
		return
	}
	// Copy: meta values are shared by value, never mutated in place.
	r := append(make([]string, 0, recentUUIDs), m.recent...)
	if len(r) == recentUUIDs {
		r = r[1:]
	}
	m.recent = append(r, string(uuid))
}

type ack struct {
	agentID, taskID string
	uuid            []byte
}

// New returns an Observer with an empty snapshot (generation 0).
func New(cfg Config) *Observer {
	cfg.setDefaults()
	o := &Observer{
		cfg:           cfg,
		log:           cfg.Logger.Named("observe"),
		agents:        map[string]*snapshot.Agent{},
		tasks:         map[string]*snapshot.Task{},
		meta:          map[string]taskMeta{},
		items:         map[string]snapshot.ItemHistory{},
		changedAgents: map[string]struct{}{},
		changedTasks:  map[string]struct{}{},
		sub:           snapshot.Subscription{State: snapshot.Disconnected, Since: cfg.Now()},
		changed:       make(chan struct{}, 1),
		acks:          make(chan ack, ackQueue),
		wake:          make(chan struct{}, 1),
	}
	o.latest = snapshot.New(0, cfg.Now(), o.sub, nil, nil, nil)
	return o
}

// Latest returns a snapshot of everything recorded so far. It never
// returns nil. Snapshots are built on demand: many events between two
// reads cost one build (after a restart, implicit reconciliation brings an
// update per task, and building 40,000 tasks per update would not keep up).
func (o *Observer) Latest() *snapshot.Snapshot {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.dirty {
		o.build()
	}
	return o.latest
}

// Changed signals (coalescing) that a newer snapshot is available.
func (o *Observer) Changed() <-chan struct{} { return o.changed }

// publish makes what was recorded visible: Latest builds the new snapshot
// and Changed is signalled. Caller holds o.mu.
func (o *Observer) publish() {
	if !o.dirty {
		return
	}
	select {
	case o.changed <- struct{}{}:
	default:
	}
}

// build makes the next snapshot generation from the last one and what
// changed since (snapshot.Next): at 40,000 tasks, building each from
// scratch cost ~15 ms. Caller holds o.mu.
func (o *Observer) build() {
	o.dirty = false
	o.gen++
	var ch snapshot.Change
	for id := range o.changedAgents {
		ch.Agents = append(ch.Agents, o.agents[id])
	}
	for id := range o.changedTasks {
		if t := o.tasks[id]; t != nil {
			ch.Tasks = append(ch.Tasks, t)
		} else {
			ch.Removed = append(ch.Removed, id)
		}
	}
	// New sets rather than clear: clearing costs what the biggest change
	// ever was (40,000 tasks after a restart), at every build.
	o.changedAgents, o.changedTasks = map[string]struct{}{}, map[string]struct{}{}
	items := o.latest.Items // unchanged: shared (published maps are never written)
	if o.itemsChanged {
		items, o.itemsChanged = maps.Clone(o.items), false
	}
	o.latest = o.latest.Next(o.gen, o.cfg.Now(), o.sub, ch, items)
}

// putAgent records a new version of an agent. Caller holds o.mu.
func (o *Observer) putAgent(a *snapshot.Agent) {
	o.agents[a.ID] = a
	o.changedAgents[a.ID] = struct{}{}
	o.dirty = true
}

// putTask records a new version of a task. Caller holds o.mu.
func (o *Observer) putTask(t *snapshot.Task) {
	o.tasks[t.ID] = t
	o.changedTasks[t.ID] = struct{}{}
	o.dirty = true
}

// dropTask forgets a task. Caller holds o.mu.
func (o *Observer) dropTask(id string) {
	delete(o.tasks, id)
	delete(o.meta, id)
	o.changedTasks[id] = struct{}{}
	o.dirty = true
}

func (o *Observer) kick() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// RecordLaunch notes that the actuator sent a LAUNCH for taskID on agentID:
// the task is Launching until its first status update. Task IDs that are
// not ours are refused.
func (o *Observer) RecordLaunch(taskID, agentID string) error {
	id, ok := taskid.Parse(taskID)
	if !ok {
		return fmt.Errorf("record launch: %q is not a task id of ours", taskID)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.cfg.Now()
	t := o.tasks[taskID]
	var c snapshot.Task
	if t != nil {
		c = *t // an update overtook the launch record: keep its state
	} else {
		c = snapshot.Task{ID: taskID, Kind: id.Kind, Config: id.ConfigHash, AgentID: agentID, State: snapshot.Launching, UpdatedAt: now}
	}
	c.LaunchedAt = now
	o.putTask(&c)
	o.publish()
	return nil
}

// RecordKillSent notes that a KILL for taskID was sent now. A kill of a task
// we cannot see is not recorded: Mesos cannot deliver it (the master answers
// with a reconciliation), so the task's fate is decided again once it is back.
func (o *Observer) RecordKillSent(taskID string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	t := o.tasks[taskID]
	if t == nil || t.State.MaybeAlive() {
		return
	}
	c := *t
	c.KillSent = o.cfg.Now()
	o.putTask(&c)
	o.publish()
}

// HandleStatus records the subscription's status (mesosconn.Handler). A new
// subscription starts a reconciliation round.
func (o *Observer) HandleStatus(st mesosconn.Status) {
	o.mu.Lock()
	now := o.cfg.Now()
	if o.sub.State != st.State {
		o.sub.Since = now
	}
	o.sub.State = st.State
	o.sub.FrameworkID = st.FrameworkID
	o.sub.Master = st.Master
	o.sub.Resubscriptions = max(st.Subscriptions-1, 0)
	switch {
	case st.State == snapshot.Subscribed && st.Subscriptions != o.subs:
		o.subs = st.Subscriptions
		o.startRound(now)
	case st.State != snapshot.Subscribed:
		// Until a new subscription has been reconciled, the task set may
		// be stale.
		o.sub.Reconciled = false
		o.rec = reconcileState{}
	}
	o.dirty = true
	o.publish()
	o.mu.Unlock()
	if o.cfg.OnStatus != nil {
		o.cfg.OnStatus(st)
	}
	o.kick()
}

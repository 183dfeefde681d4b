package mesossim

import (
	"fmt"
	"math/rand"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// master holds the cluster's state. One mutex guards all of it; calls into
// agent runtimes are queued with later() and made after the lock is released,
// so a runtime may report updates synchronously without deadlocking.
type master struct {
	cfg Config
	log hclog.Logger

	randMu sync.Mutex
	rand   *rand.Rand

	mu    sync.Mutex
	after []func()

	masterID   string // changes on failover
	leader     int    // index of the leading master (0 or 1)
	addrs      []string
	closed     bool
	frameworks map[string]*framework
	removedFws map[string]*framework // torn down or timed out; kept for /state and refusals
	agents     map[string]*agent     // by agent ID, every agent the master knows
	agentOrder []*agent              // registration order, for deterministic allocation
	offers     map[string]*offer
	faults     updateFaults
	rejects    rejectionLog  // calls refused (rejections.go)
	timers     []*time.Timer // pending agent reregistrations, stopped by Close

	nextFramework, nextOffer, nextAgent, allocCycle int

	// allocateNow asks for an allocation cycle besides the periodic ones
	// (capacity 1: requests made while one is pending share it).
	allocateNow chan struct{}
}

type agentState int

const (
	agentActive         agentState = iota // registered
	agentUnreachable                      // partitioned from the master
	agentRecovering                       // known before a master failover, not yet reregistered
	agentRemoved                          // unregistered, or replaced by a restart with a new ID
	agentGoneByOperator                   // marked gone by the operator
	// agentCutOff: the network between master and agent is cut, but the
	// master has not yet missed enough pings to notice: it still holds
	// the agent's tasks as they were, and hears nothing from it.
	agentCutOff
	// agentDisconnected: the agent process restarted (its connection to
	// the master closed); the master keeps its tasks, offers nothing of it
	// and remembers kills until it reregisters (Master::disconnect).
	agentDisconnected
)

func (s agentState) String() string {
	return [...]string{"active", "unreachable", "recovering", "removed", "gone", "cut off", "disconnected"}[s]
}

// tasksKnown reports whether the master holds the agent's tasks among the
// framework's tasks (so KILL and reconciliation see them): registered
// agents, connected or not. Tasks of unreachable agents are set aside, and
// a new master knows no agent's tasks until it reregisters.
func (s agentState) tasksKnown() bool {
	return s == agentActive || s == agentCutOff || s == agentDisconnected
}

// retired reports whether the agent will never come back.
func (s agentState) retired() bool { return s == agentRemoved || s == agentGoneByOperator }

type agent struct {
	id      string
	cfg     AgentConfig
	state   agentState
	total   pool
	used    pool // by tasks and executors
	offered pool
	// avail is total - used - offered, kept in step by use, unuse, offer
	// and unoffer, so that an allocation cycle reads it without
	// recomputing it for every agent.
	avail pool
	// attrs and url are the agent's parts of every offer of it.
	attrs     []mesos.Attribute
	url       *mesos.URL
	rt        Runtime
	tasks     map[string]*task
	executors map[string]*executorUse // key: framework ID + "/" + executor ID
	offers    map[string]*offer
	held      []heldUpdate // updates the master cannot hear while partitioned or recovering
	endpoint  string       // the runtime's executor API address, "" in simulated mode
	since     time.Time
	// unreachableAt is when the agent was marked unreachable.
	unreachableAt time.Time
	// killed holds kills of tasks on a disconnected agent, sent when it
	// reregisters (Master::kill, slave->killedTasks).
	killed map[*task]time.Duration
	// cuts counts PartitionAgent calls, so that a ping timeout started by
	// an earlier, healed cut does not end a later one early.
	cuts int
}

type executorUse struct {
	info  mesos.ExecutorInfo // as first launched, framework ID filled in
	res   pool
	tasks int
}

type heldUpdate struct {
	frameworkID string
	status      mesos.TaskStatus
}

type task struct {
	info       mesos.TaskInfo
	fw         *framework
	agent      *agent
	executorID string // "" for command tasks
	res        pool
	status     mesos.TaskStatus  // latest known
	terminal   bool              // a terminal update arrived; resources are free
	agentView  *mesos.TaskStatus // while partitioned: the state the agent last reported
	launchedAt time.Time
}

type offer struct {
	id    string
	fw    *framework
	agent *agent
	role  string
	res   pool
}

func newMaster(cfg Config) *master {
	m := &master{
		cfg:         cfg,
		log:         cfg.Logger,
		rand:        cfg.Rand,
		frameworks:  map[string]*framework{},
		removedFws:  map[string]*framework{},
		agents:      map[string]*agent{},
		offers:      map[string]*offer{},
		allocateNow: make(chan struct{}, 1),
	}
	m.masterID = m.newUUIDString()
	return m
}

// unlock releases the lock and makes the runtime calls queued meanwhile.
func (m *master) unlock() {
	ops := m.after
	m.after = nil
	m.mu.Unlock()
	for _, op := range ops {
		op()
	}
}

func (m *master) later(op func()) { m.after = append(m.after, op) }

func (m *master) randomBytes(n int) []byte {
	m.randMu.Lock()
	defer m.randMu.Unlock()
	b := make([]byte, n)
	m.rand.Read(b)
	return b
}

// newUUID returns 16 random bytes shaped as a version-4 UUID.
func (m *master) newUUID() []byte {
	b := m.randomBytes(16)
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return b
}

func (m *master) newUUIDString() string {
	b := m.newUUID()
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func (m *master) timestamp() *float64 {
	ts := float64(m.cfg.Now().UnixNano()) / 1e9
	return &ts
}

// activeAgents returns registered agents in registration order.
func (m *master) activeAgents() []*agent {
	out := make([]*agent, 0, len(m.agentOrder))
	for _, a := range m.agentOrder {
		if a.state == agentActive {
			out = append(out, a)
		}
	}
	return out
}

func (m *master) agentByIDOrHostname(key string) (*agent, error) {
	if a, ok := m.agents[key]; ok && !a.state.retired() {
		return a, nil
	}
	for _, a := range m.agentOrder {
		if a.cfg.Hostname == key && !a.state.retired() {
			return a, nil
		}
	}
	return nil, fmt.Errorf("no agent with ID or hostname %q", key)
}

func (m *master) sortedFrameworks() []*framework {
	out := make([]*framework, 0, len(m.frameworks))
	for _, fw := range m.frameworks {
		out = append(out, fw)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// addAgent registers an agent and creates its runtime. Called with the lock held.
func (m *master) addAgent(cfg AgentConfig, factory RuntimeFactory, workDir string) (*agent, error) {
	total, err := agentPool(cfg)
	if err != nil {
		return nil, err
	}
	id := fmt.Sprintf("%s-S%d", m.masterID, m.nextAgent)
	m.nextAgent++
	a := &agent{
		id: id, cfg: cfg, state: agentActive, total: total, used: pool{}, offered: pool{}, avail: total.clone(),
		tasks: map[string]*task{}, executors: map[string]*executorUse{}, offers: map[string]*offer{},
		since: m.cfg.Now(),
	}
	rt, err := factory(RuntimeConfig{
		AgentID:  id,
		Hostname: cfg.Hostname,
		WorkDir:  workDir,
		HostDir:  cfg.HostDir,
		IP:       cfg.ip(),
		Updates:  func(fwID string, st mesos.TaskStatus) { m.agentUpdate(a, fwID, st) },
		Messages: func(fwID, execID string, data []byte) { m.executorMessage(a, fwID, execID, data) },
		ExecutorExited: func(fwID, execID string, status int) {
			m.executorExited(a, fwID, execID, status)
		},
		Logger:                        m.log.Named("agent").With("agent", cfg.Hostname),
		Now:                           m.cfg.Now,
		Docker:                        m.cfg.Docker,
		ExecutorEnvironment:           cfg.ExecutorEnvironment,
		ExecutorReregistrationTimeout: m.cfg.ExecutorReregistrationTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("starting runtime of agent %s: %w", cfg.Hostname, err)
	}
	a.rt = rt
	a.endpoint = rt.Endpoint()
	a.attrs, a.url = offerAttributes(cfg), offerURL(cfg, a.endpoint)
	m.agents[id] = a
	m.agentOrder = append(m.agentOrder, a)
	return a, nil
}

package mesossim

import (
	"fmt"
	"math/rand"
	"net"
	"time"

	"github.com/hashicorp/go-hclog"
	mesos "github.com/mesos/mesos-go/api/v1/lib"

	"github.com/quobyte/quobyte-mesos/test/mesossim/agentrt"
)

// Mode selects how agents run tasks.
type Mode string

const (
	// ModeProcess runs tasks as real child processes (the agentrt package,
	// unless Config.RuntimeFactory says otherwise).
	ModeProcess Mode = "process"
	// ModeSimulated runs no processes: tasks go STARTING then RUNNING at once,
	// which lets thousands of agents fit on a small machine.
	ModeSimulated Mode = "simulated"
)

// Credentials enable HTTP basic authentication on the scheduler API.
type Credentials struct {
	Principal string
	Secret    string
}

// AgentConfig describes one simulated agent.
type AgentConfig struct {
	Hostname   string
	Attributes map[string]string // offered as TEXT attributes
	CPUs       float64
	Mem        float64 // MB
	Disk       float64 // MB
	Ports      [][2]uint64
	// Reservations are statically reserved scalar amounts, role -> resource name -> amount,
	// carved out of the totals above (as an agent's --resources with role does).
	Reservations map[string]map[string]float64
	// HostDir stands in for the agent's mounted devices (device markers live here).
	HostDir string
	// IP is the simulated host's address. Every agent runs on this machine;
	// a loopback address of its own (127.0.1.N) lets services with fixed
	// ports run on several agents at once. Default: the hostname when it is
	// an IP address, else 127.0.0.1.
	IP string
	// ExecutorEnvironment is the agent's --executor_environment_variables:
	// executors and command tasks get these variables instead of the
	// agent's own environment. nil: the agent's environment (process mode).
	ExecutorEnvironment map[string]string
}

// ip is the agent's address (see IP).
func (a AgentConfig) ip() string {
	switch {
	case a.IP != "":
		return a.IP
	case net.ParseIP(a.Hostname) != nil:
		return a.Hostname
	}
	return "127.0.0.1"
}

// Config configures a Cluster. Zero values take the defaults noted.
type Config struct {
	Listen string // address of the (first) master; default 127.0.0.1:0
	Agents []AgentConfig

	AllocationInterval        time.Duration // default 1s
	HeartbeatInterval         time.Duration // default 15s
	OfferRefuseDefault        time.Duration // refuse_seconds when a DECLINE/ACCEPT gives no filter; default 5s
	StatusUpdateRetryInterval time.Duration // first resend of an unacknowledged update, then doubling to 10 min; default 10s
	AgentReregisterDelay      time.Duration // after a master failover; default 0 (at once)
	// AgentPingTimeout and MaxAgentPingTimeouts are the master's
	// --agent_ping_timeout (default 15s) and --max_agent_ping_timeouts
	// (default 5): an agent cut off by PartitionAgent is marked unreachable
	// after their product.
	AgentPingTimeout     time.Duration
	MaxAgentPingTimeouts int
	// ExecutorReregistrationTimeout is the agents'
	// --executor_reregistration_timeout (default 2s): how long an agent
	// restarted by RestartAgent waits for its executors to subscribe again.
	ExecutorReregistrationTimeout time.Duration

	Mode           Mode           // default ModeSimulated
	RuntimeFactory RuntimeFactory // overrides the mode's runtime (tests)
	// Docker gives process-mode agents the Docker containerizer next to the
	// Mesos one (agentrt.DockerConfig); nil: DOCKER tasks fail.
	Docker *agentrt.DockerConfig
	// ExecutorData stands in, in simulated mode, for what a custom executor
	// reports. For a task launched with an ExecutorInfo it returns the Data
	// of the executor's TASK_RUNNING, sent instead of the default STARTING
	// and RUNNING; it is asked again on every framework MESSAGE to the
	// executor, and each answer goes out as a new TASK_RUNNING. A nil hook
	// or a nil answer: the simulated executor reports nothing of its own.
	ExecutorData func(hostname string, task mesos.TaskInfo) []byte
	WorkDir      string       // sandboxes; default a temporary directory removed by Close
	Masters      int          // 1 or 2; default 1
	Credentials  *Credentials // nil: no authentication
	// MasterCapabilities are advertised in SUBSCRIBED's master_info. nil means
	// what a Mesos 1.9+ master advertises: AGENT_UPDATE, AGENT_DRAINING and
	// QUOTA_V2. mesos-go v0.0.11's JSON decoder cannot read QUOTA_V2 (as
	// against a real master); a test that wants mesos-go over JSON passes a
	// smaller list.
	MasterCapabilities []string

	Logger hclog.Logger     // default null logger
	Now    func() time.Time // default time.Now
	Rand   *rand.Rand       // default seeded from the clock; used under a lock
}

func (c Config) withDefaults() (Config, error) {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:0"
	}
	if c.AllocationInterval <= 0 {
		c.AllocationInterval = time.Second
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = 15 * time.Second
	}
	if c.OfferRefuseDefault <= 0 {
		c.OfferRefuseDefault = 5 * time.Second
	}
	if c.StatusUpdateRetryInterval <= 0 {
		c.StatusUpdateRetryInterval = 10 * time.Second
	}
	if c.AgentPingTimeout <= 0 {
		c.AgentPingTimeout = 15 * time.Second
	}
	if c.MaxAgentPingTimeouts <= 0 {
		c.MaxAgentPingTimeouts = 5
	}
	if c.ExecutorReregistrationTimeout <= 0 {
		c.ExecutorReregistrationTimeout = 2 * time.Second
	}
	if c.Mode == "" {
		c.Mode = ModeSimulated
	}
	if c.Mode != ModeSimulated && c.Mode != ModeProcess {
		return c, fmt.Errorf("mesossim: unknown mode %q (want %q or %q)", c.Mode, ModeProcess, ModeSimulated)
	}
	if c.Mode == ModeProcess && c.RuntimeFactory == nil {
		c.RuntimeFactory = processRuntime
	}
	if c.MasterCapabilities == nil {
		c.MasterCapabilities = []string{"AGENT_UPDATE", "AGENT_DRAINING", "QUOTA_V2"}
	}
	for _, name := range c.MasterCapabilities {
		if _, ok := masterCapabilityValues[name]; !ok {
			return c, fmt.Errorf("mesossim: unknown master capability %q", name)
		}
	}
	if c.Masters == 0 {
		c.Masters = 1
	}
	if c.Masters < 1 || c.Masters > 2 {
		return c, fmt.Errorf("mesossim: Masters must be 1 or 2, not %d", c.Masters)
	}
	if c.Logger == nil {
		c.Logger = hclog.NewNullLogger()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.New(rand.NewSource(time.Now().UnixNano()))
	}
	seen := map[string]bool{}
	for i, a := range c.Agents {
		if a.Hostname == "" {
			return c, fmt.Errorf("mesossim: agent %d has no hostname", i)
		}
		if seen[a.Hostname] {
			return c, fmt.Errorf("mesossim: agent hostname %q appears twice", a.Hostname)
		}
		seen[a.Hostname] = true
	}
	return c, nil
}

// DefaultAgent returns an agent with the resources mesos-sim gives by default:
// 8 cpus, 16 GiB memory, 100 GB disk, and port ranges that include Quobyte's
// standard ports (8000-8100 covers the webconsole's 8080).
func DefaultAgent(hostname string) AgentConfig {
	return AgentConfig{
		Hostname: hostname,
		CPUs:     8,
		Mem:      16384,
		Disk:     100000,
		Ports:    [][2]uint64{{7860, 7880}, {8000, 8100}, {31000, 32000}},
	}
}

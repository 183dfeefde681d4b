// Command mesos-sim runs a simulated Apache Mesos cluster (package
// test/mesossim) for local runs and end-to-end tests: a master speaking the v1
// scheduler HTTP API, agents that run tasks as processes (or simulate them),
// and fault endpoints under /admin/. See docs/mesos-sim.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/quobyte/quobyte-mesos/test/mesossim"
)

const usageText = `Usage: mesos-sim [flags]

Runs a simulated Apache Mesos cluster: a master serving the v1 scheduler API at
http://<listen>/api/v1/scheduler (and /master/api/v1/scheduler), GET /state (/master/state), GET /health, and
the fault endpoints POST /admin/{kill-task,add-agent,remove-agent,
mark-agent-gone,partition-agent,heal-agent,restart-agent,restart-agent-wiped,failover-master,
drop-kills,drop-updates,delay-updates,duplicate-updates,add-device-marker,
remove-device-marker} (JSON bodies; see docs/mesos-sim.md).

Agents are agent1..agentN (--agents) with 8 cpus, 16384 MB mem, 100000 MB disk
and ports 7860-7880, 8000-8100, 31000-32000, each with a host directory
<workdir>/hosts/<hostname>; or they come from --cluster, a JSON file:

  {"agents": [{"hostname": "host-a", "attributes": {"rack": "r1"},
               "cpus": 4, "mem": 8192, "disk": 50000, "ports": [[7860, 7880]],
               "reservations": {"quobyte": {"cpus": 2, "mem": 4096}},
               "host_dir": "/srv/host-a", "ip": "127.0.1.1",
               "executor_environment_variables": {"PATH": "/usr/bin:/bin"},
               "markers": [{"device": "disk1",
                            "content": "device.serial=S1\ndevice.type=DATA_DEVICE\n"}]}]}

Agents have Mesos' Docker containerizer next to the Mesos one when a Docker
engine answers in this network namespace (--docker=auto, the default), or
always (--docker; mesos-sim refuses to start without an engine), or never
(--docker=off): tasks and executors with a DOCKER container run as Docker
containers, named mesos-<container id> and labelled mesos-sim.workdir=<workdir>.
Host paths of their volumes name the agent's own filesystem, rooted at its
host directory. Without it, DOCKER tasks fail as on an agent without it.

SIGINT or SIGTERM kills every task (and removes every container) and exits.

Flags:
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	docker                                                                  dockerMode
	listen, workDir, clusterPath, mode, logLevel, credentials, capabilities string
	agents, masters, maxPings                                               int
	allocation, heartbeat, refuse, retry, reregister                        time.Duration
	pingTimeout, executorReregistration                                     time.Duration
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("mesos-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.listen, "listen", "127.0.0.1:5050", "address of the (leading) master")
	fs.IntVar(&o.agents, "agents", 3, "number of agents agent1..N (ignored with --cluster)")
	fs.StringVar(&o.clusterPath, "cluster", "", "JSON cluster file describing agents (see above)")
	fs.StringVar(&o.workDir, "workdir", "", "directory for sandboxes and host directories (default: a new temporary directory, removed on exit)")
	fs.StringVar(&o.mode, "mode", "process", "how tasks run: process (real child processes) or simulated (no processes, for scale)")
	fs.DurationVar(&o.allocation, "allocation-interval", time.Second, "offer allocation cycle")
	fs.DurationVar(&o.heartbeat, "heartbeat-interval", 15*time.Second, "scheduler stream heartbeat interval")
	fs.DurationVar(&o.refuse, "offer-refuse-default", 5*time.Second, "filter length when DECLINE/ACCEPT give none")
	fs.DurationVar(&o.retry, "update-retry-interval", 10*time.Second, "resend unacknowledged status updates after this long")
	fs.DurationVar(&o.reregister, "agent-reregister-delay", 0, "after a master failover, agents reregister after this delay")
	fs.DurationVar(&o.pingTimeout, "agent-ping-timeout", 15*time.Second, "the master's --agent_ping_timeout: a partitioned agent is marked unreachable after this times --max-agent-ping-timeouts")
	fs.IntVar(&o.maxPings, "max-agent-ping-timeouts", 5, "the master's --max_agent_ping_timeouts")
	fs.DurationVar(&o.executorReregistration, "executor-reregistration-timeout", 2*time.Second, "the agents' --executor_reregistration_timeout: how long a restarted agent waits for its executors")
	fs.IntVar(&o.masters, "masters", 1, "1, or 2 for a standby master that answers 307 (it listens on a free loopback port)")
	fs.StringVar(&o.credentials, "credentials", "", "principal:secret to require HTTP basic authentication on the scheduler API")
	fs.StringVar(&o.capabilities, "master-capabilities", "AGENT_UPDATE,AGENT_DRAINING,QUOTA_V2",
		"capabilities advertised in SUBSCRIBED's master_info, as a Mesos 1.9+ master does (mesos-go v0.0.11's JSON codec cannot decode QUOTA_V2; \"\" advertises none)")
	fs.StringVar(&o.logLevel, "log-level", "info", "trace, debug, info, warn or error")
	o.docker = dockerAuto
	fs.Var(&o.docker, "docker", "Docker containerizer: auto (when an engine answers here), on (--docker) or off")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if o.agents < 0 {
		return o, errors.New("--agents must not be negative")
	}
	if o.docker == dockerOn && o.mode != string(mesossim.ModeProcess) {
		return o, fmt.Errorf("--docker needs --mode %s", mesossim.ModeProcess)
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "mesos-sim:", err)
		return 2
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "mesos-sim", Level: hclog.LevelFromString(o.logLevel), Output: stderr})
	if err := serve(o, log, stdout); err != nil {
		log.Error("mesos-sim failed", "error", err)
		return 1
	}
	return 0
}

func serve(o options, log hclog.Logger, stdout io.Writer) error {
	workDir := o.workDir
	if workDir == "" {
		dir, err := os.MkdirTemp("", "mesos-sim-")
		if err != nil {
			return fmt.Errorf("creating work directory: %w", err)
		}
		defer os.RemoveAll(dir)
		workDir = dir
	}
	workDir, err := filepath.Abs(workDir)
	if err != nil {
		return fmt.Errorf("work directory: %w", err)
	}
	cfg := mesossim.Config{
		Listen: o.listen, Mode: mesossim.Mode(o.mode), WorkDir: filepath.Join(workDir, "sandboxes"),
		AllocationInterval: o.allocation, HeartbeatInterval: o.heartbeat, OfferRefuseDefault: o.refuse,
		StatusUpdateRetryInterval: o.retry, AgentReregisterDelay: o.reregister, Masters: o.masters,
		AgentPingTimeout: o.pingTimeout, MaxAgentPingTimeouts: o.maxPings, ExecutorReregistrationTimeout: o.executorReregistration,
		Logger: log,
	}
	cfg.MasterCapabilities = []string{}
	for _, c := range strings.Split(o.capabilities, ",") {
		if c = strings.TrimSpace(c); c != "" {
			cfg.MasterCapabilities = append(cfg.MasterCapabilities, c)
		}
	}
	if o.credentials != "" {
		principal, secret, ok := strings.Cut(o.credentials, ":")
		if !ok {
			return errors.New("--credentials must be principal:secret")
		}
		cfg.Credentials = &mesossim.Credentials{Principal: principal, Secret: secret}
	}
	if err := o.docker.apply(context.Background(), &cfg, workDir, log); err != nil {
		return err
	}
	var markers map[string][]deviceMarker
	if o.clusterPath != "" {
		cf, err := loadClusterFile(o.clusterPath)
		if err != nil {
			return err
		}
		cfg.Agents = cf.agentConfigs(workDir)
		markers = map[string][]deviceMarker{}
		for _, a := range cf.Agents {
			markers[a.Hostname] = a.Markers
		}
	} else {
		cfg.Agents = defaultAgents(o.agents, workDir)
	}
	for _, a := range cfg.Agents {
		if err := os.MkdirAll(a.HostDir, 0o755); err != nil {
			return fmt.Errorf("creating host directory of %s: %w", a.Hostname, err)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, err := mesossim.Start(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	for host, ms := range markers {
		for _, mk := range ms {
			if err := c.AddDeviceMarker(host, mk.Device, mk.Content); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(stdout, "mesos-sim: master %s (all masters: %s), %d agents, work directory %s\n",
		c.URL(), strings.Join(c.MasterURLs(), " "), len(cfg.Agents), workDir)
	<-ctx.Done()
	log.Info("signal received; killing all tasks")
	return nil
}

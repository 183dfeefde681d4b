package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/mesos/mesos-go/api/v1/lib/executor/config"

	"github.com/quobyte/quobyte-mesos/observe/probe"
	"github.com/quobyte/quobyte-mesos/observe/prober"
)

// Prober defaults. They equal the spec's defaults (spec/defaults.go); the
// framework passes the spec's values as flags anyway.
const (
	proberDefaultDeviceRoot  = "/mnt"
	proberDefaultInterval    = 2 * time.Minute
	proberDefaultClientMount = "/quobyte"
)

const proberUsage = `Usage: quobyte-mesos prober [flags]

Runs the device prober: a Mesos custom executor the framework starts on every
agent. It finds marked Quobyte devices (QUOBYTE_DEV_SETUP files or legacy
quobyte-dir/-metadata/-data directories) under the device root and reports
them as the data of TASK_RUNNING status updates: at once on every change, when
the framework sends a MESSAGE (by convention "probe"), and every --interval.
It never writes to a device.

As an executor it reads the agent's MESOS_* environment (MESOS_AGENT_ENDPOINT,
MESOS_FRAMEWORK_ID, MESOS_EXECUTOR_ID, MESOS_CHECKPOINT, ...). With --scan it
needs none: it scans once, prints the report as JSON and exits.

Every flag may also come from the environment variable named in brackets; a
flag given on the command line wins. $VAR and ${VAR} in --device-root and
--client-mount-point are expanded from the environment, so that a framework
can pass --device-root='${MESOS_SIM_HOST_DIR}' without a shell (the simulated
cluster's agents export their host directory that way).

Flags:
`

// proberFlags are the prober's command-line settings.
type proberFlags struct {
	deviceRoot, mode, clientMount, hostname, mountInfo, logLevel string
	interval                                                     time.Duration
	scan                                                         bool
}

func runProber(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return proberMain(ctx, args, stdout, stderr, proberEnv{getenv: os.Getenv, executor: config.FromEnv})
}

// proberEnv is the process environment, passed in so that tests can set it.
type proberEnv struct {
	getenv func(string) string
	// executor parses the agent's MESOS_* variables (config.FromEnv).
	executor func() (config.Config, error)
}

// proberMain is runProber with its context and environment passed in.
func proberMain(ctx context.Context, args []string, stdout, stderr io.Writer, penv proberEnv) int {
	getenv := penv.getenv
	f, code := parseProberFlags(args, stdout, stderr, getenv)
	if code >= 0 {
		return code
	}
	log := hclog.New(&hclog.LoggerOptions{
		Name:   "prober",
		Level:  hclog.LevelFromString(f.logLevel),
		Output: stderr,
	})
	scanCfg := probe.Config{
		DeviceRoot:       f.deviceRoot,
		Mode:             f.mode,
		MountInfoPath:    f.mountInfo,
		ClientMountPoint: f.clientMount,
		Hostname:         f.hostname,
		Logger:           log,
	}
	if err := scanCfg.Validate(); err != nil {
		return usageError(stderr, "prober", err.Error())
	}

	if f.scan {
		r := probe.NewScanner(scanCfg).Scan()
		r.Seq = 1
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			fmt.Fprintf(stderr, "quobyte-mesos prober: %v\n", err)
			return 1
		}
		return 0
	}

	execCfg, err := penv.executor()
	if err != nil {
		fmt.Fprintf(stderr, "quobyte-mesos prober: not started by a Mesos agent (use --scan to scan once): %v\n", err)
		return 1
	}
	log.Info("starting", "device_root", f.deviceRoot, "mode", f.mode, "interval", f.interval,
		"agent", execCfg.AgentEndpoint, "executor", execCfg.ExecutorID, "checkpoint", execCfg.Checkpoint)
	err = prober.Run(ctx, prober.Config{
		Scan:      scanCfg,
		Interval:  f.interval,
		Executor:  execCfg,
		AuthToken: getenv("MESOS_EXECUTOR_AUTHENTICATION_TOKEN"),
		Logger:    log,
	})
	if err != nil {
		log.Error("prober stopped", "error", err)
		return 1
	}
	log.Info("prober stopped")
	return 0
}

// parseProberFlags returns the flags, or an exit code >= 0 when the command
// is done (help) or wrong.
func parseProberFlags(args []string, stdout, stderr io.Writer, getenv func(string) string) (proberFlags, int) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	var f proberFlags
	fs := flag.NewFlagSet("prober", flag.ContinueOnError)
	fs.StringVar(&f.deviceRoot, "device-root", env("QUOBYTE_DEVICE_ROOT", proberDefaultDeviceRoot),
		"directory under which devices are mounted (mounts mode) or whose subdirectories are devices (directories mode) [QUOBYTE_DEVICE_ROOT]")
	fs.StringVar(&f.mode, "mode", env("QUOBYTE_PROBER_MODE", probe.ModeMounts),
		`"mounts": ext4/xfs mounts under the device root; "directories": every subdirectory of it [QUOBYTE_PROBER_MODE]`)
	intervalDef := proberDefaultInterval
	intervalEnv := getenv("QUOBYTE_PROBER_INTERVAL")
	if intervalEnv != "" {
		d, err := time.ParseDuration(intervalEnv)
		if err != nil || d <= 0 {
			return f, usageError(stderr, "prober", fmt.Sprintf("QUOBYTE_PROBER_INTERVAL %q is not a positive duration", intervalEnv))
		}
		intervalDef = d
	}
	fs.DurationVar(&f.interval, "interval", intervalDef, "keep-alive: re-report this often even without changes [QUOBYTE_PROBER_INTERVAL]")
	fs.StringVar(&f.clientMount, "client-mount-point", env("QUOBYTE_CLIENT_MOUNT_POINT", proberDefaultClientMount),
		"reported as present when this directory exists (calls for a Quobyte client on the host) [QUOBYTE_CLIENT_MOUNT_POINT]")
	fs.StringVar(&f.hostname, "hostname", env("QUOBYTE_PROBER_HOSTNAME", ""),
		"hostname put into reports; default: the system's [QUOBYTE_PROBER_HOSTNAME]")
	fs.StringVar(&f.mountInfo, "mountinfo", env("QUOBYTE_PROBER_MOUNTINFO", probe.DefaultMountInfoPath),
		"mount table read in mounts mode [QUOBYTE_PROBER_MOUNTINFO]")
	fs.StringVar(&f.logLevel, "log-level", env("QUOBYTE_LOG_LEVEL", "info"), "trace, debug, info, warn or error [QUOBYTE_LOG_LEVEL]")
	fs.BoolVar(&f.scan, "scan", false, "scan once, print the report as JSON to stdout and exit (no Mesos agent needed)")
	rest, code, done := parseCommandLine(fs, proberUsage, args, stdout, stderr)
	if done {
		return f, code
	}
	f.deviceRoot = os.Expand(f.deviceRoot, getenv)
	f.clientMount = os.Expand(f.clientMount, getenv)
	switch {
	case len(rest) > 0:
		return f, usageError(stderr, "prober", fmt.Sprintf("unexpected arguments %q", rest))
	case f.interval <= 0:
		return f, usageError(stderr, "prober", fmt.Sprintf("--interval %v is not positive", f.interval))
	case hclog.LevelFromString(f.logLevel) == hclog.NoLevel:
		return f, usageError(stderr, "prober", fmt.Sprintf("unknown --log-level %q", f.logLevel))
	}
	return f, -1
}

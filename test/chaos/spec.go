package chaos

import (
	"fmt"
	"strings"
	"time"
)

// specModel is what a run's spec says; reload faults change it and the
// harness writes it out (specText) for the framework to reload.
type specModel struct {
	Masters     []string
	IDFile      string
	HAZooKeeper string // "" without HA
	Version     string // "-slow" and "-bad" in it name its behaviour
	API         int
	Webconsole  int
	MaxParallel int
	// Placement lists the hosts allowed ("" as the only entry: no
	// placement block, every host).
	Placement []string
	// Invalid, when set, is the mistake a ReloadInvalid writes.
	Invalid string
}

// Timings of every run's spec: short, so that rollouts, backoffs and health
// deadlines happen many times within a fault phase.
const (
	healthInterval = 200 * time.Millisecond
	// healthGrace covers a registry's restart after its peer's (the
	// longest backoff and a slow start): a registry is healthy only with
	// a majority of its peers, and Mesos kills it when the grace is over.
	healthGrace     = 4 * time.Second
	healthFailures  = 3
	minHealthyTime  = 300 * time.Millisecond
	healthyDeadline = 5 * time.Second
	unreachableTime = 2 * time.Second
	proberInterval  = 2 * time.Second
	restartInitial  = 200 * time.Millisecond
	restartMax      = 2 * time.Second
	killGrace       = 300 * time.Millisecond
	// slowStart is how long a "-slow" version takes to listen.
	slowStart = time.Second
	// haSessionTimeout is the ZooKeeper session timeout of HA runs.
	haSessionTimeout = 2 * time.Second
)

// slow and bad report a version's behaviour.
func slow(version string) bool { return strings.Contains(version, "-slow") }
func bad(version string) bool  { return strings.Contains(version, "-bad") }

// text renders the spec as HCL.
func (m specModel) text() string {
	var b strings.Builder
	masters := make([]string, len(m.Masters))
	for i, u := range m.Masters {
		masters[i] = fmt.Sprintf("%q", u)
	}
	fmt.Fprintf(&b, `mesos {
  master             = [%s]
  framework_name     = "quobyte-chaos"
  failover_timeout   = "1h"
  framework_id_store = "file://%s"
}
`, strings.Join(masters, ", "), m.IDFile)
	env := ""
	switch {
	case bad(m.Version):
		env = fmt.Sprintf("STANDIN_NEVER_HEALTHY_VERSION = %q", m.Version)
	case slow(m.Version):
		env = fmt.Sprintf("STANDIN_SLOW_START = %q", slowStart)
	}
	fmt.Fprintf(&b, `quobyte {
  version     = %q
  runtime     = "command"
  command     = "exec quobyte-standin"
  device_root = "$MESOS_SIM_HOST_DIR"
  env         = { %s }
}
prober {
  interval = %q
  mode     = "directories"
}
`, m.Version, env, proberInterval)
	for _, k := range []string{"registry", "metadata", "data", "api", "webconsole"} {
		count := ""
		switch k {
		case "api":
			count = fmt.Sprintf("  count = %d\n", m.API)
		case "webconsole":
			count = fmt.Sprintf("  count = %d\n", m.Webconsole)
		}
		if m.Invalid == "unknown-kind" && k == "data" {
			k = "dta"
		}
		fmt.Fprintf(&b, `service %q {
%s  resources {
    cpus = 0.1
    mem  = 64
    disk = 0
  }
  health {
    interval     = %q
    timeout      = %q
    grace        = %q
    max_failures = %d
  }
  restart {
    initial_delay = %q
    max_delay     = %q
    reset_after   = "10s"
  }
  kill_grace = %q
}
`, k, count, healthInterval, healthInterval, healthGrace, healthFailures, restartInitial, restartMax, killGrace)
	}
	maxPar := m.MaxParallel
	if m.Invalid == "max-parallel-zero" {
		maxPar = 0
	}
	deadline := fmt.Sprintf("%q", healthyDeadline)
	if m.Invalid == "bad-duration" {
		deadline = `"3 seconds"`
	}
	fmt.Fprintf(&b, `upgrade {
  max_parallel     = %d
  min_healthy_time = %q
  healthy_deadline = %s
}
`, maxPar, minHealthyTime, deadline)
	hosts := ""
	if len(m.Placement) > 0 {
		q := make([]string, len(m.Placement))
		for i, h := range m.Placement {
			q[i] = fmt.Sprintf("%q", h)
		}
		hosts = fmt.Sprintf("  hosts               = [%s]\n", strings.Join(q, ", "))
	}
	fmt.Fprintf(&b, "placement {\n%s  unreachable_timeout = %q\n}\n", hosts, unreachableTime)
	if m.HAZooKeeper != "" {
		fmt.Fprintf(&b, "ha {\n  zookeeper       = %q\n  session_timeout = %q\n}\n", m.HAZooKeeper, haSessionTimeout)
	}
	if m.Invalid == "syntax" {
		b.WriteString("upgrade {\n  max_parallel = \n")
	}
	return b.String()
}

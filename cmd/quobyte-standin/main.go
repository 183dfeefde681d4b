// Command quobyte-standin stands in for the proprietary Quobyte server image
// in tests and in the local simulated cluster. It reads the image's
// environment contract (see package test/standin and docs/standin.md).
//
// Exit codes: 0 after a stop request (SIGTERM, SIGINT) and its grace period,
// 1 on STANDIN_CRASH_AFTER or a failure to serve, 2 on a configuration error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/hashicorp/go-hclog"
	"github.com/quobyte/quobyte-mesos/test/standin"
)

const usage = `quobyte-standin: a stand-in for the Quobyte server image.

It takes no flags; it reads the image's environment contract:
  QUOBYTE_SERVICE          registry|metadata|data|api|webconsole|s3|client
  QUOBYTE_REGISTRY         registry RPC addresses, host[:port],... (not needed by registry)
  QUOBYTE_RPC_PORT         RPC port (all but client)
  QUOBYTE_HTTP_PORT        status port: /, /serviceHealth, /prometheus
  QUOBYTE_API_PORT         api JSON-RPC port
  QUOBYTE_WEBCONSOLE_PORT  webconsole UI port
  QUOBYTE_S3_PORT          s3 port
  QUOBYTE_BIND             bind address (default MESOS_SIM_IP under mesos-sim; in a Docker
                           container HOSTNAME if it is an IP address; else 0.0.0.0)
  QUOBYTE_DEVICE_ROOT      device directory (default: MESOS_SIM_HOST_DIR)
  QUOBYTE_VERSION          version to report
  STANDIN_CATCHUP          metadata/data catch-up after registration (default 2s)
  STANDIN_STOP_GRACE       unhealthy time before exit on SIGTERM/SIGINT (default 1s)
  STANDIN_POLL_INTERVAL    health re-evaluation period (default 200ms)
  STANDIN_DIAL_HOST        dial every registry at this host, keeping its port
  STANDIN_NEVER_HEALTHY_VERSION  never healthy when QUOBYTE_VERSION equals it
  STANDIN_CRASH_AFTER      exit 1 after this long
  STANDIN_SLOW_START       listen only after this long
  STANDIN_LOG_LEVEL        trace|debug|info|warn|error (default info)

Exit codes: 0 stopped by SIGTERM/SIGINT, 1 crash or serve failure, 2 bad configuration.
`

func main() {
	os.Exit(run(os.Args[1:], os.Environ(), os.Stdout, os.Stderr))
}

func run(args, environ []string, stdout, stderr io.Writer) int {
	// The real image takes its settings from the environment and ignores
	// arguments; only a request for help is honoured.
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			io.WriteString(stdout, usage)
			return 0
		}
	}
	cfg, err := standin.FromEnv(environ)
	if err != nil {
		fmt.Fprintf(stderr, "quobyte-standin: configuration: %v\n(see quobyte-standin --help)\n", err)
		return 2
	}
	level := hclog.Info
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "STANDIN_LOG_LEVEL="); ok && v != "" {
			if level = hclog.LevelFromString(v); level == hclog.NoLevel {
				fmt.Fprintf(stderr, "quobyte-standin: configuration: STANDIN_LOG_LEVEL: unknown level %q\n", v)
				return 2
			}
		}
	}
	cfg.Logger = hclog.New(&hclog.LoggerOptions{
		Name:   "quobyte-standin",
		Level:  level,
		Output: stderr,
	}).With("service", string(cfg.Service), "version", cfg.Version)

	svc, err := standin.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "quobyte-standin: %v\n", err)
		var ce *standin.ConfigError
		if errors.As(err, &ce) {
			return 2
		}
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := svc.Run(ctx); err != nil {
		cfg.Logger.Error("exiting", "error", err)
		return 1
	}
	return 0
}

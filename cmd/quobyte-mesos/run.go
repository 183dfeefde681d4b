package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/hashicorp/go-hclog"

	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/framework"
)

const runUsage = `Usage: quobyte-mesos run --spec FILE [flags]

Runs the framework: serves the status API, metrics and the prober artifact on
--listen, subscribes to Mesos as the spec's mesos block says, reconciles, and
keeps Quobyte as the spec describes.

Signals (with --pid-file FILE: kill -HUP $(cat FILE); under systemd:
systemctl reload quobyte-mesos):
  SIGHUP           reload the spec. It is validated completely first; on any
                   error the old spec stays in force and every diagnostic is
                   logged and shown in /v1/status and the metrics. A reload
                   restarts only services whose configuration changed.
  SIGTERM, SIGINT  stop acting and exit 0, without tearing the framework down:
                   Quobyte keeps running and the next start (or a standby)
                   takes its tasks over without restarting them.

HTTP endpoints: /v1/health /v1/status /v1/plan (GET; POST a spec for a dry
run) /v1/snapshot /v1/reload (POST: what SIGHUP does) /metrics
/artifacts/quobyte-mesos. With the spec's status_api { auth_file = FILE },
all but /v1/health, /metrics and the artifact need a credential of FILE (see
docs/spec.md).

Several instances: with the spec's ha { zookeeper = "zk://..." } block they
elect a leader in ZooKeeper; only the leader subscribes to Mesos and acts,
the others stand by (healthy), serve the status API and take over when it
ends. SIGTERM of the leader hands over at once.

Flags:
`

func runRun(args []string, stdout, stderr io.Writer) int {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	return run(args, stdout, stderr, sigs)
}

// run is runRun with the signals passed in, so that tests can send them.
func run(args []string, stdout, stderr io.Writer, sigs <-chan os.Signal) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	specFile := fs.String("spec", "", "the spec file (required)")
	listen := fs.String("listen", ":7888", "address of the status API, metrics and prober artifact")
	advertise := fs.String("advertise-url", "", "URL agents use to reach --listen (default: derived from it and the hostname)")
	image := fs.String("framework-image", "", "image with this binary, for prober artifact = \"image\"")
	pidFile := fs.String("pid-file", "", "write the process ID to this file while running (for kill -HUP $(cat FILE))")
	var lf logFlags
	lf.register(fs)
	rest, code, done := parseCommandLine(fs, runUsage, args, stdout, stderr)
	if done {
		return code
	}
	if *specFile == "" || len(rest) > 0 {
		return usageError(stderr, "run", "--spec FILE is required and no arguments are taken")
	}
	log, err := lf.logger("quobyte-mesos", stderr)
	if err != nil {
		return usageError(stderr, "run", err.Error())
	}

	f, err := framework.New(framework.Config{
		SpecFile: *specFile, Listen: *listen, AdvertiseURL: *advertise, FrameworkImage: *image, Logger: log, Version: version,
	})
	if err != nil {
		fmt.Fprintf(stderr, "quobyte-mesos run: %v\n", err)
		return exitError
	}
	if *pidFile != "" {
		if err := writePIDFile(*pidFile); err != nil {
			fmt.Fprintf(stderr, "quobyte-mesos run: %v\n", err)
			return exitError
		}
		defer removePIDFile(*pidFile, log)
	}
	fmt.Fprintf(stdout, "quobyte-mesos: status API on http://%s/v1/status\n", f.Addr())

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case s := <-sigs:
				if s == syscall.SIGHUP {
					log.Info("SIGHUP: reloading the spec", "file", *specFile)
					_ = f.Reload() // logged by the spec holder; the old spec stays on error
					continue
				}
				log.Info("stopping without teardown; Quobyte keeps running", "signal", s.String())
				cancel()
				return
			}
		}
	}()
	if err := f.Run(ctx); err != nil {
		log.Error("framework stopped", "error", err)
		return exitError
	}
	return exitOK
}

// writePIDFile writes this process's ID to path, atomically: a reader never
// sees a half-written file.
func writePIDFile(path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing the pid file: %w", err)
	}
	_, err = fmt.Fprintf(tmp, "%d\n", os.Getpid())
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing the pid file: %w", err)
	}
	return nil
}

// removePIDFile removes path if it still names this process (another
// instance may have taken it over meanwhile).
func removePIDFile(path string, log hclog.Logger) {
	b, err := os.ReadFile(path)
	if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		return
	}
	if err := os.Remove(path); err != nil {
		log.Warn("removing the pid file", "file", path, "error", err)
	}
}

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/framework"
)

const runUsage = `Usage: quobyte-mesos run --spec FILE [flags]

Runs the framework: serves the status API, metrics and the prober artifact on
--listen, subscribes to Mesos as the spec's mesos block says, reconciles, and
keeps Quobyte as the spec describes.

Signals:
  SIGHUP           reload the spec. It is validated completely first; on any
                   error the old spec stays in force and every diagnostic is
                   logged and shown in /v1/status and the metrics. A reload
                   restarts only services whose configuration changed.
  SIGTERM, SIGINT  stop acting and exit 0, without tearing the framework down:
                   Quobyte keeps running and the next start (or a standby)
                   takes its tasks over without restarting them.

HTTP endpoints: /v1/health /v1/status /v1/plan (GET; POST a spec for a dry
run) /v1/snapshot /metrics /artifacts/quobyte-mesos

Flags:
`

func runRun(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, runUsage); fs.PrintDefaults() }
	specFile := fs.String("spec", "", "the spec file (required)")
	listen := fs.String("listen", ":7888", "address of the status API, metrics and prober artifact")
	advertise := fs.String("advertise-url", "", "URL agents use to reach --listen (default: derived from it and the hostname)")
	image := fs.String("framework-image", "", "image with this binary, for prober artifact = \"image\"")
	var lf logFlags
	lf.register(fs)
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if *specFile == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "quobyte-mesos run: --spec FILE is required and no arguments are taken")
		return 2
	}
	log, err := lf.logger("quobyte-mesos", stderr)
	if err != nil {
		fmt.Fprintln(stderr, "quobyte-mesos run:", err)
		return 2
	}

	f, err := framework.New(framework.Config{
		SpecFile: *specFile, Listen: *listen, AdvertiseURL: *advertise, FrameworkImage: *image, Logger: log,
	})
	if err != nil {
		fmt.Fprintf(stderr, "quobyte-mesos run: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "quobyte-mesos: status API on http://%s/v1/status\n", f.Addr())

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
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
		return 1
	}
	return 0
}

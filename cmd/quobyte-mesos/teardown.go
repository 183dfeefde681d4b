package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mesos/mesos-go/api/v1/lib/scheduler"

	"github.com/quobyte/quobyte-mesos/observe/fwid"
	"github.com/quobyte/quobyte-mesos/observe/mesosconn"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

const teardownUsage = `Usage: quobyte-mesos teardown --spec FILE [--yes]

Tears the framework down: Mesos kills EVERY task of it (all Quobyte services
and probers) and forgets the framework. Data on the devices is not touched,
but the file system is offline until the framework is started again (it then
registers as a new framework). Never done implicitly: stopping the framework
(SIGTERM) leaves Quobyte running.

It asks for the framework name as confirmation unless --yes is given. It
subscribes with the stored framework ID (a running framework instance is
failed over and should be stopped first), sends TEARDOWN and clears the stored
framework ID.

Flags:
`

func runTeardown(args []string, stdout, stderr io.Writer) int {
	return teardown(args, os.Stdin, stdout, stderr)
}

func teardown(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("teardown", flag.ContinueOnError)
	specFile := fs.String("spec", "", "the spec file (required): where Mesos and the framework ID are")
	yes := fs.Bool("yes", false, "do not ask for confirmation")
	timeout := fs.Duration("timeout", time.Minute, "time limit for subscribing and tearing down")
	var lf logFlags
	lf.register(fs)
	rest, code, done := parseCommandLine(fs, teardownUsage, args, stdout, stderr)
	if done {
		return code
	}
	if *specFile == "" || len(rest) > 0 {
		return usageError(stderr, "teardown", "--spec FILE is required and no arguments are taken")
	}
	log, err := lf.logger("teardown", stderr)
	if err != nil {
		return usageError(stderr, "teardown", err.Error())
	}
	c, src, diags := spec.LoadWithSource(*specFile)
	if diags.HasErrors() {
		_ = spec.FormatDiagnostics(stderr, map[string][]byte{*specFile: src}, diags)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	store, err := fwid.Open(c.Mesos.FrameworkIDStore)
	if err != nil {
		fmt.Fprintln(stderr, "quobyte-mesos teardown:", err)
		return 1
	}
	defer store.Close()
	id, err := store.Load(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "quobyte-mesos teardown: reading the framework ID:", err)
		return 1
	}
	if id == "" {
		fmt.Fprintf(stdout, "No framework ID in %s: nothing to tear down.\n", c.Mesos.FrameworkIDStore)
		return 0
	}
	if !*yes {
		fmt.Fprintf(stdout, "This kills every Quobyte service of framework %q (ID %s).\nType the framework name to confirm: ", c.Mesos.FrameworkName, id)
		line, _ := bufio.NewReader(stdin).ReadString('\n')
		if strings.TrimSpace(line) != c.Mesos.FrameworkName {
			fmt.Fprintln(stdout, "Not confirmed; nothing done.")
			return 1
		}
	}

	cfg := mesosconn.FromSpec(c.Mesos)
	cfg.Store, cfg.Logger = store, log
	conn, err := mesosconn.New(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "quobyte-mesos teardown:", err)
		return 1
	}
	subscribed := make(chan struct{})
	h := &subscribeWaiter{done: subscribed}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { _ = conn.Run(runCtx, h) }()
	select {
	case <-subscribed:
	case <-ctx.Done():
		fmt.Fprintf(stderr, "quobyte-mesos teardown: could not subscribe within %s: %s\n", *timeout, conn.Status().LastError)
		return 1
	}
	resp, err := conn.Caller().Call(ctx, &scheduler.Call{Type: scheduler.Call_TEARDOWN})
	if resp != nil {
		resp.Close()
	}
	if err != nil {
		fmt.Fprintln(stderr, "quobyte-mesos teardown: TEARDOWN failed:", err)
		return 1
	}
	stop()
	// Mesos will not take the torn-down ID again: forget it.
	if err := store.Clear(context.Background()); err != nil {
		fmt.Fprintln(stderr, "quobyte-mesos teardown: torn down, but clearing the stored framework ID failed:", err)
		return 1
	}
	fmt.Fprintf(stdout, "Framework %s torn down.\n", id)
	return 0
}

// subscribeWaiter closes done once the subscription is up.
type subscribeWaiter struct {
	done   chan struct{}
	closed bool
}

func (w *subscribeWaiter) HandleStatus(st mesosconn.Status) {
	if st.State == snapshot.Subscribed && !w.closed {
		w.closed = true
		close(w.done)
	}
}

func (w *subscribeWaiter) HandleEvent(context.Context, *scheduler.Event) {}

package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/planview"
	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

const planUsage = `Usage: quobyte-mesos plan (--server URL | --snapshot FILE) [flags] SPEC

Shows what the framework would do if SPEC were in force, and applies nothing:
per host and service, + launch, - stop, ~ replace, each with its reason, then
what is blocked and a summary line.

  --server URL     plan against the live cluster: the spec is posted to the
                   running framework (POST URL/v1/plan), which plans it against
                   its current snapshot
  --snapshot FILE  plan offline against a snapshot saved from GET /v1/snapshot

The spec is validated locally first; an invalid spec is reported with every
error's position and exit status 1.

Exit status: 0 success (with -detailed-exitcode: no changes), 1 error,
2 changes pending (with -detailed-exitcode only).

Flags:
`

func runPlan(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, planUsage); fs.PrintDefaults() }
	server := fs.String("server", "", "URL of the running framework (e.g. http://127.0.0.1:7888)")
	snapFile := fs.String("snapshot", "", "snapshot file saved from /v1/snapshot")
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	detailed := fs.Bool("detailed-exitcode", false, "exit 0 when nothing changes, 2 when changes are pending")
	timeout := fs.Duration("timeout", 30*time.Second, "time limit for --server")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 || (*server == "") == (*snapFile == "") {
		fmt.Fprintln(stderr, "quobyte-mesos plan: give one SPEC file and exactly one of --server or --snapshot (see --help)")
		return 2
	}
	path := fs.Arg(0)
	c, src, diags := spec.LoadWithSource(path)
	if diags.HasErrors() {
		_ = spec.FormatDiagnostics(stderr, map[string][]byte{path: src}, diags)
		return 1
	}

	var plan *controller.Result
	var err error
	if *server != "" {
		plan, err = planOnServer(*server, filepath.Base(path), src, *timeout)
	} else {
		plan, err = planOffline(c, *snapFile)
	}
	if err != nil {
		fmt.Fprintf(stderr, "quobyte-mesos plan: %v\n", err)
		return 1
	}
	if *asJSON {
		err = planview.JSON(stdout, plan)
	} else {
		err = planview.Text(stdout, plan)
	}
	if err != nil {
		fmt.Fprintf(stderr, "quobyte-mesos plan: %v\n", err)
		return 1
	}
	if *detailed && planview.Summarize(plan).HasChanges() {
		return 2
	}
	return 0
}

// planOnServer posts the spec to a running framework's dry run.
func planOnServer(base, name string, src []byte, timeout time.Duration) (*controller.Result, error) {
	u := strings.TrimRight(base, "/") + "/v1/plan?filename=" + url.QueryEscape(name)
	client := &http.Client{Timeout: timeout}
	resp, err := client.Post(u, "text/plain", bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("asking %s for a plan: %w", base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the plan from %s: %w", base, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return nil, fmt.Errorf("%s answered %s: %s", base, resp.Status, e.Error)
		}
		return nil, fmt.Errorf("%s answered %s", base, resp.Status)
	}
	var doc planview.Document
	if err := json.Unmarshal(body, &doc); err != nil || doc.Plan == nil {
		return nil, fmt.Errorf("%s answered no plan: %v", base, err)
	}
	return doc.Plan, nil
}

// planOffline plans c against a saved snapshot.
func planOffline(c *spec.Cluster, file string) (*controller.Result, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading snapshot: %w", err)
	}
	var s snapshot.Snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("snapshot %s is not a saved /v1/snapshot: %w", file, err)
	}
	// New re-sorts and re-indexes what JSON cannot carry. The plan is made
	// at the snapshot's time, with no backoff holds.
	snap := snapshot.New(s.Generation, s.Time, s.Subscription, s.Agents, s.Tasks, s.Items)
	return controller.Plan(controller.Input{Spec: c, Snapshot: snap, Now: snap.Time}), nil
}

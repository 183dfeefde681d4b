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
	"strconv"
	"strings"
	"time"

	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/planview"
	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/statusapi"
	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

const planUsage = `Usage: quobyte-mesos plan (--server URL | --snapshot FILE) [flags] SPEC

Shows what the framework would do if SPEC were in force, and applies nothing:
per host and service, + launch, - stop, ~ replace, each with its reason, then
what is blocked, the services not running healthy (crash-looping, failing
their health checks, starting, waiting to restart: with the last task's
state, reason and message and the restart count), and a summary line.

  --server URL     plan against the live cluster: the spec is posted to the
                   running framework (POST URL/v1/plan), which plans it against
                   its current snapshot, and says what a changed mesos block
                   would do: applied live with UPDATE_FRAMEWORK (name, role,
                   failover timeout) or at the next start (the rest)
  --snapshot FILE  plan offline against a snapshot saved from GET /v1/snapshot

When the framework's status API asks for authentication (the spec's
status_api { auth_file }), give --auth-file: a file in the same format whose
first credential is sent.

The spec is validated locally first; an invalid spec is reported with every
error's position and exit status 1. Flags may come before or after SPEC.

Exit status: 0 success (with -detailed-exitcode: no changes), 1 error or
usage error, 2 changes pending (with -detailed-exitcode only; a change of
the mesos block is one). Services not running healthy are shown but do not
change the exit status.

Flags:
`

func runPlan(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	server := fs.String("server", "", "URL of the running framework (e.g. http://127.0.0.1:7888)")
	snapFile := fs.String("snapshot", "", "snapshot file saved from /v1/snapshot")
	authFile := fs.String("auth-file", "", "credentials for --server: the first line of this file (\"bearer TOKEN\" or \"basic USER:PASSWORD\") is sent")
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	detailed := fs.Bool("detailed-exitcode", false, "exit 0 when nothing changes, 2 when changes are pending")
	timeout := fs.Duration("timeout", 30*time.Second, "time limit for --server")
	files, code, done := parseCommandLine(fs, planUsage, args, stdout, stderr)
	if done {
		return code
	}
	if len(files) != 1 || (*server == "") == (*snapFile == "") {
		return usageError(stderr, "plan", "give one SPEC file and exactly one of --server or --snapshot")
	}
	if *authFile != "" && *server == "" {
		return usageError(stderr, "plan", "--auth-file goes with --server")
	}
	path := files[0]
	c, src, diags := spec.LoadWithSource(path)
	if diags.HasErrors() {
		_ = spec.FormatDiagnostics(stderr, map[string][]byte{path: src}, diags)
		return exitError
	}

	var doc planview.Document
	var err error
	if *server != "" {
		doc, err = planOnServer(serverRequest{base: *server, name: filepath.Base(path), src: src, authFile: *authFile, timeout: *timeout})
	} else {
		doc, err = planOffline(c, *snapFile)
	}
	if err != nil {
		fmt.Fprintf(stderr, "quobyte-mesos plan: %v\n", err)
		return exitError
	}
	if *asJSON {
		err = doc.JSON(stdout)
	} else {
		err = doc.Text(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "quobyte-mesos plan: %v\n", err)
		return exitError
	}
	if *detailed && doc.Changes {
		return 2
	}
	return exitOK
}

// serverRequest is a dry run to ask a running framework for.
type serverRequest struct {
	base, name string
	src        []byte
	authFile   string
	timeout    time.Duration
}

// planOnServer posts the spec to a running framework's dry run. When the
// framework's dry runs are all busy (429), it waits as told and asks again
// until the timeout.
func planOnServer(req serverRequest) (planview.Document, error) {
	var doc planview.Document
	authorization, err := readAuthorization(req.authFile)
	if err != nil {
		return doc, err
	}
	u := strings.TrimRight(req.base, "/") + "/v1/plan?filename=" + url.QueryEscape(req.name)
	client := &http.Client{Timeout: req.timeout}
	deadline := time.Now().Add(req.timeout)
	for {
		r, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(req.src))
		if err != nil {
			return doc, fmt.Errorf("asking %s for a plan: %w", req.base, err)
		}
		r.Header.Set("Content-Type", "text/plain")
		if authorization != "" {
			r.Header.Set("Authorization", authorization)
		}
		resp, err := client.Do(r)
		if err != nil {
			return doc, fmt.Errorf("asking %s for a plan: %w", req.base, err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		resp.Body.Close()
		if err != nil {
			return doc, fmt.Errorf("reading the plan from %s: %w", req.base, err)
		}
		wait := time.Duration(statusapi.RetryAfter) * time.Second
		if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && n > 0 {
			wait = time.Duration(n) * time.Second
		}
		if resp.StatusCode == http.StatusTooManyRequests && time.Now().Add(wait).Before(deadline) {
			time.Sleep(wait)
			continue
		}
		if resp.StatusCode != http.StatusOK {
			return doc, answerError(req.base, resp, body, authorization != "")
		}
		if err := json.Unmarshal(body, &doc); err != nil || doc.Plan == nil {
			return doc, fmt.Errorf("%s answered no plan: %v", req.base, err)
		}
		return doc, nil
	}
}

// planOffline plans c against a saved snapshot.
func planOffline(c *spec.Cluster, file string) (planview.Document, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return planview.Document{}, fmt.Errorf("reading snapshot: %w", err)
	}
	var s snapshot.Snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return planview.Document{}, fmt.Errorf("snapshot %s is not a saved /v1/snapshot: %w", file, err)
	}
	// New re-sorts and re-indexes what JSON cannot carry. The plan is made
	// at the snapshot's time, with no backoff holds.
	snap := snapshot.New(s.Generation, s.Time, s.Subscription, s.Agents, s.Tasks, s.Items)
	return planview.NewDocument(controller.Plan(controller.Input{Spec: c, Snapshot: snap, Now: snap.Time}), snap, nil), nil
}

package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/overview"
)

const statusUsage = `Usage: quobyte-mesos status --server URL [flags]

Prints the cluster as the running framework sees it, as its dashboard (at
URL/) shows it: the summary (spec, converged or not, services healthy,
unhealthy and missing, the Mesos subscription, the last reload with its
diagnostics), one row per agent with the state of each service kind on it
and the devices its prober found, hosts with a problem first; the rollouts
in progress; the blocked items with their reasons, and the launches that
wait for resources with what falls short.

Cell states: healthy, running (health not checked yet), unhealthy,
crash-looping, starting, stopping, unreachable, backoff (with the time
left), blocked, waiting (a launch no offer fits yet), missing (a launch is
planned), - (not wanted); * marks a service of an old config. Colours are used on a terminal only (not with
NO_COLOR set); every state is also written out.

Asked of a standby (several instances), the leader answers.

When the framework's status API asks for authentication (the spec's
status_api { auth_file }), give --auth-file: a file in the same format whose
first credential is sent.

Exit status: 0 converged and every service healthy, 2 not (changes pending,
something blocked, or a service not running healthy), 1 error.

Flags:
`

// exitNotConverged is status's "not converged or not healthy" (as plan
// -detailed-exitcode says "changes pending" with 2).
const exitNotConverged = 2

func runStatus(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	server := fs.String("server", "", "URL of the running framework (e.g. http://127.0.0.1:7888)")
	authFile := fs.String("auth-file", "", "credentials: the first line of this file (\"bearer TOKEN\" or \"basic USER:PASSWORD\") is sent")
	asJSON := fs.Bool("json", false, "print the overview as JSON (the body of URL/v1/overview)")
	problems := fs.Bool("problems", false, "list only the hosts with a problem")
	timeout := fs.Duration("timeout", 30*time.Second, "time limit of the request")
	rest, code, done := parseCommandLine(fs, statusUsage, args, stdout, stderr)
	if done {
		return code
	}
	if len(rest) != 0 || *server == "" {
		return usageError(stderr, "status", "give --server URL and no arguments")
	}
	ov, raw, err := fetchOverview(*server, *authFile, *timeout)
	if err != nil {
		fmt.Fprintf(stderr, "quobyte-mesos status: %v\n", err)
		return exitError
	}
	if *asJSON {
		_, err = stdout.Write(raw)
	} else {
		err = ov.Text(stdout, overview.TextOptions{Color: colorful(stdout), ProblemsOnly: *problems})
	}
	if err != nil {
		fmt.Fprintf(stderr, "quobyte-mesos status: %v\n", err)
		return exitError
	}
	if !ov.Converged || !ov.Healthy {
		return exitNotConverged
	}
	return exitOK
}

// fetchOverview asks a running framework for GET /v1/overview.
func fetchOverview(base, authFile string, timeout time.Duration) (overview.Overview, []byte, error) {
	var ov overview.Overview
	req, err := http.NewRequest(http.MethodGet, strings.TrimRight(base, "/")+"/v1/overview", nil)
	if err != nil {
		return ov, nil, fmt.Errorf("asking %s: %w", base, err)
	}
	authorization, err := readAuthorization(authFile)
	if err != nil {
		return ov, nil, err
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := (&http.Client{Timeout: timeout}).Do(req)
	if err != nil {
		return ov, nil, fmt.Errorf("asking %s: %w", base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return ov, nil, fmt.Errorf("reading the answer of %s: %w", base, err)
	}
	if resp.StatusCode != http.StatusOK {
		return ov, nil, answerError(base, resp, body, authorization != "")
	}
	if err := json.Unmarshal(body, &ov); err != nil || ov.Time.IsZero() {
		return ov, nil, fmt.Errorf("%s answered no overview (is it quobyte-mesos?): %v", base, err)
	}
	return ov, body, nil
}

// colorful reports whether w is a terminal that colours may be written to:
// never with NO_COLOR set (https://no-color.org), never into a file or pipe.
func colorful(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

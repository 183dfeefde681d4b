// Command quobyte-mesos is the Quobyte Mesos framework: it deploys Quobyte
// on a Mesos cluster and keeps it as an HCL spec file says.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
)

// command is one subcommand. run gets the arguments after the subcommand's
// name and returns the process exit code.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

// commands lists the subcommands. Each lives in a file of its own.
func commands() map[string]command {
	return map[string]command{
		"version":  {"print the version", runVersion},
		"validate": {"check spec files and report every error with its position", runValidate},
		"fmt":      {"rewrite spec files in the canonical layout (-check for CI: exit 3 when not formatted)", runFmt},
		"prober":   {"run the device prober executor (started by the framework on every agent)", runProber},
		"run":      {"run the framework: keep Quobyte as the spec says (SIGHUP reloads the spec)", runRun},
		"plan":     {"dry run: show what a spec would change, against the live cluster or a snapshot", runPlan},
		"status":   {"the cluster at a glance, as the dashboard shows it (exit 2 when not converged and healthy)", runStatus},
		"teardown": {"tear the framework down: kill every Quobyte service (asks for confirmation)", runTeardown},
	}
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

func dispatch(args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout, cmds)
		if len(args) == 0 {
			return 1
		}
		return 0
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "quobyte-mesos: unknown command %q (see quobyte-mesos --help)\n", args[0])
		return 1
	}
	return c.run(args[1:], stdout, stderr)
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "Usage: quobyte-mesos <command> [flags] [args]")
	fmt.Fprintln(w, "\nDeploys Quobyte on a Mesos cluster and keeps it as an HCL spec file says.\n\nCommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'quobyte-mesos <command> --help' for a command's flags.")
}

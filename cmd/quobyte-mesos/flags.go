package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// Exit codes shared by the subcommands. 2 is never a usage error: plan
// -detailed-exitcode reserves it for "changes pending", and fmt -check
// says "not formatted" with 3 (as terraform fmt -check does).
const (
	exitOK    = 0
	exitError = 1 // an error, or a usage error
)

// parseArgs parses fs's flags wherever they stand among the arguments
// (`plan --server URL FILE -detailed-exitcode`: Go's flag package stops at
// the first argument that is not a flag, and silently took the rest as
// arguments) and returns the other arguments in order. "--" ends the
// flags: everything after it is an argument.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(positional, rest...), nil
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// parseCommandLine is parseArgs for a subcommand: --help prints usage and
// fs's flags on stdout (exit 0), a bad flag is reported on stderr (exit
// 1). done is false when the command should go on with the arguments.
func parseCommandLine(fs *flag.FlagSet, usage string, args []string, stdout, stderr io.Writer) (positional []string, code int, done bool) {
	fs.SetOutput(io.Discard) // errors are reported below, once
	positional, err := parseArgs(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return nil, exitOK, true
	case err != nil:
		return nil, usageError(stderr, fs.Name(), err.Error()), true
	}
	return positional, 0, false
}

// usageError reports a wrong command line and returns its exit code.
func usageError(stderr io.Writer, command, msg string) int {
	fmt.Fprintf(stderr, "quobyte-mesos %s: %s (see quobyte-mesos %s --help)\n", command, msg, command)
	return exitError
}

package main

import (
	"fmt"
	"io"
)

// runProber is replaced by the real subcommand; until then it fails loudly.
func runProber(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "quobyte-mesos prober: not built yet")
	return 1
}

package main

import (
	"fmt"
	"io"
)

// runValidate is replaced by the real subcommand; until then it fails loudly.
func runValidate(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "quobyte-mesos validate: not built yet")
	return 1
}

package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/hashicorp/go-hclog"
)

// logFlags are the logging flags every long-running subcommand takes.
type logFlags struct {
	level string
	json  bool
}

func (l *logFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.level, "log-level", "info", "trace, debug, info, warn or error")
	fs.BoolVar(&l.json, "log-json", false, "log JSON lines instead of text")
}

func (l *logFlags) logger(name string, w io.Writer) (hclog.Logger, error) {
	level := hclog.LevelFromString(l.level)
	if level == hclog.NoLevel {
		return nil, fmt.Errorf("unknown log level %q (want trace, debug, info, warn or error)", l.level)
	}
	return hclog.New(&hclog.LoggerOptions{Name: name, Level: level, JSONFormat: l.json, Output: w}), nil
}

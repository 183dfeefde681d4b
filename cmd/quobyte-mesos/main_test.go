package main

import (
	"bytes"
	"strings"
	"testing"
)

// Every subcommand answers --help with its usage and exit 0, and the
// top-level help lists every subcommand.
func TestHelp_EveryCommand(t *testing.T) {
	var top bytes.Buffer
	if code := dispatch([]string{"--help"}, &top, &top); code != 0 {
		t.Fatalf("quobyte-mesos --help = %d", code)
	}
	for name := range commands() {
		if !strings.Contains(top.String(), "  "+name+" ") {
			t.Errorf("top-level help does not list %s:\n%s", name, top.String())
		}
		if name == "version" {
			continue // takes no flags
		}
		var out bytes.Buffer
		if code := dispatch([]string{name, "--help"}, &out, &out); code != 0 {
			t.Errorf("%s --help = %d\n%s", name, code, out.String())
		}
		if !strings.Contains(out.String(), "Usage: quobyte-mesos "+name) {
			t.Errorf("%s --help lacks its usage line:\n%s", name, out.String())
		}
	}
}

func TestDispatch_UnknownCommand(t *testing.T) {
	var out bytes.Buffer
	if code := dispatch([]string{"frobnicate"}, &out, &out); code != 1 || !strings.Contains(out.String(), `unknown command "frobnicate"`) {
		t.Errorf("unknown command: %d %q", code, out.String())
	}
}

package main

import (
	"bytes"
	"flag"
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

// Flags may follow the arguments in every subcommand; usage errors exit 1
// (never 2, which plan -detailed-exitcode reserves for "changes pending").
func TestCommandLine_FlagsAfterArgumentsAndUsageErrorsExit1(t *testing.T) {
	for name := range commands() {
		if name == "version" {
			continue // takes no flags
		}
		var out bytes.Buffer
		if code := dispatch([]string{name, "--no-such-flag"}, &out, &out); code != 1 || !strings.Contains(out.String(), "no-such-flag") {
			t.Errorf("%s --no-such-flag: exit %d, want 1:\n%s", name, code, out.String())
		}
	}
	for _, args := range [][]string{
		{"plan", "--snapshot"},                 // flag without its value
		{"plan", "x.hcl"},                      // neither --server nor --snapshot
		{"plan", "--server", "u", "a", "b"},    // two specs
		{"run"},                                // no --spec
		{"teardown", "--spec", "s.hcl", "arg"}, // an argument
		{"prober", "--interval", "0s"},
		{"fmt"},
	} {
		var out bytes.Buffer
		if code := dispatch(args, &out, &out); code != 1 {
			t.Errorf("%v: exit %d, want 1:\n%s", args, code, out.String())
		}
	}
}

func TestParseArgs_Interspersed(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		positional []string
		json       bool
		server     string
	}{
		{[]string{"--server", "u", "a.hcl", "-json"}, []string{"a.hcl"}, true, "u"},
		{[]string{"a.hcl", "--server=u", "b.hcl", "-json"}, []string{"a.hcl", "b.hcl"}, true, "u"},
		{[]string{"a.hcl", "--", "-json"}, []string{"a.hcl", "-json"}, false, ""},
		{[]string{"-", "-json"}, []string{"-"}, true, ""},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		j := fs.Bool("json", false, "")
		s := fs.String("server", "", "")
		got, err := parseArgs(fs, tc.args)
		if err != nil || strings.Join(got, " ") != strings.Join(tc.positional, " ") || *j != tc.json || *s != tc.server {
			t.Errorf("%q: positional %q json %v server %q err %v", tc.args, got, *j, *s, err)
		}
	}
}

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quobyte/quobyte-mesos/spec"
)

const unformatted = "mesos {\nmaster=\"http://m:5050\"\n}\nquobyte {\n  image = \"a/b\"\n  version    = \"1\"\n}\n"
const formatted = "mesos {\n  master = \"http://m:5050\"\n}\nquobyte {\n  image   = \"a/b\"\n  version = \"1\"\n}\n"

func runFmtT(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := runFmt(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fmt -check changes nothing and exits 3 when a file is not formatted
// (as terraform fmt -check); -diff shows the change as a unified diff.
func TestFmt_CheckAndDiffChangeNothing(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.hcl", []byte(unformatted))
	good := writeFile(t, dir, "good.hcl", []byte(formatted))
	code, stdout, stderr := runFmtT("-check", good, bad)
	if code != 3 || stdout != bad+"\n" || stderr != "" {
		t.Errorf("-check: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if code, _, _ := runFmtT(good, "-check"); code != 0 {
		t.Errorf("-check of a formatted file: exit %d", code)
	}
	code, stdout, _ = runFmtT("-check", "-diff", bad)
	wantDiff := "--- " + bad + ".orig\n+++ " + bad + "\n@@ -1,7 +1,7 @@\n mesos {\n-master=\"http://m:5050\"\n+  master = \"http://m:5050\"\n }\n quobyte {\n-  image = \"a/b\"\n-  version    = \"1\"\n+  image   = \"a/b\"\n+  version = \"1\"\n }\n"
	if code != 3 || stdout != wantDiff {
		t.Errorf("-check -diff: exit %d, stdout:\n%s\nwant:\n%s", code, stdout, wantDiff)
	}
	if readString(t, bad) != unformatted {
		t.Errorf("-check changed the file")
	}
}

// fmt rewrites in place, keeping the file's mode and the spec's meaning.
func TestFmt_RewritesKeepingModeAndHash(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.hcl", []byte(unformatted))
	if err := os.Chmod(bad, 0o640); err != nil {
		t.Fatal(err)
	}
	before, diags := spec.Load(bad)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	code, stdout, stderr := runFmtT(dir) // a directory: its *.hcl files
	if code != 0 || stdout != bad+"\n" || stderr != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if got := readString(t, bad); got != formatted {
		t.Errorf("rewritten to:\n%s", got)
	}
	if info, err := os.Stat(bad); err != nil || info.Mode().Perm() != 0o640 {
		t.Errorf("mode after rewrite: %v %v", info.Mode(), err)
	}
	after, _ := spec.Load(bad)
	if after == nil || after.Hash != before.Hash {
		t.Errorf("formatting changed the spec hash")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("files left in the directory: %v", entries)
	}
	if code, stdout, _ := runFmtT(bad); code != 0 || stdout != "" {
		t.Errorf("second run: exit %d, stdout %q", code, stdout)
	}
}

// A file fmt cannot format (syntax error, nested too deeply, missing) is
// reported with its position and left alone; the others are still done.
func TestFmt_BadFilesReportedAndLeftAlone(t *testing.T) {
	dir := t.TempDir()
	syntax := writeFile(t, dir, "syntax.hcl", []byte("mesos {\n  master = \n}\n"))
	deep := writeFile(t, dir, "deep.hcl", []byte("env = "+strings.Repeat("[", 100_000)))
	bad := writeFile(t, dir, "bad.hcl", []byte(unformatted))
	code, stdout, stderr := runFmtT(syntax, deep, filepath.Join(dir, "missing.hcl"), bad)
	if code != 1 || stdout != bad+"\n" {
		t.Errorf("exit %d, stdout %q", code, stdout)
	}
	for _, want := range []string{syntax + ":2:", deep + ":1:39: Nested too deeply", "Spec file not found"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%.2000s", want, stderr)
		}
	}
	if readString(t, syntax) != "mesos {\n  master = \n}\n" || readString(t, bad) != formatted {
		t.Errorf("files: syntax %q, bad %q", readString(t, syntax), readString(t, bad))
	}
}

// The examples are formatted, and stay so.
func TestFmt_ExamplesAreFormatted(t *testing.T) {
	if code, stdout, stderr := runFmtT("-check", "../../examples"); code != 0 {
		t.Errorf("examples not formatted (exit %d): %s%s\nrun: bin/quobyte-mesos fmt examples", code, stdout, stderr)
	}
}

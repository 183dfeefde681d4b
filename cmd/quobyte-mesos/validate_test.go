package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runValidateT(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runValidate(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestValidate_Examples(t *testing.T) {
	files, _ := filepath.Glob("../../examples/*.hcl")
	if len(files) == 0 {
		t.Fatal("no examples")
	}
	code, stdout, stderr := runValidateT(t, files...)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	for _, f := range files {
		if !strings.Contains(stdout, f+": valid (spec hash ") {
			t.Errorf("stdout lacks a valid line for %s:\n%s", f, stdout)
		}
	}
}

const severalMistakes = `mesos {
  master           = "ftp://m1:5050"
  failover_timeout = "two weeks"
}
quobyte {
  image   = "registry.corp:5000/quobyte-server:3.4"
  version = "3.4"
  state   = "paused"
}
service "regsitry" {}
service "api" {
  resources { cpus = -1 }
}
`

func TestValidate_ReportsEveryErrorWithPositionAndSnippet(t *testing.T) {
	bad := writeFile(t, t.TempDir(), "bad.hcl", []byte(severalMistakes))
	code, stdout, stderr := runValidateT(t, bad)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if stdout != "" {
		t.Errorf("stdout not empty: %q", stdout)
	}
	for _, want := range []string{
		bad + ":2:22: Invalid master URL",
		bad + ":3:22: Invalid duration",
		bad + ":6:13: Invalid image reference",
		bad + ":8:13: Unknown state",
		bad + ":10:9: Unknown service kind",
		bad + ":12:22: Invalid resource",
		`   8:   state   = "paused"`, // the snippet
		bad + ": invalid, 6 errors",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestValidate_BadInputIsOneLine(t *testing.T) {
	dir := t.TempDir()
	huge := make([]byte, 5<<20)
	for i := range huge {
		huge[i] = '\n'
	}
	for _, tc := range []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "missing.hcl"), "Spec file not found"},
		{"directory", dir, "Spec file is a directory"},
		{"empty", writeFile(t, dir, "empty.hcl", nil), "Empty spec"},
		{"binary", writeFile(t, dir, "junk.hcl", []byte("\x7fELF\x02\x01\x01\x00\x00\xff\xfe")), "Not a text file"},
		{"huge", writeFile(t, dir, "huge.hcl", huge), "Spec file too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runValidateT(t, tc.path)
			if code != 1 || stdout != "" {
				t.Fatalf("exit %d stdout %q, want 1 and nothing", code, stdout)
			}
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], tc.path+": error: "+tc.want) {
				t.Errorf("want one line %q, got:\n%s", tc.path+": error: "+tc.want+"...", stderr)
			}
		})
	}
}

func TestValidate_JSON(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.hcl", []byte(severalMistakes))
	missing := filepath.Join(dir, "missing.hcl")
	code, stdout, stderr := runValidateT(t, "-json", "../../examples/local.hcl", bad, missing)
	if code != 1 || stderr != "" {
		t.Fatalf("exit %d stderr %q", code, stderr)
	}
	var got struct {
		Valid      bool `json:"valid"`
		ErrorCount int  `json:"error_count"`
		Files      []struct {
			File        string `json:"file"`
			Valid       bool   `json:"valid"`
			Hash        string `json:"hash"`
			Diagnostics []struct {
				Severity string `json:"severity"`
				Summary  string `json:"summary"`
				Detail   string `json:"detail"`
				Range    *struct {
					Filename string `json:"filename"`
					Start    struct{ Line, Column, Byte int }
					End      struct{ Line, Column, Byte int }
				} `json:"range"`
			} `json:"diagnostics"`
		} `json:"files"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	if got.Valid || got.ErrorCount != 7 || len(got.Files) != 3 {
		t.Fatalf("valid %v error_count %d files %d, want false 7 3:\n%s", got.Valid, got.ErrorCount, len(got.Files), stdout)
	}
	if f := got.Files[0]; !f.Valid || len(f.Hash) != 16 || len(f.Diagnostics) != 0 {
		t.Errorf("local.hcl: %+v", f)
	}
	f := got.Files[1]
	if f.Valid || f.File != bad || len(f.Diagnostics) != 6 {
		t.Fatalf("bad.hcl: %+v", f)
	}
	d := f.Diagnostics[0]
	if d.Severity != "error" || d.Summary != "Invalid master URL" || d.Range == nil ||
		d.Range.Filename != bad || d.Range.Start.Line != 2 || d.Range.Start.Column != 22 || d.Range.End.Column <= d.Range.Start.Column {
		t.Errorf("first diagnostic: %+v range %+v", d, d.Range)
	}
	if m := got.Files[2]; m.Valid || len(m.Diagnostics) != 1 || m.Diagnostics[0].Range != nil {
		t.Errorf("missing file: %+v", m)
	}
}

func TestValidate_Usage(t *testing.T) {
	code, stdout, _ := runValidateT(t, "--help")
	if code != 0 || !strings.Contains(stdout, "Usage: quobyte-mesos validate [-json] FILE...") || !strings.Contains(stdout, "-json") {
		t.Errorf("--help: exit %d\n%s", code, stdout)
	}
	// Usage errors exit 1: 2 means "changes pending" to plan.
	if code, _, stderr := runValidateT(t); code != 1 || !strings.Contains(stderr, "no spec file given") {
		t.Errorf("no args: exit %d %q", code, stderr)
	}
	if code, _, stderr := runValidateT(t, "-nope", "x.hcl"); code != 1 || !strings.Contains(stderr, "-nope") {
		t.Errorf("bad flag: exit %d %q", code, stderr)
	}
}

// Flags after the files count: -json after a file used to be taken as a
// second file.
func TestValidate_FlagsAfterFiles(t *testing.T) {
	code, stdout, stderr := runValidateT(t, "../../examples/local.hcl", "-json")
	if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "{") {
		t.Errorf("exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
}

func TestValidate_WarningsKeepFileValid(t *testing.T) {
	f := writeFile(t, t.TempDir(), "w.hcl", []byte("mesos { master = \"http://m:5050\" }\nquobyte { image = \"a/b\" }\n"))
	code, stdout, stderr := runValidateT(t, f)
	if code != 0 || !strings.Contains(stdout, f+": valid") || !strings.Contains(stderr, "Warning: "+f+":2:19: No version pinned") {
		t.Errorf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
}

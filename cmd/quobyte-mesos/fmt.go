package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/udiff"
	"github.com/quobyte/quobyte-mesos/spec"
)

const fmtUsage = `Usage: quobyte-mesos fmt [-check] [-diff] FILE|DIR...

Rewrites spec files in the canonical HCL layout (the layout terraform fmt
writes: indentation, spacing, aligned '='). Only whitespace changes: the spec
hash stays the same. A directory stands for the *.hcl files in it. The name
of every file rewritten is printed.

  -check  change nothing: print the name of every file not formatted, and
          exit 3 if there is one (for CI)
  -diff   print what changes, as a unified diff

A file that cannot be read or has syntax errors is reported with positions
and left alone. Flags may come before or after the files.

Exit status: 0 success, 1 error or usage error, 3 with -check when a file is
not formatted.

Flags:
`

// exitNotFormatted is fmt -check's "a file is not formatted", as terraform
// fmt -check says it.
const exitNotFormatted = 3

func runFmt(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fmt", flag.ContinueOnError)
	check := fs.Bool("check", false, "change nothing; exit 3 when a file is not formatted")
	diff := fs.Bool("diff", false, "print a unified diff of the changes")
	targets, code, done := parseCommandLine(fs, fmtUsage, args, stdout, stderr)
	if done {
		return code
	}
	if len(targets) == 0 {
		return usageError(stderr, "fmt", "no file or directory given")
	}
	files, err := expandTargets(targets)
	if err != nil {
		fmt.Fprintf(stderr, "quobyte-mesos fmt: %v\n", err)
		return exitError
	}
	failed, unformatted := false, false
	for _, path := range files {
		changed, err := fmtFile(path, *check, *diff, stdout, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "quobyte-mesos fmt: %v\n", err)
			failed = true
			continue
		}
		unformatted = unformatted || changed
	}
	switch {
	case failed:
		return exitError
	case *check && unformatted:
		return exitNotFormatted
	}
	return exitOK
}

// expandTargets replaces each directory by the *.hcl files in it.
func expandTargets(targets []string) ([]string, error) {
	var files []string
	for _, t := range targets {
		info, err := os.Stat(t)
		if err != nil || !info.IsDir() {
			files = append(files, t) // a missing file is reported by fmtFile
			continue
		}
		matches, err := filepath.Glob(filepath.Join(t, "*.hcl"))
		if err != nil {
			return nil, err
		}
		sort.Strings(matches)
		files = append(files, matches...)
	}
	return files, nil
}

// fmtFile formats one file; changed says whether it was not formatted.
func fmtFile(path string, check, diff bool, stdout, stderr io.Writer) (changed bool, err error) {
	src, diags := spec.ReadFile(path)
	if !diags.HasErrors() {
		var out []byte
		out, diags = spec.Format(src, path)
		if !diags.HasErrors() {
			if bytes.Equal(src, out) {
				return false, nil
			}
			return true, writeFormatted(path, src, out, check, diff, stdout)
		}
	}
	if err := spec.FormatDiagnostics(stderr, map[string][]byte{path: src}, diags); err != nil {
		return false, err
	}
	return false, fmt.Errorf("%s: not formatted: %s", path, diags.Errs()[0])
}

func writeFormatted(path string, src, out []byte, check, diff bool, stdout io.Writer) error {
	if diff {
		if _, err := io.WriteString(stdout, udiff.Unified(path+".orig", path, src, out)); err != nil {
			return err
		}
	} else if _, err := fmt.Fprintln(stdout, path); err != nil {
		return err
	}
	if check {
		return nil
	}
	return replaceFile(path, out)
}

// replaceFile writes data to path through a temporary file in the same
// directory and a rename, keeping the file's mode: a crash leaves the old
// file or the new one, never half of one.
func replaceFile(path string, data []byte) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("rewriting %s: %w", path, err)
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), info.Mode().Perm())
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("rewriting %s: %w", path, err)
	}
	return nil
}

package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/quobyte/quobyte-mesos/spec"
)

const validateUsage = `Usage: quobyte-mesos validate [-json] FILE...

Checks spec files: syntax, every attribute and block, defaults applied, and
the semantic rules (service kinds, durations, resources, port clashes,
upgrade order, image references, master URLs...). Every problem in every
file is reported at once, as FILE:LINE:COLUMN with the offending source
line. A valid file prints "FILE: valid (spec hash H)"; warnings (settings
that are ignored, an unpinned version) do not make a file invalid.

Exit status: 0 when every file is valid, 1 when any is not or on a usage
error. Flags may come before or after the files.

Flags:
`

// runValidate is the validate subcommand.
func runValidate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print one JSON document on stdout instead of text:\n"+
		`{"valid", "error_count", "files": [{"file", "valid", "hash", "diagnostics": [{"severity", "summary", "detail", "range"}]}]}`)
	files, code, done := parseCommandLine(fs, validateUsage, args, stdout, stderr)
	if done {
		return code
	}
	if len(files) == 0 {
		return usageError(stderr, "validate", "no spec file given")
	}

	results := make([]fileResult, 0, len(files))
	for _, path := range files {
		results = append(results, validateFile(path))
	}
	allValid := true
	for _, r := range results {
		allValid = allValid && r.cluster != nil
	}
	var err error
	if *asJSON {
		err = writeValidateJSON(stdout, results)
	} else {
		err = writeValidateText(stdout, stderr, results)
	}
	if err != nil {
		fmt.Fprintf(stderr, "quobyte-mesos validate: %v\n", err)
		return 1
	}
	if !allValid {
		return 1
	}
	return 0
}

// fileResult is the outcome of validating one file.
type fileResult struct {
	path    string
	src     []byte // nil when the file could not be read
	cluster *spec.Cluster
	diags   hcl.Diagnostics
}

func validateFile(path string) fileResult {
	c, src, diags := spec.LoadWithSource(path)
	return fileResult{path: path, src: src, cluster: c, diags: diags}
}

func writeValidateText(stdout, stderr io.Writer, results []fileResult) error {
	for _, r := range results {
		// Diagnostics without a position concern the whole file (missing,
		// a directory, binary): one line each.
		var positioned hcl.Diagnostics
		for _, d := range r.diags {
			if d.Subject != nil {
				positioned = append(positioned, d)
				continue
			}
			if _, err := fmt.Fprintf(stderr, "%s: %s: %s\n", r.path, severityWord(d.Severity), oneLine(d.Summary, d.Detail)); err != nil {
				return err
			}
		}
		if err := spec.FormatDiagnostics(stderr, map[string][]byte{r.path: r.src}, positioned); err != nil {
			return err
		}
		if r.cluster != nil {
			if _, err := fmt.Fprintf(stdout, "%s: valid (spec hash %s)\n", r.path, r.cluster.Hash); err != nil {
				return err
			}
			continue
		}
		if n := len(r.diags.Errs()); n > 1 || len(positioned) > 0 {
			if _, err := fmt.Fprintf(stderr, "%s: invalid, %d %s\n", r.path, n, plural(n, "error", "errors")); err != nil {
				return err
			}
		}
	}
	return nil
}

func severityWord(s hcl.DiagnosticSeverity) string {
	if s == hcl.DiagWarning {
		return "warning"
	}
	return "error"
}

func oneLine(summary, detail string) string {
	s := summary
	if detail != "" {
		s += ": " + detail
	}
	return strings.Join(strings.Fields(s), " ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// The -json output. Field names are part of the command's interface.
type (
	validateJSON struct {
		Valid      bool       `json:"valid"`
		ErrorCount int        `json:"error_count"`
		Files      []fileJSON `json:"files"`
	}
	fileJSON struct {
		File        string     `json:"file"`
		Valid       bool       `json:"valid"`
		Hash        string     `json:"hash,omitempty"`
		Diagnostics []diagJSON `json:"diagnostics"`
	}
	diagJSON struct {
		Severity string     `json:"severity"`
		Summary  string     `json:"summary"`
		Detail   string     `json:"detail,omitempty"`
		Range    *rangeJSON `json:"range,omitempty"`
	}
	rangeJSON struct {
		Filename string  `json:"filename"`
		Start    posJSON `json:"start"`
		End      posJSON `json:"end"`
	}
	posJSON struct {
		Line   int `json:"line"`
		Column int `json:"column"`
		Byte   int `json:"byte"`
	}
)

func writeValidateJSON(w io.Writer, results []fileResult) error {
	out := validateJSON{Valid: true, Files: make([]fileJSON, 0, len(results))}
	for _, r := range results {
		f := fileJSON{File: r.path, Valid: r.cluster != nil, Diagnostics: make([]diagJSON, 0, len(r.diags))}
		if r.cluster != nil {
			f.Hash = r.cluster.Hash
		}
		out.Valid = out.Valid && f.Valid
		for _, d := range r.diags {
			if d.Severity == hcl.DiagError {
				out.ErrorCount++
			}
			dj := diagJSON{Severity: severityWord(d.Severity), Summary: d.Summary, Detail: d.Detail}
			if s := d.Subject; s != nil {
				dj.Range = &rangeJSON{
					Filename: s.Filename,
					Start:    posJSON{s.Start.Line, s.Start.Column, s.Start.Byte},
					End:      posJSON{s.End.Line, s.End.Column, s.End.Byte},
				}
			}
			f.Diagnostics = append(f.Diagnostics, dj)
		}
		out.Files = append(out.Files, f)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("encoding JSON: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// MaxFileSize caps a spec file. Real specs are a few KiB (the production
// example: 3 KiB). The cap keeps a wrong path (a log, a disk image) from
// being read whole, and it bounds the memory of one load: lexing and
// parsing HCL allocate about a thousand bytes per byte of input, so the
// worst files of this size measured 46 MiB of peak heap and 156 MiB
// allocated, in 0.6 s (a 4 MiB file: over 3 GiB and 8 s).
const MaxFileSize = 128 << 10

// Load reads, parses, defaults and validates the spec file at path. The
// cluster is nil when any diagnostic is an error; warnings may come with a
// valid cluster. Print the diagnostics with FormatDiagnostics (for source
// snippets use LoadWithSource).
func Load(path string) (*Cluster, hcl.Diagnostics) {
	c, _, diags := LoadWithSource(path)
	return c, diags
}

// LoadWithSource is Load that also returns the file's bytes (nil when it
// could not be read), so that the caller can print the diagnostics with
// source snippets:
//
//	c, src, diags := spec.LoadWithSource(path)
//	spec.FormatDiagnostics(w, map[string][]byte{path: src}, diags)
func LoadWithSource(path string) (*Cluster, []byte, hcl.Diagnostics) {
	src, diags := ReadFile(path)
	if diags.HasErrors() {
		return nil, nil, diags
	}
	c, diags := LoadBytes(src, path)
	return c, src, diags
}

// ReadFile reads a spec file, refusing what cannot be one: a missing file, a
// directory, a file over MaxFileSize. Each refusal is a single diagnostic
// without a source range.
func ReadFile(path string) ([]byte, hcl.Diagnostics) {
	fail := func(summary, detail string) ([]byte, hcl.Diagnostics) {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: detail}}
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fail("Spec file not found", fmt.Sprintf("There is no file %q.", path))
		}
		return fail("Cannot open spec file", err.Error())
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fail("Cannot read spec file", err.Error())
	}
	if info.IsDir() {
		return fail("Spec file is a directory", fmt.Sprintf("%q is a directory; name a spec file in it.", path))
	}
	src, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return fail("Cannot read spec file", err.Error())
	}
	if len(src) > MaxFileSize {
		return fail("Spec file too large", tooLarge(path))
	}
	return src, nil
}

// LoadBytes parses, defaults and validates a spec held in memory; filename
// is used in diagnostics only. Every problem found is reported, each with
// the range of the offending text. The cluster is nil when any diagnostic is
// an error.
func LoadBytes(src []byte, filename string) (*Cluster, hcl.Diagnostics) {
	if d := checkSafe(src, filename); d != nil {
		return nil, hcl.Diagnostics{d}
	}
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		// Syntax errors make the rest of the file unreliable; report them only.
		return nil, diags
	}
	if body, ok := file.Body.(*hclsyntax.Body); ok && len(body.Attributes) == 0 && len(body.Blocks) == 0 {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Empty spec",
			Detail:   fmt.Sprintf("%s holds no settings; a spec needs at least mesos { master = ... } and quobyte { image = ... }.", filename),
		}}
	}
	if body, ok := file.Body.(*hclsyntax.Body); ok {
		diags = append(diags, checkStrings(body, src)...)
	}
	var raw rawFile
	diags = append(diags, gohcl.DecodeBody(file.Body, nil, &raw)...)
	c := build(&raw, file.Body, &diags)
	sortDiagnostics(diags)
	if diags.HasErrors() {
		return nil, diags
	}
	c.File = filename
	finalizeHashes(c)
	return c, diags
}

// checkSafe refuses what must not reach the parser: more than MaxFileSize
// bytes, binary data, nesting beyond MaxNesting.
func checkSafe(src []byte, filename string) *hcl.Diagnostic {
	if len(src) > MaxFileSize {
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Spec file too large", Detail: tooLarge(filename)}
	}
	if d := checkText(src, filename); d != nil {
		return d
	}
	return checkNesting(src, filename)
}

func tooLarge(filename string) string {
	return fmt.Sprintf("%q is larger than the limit of %d KiB; is it really a spec file?", filename, MaxFileSize>>10)
}

// checkText refuses binary data before the parser sees it, so that junk
// gets one clear error instead of a page of syntax errors. Like the other
// whole-file refusals it has no source range: there is nothing to show.
func checkText(src []byte, filename string) *hcl.Diagnostic {
	bad := bytes.IndexByte(src, 0)
	if !utf8.Valid(src) {
		for i := 0; i < len(src); {
			r, size := utf8.DecodeRune(src[i:])
			if r == utf8.RuneError && size <= 1 {
				if bad < 0 || i < bad {
					bad = i
				}
				break
			}
			i += size
		}
	}
	if bad < 0 {
		return nil
	}
	pos := posAt(src, bad)
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Not a text file",
		Detail:   fmt.Sprintf("%s holds binary data (first at line %d, column %d); a spec file is UTF-8 text.", filename, pos.Line, pos.Column),
	}
}

// posAt converts a byte offset into a line/column position.
func posAt(src []byte, offset int) hcl.Pos {
	line := 1 + bytes.Count(src[:offset], []byte("\n"))
	col := offset + 1
	if i := bytes.LastIndexByte(src[:offset], '\n'); i >= 0 {
		col = offset - i
	}
	return hcl.Pos{Line: line, Column: col, Byte: offset}
}

// sortDiagnostics orders diagnostics by position, so that they read top to
// bottom like the file; those without a position come first.
func sortDiagnostics(diags hcl.Diagnostics) {
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		}
		return a.Start.Byte < b.Start.Byte
	})
}

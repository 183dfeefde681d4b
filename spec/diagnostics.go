package spec

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// FormatDiagnostics writes diags for a human: each as "Error: FILE:LINE:COL:
// summary", then the source lines it points at (when sources holds the
// file's bytes, keyed by the filename given to LoadBytes), then its detail.
// sources may be nil: positions are still printed, without snippets.
func FormatDiagnostics(w io.Writer, sources map[string][]byte, diags hcl.Diagnostics) error {
	files := make(map[string]*hcl.File, len(sources))
	for name, src := range sources {
		f := &hcl.File{Bytes: src}
		// Parsed files let the writer name the enclosing block ("in
		// service \"api\""); the bytes alone suffice for snippets. Only
		// a file that is safe to parse is parsed (see checkSafe).
		if checkSafe(src, name) == nil {
			if parsed, _ := hclsyntax.ParseConfig(src, name, hcl.InitialPos); parsed != nil && parsed.Bytes != nil {
				f = parsed
			}
		}
		files[name] = f
	}
	tw := hcl.NewDiagnosticTextWriter(w, files, 0, false)
	for _, d := range diags {
		shown := *d
		if d.Subject != nil {
			shown.Summary = fmt.Sprintf("%s: %s", Position(*d.Subject), d.Summary)
			if longLine(sources[d.Subject.Filename], d.Subject.Start.Byte) {
				// A snippet of a 100 KB line helps nobody; the summary
				// holds the position.
				shown.Subject, shown.Context = nil, nil
			}
		}
		if err := tw.WriteDiagnostic(&shown); err != nil {
			return fmt.Errorf("writing diagnostics: %w", err)
		}
	}
	return nil
}

// Position formats the start of r as "file:line:column", the form editors
// and terminals understand.
func Position(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}

// DiagnosticsText is FormatDiagnostics into a string, for loggers.
func DiagnosticsText(sources map[string][]byte, diags hcl.Diagnostics) string {
	var b strings.Builder
	// A strings.Builder never fails to write.
	_ = FormatDiagnostics(&b, sources, diags)
	return strings.TrimRight(b.String(), "\n")
}

// maxSnippetLine is the longest source line shown in a snippet.
const maxSnippetLine = 500

// longLine reports whether the line of src holding offset is longer than
// maxSnippetLine bytes.
func longLine(src []byte, offset int) bool {
	if offset < 0 || offset > len(src) {
		return false
	}
	start := bytes.LastIndexByte(src[:offset], '\n') + 1
	end := bytes.IndexByte(src[offset:], '\n')
	if end < 0 {
		end = len(src) - offset
	}
	return offset+end-start > maxSnippetLine
}

package spec

import (
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
		// Parsed files let the writer name the enclosing block ("in
		// service \"api\""); the bytes alone suffice for snippets.
		f, _ := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
		if f == nil || f.Bytes == nil {
			f = &hcl.File{Bytes: src}
		}
		files[name] = f
	}
	tw := hcl.NewDiagnosticTextWriter(w, files, 0, false)
	for _, d := range diags {
		shown := *d
		if d.Subject != nil {
			shown.Summary = fmt.Sprintf("%s: %s", Position(*d.Subject), d.Summary)
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

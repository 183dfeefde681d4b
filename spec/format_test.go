package spec

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFormat_RefusesWhatItCannotParse(t *testing.T) {
	for _, tc := range []struct{ name, src, summary string }{
		{"syntax", "mesos {\n  master = \n}\n", ""},
		{"deep", "env = " + strings.Repeat("[", 100_000), "Nested too deeply"},
		{"binary", "a = \"\x00\"", "Not a text file"},
	} {
		out, diags := Format([]byte(tc.src), "t.hcl")
		if out != nil || !diags.HasErrors() || (tc.summary != "" && diags[0].Summary != tc.summary) {
			t.Errorf("%s: output %d bytes, diagnostics:\n%s", tc.name, len(out), listDiags(diags))
		}
	}
}

// FuzzFormat: formatting never panics, is idempotent, and never changes
// what a spec means (its hash).
func FuzzFormat(f *testing.F) {
	examples, _ := filepath.Glob("../examples/*.hcl")
	for _, e := range examples {
		if src, err := os.ReadFile(e); err == nil {
			f.Add(src)
		}
	}
	f.Add([]byte(base))
	f.Add([]byte("mesos {\nmaster=\"http://m:5050\"\n}\nquobyte {\n  image = \"a/b\"\n version    = \"1\" # c\n  env={A=\"1\",B=\"2\"}\n}\n"))
	f.Add([]byte("quobyte {\n  version = <<EOT\n  x\n  EOT\n}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		out, diags := Format(src, "f.hcl")
		if diags.HasErrors() {
			return
		}
		again, _ := Format(out, "f.hcl")
		if !bytes.Equal(again, out) {
			t.Fatalf("not idempotent:\n%s\n---\n%s", out, again)
		}
		before, _ := LoadBytes(src, "f.hcl")
		after, _ := LoadBytes(out, "f.hcl")
		if (before == nil) != (after == nil) || (before != nil && before.Hash != after.Hash) {
			t.Fatalf("formatting changed the spec:\n%s\n---\n%s", src, out)
		}
	})
}

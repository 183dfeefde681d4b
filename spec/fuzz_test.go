package spec

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// FuzzLoadBytes: whatever the input, loading never panics, a cluster comes
// back exactly when there is no error, and printing the diagnostics works.
func FuzzLoadBytes(f *testing.F) {
	examples, _ := filepath.Glob("../examples/*.hcl")
	for _, e := range examples {
		if src, err := os.ReadFile(e); err == nil {
			f.Add(src)
		}
	}
	f.Add([]byte(minimal))
	f.Add([]byte(base))
	f.Add([]byte(""))
	f.Add([]byte("mesos {\n master = [\"zk://a\", 1, true]\n}\nquobyte { image = \"A:B@C\" }\n"))
	f.Add([]byte("service \"api\" {\n ports {\n http = 1e99\n }\n}\n"))
	f.Add([]byte("mesos { master = \"http://[::1]:5050\" }\nquobyte { image = \"a/b\" }\n"))
	configHash := regexp.MustCompile(`^[0-9a-f]{10}$`)
	f.Fuzz(func(t *testing.T, src []byte) {
		c, diags := LoadBytes(src, "fuzz.hcl")
		if (c != nil) == diags.HasErrors() {
			t.Fatalf("cluster %v with errors %v", c != nil, diags.HasErrors())
		}
		var buf bytes.Buffer
		if err := FormatDiagnostics(&buf, map[string][]byte{"fuzz.hcl": src}, diags); err != nil {
			t.Fatalf("formatting diagnostics: %v", err)
		}
		if c == nil {
			return
		}
		// Loading is deterministic: map iteration order must not leak
		// into the hashes.
		again, _ := LoadBytes(src, "fuzz.hcl")
		if again.Hash != c.Hash {
			t.Fatalf("hash differs between two loads: %s vs %s", c.Hash, again.Hash)
		}
		for _, k := range Kinds() {
			if s := c.Service(k); s == nil || !configHash.MatchString(s.ConfigHash) {
				t.Fatalf("service %s missing or with a bad config hash", k)
			}
		}
	})
}

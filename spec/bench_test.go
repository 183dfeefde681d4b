package spec

import (
	"os"
	"testing"
)

// BenchmarkLoadBytes_Production measures a full load (parse, defaults,
// validation, hashes) of the production example, as on every SIGHUP.
func BenchmarkLoadBytes_Production(b *testing.B) {
	src, err := os.ReadFile("../examples/production.hcl")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if c, diags := LoadBytes(src, "production.hcl"); c == nil {
			b.Fatal(diags.Error())
		}
	}
}

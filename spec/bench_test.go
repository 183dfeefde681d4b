package spec

import (
	"os"
	"strings"
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

// BenchmarkLoadBytes_WorstCase measures a load of two of the costliest spec
// shapes of MaxFileSize found (a list of numbers; service blocks): B/op
// bounds one load, as of a dry run posted to the framework.
func BenchmarkLoadBytes_WorstCase(b *testing.B) {
	for name, unit := range map[string]string{"numbers": "1,", "blocks": "service \"data\" {}\n"} {
		src := []byte("x = [" + strings.Repeat(unit, (MaxFileSize-10)/len(unit)) + "]")
		if name == "blocks" {
			src = []byte(strings.Repeat(unit, MaxFileSize/len(unit)))
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				LoadBytes(src, "worst.hcl")
			}
		})
	}
}

package spec

import (
	"bytes"
	"strings"
	"testing"
)

// Deep nesting is refused before the HCL parser sees it, with the position
// of the first level beyond MaxNesting. The input killed the
// process with an uncatchable stack overflow, as did each of the other
// shapes repeated as often as MaxFileSize allows.
func TestLoadBytes_RefusesDeepNestingBeforeParsing(t *testing.T) {
	// rep repeats unit 5,000 times: far beyond the bound, cheap to lex.
	rep := func(unit string) string { return strings.Repeat(unit, 5000) }
	for _, tc := range []struct {
		name, src, at string
	}{
		{"issue 9", "env = " + strings.Repeat("[", 100_000), "1:39"},
		{"unary operators", "enabled = " + rep("!") + "true", "1:43"},
		{"braces", "env = " + rep("{a="), "1:103"},
		{"parentheses", "count = " + rep("("), "1:41"},
		{"function calls", "count = " + rep("f("), "1:74"},
		{"for expressions", "x = " + rep("[for a in "), "1:325"},
		{"interpolations", "version = " + rep(`"${`), "1:59"},
		{"template directives", "version = " + rep(`"%{if `), "1:107"},
		{"heredoc interpolations", "version = <<EOT\n" + rep("${") + "\nEOT\n", "2:64"},
		{"nested blocks", rep("a {\n"), "33:3"},
		{"unary minus over lines", "count = (" + rep("-\n") + "1)", "32:1"},
		{"conditional chain", "count = " + rep("true ? 1 : "), "1:366"},
		{"conditional chain over lines", "count = [" + rep("true ?\n1 :\n") + "1]", "63:6"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := []byte(tc.src)
			if len(src) > MaxFileSize {
				t.Fatalf("input of %d bytes is over MaxFileSize: it would test the size limit", len(src))
			}
			c, diags := LoadBytes(src, "t.hcl")
			if c != nil || len(diags) != 1 || diags[0].Summary != "Nested too deeply" || diags[0].Subject == nil {
				t.Fatalf("want one positioned error \"Nested too deeply\", got:\n%s", listDiags(diags))
			}
			if got := Position(*diags[0].Subject); got != "t.hcl:"+tc.at {
				t.Errorf("error at %s, want t.hcl:%s", got, tc.at)
			}
			// Printing it must not parse the file either, nor print a
			// 100 KB line as a snippet.
			var out bytes.Buffer
			if err := FormatDiagnostics(&out, map[string][]byte{"t.hcl": src}, diags); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), "t.hcl:"+tc.at+": Nested too deeply") || out.Len() > 2000 {
				t.Errorf("formatted diagnostic (%d bytes) lacks the position or is too long:\n%.2000s", out.Len(), out.String())
			}
		})
	}
}

// Brackets in comments, strings and heredocs are text, not nesting: the
// check counts only what the parser would descend into.
func TestLoadBytes_NestingIgnoresText(t *testing.T) {
	deep := strings.Repeat("[{(", 1000)
	src := minimal + "# " + deep + "\n// " + deep + "\n/* " + deep + " */\n" +
		"service \"api\" {\n  env = {\n    A = \"" + deep + "\"\n    B = <<EOT\n" + deep + "\nEOT\n    C = \"$${" + deep + "\"\n  }\n}\n"
	c := mustLoad(t, src)
	if got := c.Service(API).Env["A"]; got != deep {
		t.Errorf("env A = %.20q..., want the brackets as text", got)
	}
}

// MaxNesting levels are allowed; one more is not.
func TestLoadBytes_NestingBound(t *testing.T) {
	at := func(depth int) string {
		// The body of service "api" is depth 1, args' list depth 2.
		return minimal + "service \"api\" {\n  args = " + strings.Repeat("[", depth-1) + strings.Repeat("]", depth-1) + "\n}\n"
	}
	if _, diags := LoadBytes([]byte(at(MaxNesting)), "t.hcl"); hasSummary(diags, "Nested too deeply") {
		t.Errorf("%d levels refused:\n%s", MaxNesting, listDiags(diags))
	}
	if _, diags := LoadBytes([]byte(at(MaxNesting+1)), "t.hcl"); !hasSummary(diags, "Nested too deeply") {
		t.Errorf("%d levels accepted:\n%s", MaxNesting+1, listDiags(diags))
	}
	// Conditionals of separate elements or attributes do not add up.
	many := minimal + "service \"api\" {\n  args = [" + strings.Repeat("true ? \"a\" : \"b\", ", 2*MaxNesting) + "]\n"
	for range 2 * MaxNesting {
		many += "  count = true ? 1 : 2\n"
	}
	if _, diags := LoadBytes([]byte(many+"}\n"), "t.hcl"); hasSummary(diags, "Nested too deeply") {
		t.Errorf("separate conditionals refused:\n%s", listDiags(diags))
	}
}

// LoadBytes bounds its input as ReadFile does: the dry run of POST /v1/plan
// and every other caller get the same memory bound.
func TestLoadBytes_RefusesMoreThanMaxFileSize(t *testing.T) {
	src := []byte(minimal + strings.Repeat("# padding\n", MaxFileSize/10))
	c, diags := LoadBytes(src, "t.hcl")
	if c != nil || len(diags) != 1 || diags[0].Summary != "Spec file too large" {
		t.Fatalf("want one error \"Spec file too large\", got:\n%s", listDiags(diags))
	}
}

func hasSummary(diags interface{ Errs() []error }, summary string) bool {
	for _, e := range diags.Errs() {
		if strings.Contains(e.Error(), summary) {
			return true
		}
	}
	return false
}

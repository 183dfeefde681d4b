package spec

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// MaxNesting bounds how deeply a spec may nest brackets, braces,
// parentheses, quoted strings, heredocs, template interpolations, chained
// conditionals and runs of unary operators. A real spec needs four or five
// levels (block, nested block, object); the bound is far above that and far
// below what hurts.
//
// Why it exists: the HCL parser recurses once per level, so `env = ` and
// 100,000 '[' (100 KB) overflow the goroutine stack, a fatal error no
// recover catches (it killed the framework on SIGHUP and on POST /v1/plan),
// and 20,000 levels cost ~460 MB. The check runs before the parser sees the
// file.
const MaxNesting = 32

// checkNesting refuses a file that nests deeper than MaxNesting, pointing at
// the first token beyond the bound. It reads the file with the HCL lexer, a
// state machine that keeps its own stack on the heap and never recurses: so
// it is safe on any input and agrees exactly with the parser about what is
// a string, a heredoc, a template or a comment (brackets inside those count
// only where the parser would descend into them).
//
// Beside openings, two things make the parser recurse without one: a run of
// unary operators ('!', '-': 262,000 '!' overflowed the stack) and a chain
// of conditionals (a ? b : c ? d : ..., whose 65,000 links in a file of
// MaxFileSize took 64 MiB of stack). Both are counted as levels, over-
// counting rather than under-counting: a binary minus in a run, or '?' of
// separate expressions on one line of a list, only make the count larger.
func checkNesting(src []byte, filename string) *hcl.Diagnostic {
	tokens, _ := hclsyntax.LexConfig(src, filename, hcl.InitialPos)
	// level is one opening and the conditionals of the expression being
	// read inside it; the first stands for the file's top level.
	type level struct {
		open  hclsyntax.TokenType
		conds int
	}
	stack := []level{{}}
	levels := 0 // openings plus conditionals in force
	unary := 0  // the current run of unary operators
	for i := range tokens {
		t := &tokens[i]
		top := &stack[len(stack)-1]
		switch t.Type {
		case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen,
			hclsyntax.TokenOQuote, hclsyntax.TokenOHeredoc,
			hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			stack = append(stack, level{open: t.Type})
			levels++
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen,
			hclsyntax.TokenCQuote, hclsyntax.TokenCHeredoc, hclsyntax.TokenTemplateSeqEnd:
			// A stray closer is a syntax error the parser reports.
			if len(stack) > 1 {
				levels -= 1 + top.conds
				stack = stack[:len(stack)-1]
			}
		case hclsyntax.TokenQuestion:
			top.conds++
			levels++
		case hclsyntax.TokenComma:
			levels -= top.conds // the next element is an expression of its own
			top.conds = 0
		case hclsyntax.TokenNewline:
			// A newline ends an attribute in a body or an object item;
			// inside brackets and parentheses the parser skips it.
			if top.open == hclsyntax.TokenNil || top.open == hclsyntax.TokenOBrace {
				levels -= top.conds
				top.conds = 0
			}
			continue // the parser skips newlines inside expressions: keep the run
		case hclsyntax.TokenComment:
			continue
		}
		if t.Type == hclsyntax.TokenBang || t.Type == hclsyntax.TokenMinus {
			unary++
		} else {
			unary = 0
		}
		if levels+unary > MaxNesting {
			return &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Nested too deeply",
				Detail: fmt.Sprintf("Brackets, braces, strings, templates, conditionals or operators nest more than %d levels deep here. "+
					"A spec needs only a few; the file is refused before it is parsed, so that it cannot exhaust the framework's memory.", MaxNesting),
				Subject: t.Range.Ptr(),
			}
		}
	}
	return nil
}

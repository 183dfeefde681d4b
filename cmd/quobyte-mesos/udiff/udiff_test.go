package udiff

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// The output is what GNU diff -u prints for the same files (checked by
// hand with diffutils 3.8), headers aside.
func TestUnified_LikeDiffU(t *testing.T) {
	a := "l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\nl11\nl12\n"
	b := "l1\nl2 changed\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\nl11\nl12\nl13\n"
	want := `--- a
+++ b
@@ -1,5 +1,5 @@
 l1
-l2
+l2 changed
 l3
 l4
 l5
@@ -10,3 +10,4 @@
 l10
 l11
 l12
+l13
`
	if got := Unified("a", "b", []byte(a), []byte(b)); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if got := Unified("a", "b", []byte(a), []byte(a)); got != "" {
		t.Errorf("equal texts: %q", got)
	}
}

func TestUnified_EmptySidesAndMissingNewline(t *testing.T) {
	for _, tc := range []struct{ a, b, want string }{
		{"", "x\n", "--- a\n+++ b\n@@ -0,0 +1 @@\n+x\n"},
		{"x\n", "", "--- a\n+++ b\n@@ -1 +0,0 @@\n-x\n"},
		{"x\ny", "x\ny\n", "--- a\n+++ b\n@@ -1,2 +1,2 @@\n x\n-y\n\\ No newline at end of file\n+y\n"},
	} {
		if got := Unified("a", "b", []byte(tc.a), []byte(tc.b)); got != tc.want {
			t.Errorf("%q -> %q: got\n%s\nwant\n%s", tc.a, tc.b, got, tc.want)
		}
	}
}

// Property: the diff turns a into b, and it is a shortest one (as many
// removed and added lines as the longest common subsequence leaves), also
// when the edit bound forces the plain remove-then-add form.
func TestUnified_AppliesAndIsMinimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	gen := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteString(strconv.Itoa(rng.IntN(4)) + "\n")
		}
		return b.String()
	}
	for i := range 500 {
		a, b := gen(rng.IntN(12)), gen(rng.IntN(12))
		d := Unified("a", "b", []byte(a), []byte(b))
		if got := apply(t, a, d); got != b {
			t.Fatalf("case %d: applying the diff of %q -> %q gives %q:\n%s", i, a, b, got, d)
		}
		if got, want := strings.Count(d, "\n-")+strings.Count(d, "\n+")-1, edits(splitLines(a), splitLines(b)); a != b && got != want {
			t.Fatalf("case %d: %d edits, shortest is %d:\n%s", i, got, want, d)
		}
	}
	var a, b strings.Builder
	for i := range 3 * maxEdits {
		fmt.Fprintf(&a, "a%d\n", i)
		fmt.Fprintf(&b, "b%d\n", i)
	}
	d := Unified("a", "b", []byte(a.String()), []byte(b.String()))
	if apply(t, a.String(), d) != b.String() {
		t.Fatal("the diff beyond maxEdits does not apply")
	}
}

// edits is n+m-2*LCS, by dynamic programming.
func edits(a, b []string) int {
	l := make([][]int, len(a)+1)
	for i := range l {
		l[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				l[i][j] = l[i+1][j+1] + 1
			} else {
				l[i][j] = max(l[i+1][j], l[i][j+1])
			}
		}
	}
	return len(a) + len(b) - 2*l[0][0]
}

// apply applies a unified diff to a, checking the hunk headers and the
// context lines on the way.
func apply(t *testing.T, a, diff string) string {
	t.Helper()
	if diff == "" {
		return a
	}
	src := splitLines(a)
	var out []string
	next := 0 // index in src of the next line not yet copied
	lines := strings.Split(strings.TrimSuffix(diff, "\n"), "\n")[2:]
	for i := 0; i < len(lines); {
		as, ac, bs, bc := parseHeader(t, lines[i])
		start := as - 1
		if ac == 0 {
			start = as
		}
		out = append(out, src[next:start]...)
		next = start
		if len(out) != max(bs-1, 0) && !(bc == 0 && len(out) == bs) {
			t.Fatalf("hunk %q: b starts at line %d, have %d lines", lines[i], bs, len(out))
		}
		for i++; i < len(lines) && !strings.HasPrefix(lines[i], "@@"); i++ {
			l := lines[i][1:] + "\n"
			if i+1 < len(lines) && lines[i+1] == `\ No newline at end of file` {
				l = lines[i][1:]
			}
			switch lines[i][0] {
			case ' ', '-':
				if src[next] != l {
					t.Fatalf("context %q, source has %q", l, src[next])
				}
				next++
				if lines[i][0] == ' ' {
					out = append(out, l)
				}
			case '+':
				out = append(out, l)
			case '\\':
			}
		}
	}
	return strings.Join(append(out, src[next:]...), "")
}

// parseHeader reads "@@ -A[,N] +B[,M] @@" (a count of 1 is left out).
func parseHeader(t *testing.T, h string) (as, ac, bs, bc int) {
	t.Helper()
	f := strings.Fields(h)
	if len(f) != 4 || f[0] != "@@" || f[3] != "@@" {
		t.Fatalf("bad hunk header %q", h)
	}
	side := func(s string) (int, int) {
		start, count, ok := strings.Cut(s[1:], ",")
		n, err := strconv.Atoi(start)
		c := 1
		if ok {
			c, err = strconv.Atoi(count)
		}
		if err != nil {
			t.Fatalf("bad hunk header %q", h)
		}
		return n, c
	}
	as, ac = side(f[1])
	bs, bc = side(f[2])
	return as, ac, bs, bc
}

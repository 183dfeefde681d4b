// Package udiff writes the unified diff of two texts, as `diff -u` and
// `terraform fmt -diff` do, for `quobyte-mesos fmt -diff`.
package udiff

import (
	"fmt"
	"strings"
)

// context is the number of unchanged lines shown around each change.
const context = 3

// maxEdits bounds the work of the line matching (Myers' algorithm takes
// time and memory in the square of the number of edits). Beyond it, the
// differing middle of the texts is shown as removed, then added: still a
// correct diff, only a longer one.
const maxEdits = 2000

// Unified returns the unified diff turning a into b, with the file names of
// its header, or "" when they are equal.
func Unified(aName, bName string, a, b []byte) string {
	if string(a) == string(b) {
		return ""
	}
	ops := diffLines(splitLines(string(a)), splitLines(string(b)))
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", aName, bName)
	for _, h := range hunks(ops) {
		writeHunk(&out, ops[h.start:h.end])
	}
	return out.String()
}

// splitLines splits s after each newline; a last line without one is kept.
func splitLines(s string) []string {
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// op is one line of the edit script: ' ' kept, '-' removed, '+' added,
// with the line's number in a and in b (1-based, of the next line of that
// side when the op does not consume one).
type op struct {
	kind       byte
	text       string
	aLine, bLn int
}

// diffLines is the shortest edit script from a to b (Myers, 1986), with the
// common prefix and suffix taken off first.
func diffLines(a, b []string) []op {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var ops []op
	for i := range pre {
		ops = append(ops, op{' ', a[i], i + 1, i + 1})
	}
	for _, m := range middle(a[pre:len(a)-suf], b[pre:len(b)-suf]) {
		m.aLine += pre
		m.bLn += pre
		ops = append(ops, m)
	}
	for i := suf; i > 0; i-- {
		ops = append(ops, op{' ', a[len(a)-i], len(a) - i + 1, len(b) - i + 1})
	}
	return ops
}

// middle is Myers' greedy algorithm over a and b, keeping the furthest
// points of every step so that the path can be walked back.
func middle(a, b []string) []op {
	n, m := len(a), len(b)
	if n == 0 && m == 0 {
		return nil
	}
	limit := min(n+m, maxEdits)
	// v[off+k] is the furthest x on diagonal k; trace[d][d+1+k] the same
	// before step d, for k in [-d-1, d+1].
	off := limit + 1
	v := make([]int, 2*off+1)
	var trace [][]int
	end := -1
	for d := 0; d <= limit && end < 0; d++ {
		trace = append(trace, append([]int(nil), v[off-d-1:off+d+2]...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1] // down: an insertion
			} else {
				x = v[off+k-1] + 1 // right: a deletion
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[off+k] = x
			if x >= n && y >= m {
				end = d
				break
			}
		}
	}
	if end < 0 {
		ops := make([]op, 0, n+m)
		for i, l := range a {
			ops = append(ops, op{'-', l, i + 1, 1})
		}
		for j, l := range b {
			ops = append(ops, op{'+', l, n + 1, j + 1})
		}
		return ops
	}
	// Walk back from (n, m), collecting ops in reverse.
	var rev []op
	x, y := n, m
	for d := end; d > 0; d-- {
		vd := func(k int) int { return trace[d][d+1+k] }
		k := x - y
		prevK := k - 1
		if k == -d || (k != d && vd(k-1) < vd(k+1)) {
			prevK = k + 1
		}
		prevX := vd(prevK)
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			rev = append(rev, op{' ', a[x-1], x, y})
			x--
			y--
		}
		if x == prevX {
			rev = append(rev, op{'+', b[y-1], x + 1, y})
			y--
		} else {
			rev = append(rev, op{'-', a[x-1], x, y + 1})
			x--
		}
	}
	for x > 0 && y > 0 {
		rev = append(rev, op{' ', a[x-1], x, y})
		x--
		y--
	}
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	return rev
}

// span is a hunk: ops[start:end].
type span struct{ start, end int }

// hunks groups the changes with context lines around them, merging groups
// whose context would touch.
func hunks(ops []op) []span {
	var out []span
	for i, o := range ops {
		if o.kind == ' ' {
			continue
		}
		start, end := max(i-context, 0), min(i+1+context, len(ops))
		if n := len(out); n > 0 && start <= out[n-1].end {
			out[n-1].end = end
			continue
		}
		out = append(out, span{start, end})
	}
	return out
}

func writeHunk(w *strings.Builder, ops []op) {
	aStart, bStart := ops[0].aLine, ops[0].bLn
	aCount, bCount := 0, 0
	for _, o := range ops {
		if o.kind != '+' {
			aCount++
		}
		if o.kind != '-' {
			bCount++
		}
	}
	// An empty side is numbered by the line before it, as diff -u does.
	if aCount == 0 {
		aStart--
	}
	if bCount == 0 {
		bStart--
	}
	fmt.Fprintf(w, "@@ -%s +%s @@\n", lineRange(aStart, aCount), lineRange(bStart, bCount))
	for _, o := range ops {
		w.WriteByte(o.kind)
		w.WriteString(o.text)
		if !strings.HasSuffix(o.text, "\n") {
			w.WriteString("\n\\ No newline at end of file\n")
		}
	}
}

// lineRange is "start,count", or "start" alone for one line, as diff -u
// writes it.
func lineRange(start, count int) string {
	if count == 1 {
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, count)
}

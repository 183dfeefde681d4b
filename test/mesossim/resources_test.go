package mesossim

import (
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestRanges_AsSets checks addRange and removeRange against sets of ports:
// after any sequence of adds and removes the ranges hold exactly the set's
// ports and stay sorted, disjoint and not adjacent.
func TestRanges_AsSets(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var rs []portRange
		set := map[uint64]bool{}
		for i, n := 0, rapid.IntRange(1, 30).Draw(t, "ops"); i < n; i++ {
			begin := rapid.Uint64Range(0, 60).Draw(t, "begin")
			r := portRange{begin, begin + rapid.Uint64Range(0, 8).Draw(t, "length")}
			add := rapid.Bool().Draw(t, "add")
			if add {
				rs = addRange(rs, r)
			} else {
				rs = removeRange(rs, r)
			}
			for p := r.begin; p <= r.end; p++ {
				set[p] = add
			}
			for j, x := range rs {
				if x.begin > x.end || (j > 0 && x.begin <= rs[j-1].end+1) {
					t.Fatalf("ranges %v not sorted, disjoint and apart", rs)
				}
			}
			var got, want []uint64
			for _, x := range rs {
				for p := x.begin; p <= x.end; p++ {
					got = append(got, p)
				}
			}
			for p, in := range set {
				if in {
					want = append(want, p)
				}
			}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("ranges %v hold %v, want %v", rs, got, want)
			}
		}
	})
}

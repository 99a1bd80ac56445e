package index

import (
	"fmt"
	"slices"
	"testing"
)

// joinByKeys is the join a distributed pair search runs with a
// ChunkPlan: group the hashes by key, report in each group the pairs
// the key owns.
func joinByKeys(p *ChunkPlan, hs []uint64) []HashPair {
	groups := map[ChunkKey][]uint32{}
	ph := make([]uint64, len(hs))
	for i, h := range hs {
		ph[i] = p.Permute(h)
		p.Keys(ph[i], func(k ChunkKey) { groups[k] = append(groups[k], uint32(i)) })
	}
	var out []HashPair
	for k, g := range groups {
		for x := range g {
			for y := x + 1; y < len(g); y++ {
				i, j := min(g[x], g[y]), max(g[x], g[y])
				if p.Owns(k, ph[i], ph[j]) {
					out = append(out, HashPair{I: i, J: j, Distance: uint8(popcount(hs[i] ^ hs[j]))})
				}
			}
		}
	}
	return out
}

// joinByGroups is the join with Groups: AllPairs within each group, the
// pairs whose owner has the group's prefix kept.
func joinByGroups(tb testing.TB, p *ChunkPlan, hs []uint64, prefixBits int) []HashPair {
	tb.Helper()
	groups := map[ChunkKey][]uint32{}
	ph := make([]uint64, len(hs))
	for i, h := range hs {
		ph[i] = p.Permute(h)
		p.Groups(ph[i], prefixBits, func(k ChunkKey) { groups[k] = append(groups[k], uint32(i)) })
	}
	var out []HashPair
	for k, g := range groups {
		sub := make([]uint64, len(g))
		for x, i := range g {
			sub[x] = ph[i]
		}
		ps, err := AllPairs(tb.Context(), sub, p.MaxDistance(), 1)
		if err != nil {
			tb.Fatal(err)
		}
		for _, q := range ps {
			i, j := min(g[q.I], g[q.J]), max(g[q.I], g[q.J])
			if o, ok := p.Owner(ph[i], ph[j]); ok && Prefix(o, prefixBits) == k {
				out = append(out, HashPair{I: i, J: j, Distance: q.Distance})
			}
		}
	}
	return out
}

func popcount(x uint64) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}

func TestChunkPlanJoinEqualsBruteForce(t *testing.T) {
	for _, tc := range []struct {
		name        string
		n, maxDist  int
		balanced    bool
		duplicateOf int // copies of one hash, a hot key
	}{
		{"r8", 3000, 8, true, 0},
		{"r8 random bits", 3000, 8, false, 0},
		{"r0", 2000, 0, true, 0},
		{"r3", 2000, 3, true, 0},
		{"r12", 500, 12, true, 0},
		{"r8 hot", 2000, 8, true, 300},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hs := plantedHashes(t, 7, tc.n, tc.maxDist, min(20, tc.n/(2*(tc.maxDist+1))), tc.balanced)
			for i := range tc.duplicateOf {
				hs[i] = hs[tc.n-1]
			}
			p := NewChunkPlan(hs[:500], tc.maxDist)
			got := joinByKeys(p, hs)
			want := brutePairs(hs, tc.maxDist)
			SortPairs(got)
			SortPairs(want)
			if !slices.Equal(got, want) {
				t.Errorf("join by keys: %d pairs, brute force %d; first difference %s", len(got), len(want), firstDiff(want, got))
			}
			for _, pb := range []int{0, 3, 8, 21} {
				got := joinByGroups(t, p, hs, pb)
				SortPairs(got)
				if !slices.Equal(got, want) {
					t.Errorf("join by groups of %d-bit prefixes: %d pairs, brute force %d; first difference %s", pb, len(got), len(want), firstDiff(want, got))
				}
			}
			if len(want) < tc.maxDist*20 {
				t.Errorf("only %d pairs: the planted pairs are missing", len(want))
			}
		})
	}
}

func TestSearchHashesOf(t *testing.T) {
	im := fakeImage(2, 0) // even seed: has a min-max rendering
	s := SearchHashesOf(&im)
	ref := fileImageOf(&im, 0)
	got := fmt.Sprint(s.PHashes, s.Canonical, s.Pixel, s.SOP)
	want := fmt.Sprint([]uint64{ref.phash, ref.mm}, ref.canon, ref.pix, ref.sop)
	if got != want || len(s.PHashes) != 2 || s.Pixel == 0 || s.SOP == 0 {
		t.Errorf("SearchHashesOf = %s, want %s", got, want)
	}
}

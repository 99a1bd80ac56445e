package index

// What only the tests use: the pairs Clusters decides on, the linear scan
// the search is checked against, and the canonical order of pair lists.

import (
	"cmp"
	"context"
	"math/bits"
	"slices"

	"github.com/copycat-dev/copycat/match"
)

// Pairs returns every candidate pair of indexed images (pHash within the
// distance, in some orientation, or sharing a digest), each with
// match.Compare's decision, ordered by (A, B). Clusters groups them.
func (s *Store) Pairs(ctx context.Context, opts ClusterOptions) ([]Pair, error) {
	if err := s.checkOpen(false); err != nil {
		return nil, err
	}
	c, err := s.candidates(ctx, opts)
	if err != nil {
		return nil, err
	}
	out := make([]Pair, 0, len(c.pairs))
	for _, p := range c.pairs {
		a, b := c.images[p.A], c.images[p.B]
		if a.ID > b.ID {
			a, b = b, a
		}
		out = append(out, Pair{A: a.ID, B: b.ID, Result: match.Compare(a, b, opts.matchOptions())})
	}
	slices.SortFunc(out, func(x, y Pair) int { return cmp.Or(cmp.Compare(x.A, y.A), cmp.Compare(x.B, y.B)) })
	return out, nil
}

// LinearSearch compares q with every indexed pHash, without the search
// structure: the reference the search is checked against.
// It returns the number of images within maxDist.
func (s *Store) LinearSearch(q uint64, maxDist int) (int, error) {
	hi, err := s.hashIndex(false)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, h := range hi.hashes {
		if bits.OnesCount64(q^h) <= maxDist {
			n++
		}
	}
	return n, nil
}

// SortPairs orders pairs by (I, J), the canonical order for comparing
// results.
func SortPairs(ps []HashPair) {
	slices.SortFunc(ps, func(a, b HashPair) int {
		if a.I != b.I {
			return int(a.I) - int(b.I)
		}
		return int(a.J) - int(b.J)
	})
}

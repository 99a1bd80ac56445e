package interchange

import (
	"context"
	"fmt"

	"github.com/copycat-dev/copycat/index"
)

// ExportPairs writes the pairs the index's own search verifies
// (index.Store.VerifiedPairs with opts) to the pairs file path, in
// (A, B) order: what the Beam pipeline's pairs step computes, for
// comparing the two, and for moving one index's pairs to another holding
// the same images. It returns the number of pairs written.
func ExportPairs(ctx context.Context, st *index.Store, path string, opts index.ClusterOptions) (int, error) {
	datasets, err := st.Datasets(ctx)
	if err != nil {
		return 0, fmt.Errorf("export pairs: %w", err)
	}
	names := map[uint64]ImageName{}
	var set ImageSet
	for _, d := range datasets {
		for im, err := range st.Images(ctx, d.Name) {
			if err != nil {
				return 0, fmt.Errorf("export pairs: %w", err)
			}
			n := ImageName{d.Name, im.Path, int64(im.Frame)}
			set.Add(n, im.PixelSHA256)
			names[im.ID] = n
		}
	}
	var rows []Pair
	err = st.VerifiedPairs(ctx, opts, func(p index.Pair) error {
		a, aok := names[p.A]
		b, bok := names[p.B]
		if !aok || !bok {
			return fmt.Errorf("export pairs: pair %d-%d of an image not listed (the index changed?)", p.A, p.B)
		}
		rows = append(rows, NewPair(a, b, p.Result))
		return nil
	})
	if err != nil {
		return 0, err
	}
	SortPairs(rows)
	maxDist := opts.MaxDistance
	if maxDist < 0 {
		maxDist = index.DefaultMaxDistance
	}
	w, err := NewPairWriter(path, PairsMeta{MaxDistance: min(maxDist, 64), NoTransforms: opts.NoTransforms, Set: set})
	if err != nil {
		return 0, err
	}
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			w.Abort()
			return 0, err
		}
	}
	return len(rows), w.Close()
}

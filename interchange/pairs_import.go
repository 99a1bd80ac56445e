package interchange

import (
	"context"
	"fmt"

	"github.com/copycat-dev/copycat/index"
)

// PairsSummary is what ImportPairs did. Its JSON form is what
// `copycat import --pairs --json` prints.
type PairsSummary struct {
	Files        []string `json:"files"`         // the pairs files read
	Rows         int      `json:"rows"`          // pair rows read
	Pairs        int      `json:"pairs"`         // distinct pairs set
	Images       int64    `json:"images"`        // images the pairs were computed on, and the index holds
	MaxDistance  int      `json:"max_distance"`  // of the search that found them
	NoTransforms bool     `json:"no_transforms"` // it left rotated and mirrored copies out
}

// noID marks a name whose image is not found (yet).
const noID = ^uint64(0)

// ImportPairs loads a pairs output (files written with PairWriter, parts
// of one output) into the index with index.Store.SetPairs, replacing the
// pairs imported before. The index must hold exactly the images the pairs
// were computed on (the same names and pixel digests: the files' ImageSet
// metadata), else the error wraps ErrPairsMismatch and nothing changes;
// importing the same output twice leaves the index as once. Clusters,
// lineage and reports then take the pairs instead of searching, until a
// scan, import or forget changes the images (see index/pairs.go).
func ImportPairs(ctx context.Context, st *index.Store, paths []string) (*PairsSummary, error) {
	meta, rows, err := ReadPairs(paths)
	if err != nil {
		return nil, err
	}
	sum := &PairsSummary{Files: paths, Rows: len(rows), MaxDistance: meta.MaxDistance,
		NoTransforms: meta.NoTransforms, Images: meta.Set.Images}
	ids := make(map[ImageName]uint64, 2*len(rows))
	for i := range rows {
		a, b := rows[i].Names()
		ids[a], ids[b] = noID, noID
	}
	datasets, err := st.Datasets(ctx)
	if err != nil {
		return sum, fmt.Errorf("import pairs: %w", err)
	}
	var have ImageSet
	for _, d := range datasets {
		for im, err := range st.Images(ctx, d.Name) {
			if err != nil {
				return sum, fmt.Errorf("import pairs: %w", err)
			}
			n := ImageName{d.Name, im.Path, int64(im.Frame)}
			have.Add(n, im.PixelSHA256)
			if _, ok := ids[n]; ok {
				ids[n] = im.ID
			}
		}
	}
	if have != meta.Set {
		return sum, fmt.Errorf("import pairs %s: %w: computed on %d images (digest %016x), the index holds %d (%016x)",
			paths[0], ErrPairsMismatch, meta.Set.Images, meta.Set.Digest, have.Images, have.Digest)
	}
	set := index.PairSet{MaxDistance: meta.MaxDistance, NoTransforms: meta.NoTransforms}
	for i := range rows {
		a, b := rows[i].Names()
		ia, ib := ids[a], ids[b]
		if ia == noID || ib == noID {
			// The digests agree, so only a hostile file names an image
			// that is not in the set.
			return sum, fmt.Errorf("import pairs: %w: pair of %s %s frame %d, not in the index", ErrFormat, b.Dataset, b.Path, b.Frame)
		}
		set.Pairs = append(set.Pairs, index.IDPair{A: min(ia, ib), B: max(ia, ib)})
	}
	if err := st.SetPairs(ctx, set); err != nil {
		return sum, fmt.Errorf("import pairs: %w", err)
	}
	ps, err := st.ImportedPairs(ctx)
	if err != nil {
		return sum, fmt.Errorf("import pairs: %w", err)
	}
	sum.Pairs = ps.Pairs
	return sum, nil
}

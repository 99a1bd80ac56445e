package match

import (
	"github.com/copycat-dev/copycat/hash"
)

// Rescue compares a and b when their pHashes are too far apart to make
// them candidates: a crop of 3-5% per side, resized back, moves a brain
// MR slice's pHash 10-16 bits (median 12), past any radius a search can
// afford. The index offers such pairs only between datasets already
// known to share many copies (index.Clusters' rescue pass), and Rescue
// verifies them strictly: under any of the eight transforms, either a
// crop that correlates at least MinCropCorrelation once aligned, or the
// same picture (NearIdenticalScore). Anything looser would link the
// slice next to a missing one.
func Rescue(a, b *Image, o Options) Result {
	r := Compare(a, b, o)
	if r.Verified || r.SameAcquisition || r.Kind.Exact() {
		return r
	}
	vo := o.Verify.withDefaults()
	x, y := a.Fingerprint, b.Fingerprint
	ca, cb := Coarse(x), Coarse(y)
	best := r
	found := false
	for t := range Transform(8) {
		if t != Identity && o.NoTransforms {
			break
		}
		if coarseCorrelation(&ca, &cb, t) < rescueCoarse {
			continue
		}
		if c := plain(x, y, t, popcount(dihedral(x, t)^y.PHash), vo); !found || better(c, best) {
			best, found = c, true
		}
	}
	if !found {
		return r
	}
	if !o.NoCrops {
		best = withCrop(x, y, best, vo)
	}
	if best.Verified && (best.Cropped() && best.Score >= MinCropCorrelation || best.Score >= NearIdenticalScore) {
		return best
	}
	return r
}

// CoarseThumb is a thumbnail pooled to 8x8 cells: what CoarseSimilarity
// compares, computed once per image by callers that compare many pairs.
type CoarseThumb [coarseSide * coarseSide]float64

// Coarse pools fp's thumbnail into a CoarseThumb.
func Coarse(fp *hash.Fingerprint) CoarseThumb {
	const n, k = hash.ThumbSize, hash.ThumbSize / coarseSide
	var c CoarseThumb
	for y := range n {
		for x := range n {
			c[(y/k)*coarseSide+x/k] += float64(fp.Thumb[y*n+x])
		}
	}
	return c
}

// CoarseSimilarity is the best correlation of two coarse thumbnails under
// the eight transforms (the identity alone with noTransforms): a cheap
// first look that ranks the pairs Rescue is worth trying on.
func CoarseSimilarity(a, b *CoarseThumb, noTransforms bool) float64 {
	best := -1.0
	for t := range Transform(8) {
		if t != Identity && noTransforms {
			break
		}
		best = max(best, coarseCorrelation(a, b, t))
	}
	return best
}

func coarseCorrelation(a, b *CoarseThumb, t Transform) float64 {
	var ta [coarseSide * coarseSide]float64
	for y := range coarseSide {
		for x := range coarseSide {
			sx, sy := Source(x, y, coarseSide, t)
			ta[y*coarseSide+x] = a[sy*coarseSide+sx]
		}
	}
	return pearson(ta[:], b[:])
}

// rescueCoarse is the correlation of the 8x8 thumbnails below which
// Rescue does not look closer: a 3-5% crop keeps 0.9 and more, distinct
// pictures rarely reach it.
const rescueCoarse = 0.8

const coarseSide = 8

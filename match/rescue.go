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
	r, _, _ := rescue(a, b, o)
	return r
}

// rescue is Rescue, and also returns the best crop found when it fell
// short of MinCropCorrelation (ok false then), for RescueBest's ranking.
func rescue(a, b *Image, o Options) (r, crop Result, ok bool) {
	r = Compare(a, b, o)
	if r.Verified || r.SameAcquisition || r.Kind.Exact() {
		return r, Result{}, false
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
		return r, Result{}, false
	}
	if !o.NoCrops {
		if c, cok := cropOf(x, y, best, vo, rescueCropGate, NearIdenticalScore); cok {
			if c.Score >= MinCropCorrelation {
				return c, Result{}, false
			}
			crop, ok = c, true
		}
	}
	if best.Verified && best.Score >= NearIdenticalScore {
		return best, crop, ok
	}
	return r, crop, ok
}

// RescueRankFloor and RescueRankMargin let ranking verify a crop that the
// thumbnails cannot verify alone: among the originals RescueBest is
// offered, the best aligned crop is taken when it correlates at least
// RescueRankFloor and leads every other by RescueRankMargin. A 4% crop of
// a 2 mm MR slice aligned to 0.9852 with its own slice (under
// MinCropCorrelation); the slices on either side of a missing one score
// alike, so no margin picks one of them.
const (
	RescueRankFloor  = 0.98
	RescueRankMargin = 0.004
)

// RescueBest decides which of the originals b is a copy of, if any, for
// the rescue pass: the first of them that Rescue verifies, else the best
// aligned crop when ranking singles it out (RescueRankFloor,
// RescueRankMargin). It returns -1 when none.
func RescueBest(originals []*Image, b *Image, o Options) (int, Result) {
	best, second := -1, -1.0
	var bestCrop Result
	for i, a := range originals {
		r, c, ok := rescue(a, b, o)
		if r.Verified {
			return i, r
		}
		if !ok {
			continue
		}
		switch {
		case best < 0 || c.Score > bestCrop.Score:
			if best >= 0 {
				second = max(second, bestCrop.Score)
			}
			best, bestCrop = i, c
		default:
			second = max(second, c.Score)
		}
	}
	if best >= 0 && bestCrop.Score >= RescueRankFloor && bestCrop.Score-second >= RescueRankMargin {
		return best, bestCrop
	}
	return -1, Result{}
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

// rescueCropGate is the plain correlation from which Rescue tries a crop:
// lower than for ordinary candidates (minCropCorrelation), since only the
// few pairs most alike on 8x8 cells get here. A 4% crop of a photo of
// text kept 0.3 of its plain correlation.
const rescueCropGate = 0.2

// rescueCoarse is the correlation of the 8x8 thumbnails below which
// Rescue does not look closer: a 3-5% crop keeps 0.9 and more, distinct
// pictures rarely reach it.
const rescueCoarse = 0.8

const coarseSide = 8

package match

import (
	"math"

	"github.com/copycat-dev/copycat/hash"
)

// Crop is the part of the first image of a pair that the second shows, in
// the first image's coordinates scaled to 0..1 (after the pair's
// transform): {0, 0, 1, 1} for the whole picture. X0 = 0.04 means the
// copy lost 4% of the width on the left; a negative value means the copy
// shows more than the first image there (the first is the crop).
type Crop struct {
	X0, Y0, X1, Y1 float64
}

// Whole is the crop of an uncropped copy.
var Whole = Crop{0, 0, 1, 1}

// Cropped reports whether c differs from the whole picture by at least
// minCropShown on some side: what the thumbnails can tell at all.
func (c Crop) Cropped() bool {
	return math.Abs(c.X0) >= minCropShown || math.Abs(c.Y0) >= minCropShown ||
		math.Abs(1-c.X1) >= minCropShown || math.Abs(1-c.Y1) >= minCropShown
}

// MaxCrop is the largest share of a side that a crop may remove and still
// be verified: copies cropped by up to 5% per side, then resized, are
// found.
const MaxCrop = 0.05

const (
	// cropSearch is how far the alignment looks on each side, a little
	// past MaxCrop so that a 5% crop is not at the edge of the search.
	cropSearch = 0.07
	cropStep   = 0.005
	// minCropShown is the least crop reported as one: a 32x32 thumbnail
	// cell is 3% of a side, and on JPEG copies the alignment found "crops"
	// of 1% that were not there.
	minCropShown = 0.02
	// minCropCorrelation is the plain thumbnail correlation below which
	// no crop is looked for: a 3-5% crop keeps 0.7-0.9 on a brain MR
	// slice, distinct images have a median of 0.02 (index/doc.go).
	minCropCorrelation = 0.5
)

// alignCrop looks for the crop of a that b shows (b is the crop): both
// axes are aligned on the thumbnails' column and row means first, then
// refined on the whole thumbnail. It returns the crop, the verification
// of b against a's crop resampled to b's grid, and whether it found one
// better than plain comparison (corr0).
func alignCrop(a, b *thumb, corr0 float64) (Crop, Verification, bool) {
	const n = hash.ThumbSize
	var ca, cb, ra, rb [n]float64
	for y := range n {
		for x := range n {
			ca[x] += float64(a[y*n+x])
			cb[x] += float64(b[y*n+x])
			ra[y] += float64(a[y*n+x])
			rb[y] += float64(b[y*n+x])
		}
	}
	x0, x1 := alignAxis(&ca, &cb)
	y0, y1 := alignAxis(&ra, &rb)
	c := Crop{x0, y0, 1 - x1, 1 - y1}
	best := c
	// The verdict compares both averaged over the same cells
	// (boxVerification): bilinear samples of a against b's cells blur a
	// more than b, and a true crop correlated only 0.978 that way.
	bv := boxVerification(a, b, best)
	ok := best.Cropped() && bv.ThumbCorrelation > corr0 &&
		best.X0 <= MaxCrop+cropStep && best.Y0 <= MaxCrop+cropStep && 1-best.X1 <= MaxCrop+cropStep && 1-best.Y1 <= MaxCrop+cropStep
	return best, bv, ok
}

// alignAxis finds the cuts (from the start and from the end, shares of
// the axis) that make profile a, cut and stretched, most like profile b.
func alignAxis(a, b *[hash.ThumbSize]float64) (lo, hi float64) {
	const steps = int(cropSearch/cropStep) + 1
	best := math.Inf(-1)
	var s [hash.ThumbSize]float64
	for i := range steps {
		for j := range steps {
			c0, c1 := float64(i)*cropStep, float64(j)*cropStep
			for k := range s {
				s[k] = sampleLine(a, c0+(1-c0-c1)*(float64(k)+0.5)/hash.ThumbSize)
			}
			if r := pearson(s[:], b[:]); r > best {
				best, lo, hi = r, c0, c1
			}
		}
	}
	return lo, hi
}

// sampleLine interpolates profile p at position u (0..1 across it).
func sampleLine(p *[hash.ThumbSize]float64, u float64) float64 {
	x := u*hash.ThumbSize - 0.5
	x = max(0, min(hash.ThumbSize-1, x))
	i := int(x)
	if i >= hash.ThumbSize-1 {
		return p[hash.ThumbSize-1]
	}
	f := x - float64(i)
	return p[i]*(1-f) + p[i+1]*f
}

func pearson(a, b []float64) float64 {
	_, _, va, vb, cov := moments(a, b)
	if va <= 0 || vb <= 0 {
		return 0
	}
	return cov / math.Sqrt(va*vb)
}

// moments returns the means, variances and covariance of a and b.
func moments(a, b []float64) (ma, mb, va, vb, cov float64) {
	n := float64(len(a))
	var sa, sb, saa, sbb, sab float64
	for i := range a {
		sa += a[i]
		sb += b[i]
		saa += a[i] * a[i]
		sbb += b[i] * b[i]
		sab += a[i] * b[i]
	}
	ma, mb = sa/n, sb/n
	return ma, mb, saa/n - ma*ma, sbb/n - mb*mb, sab/n - ma*mb
}

// invert returns the crop of b that a shows, given the crop c of a that b
// shows: b spans c in a's coordinates, so a spans the inverse map of
// [0, 1] in b's.
func (c Crop) invert() Crop {
	w, h := c.X1-c.X0, c.Y1-c.Y0
	return Crop{-c.X0 / w, -c.Y0 / h, (1 - c.X0) / w, (1 - c.Y0) / h}
}

// boxCells is the side of the grid on which boxVerification compares a
// crop: coarser than the thumbnails, so that every cell of it averages
// whole and partial thumbnail cells of both images alike.
const boxCells = 24

// boxVerification compares b with the part c of a, both averaged over a
// boxCells x boxCells grid with exact overlap weights.
func boxVerification(a, b *thumb, c Crop) Verification {
	ra := boxResample(a, c)
	rb := boxResample(b, Whole)
	v := Verification{DHashDistance: -1, PDQDistance: -1}
	const n = float64(boxCells * boxCells)
	ma, mb, va, vb, cov := moments(ra, rb)
	if va < 1 || vb < 1 {
		v.Flat = true
		return v
	}
	sda, sdb := math.Sqrt(va), math.Sqrt(vb)
	v.ThumbCorrelation = max(-1, min(1, cov/(sda*sdb)))
	var sum float64
	for i := range ra {
		sum += math.Abs((ra[i]-ma)/sda - (rb[i]-mb)/sdb)
	}
	v.ThumbDiff = sum / n
	return v
}

// boxResample averages the part c of thumbnail t over boxCells x boxCells
// cells, weighting each thumbnail cell by its overlap.
func boxResample(t *thumb, c Crop) []float64 {
	const n = hash.ThumbSize
	wx := boxWeights(c.X0, c.X1)
	wy := boxWeights(c.Y0, c.Y1)
	var rows [boxCells][n]float64 // rows pooled, columns not yet
	for i := range boxCells {
		for y := range n {
			if w := wy[i][y]; w != 0 {
				for x := range n {
					rows[i][x] += w * float64(t[y*n+x])
				}
			}
		}
	}
	out := make([]float64, boxCells*boxCells)
	for i := range boxCells {
		for j := range boxCells {
			var s float64
			for x := range n {
				s += wx[j][x] * rows[i][x]
			}
			out[i*boxCells+j] = s
		}
	}
	return out
}

// boxWeights returns, for each of boxCells output cells spanning u0..u1
// (shares of the thumbnail's side), the normalised overlap of each
// thumbnail cell.
func boxWeights(u0, u1 float64) [boxCells][hash.ThumbSize]float64 {
	const n = hash.ThumbSize
	var w [boxCells][n]float64
	for i := range boxCells {
		lo := (u0 + (u1-u0)*float64(i)/boxCells) * n
		hi := (u0 + (u1-u0)*float64(i+1)/boxCells) * n
		lo, hi = max(0, lo), min(n, hi)
		for x := int(lo); x < n && float64(x) < hi; x++ {
			w[i][x] = min(hi, float64(x+1)) - max(lo, float64(x))
		}
		var sum float64
		for x := range n {
			sum += w[i][x]
		}
		if sum > 0 {
			for x := range n {
				w[i][x] /= sum
			}
		}
	}
	return w
}

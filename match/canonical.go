package match

import "github.com/copycat-dev/copycat/hash"

// canonicalMargin is how close (in shares of the picture's side) the two
// best orientations' scores may be before both are kept: JPEG noise moves
// a thumbnail's centroid by about a thousandth, a brain slice is left-right
// symmetric to within a few hundredths.
const canonicalMargin = 0.02

// Canonical returns the pHash of fp's picture in its canonical
// orientation, and a second one when the picture is too symmetric for one
// orientation to be sure (else 0): the index joins them to find rotated
// and mirrored copies, which have the same canonical pHashes within the
// usual noise. The orientation is read from the thumbnail, not the hash
// bits: it puts the thumbnail's centre of brightness below and right of
// the centre, the larger offset vertical. The least of the eight dihedral
// pHashes, tried first, was not stable: on the quality scenario's MR
// slices JPEG noise picked another of the eight in about half of the
// rotated copies.
func Canonical(fp *hash.Fingerprint) [2]uint64 {
	if fp.Dihedral == [8]uint64{} {
		return [2]uint64{}
	}
	const n = hash.ThumbSize
	var sum, sx, sy float64
	for y := range n {
		for x := range n {
			v := float64(fp.Thumb[y*n+x])
			sum += v
			sx += v * (float64(x) + 0.5 - n/2)
			sy += v * (float64(y) + 0.5 - n/2)
		}
	}
	mx, my := 0.0, 0.0
	if sum > 0 {
		mx, my = sx/sum/n, sy/sum/n
	}
	// The score of each orientation: where the centroid goes under it.
	var score [8]float64
	for t := range Transform(8) {
		x, y := centroidUnder(mx, my, t)
		score[t] = y + x/2
	}
	best, second := -1, -1
	for t := range 8 {
		switch {
		case best < 0 || score[t] > score[best]:
			best, second = t, best
		case second < 0 || score[t] > score[second]:
			second = t
		}
	}
	c := [2]uint64{dihedral(fp, Transform(best)), 0}
	if score[best]-score[second] < canonicalMargin {
		if h := dihedral(fp, Transform(second)); h != c[0] {
			c[1] = h
		}
	}
	if c[0] == 0 {
		return [2]uint64{c[1], 0}
	}
	return c
}

// centroidUnder returns where a point at offset (x, y) from the centre
// goes under transform t (Source's inverse, in continuous coordinates).
func centroidUnder(x, y float64, t Transform) (float64, float64) {
	// Source maps destination to source; the inverse transform's Source
	// maps source to destination. On centred coordinates the maps are
	// sign changes and swaps, so a 3x3 grid's centre-relative offsets
	// give them.
	sx, sy := Source(2, 1, 3, t.Inverse()) // where (1, 0) goes
	ux, uy := Source(1, 2, 3, t.Inverse()) // where (0, 1) goes
	ex, ey := float64(sx-1), float64(sy-1)
	fx, fy := float64(ux-1), float64(uy-1)
	return x*ex + y*fx, x*ey + y*fy
}

package match

import (
	"math"
	"math/bits"

	"github.com/copycat-dev/copycat/hash"
)

// Verification compares two fingerprints beyond their pHash: the pHash
// alone (64 bits of low-frequency structure) puts adjacent CT slices and
// consecutive frames of a clip within a few bits of each other, so a
// near-duplicate is confirmed on finer evidence.
type Verification struct {
	PHashDistance int // of 64 bits
	DHashDistance int // of 64 bits; -1 under a transform or a crop (dHash is not stored per orientation)
	// PDQDistance is the distance of the 256-bit PDQ hashes, or -1 when
	// either image is too featureless for PDQ to be trusted (quality below
	// Thresholds.MinPDQQuality), has structure along one axis only (its
	// PDQ bits are rounding noise: more than hash.PDQMaxZeros
	// coefficients are zero), or the match is under a transform or crop.
	PDQDistance int
	// ThumbCorrelation is the Pearson correlation of the 32x32 grey
	// thumbnails (the first one transformed, and cropped, as the match
	// says), 1 for identical content. Two flat thumbnails correlate 1 if
	// their levels are within ThumbFlatTolerance, else 0.
	ThumbCorrelation float64
	// ThumbDiff is the mean absolute difference of the thumbnails after
	// normalising each to zero mean and unit variance: it catches changed
	// detail that a high correlation hides.
	ThumbDiff float64
	// Flat is set when either thumbnail is featureless (a standard
	// deviation under one grey level: a blank or nearly blank frame).
	// Featureless images are copies only when their pixels are identical.
	Flat bool
}

// Thresholds are what a near-duplicate must pass to be called a copy. The
// zero value means the defaults below, which come from the measurements
// described in index/doc.go.
type Thresholds struct {
	// MaxPDQDistance is the largest PDQ distance accepted when both PDQ
	// hashes are trustworthy. Zero means DefaultMaxPDQDistance; negative
	// disables the check.
	MaxPDQDistance int
	// MinThumbCorrelation is the smallest thumbnail correlation accepted.
	// Zero means DefaultMinThumbCorrelation; negative disables the check.
	MinThumbCorrelation float64
	// MaxThumbDiff is the largest normalised thumbnail difference accepted.
	// Zero means DefaultMaxThumbDiff; negative disables the check.
	MaxThumbDiff float64
	// MinPDQQuality is the PDQ quality below which PDQ is ignored. Zero
	// means DefaultMinPDQQuality.
	MinPDQQuality int
}

// Default verification thresholds (see index/doc.go, "Verification", for
// the measurements behind them).
const (
	DefaultMaxPDQDistance      = 80
	DefaultMinThumbCorrelation = 0.98
	DefaultMaxThumbDiff        = 0.15
	DefaultMinPDQQuality       = 50
	// ThumbFlatTolerance is how far apart (in grey levels) two flat
	// thumbnails may be and still count as the same picture.
	ThumbFlatTolerance = 8
)

func (o Thresholds) withDefaults() Thresholds {
	if o.MaxPDQDistance == 0 {
		o.MaxPDQDistance = DefaultMaxPDQDistance
	}
	if o.MinThumbCorrelation == 0 {
		o.MinThumbCorrelation = DefaultMinThumbCorrelation
	}
	if o.MaxThumbDiff == 0 {
		o.MaxThumbDiff = DefaultMaxThumbDiff
	}
	if o.MinPDQQuality == 0 {
		o.MinPDQQuality = DefaultMinPDQQuality
	}
	return o
}

// Accept reports whether v passes the thresholds.
func (o Thresholds) Accept(v Verification) bool {
	o = o.withDefaults()
	if v.Flat {
		return false
	}
	if o.MaxPDQDistance > 0 && v.PDQDistance >= 0 && v.PDQDistance > o.MaxPDQDistance {
		return false
	}
	if o.MinThumbCorrelation > 0 && v.ThumbCorrelation < o.MinThumbCorrelation {
		return false
	}
	if o.MaxThumbDiff > 0 && v.ThumbDiff > o.MaxThumbDiff {
		return false
	}
	return true
}

// Verify measures how alike a and b are, with b seen as a after transform
// t: a's thumbnail transformed by t is compared with b's.
func Verify(a, b *hash.Fingerprint, t Transform) Verification {
	return verify(a, b, t, DefaultMinPDQQuality)
}

func verify(a, b *hash.Fingerprint, t Transform, minQuality int) Verification {
	v := Verification{
		PHashDistance: bits.OnesCount64(dihedral(a, t) ^ b.PHash),
		DHashDistance: -1,
		PDQDistance:   -1,
	}
	if t == Identity {
		v.DHashDistance = bits.OnesCount64(a.DHash ^ b.DHash)
		if a.PDQQuality >= minQuality && b.PDQQuality >= minQuality && a.PDQZeros <= hash.PDQMaxZeros && b.PDQZeros <= hash.PDQMaxZeros {
			v.PDQDistance = pdqDistance(&a.PDQ, &b.PDQ)
		}
	}
	ta := &a.Thumb
	if t != Identity {
		var tt thumb
		transformThumb(&tt, ta, t)
		ta = &tt
	}
	v.ThumbCorrelation, v.ThumbDiff, v.Flat = thumbSimilarity(ta, &b.Thumb)
	return v
}

// dihedral returns a's pHash under t (its own pHash when the variants
// were not computed).
func dihedral(a *hash.Fingerprint, t Transform) uint64 {
	if t == Identity || a.Dihedral[t&7] == 0 {
		return a.PHash
	}
	return a.Dihedral[t&7]
}

type thumb = [hash.ThumbSize * hash.ThumbSize]uint8

func pdqDistance(a, b *[32]byte) int {
	d := 0
	for i := 0; i < 32; i += 8 {
		x := uint64(a[i]) | uint64(a[i+1])<<8 | uint64(a[i+2])<<16 | uint64(a[i+3])<<24 |
			uint64(a[i+4])<<32 | uint64(a[i+5])<<40 | uint64(a[i+6])<<48 | uint64(a[i+7])<<56
		y := uint64(b[i]) | uint64(b[i+1])<<8 | uint64(b[i+2])<<16 | uint64(b[i+3])<<24 |
			uint64(b[i+4])<<32 | uint64(b[i+5])<<40 | uint64(b[i+6])<<48 | uint64(b[i+7])<<56
		d += bits.OnesCount64(x ^ y)
	}
	return d
}

// thumbSimilarity returns the Pearson correlation and the mean absolute
// difference of the standardised thumbnails, and whether either is flat.
func thumbSimilarity(a, b *thumb) (corr, diff float64, flat bool) {
	const n = float64(hash.ThumbSize * hash.ThumbSize)
	var sa, sb, saa, sbb, sab float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		sa += x
		sb += y
		saa += x * x
		sbb += y * y
		sab += x * y
	}
	ma, mb := sa/n, sb/n
	va, vb := saa/n-ma*ma, sbb/n-mb*mb
	// A thumbnail whose standard deviation is below a grey level is flat:
	// correlation means nothing there, compare the levels instead.
	const flatVar = 1.0
	if va < flatVar || vb < flatVar {
		if va < flatVar && vb < flatVar && math.Abs(ma-mb) <= ThumbFlatTolerance {
			return 1, 0, true
		}
		return 0, 2, true
	}
	sda, sdb := math.Sqrt(va), math.Sqrt(vb)
	corr = (sab/n - ma*mb) / (sda * sdb)
	var sum float64
	for i := range a {
		sum += math.Abs((float64(a[i])-ma)/sda - (float64(b[i])-mb)/sdb)
	}
	return max(-1, min(1, corr)), sum / n, false
}

// transformThumb writes src under transform t into dst.
func transformThumb(dst, src *thumb, t Transform) {
	const n = hash.ThumbSize
	for y := range n {
		for x := range n {
			sx, sy := Source(x, y, n, t)
			dst[y*n+x] = src[sy*n+sx]
		}
	}
}

// TransformThumb returns thumbnail src under transform t: the thumbnail of
// the image after t.
func TransformThumb(src *[hash.ThumbSize * hash.ThumbSize]uint8, t Transform) [hash.ThumbSize * hash.ThumbSize]uint8 {
	var dst thumb
	transformThumb(&dst, src, t)
	return dst
}

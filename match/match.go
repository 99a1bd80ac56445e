package match

import (
	"math/bits"
	"strings"

	"github.com/copycat-dev/copycat/hash"
)

// DefaultMaxDistance is the pHash distance (of 64 bits) up to which two
// images are near-duplicate candidates unless the caller says otherwise.
const DefaultMaxDistance = 8

// Image is what the decision reads of an indexed image (or of a query).
type Image struct {
	ID            uint64
	Dataset       string // images of one dataset have equal values
	Path          string // inside the dataset
	Frame         int
	Format        string
	Width, Height int
	Bits          int
	Lossy         bool
	FileSHA256    [32]byte // zero: unknown
	PixelSHA256   [32]byte // zero: unknown
	SOP, Series   string   // DICOM SOP Instance and Series UIDs
	Fingerprint   *hash.Fingerprint
	// MinMax is the fingerprint of the frame's min-max rendering, for a
	// DICOM frame whose stored window clips (index.Image.MinMax), or nil.
	MinMax *hash.Fingerprint
}

// Acquisition returns what SameAcquisition reads of im.
func (im *Image) Acquisition() Acquisition {
	return Acquisition{Dataset: im.Dataset, Path: im.Path, Format: im.Format, Width: im.Width, Height: im.Height, SOP: im.SOP, Series: im.Series}
}

// Options configure Compare.
type Options struct {
	// MaxDistance is the pHash distance up to which a pair is a
	// near-duplicate candidate (under its best transform); negative means
	// DefaultMaxDistance.
	MaxDistance int
	// Verify holds the thresholds a candidate must pass.
	Verify Thresholds
	// NoTransforms compares the images as they are only, not under
	// rotations and mirrors.
	NoTransforms bool
	// NoCrops skips the search for crops.
	NoCrops bool
}

func (o Options) maxDist() int {
	if o.MaxDistance < 0 {
		return DefaultMaxDistance
	}
	return min(o.MaxDistance, 64)
}

// Result is how the second image of a pair relates to the first.
type Result struct {
	Kind Kind
	// Transform is what was done to the first image to make the second
	// (Identity for the exact kinds).
	Transform Transform
	// Crop is the part of the first image (after Transform) that the
	// second shows; Whole unless Cropped.
	Crop Crop
	// MinMaxA and MinMaxB say which renderings matched: the min-max
	// rendering of the first or second image rather than its own.
	MinMaxA, MinMaxB bool
	// Distance is the pHash distance of the matched renderings under the
	// transform; 0 for identical files and pixels.
	Distance int
	// Score ranks candidates: the correlation of the matched thumbnails,
	// aligned as Transform and Crop say (1 for the exact kinds). Higher
	// is closer.
	Score        float64
	Verification Verification
	// Verified says whether the pair passes the thresholds (exact kinds
	// always do) and is not two images of one acquisition.
	Verified bool
	// SameAcquisition is set when the images are distinct frames, slices
	// or sequence neighbours of one acquisition (see SameAcquisition):
	// copies only when their pixels are identical.
	SameAcquisition bool
}

// Cropped reports whether the second image is a crop of the first, or the
// reverse.
func (r Result) Cropped() bool { return r.Crop.Cropped() }

// TransformName names Transform and the crop, as clusters and reports
// show it: "none", "rotate-90-cw", "crop", "flip-left-right+crop".
func (r Result) TransformName() string {
	switch {
	case r.Cropped() && r.Transform == Identity:
		return "crop"
	case r.Cropped():
		return r.Transform.String() + "+crop"
	}
	return r.Transform.String()
}

// Compare decides how b relates to a: the strongest exact kind that holds,
// else a near-duplicate through the pair of renderings (own or min-max),
// the transform and the crop that make the two most alike. A pair whose
// pHashes are more than the distance apart under every transform is not
// a candidate: Verified is false, Distance is the least distance.
func Compare(a, b *Image, o Options) Result {
	r := Result{Crop: Whole, Score: 1, Verified: true}
	switch {
	case equalDigest(a.FileSHA256, b.FileSHA256) && a.Frame == b.Frame:
		r.Kind = IdenticalFile
	case equalDigest(a.PixelSHA256, b.PixelSHA256):
		r.Kind = IdenticalPixels
	case sopIndexable(a.SOP) && a.SOP == b.SOP && a.Frame == b.Frame:
		r.Kind = SameDICOMInstance
	}
	if r.Kind != 0 {
		r.Verification = Verify(a.Fingerprint, b.Fingerprint, Identity)
		if r.Kind == SameDICOMInstance {
			r.Distance = r.Verification.PHashDistance
		}
		return r
	}
	r = nearest(a, b, o)
	if SameAcquisition(a.Acquisition(), b.Acquisition()) {
		r.SameAcquisition, r.Verified = true, false
	}
	return r
}

// nearest compares a and b as a near-duplicate pair.
func nearest(a, b *Image, o Options) Result {
	vo := o.Verify.withDefaults()
	maxD := o.maxDist()
	best := Result{Kind: NearDuplicate, Crop: Whole, Distance: 65}
	found := false
	var bx, by *hash.Fingerprint
	for ka, x := range [2]*hash.Fingerprint{a.Fingerprint, a.MinMax} {
		for kb, y := range [2]*hash.Fingerprint{b.Fingerprint, b.MinMax} {
			if x == nil || y == nil {
				continue
			}
			var ds [8]int
			least := 65
			for t := range Transform(8) {
				ds[t] = 65
				if t == Identity || !o.NoTransforms && x.Dihedral[t] != 0 && x.Dihedral[t] != x.PHash {
					ds[t] = bits.OnesCount64(dihedral(x, t) ^ y.PHash)
					least = min(least, ds[t])
				}
			}
			if !found && least < best.Distance {
				best.Distance = least
			}
			if least > maxD {
				continue
			}
			// Every transform within the distance: for a near-symmetric
			// image (a brain slice and its mirror) the pHash alone may
			// prefer the wrong one, the thumbnails do not.
			for t := range Transform(8) {
				if ds[t] > maxD {
					continue
				}
				c := plain(x, y, t, ds[t], vo)
				c.MinMaxA, c.MinMaxB = ka == 1, kb == 1
				if !found || better(c, best) {
					best, found, bx, by = c, true, x, y
				}
			}
		}
	}
	if found && !o.NoCrops {
		upto := cropNotNeeded
		if best.Distance >= cropSuspectDistance {
			upto = NearIdenticalScore
		}
		best = withCrop(bx, by, best, vo, minCropCorrelation, upto)
	}
	return best
}

// plain verifies y as x under transform t, uncropped.
func plain(x, y *hash.Fingerprint, t Transform, d int, vo Thresholds) Result {
	v := verify(x, y, t, vo.MinPDQQuality)
	return Result{Kind: NearDuplicate, Transform: t, Crop: Whole, Distance: d, Verification: v, Score: v.ThumbCorrelation, Verified: vo.Accept(v)}
}

// withCrop returns c, or y as a crop of x (or x of y) under c's transform
// when that fits better and passes MinCropCorrelation. Only the best
// plain transform is tried, and only when its plain correlation is from
// from up to upto: an alignment costs about a hundred microseconds.
func withCrop(x, y *hash.Fingerprint, c Result, vo Thresholds, from, upto float64) Result {
	if r, ok := cropOf(x, y, c, vo, from, upto); ok && r.Score >= MinCropCorrelation {
		return r
	}
	return c
}

// cropOf aligns y as a crop of x (or x of y) under c's transform and
// returns the crop's result when one is found that correlates better
// than c and passes vo, whatever MinCropCorrelation says.
func cropOf(x, y *hash.Fingerprint, c Result, vo Thresholds, from, upto float64) (Result, bool) {
	v := c.Verification
	if v.Flat || v.ThumbCorrelation < from || v.ThumbCorrelation >= upto {
		return c, false
	}
	tx := &x.Thumb
	if c.Transform != Identity {
		var tt thumb
		transformThumb(&tt, tx, c.Transform)
		tx = &tt
	}
	crop, cv, ok := alignCrop(tx, &y.Thumb, v.ThumbCorrelation)
	if rc, rv, rok := alignCrop(&y.Thumb, tx, v.ThumbCorrelation); rok && (!ok || rv.ThumbCorrelation > cv.ThumbCorrelation) {
		crop, cv, ok = rc.invert(), rv, true
	}
	if !ok || !vo.Accept(cv) {
		return c, false
	}
	cv.PHashDistance = c.Distance
	r := c
	r.Crop, r.Verification, r.Score, r.Verified = crop, cv, cv.ThumbCorrelation, true
	return r, true
}

// MinCropCorrelation is the least correlation of a crop, aligned and
// compared on boxCells cells, that verifies it: the alignment's four
// degrees of freedom fit a neighbouring slice too. On the quality
// scenario's MR slices, 3-5% crops correlated 0.993-0.995 with their own
// slice and 0.979-0.983 with the slices next to it.
const MinCropCorrelation = 0.99

// cropSuspectDistance is the pHash distance from which a pair that
// correlates well is still looked at as a crop: on a smooth picture a 4%
// crop keeps 0.997 of its correlation and moves the pHash 12 bits, while
// re-encodings stay within a few bits.
const cropSuspectDistance = 6

// cropNotNeeded is the plain correlation above which no crop is looked
// for: a crop of 1% (the least the thumbnails show) already costs more.
const cropNotNeeded = 0.97

// better reports whether c accounts for a pair better than best: verified
// beats unverified, then the higher score, then the lesser distance.
func better(c, best Result) bool {
	if c.Verified != best.Verified {
		return c.Verified
	}
	if c.Score != best.Score {
		return c.Score > best.Score
	}
	return c.Distance < best.Distance
}

// NearIdenticalScore and NearIdenticalDiff are the thumbnail correlation
// (at least) and normalised difference (at most) at which two images of
// one dataset are the same picture: the only relation that links two
// images of one dataset (a leak re-encoded at another quality counts, the
// next slice does not). Measured: a 224x224 JPEG of an MR slice re-saved
// at another quality, 0.99999; the corpus's video frame saved as PNG and
// as a 4:4:4 or 4:2:2 JPEG, 0.9994-0.9999 with differences 0.013-0.023;
// neighbouring slices of a real T1 volume 0.5 mm apart at most 0.99891
// with differences from 0.0247, 1 mm apart at most 0.9925 (0.068).
const (
	NearIdenticalScore = 0.999
	NearIdenticalDiff  = 0.03
)

// NearIdentical reports whether r relates two images that are the same
// picture, not merely alike (see NearIdenticalScore).
func (r Result) NearIdentical() bool {
	if r.Kind.Exact() {
		return true
	}
	return r.Verified && r.Transform == Identity && !r.Cropped() &&
		r.Score >= NearIdenticalScore && r.Verification.ThumbDiff <= NearIdenticalDiff
}

// equalDigest reports whether two digests are known and equal.
func equalDigest(a, b [32]byte) bool {
	var zero [32]byte
	return a != zero && a == b
}

// sopIndexable reports whether a SOP Instance UID identifies an instance:
// an empty one does not, nor one with a NUL (which index keys cannot
// hold).
func sopIndexable(uid string) bool { return uid != "" && !strings.ContainsRune(uid, 0) }

func popcount(x uint64) int { return bits.OnesCount64(x) }

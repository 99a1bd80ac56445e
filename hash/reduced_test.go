package hash

import (
	"image"
	"math"
	"path/filepath"
	"testing"
)

// TestReducedPartialBlocks measures the fingerprint of a reduced decode
// whose last block row and column are partial (a side that is not a
// multiple of the scale, as most photo sizes are) against the full-size
// image's. Each corpus image is cropped to sides of the form k·8+1, the
// worst case: the last reduced pixel stands for one original pixel. The
// reduced image is the ideal DCT-scaled decode (block means). Binned over
// the original's extent (ComputeReduced), the thumbnail and pHash must
// stay as close to the full image's as at sides that are multiples of the
// scale; binned as if every reduced pixel were whole (the way this package
// worked before), the picture is stretched, logged beside it.
func TestReducedPartialBlocks(t *testing.T) {
	root, rel := corpusImages(t)
	h := NewHasher()
	type stats struct {
		n              int
		corrSum, worst float64
		worstAt        string
		phash          []int
	}
	var fixed, naive, whole stats
	add := func(s *stats, at string, got, want Fingerprint) {
		c := thumbCorr(&got.Thumb, &want.Thumb)
		s.n++
		s.corrSum += c
		if s.n == 1 || c < s.worst {
			s.worst, s.worstAt = c, at
		}
		s.phash = append(s.phash, Distance64(got.PHash, want.PHash))
	}
	for _, r := range rel {
		img, err := tryDecode(filepath.Join(root, r))
		if err != nil {
			continue
		}
		b := img.Bounds()
		for _, scale := range []int{2, 4, 8} {
			w, ht := (b.Dx()-1)/8*8+1, (b.Dy()-1)/8*8+1
			if (w+scale-1)/scale < MinSide || (ht+scale-1)/scale < MinSide {
				continue
			}
			crop := cropTo(img, w, ht)
			want := h.Compute(crop)
			small := blockMeans(crop, scale)
			at := r + " at 1/" + itoa(scale)
			add(&fixed, at, h.ComputeReduced(small, scale, w, ht), want)
			sb := small.Bounds()
			add(&naive, at, h.ComputeReduced(small, scale, sb.Dx()*scale, sb.Dy()*scale), want)
			// The control: the same picture at sides that are multiples of
			// 8, where every block is whole.
			crop = cropTo(img, w-1, ht-1)
			add(&whole, at, h.ComputeReduced(blockMeans(crop, scale), scale, w-1, ht-1), h.Compute(crop))
		}
	}
	if fixed.n < 20 {
		t.Skipf("only %d corpus images large enough", fixed.n)
	}
	mean := func(s stats) float64 { return s.corrSum / float64(s.n) }
	maxD := func(s stats) int {
		m := 0
		for _, d := range s.phash {
			m = max(m, d)
		}
		return m
	}
	t.Logf("control, sides multiple of 8: thumbnail corr mean %.4f worst %.4f (%s), pHash max %d", mean(whole), whole.worst, whole.worstAt, maxD(whole))
	t.Logf("n=%d: over the original's extent thumbnail corr mean %.4f worst %.4f (%s), pHash max %d; as whole pixels corr mean %.4f worst %.4f (%s), pHash max %d",
		fixed.n, mean(fixed), fixed.worst, fixed.worstAt, maxD(fixed), mean(naive), naive.worst, naive.worstAt, maxD(naive))
	// Partial blocks must cost next to nothing over whole ones.
	if fixed.worst < whole.worst-0.01 || mean(fixed) < mean(whole)-0.001 {
		t.Errorf("thumbnail correlation with the full-size image: mean %.4f worst %.4f with partial blocks, %.4f and %.4f with whole ones",
			mean(fixed), fixed.worst, mean(whole), whole.worst)
	}
	if got, ctl := maxD(fixed), maxD(whole); got > ctl+2 {
		t.Errorf("pHash up to %d bits from the full-size image's with partial blocks, %d with whole ones", got, ctl)
	}
	if mean(fixed) <= mean(naive) {
		t.Errorf("mean thumbnail correlation %.4f over the extent, %.4f as whole pixels: the extent does not help", mean(fixed), mean(naive))
	}
}

// cropTo returns the top-left w x ht of img as an 8-bit grey image in PDQ's
// luma (what blockMeans averages), so both paths see the same pixels.
func cropTo(img image.Image, w, ht int) *image.Gray {
	b := img.Bounds()
	s := newPDQState()
	luma := make([]float32, b.Dx()*b.Dy())
	s.fillLuma(img, b.Dy(), b.Dx(), luma)
	out := image.NewGray(image.Rect(0, 0, w, ht))
	for y := range ht {
		for x := range w {
			out.Pix[y*out.Stride+x] = uint8(luma[y*b.Dx()+x] + 0.5)
		}
	}
	return out
}

// thumbCorr is the Pearson correlation of two thumbnails (1 for two flat
// ones that are equal).
func thumbCorr(a, b *[ThumbSize * ThumbSize]uint8) float64 {
	var sa, sb, saa, sbb, sab float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		sa, sb = sa+x, sb+y
		saa, sbb, sab = saa+x*x, sbb+y*y, sab+x*y
	}
	n := float64(len(a))
	va, vb := saa-sa*sa/n, sbb-sb*sb/n
	if va <= 0 || vb <= 0 {
		if *a == *b {
			return 1
		}
		return 0
	}
	return (sab - sa*sb/n) / math.Sqrt(va*vb)
}

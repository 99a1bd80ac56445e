package hash

import (
	"image"
)

// PDQ of a reduced image.
//
// A scan decodes JPEG data at 1/2, 1/4 or 1/8 of its size (decoding is most
// of its time), and PDQ run naively on the smaller image is another hash:
// its box-filter windows and decimation points depend on the image size,
// and on the corpus it moved by up to 48 bits at 128 pixels a side. But up
// to the DCT, PDQ is linear: the 64x64 image it thresholds is Wy·L·Wxᵀ,
// where L is the full-size luma and each row of Wy (Wx) holds the weights
// of the two box passes and the decimation for one output row (column),
// a tent a few pixels wide. A DCT-scaled decode is, to a good
// approximation, the full image averaged over scale x scale blocks, so
// summing each weight row over the blocks gives the weights that the
// reduced image needs to produce nearly the full image's 64x64, and from
// it nearly the full image's hash (measured in TestPDQReduced).
//
// The sums are taken in float64 in another order than the reference's
// running sums, so this path is close to the reference, not bit-exact:
// Compute keeps the exact path for full-size images.

// pdqAxis holds, for one axis, the weights that take the pixels of a
// (possibly reduced) image to PDQ's 64 decimated samples.
type pdqAxis struct {
	full, length, scale, reduced int // what the weights were built for
	direct                       bool
	pixelWeights
	acc [pdqMaxSide]float64
}

// set builds the weights for an axis of full pixels in the original image,
// squashed to length by the reference's nearest-neighbour resize (length ==
// full when it does not resize), decoded at 1/scale into reduced pixels.
// direct says the reference skips the blur (a 64x64 input).
func (a *pdqAxis) set(full, length, scale, reduced int, direct bool) {
	if a.wt != nil && a.full == full && a.length == length && a.scale == scale && a.reduced == reduced && a.direct == direct {
		return
	}
	a.full, a.length, a.scale, a.reduced, a.direct = full, length, scale, reduced, direct
	a.first, a.off, a.wt = a.first[:0], a.off[:0], a.wt[:0]
	// pixel maps a position of the squashed axis to the reduced pixel
	// that covers its source pixel.
	pixel := func(j int) int {
		src := j
		if length != full {
			src = j * full / length
		}
		return min(src/scale, reduced-1)
	}
	acc := a.acc[:length]
	w := jaroszWindow(length)
	half := (w + 2) / 2
	// box gives the inputs the reference's box1D averages for output i.
	box := func(i int) (lo, hi int) { return max(0, i+half-w), min(length-1, i+half-1) }
	for k := range pdqSize {
		y := (2*k + 1) * length / (2 * pdqSize)
		clear(acc)
		jlo, jhi := y, y
		if direct {
			acc[y] = 1 // the reference takes a 64-pixel axis as decimated already
		} else {
			lo, hi := box(y)
			for i := lo; i <= hi; i++ {
				l2, h2 := box(i)
				c := 1 / float64(hi-lo+1) / float64(h2-l2+1)
				for j := l2; j <= h2; j++ {
					acc[j] += c
				}
				jlo, jhi = min(jlo, l2), max(jhi, h2)
			}
		}
		t0, t1 := pixel(jlo), pixel(jhi)
		a.first = append(a.first, int32(t0))
		a.off = append(a.off, int32(len(a.wt)))
		for range t1 - t0 + 1 {
			a.wt = append(a.wt, 0)
		}
		ws := a.wt[a.off[k]:]
		for j := jlo; j <= jhi; j++ {
			ws[pixel(j)-t0] += acc[j]
		}
	}
	a.off = append(a.off, int32(len(a.wt)))
}

// pdqReduced is pdq for img, a decode at 1/scale of a width x height
// original: the hash the full-size image would get, approximately.
func (h *Hasher) pdqReduced(img image.Image, scale, width, height int) (hash [32]byte, quality int) {
	b := img.Bounds()
	rw, rh := b.Dx(), b.Dy()
	if rw <= 0 || rh <= 0 || !wellFormed(img) {
		return h.pdq(img)
	}
	if scale <= 1 {
		if h.mappedPDQ {
			return h.pdqMapped(img, 1, rw, rh)
		}
		return h.pdq(img)
	}
	if width < rw || height < rh {
		return h.pdq(img)
	}
	return h.pdqMapped(img, scale, width, height)
}

// pdqMapped is pdqReduced without the fallback to the exact path, so tests
// can run it at scale 1 against the reference.
func (h *Hasher) pdqMapped(img image.Image, scale, width, height int) (hash [32]byte, quality int) {
	b := img.Bounds()
	rw, rh := b.Dx(), b.Dy()
	if h.pdqs == nil {
		h.pdqs = newPDQState()
	}
	s := h.pdqs
	rows, cols := height, width
	if width > pdqMaxSide || height > pdqMaxSide {
		rows, cols = pdqMaxSide, pdqMaxSide
	}
	if rows < pdqMinSide || cols < pdqMinSide {
		return hash, 0
	}
	direct := rows == pdqSize && cols == pdqSize
	s.ay.set(height, rows, scale, rh, direct)
	s.ax.set(width, cols, scale, rw, direct)
	s.sampleMapped(img)
	return s.hashB64(false)
}

// sampleMapped fills s.b64 from img through the weights of s.ax and s.ay.
func (s *pdqState) sampleMapped(img image.Image) {
	b := img.Bounds()
	rw, rh := b.Dx(), b.Dy()
	var grey *image.Gray
	if g, ok := img.(*image.Gray); ok {
		grey = g
	} else {
		if cap(s.lumaF) < rw*rh {
			s.lumaF = make([]float32, rw*rh)
		}
		// fillLuma with the image's own size copies without resampling.
		s.fillLuma(img, rh, rw, s.lumaF[:rw*rh])
	}
	// The columns any sample reads.
	u0 := int(s.ax.first[0])
	lastFirst, lastWt := s.ax.weights(pdqSize - 1)
	span := lastFirst + len(lastWt) - u0
	// Four output rows at a time: the row pass makes them (each a weighted
	// sum of a few image rows), the column pass samples them at the 64
	// columns, four rows side by side sharing each column's weights. The
	// rows stay in the L1 cache, and every sum runs in weight order.
	if cap(s.rowT) < 4*span {
		s.rowT = make([]float64, 4*span)
	}
	rowT := s.rowT[:4*span]
	for k := 0; k < pdqSize; k += 4 {
		for r := range 4 {
			t0, wt := s.ay.weights(k + r)
			dst := rowT[r*span : (r+1)*span]
			if grey != nil {
				weightedRows(dst, wt, grey.Pix[grey.PixOffset(b.Min.X+u0, b.Min.Y+t0):], grey.Stride)
			} else {
				weightedRows(dst, wt, s.lumaF[t0*rw+u0:], rw)
			}
		}
		// The rows start at column u0.
		sampleColumns(rowT, span, 4, &s.ax.pixelWeights, u0, pdqSize, s.cols[:])
		for i, v := range s.cols {
			s.b64[k*pdqSize+i] = float32(v)
		}
	}
}

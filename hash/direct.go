package hash

import "image"

// The direct path: small 8-bit images resized straight from their pixels.
//
// What a scan hashes most is a JPEG decoded at 1/4 or 1/8: a grey image of
// about 120x90 or 160x120. The grid path would spread its pixels over
// 130x130 cells (an upsampling) and then resample the cells, so building
// and reading the grid costs more than the pixels do. Both steps are
// linear and separable: a resized pixel is Σ tent(cell)·share(cell, pixel)
// over cells, so the products of the two weight matrices, computed once
// per image size, take the pixels straight to pHash's 64x64, aHash's 8x8,
// dHash's 9x8 and the thumbnail's 32x32. It is the same linear map summed
// in another order: values agree with the grid path's to float64 rounding
// (5e-13 grey levels in TestDirectMatchesGrid). On the 1,090 corpus
// frames, decoded reduced and at full size, every pHash, dHash, aHash and
// PDQ came out as the grid path's; thumbnail cells whose exact average is
// k+0.5 are rounded up on both paths (see thumbResized).

// maxDirect bounds each side of the images taken directly. The direct
// path's cost grows with the pixels times the taps of each resize (the
// 8x8's tent spans a quarter of the image), the grid's hardly at these
// sizes. In BenchmarkResizePaths the direct path took 0.5x the grid's time
// at 120x90 and 0.8-0.85x at 160x120 and 192x144; at 256x192 runs
// disagreed (0.75x to 1.2x), so larger images take the grid.
const maxDirect = 3 * gridSize / 2

// lumaPlane is an 8-bit luma plane: row y is pix[off+y*stride:][:w].
type lumaPlane struct {
	pix           []uint8
	off, stride   int
	width, height int
}

func (p *lumaPlane) row(y int) []uint8 {
	return p.pix[p.off+y*p.stride:][:p.width:p.width]
}

// smallLuma returns img's luma plane when img is a well-formed grey or
// YCbCr image of at most maxDirect pixels a side.
func smallLuma(img image.Image) (lumaPlane, bool) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 || w > maxDirect || h > maxDirect || !wellFormed(img) {
		return lumaPlane{}, false
	}
	switch m := img.(type) {
	case *image.Gray:
		return lumaPlane{m.Pix, m.PixOffset(b.Min.X, b.Min.Y), m.Stride, w, h}, true
	case *image.YCbCr:
		return lumaPlane{m.Y, m.YOffset(b.Min.X, b.Min.Y), m.YStride, w, h}, true
	}
	return lumaPlane{}, false
}

// directAxis holds one axis's pixel weights for every resize, for n pixels
// standing for an original of ext at 1/scale (see axisBins).
type directAxis struct {
	n, scale, ext    int
	p64, a8, d9, box pixelWeights
	scratch          [maxDirect]float64
}

// set computes the weights for n pixels (an original of ext at 1/scale)
// from the grid bins and the tent weights over cells for 64, 8 and 9
// outputs (t9 nil: no dHash columns on this axis), all of which it sets
// for ext. They are the grid path's, only scratch here.
func (d *directAxis) set(n, scale, ext int, bins *axisBins, t64, t8, t9 *tentAxis) {
	if d.n == n && d.scale == scale && d.ext == ext {
		return
	}
	d.n, d.scale, d.ext = n, scale, ext
	bins.set(n, scale, ext)
	for _, c := range []struct {
		pw  *pixelWeights
		t   *tentAxis
		out int
	}{{&d.p64, t64, pSize}, {&d.a8, t8, aSize}, {&d.d9, t9, dW}} {
		if c.t == nil {
			continue
		}
		c.t.set(ext, c.out)
		d.compose(c.pw, bins, c.out, c.t.weights)
	}
	// The thumbnail pools the grid's interior cells four by four.
	const f = gridSize / ThumbSize
	quarter := []float64{1.0 / f, 1.0 / f, 1.0 / f, 1.0 / f}
	d.compose(&d.box, bins, ThumbSize, func(o int) (int, []float64) { return 1 + o*f, quarter })
}

// compose turns weights over the bordered grid cells (cells(o) gives the
// first cell of output o and the weights from it on) into weights over
// pixels: cell 0 and cell gridExt-1 are the first and last pixel;
// interior cell 1+i is bin i, each pixel weighted by its share of the
// bin's area.
func (d *directAxis) compose(pw *pixelWeights, bins *axisBins, out int, cells func(o int) (k0 int, w []float64)) {
	n, ext := d.n, float64(d.ext)
	pw.first, pw.off, pw.wt = pw.first[:0], pw.off[:0], pw.wt[:0]
	acc := d.scratch[:n]
	for o := range out {
		clear(acc)
		lo, hi := n, -1
		put := func(x int, w float64) {
			acc[x] += w
			lo, hi = min(lo, x), max(hi, x)
		}
		k0, w := cells(o)
		for i, c := range w {
			k := k0 + i
			switch {
			case c == 0:
			case k == 0:
				put(0, c)
			case k == gridExt-1:
				put(n-1, c)
			default:
				b := &bins.bin[k-1]
				if b.wl != 0 {
					put(int(b.pl), c*float64(b.wl)/ext)
				}
				for x := b.a; x < b.b; x++ {
					put(int(x), c*float64(bins.unit)/ext)
				}
				if b.wr != 0 {
					put(int(b.pr), c*float64(b.wr)/ext)
				}
			}
		}
		if hi < lo {
			lo, hi = 0, -1
		}
		pw.first = append(pw.first, int32(lo))
		pw.off = append(pw.off, int32(len(pw.wt)))
		pw.wt = append(pw.wt, acc[lo:hi+1]...)
	}
	pw.off = append(pw.off, int32(len(pw.wt)))
}

// resizeDirect is resize for a small luma plane.
func (h *Hasher) resizeDirect(p lumaPlane, need int) {
	sx, ex, sy, ey := h.extents(p.width, p.height)
	h.dx.set(p.width, sx, ex, &h.bx, &h.tx64, &h.tx8, &h.tx9)
	h.dy.set(p.height, sy, ey, &h.by, &h.ty64, &h.ty8, nil)
	w, ht := p.width, p.height
	tmp := h.tmp[:aSize*w]
	// Each pixel feeds about eight output rows: convert it to float64 once.
	if cap(h.dpix) < w*ht {
		h.dpix = make([]float64, w*ht)
	}
	pix := h.dpix[:w*ht]
	for y := range ht {
		dst := pix[y*w : (y+1)*w]
		for x, v := range p.row(y) {
			dst[x] = float64(v)
		}
	}
	// rows fills tmp with output rows o0..o1-1 of the vertical resize ys.
	rows := func(ys *pixelWeights, o0, o1 int) {
		for o := o0; o < o1; o++ {
			y0, wt := ys.weights(o)
			weightedRows(tmp[(o-o0)*w:(o-o0+1)*w], wt, pix[y0*w:], w)
		}
	}
	if need&needPHash != 0 {
		for o := 0; o < pSize; o += 4 {
			rows(&h.dy.p64, o, o+4)
			sampleColumns(tmp, w, 4, &h.dx.p64, 0, pSize, h.p64[o*pSize:])
		}
	}
	if need&needADHash != 0 {
		rows(&h.dy.a8, 0, aSize)
		sampleColumns(tmp, w, aSize, &h.dx.a8, 0, aSize, h.a8[:])
		sampleColumns(tmp, w, dH, &h.dx.d9, 0, dW, h.d9[:])
	}
	if need&needThumb != 0 {
		for o := 0; o < ThumbSize; o += 4 {
			rows(&h.dy.box, o, o+4)
			sampleColumns(tmp, w, 4, &h.dx.box, 0, ThumbSize, h.th[o*ThumbSize:])
		}
	}
}

package hash

import (
	"encoding/binary"
	"image"
)

// gridSize is the side of the luma grid that pHash, dHash, aHash and the
// thumbnail are all derived from. Reading the full-resolution image once is
// the dominant cost, so it is done exactly once, into this grid; everything
// after works on gridSize² numbers. 128 is twice the 64x64 of the pHash
// resize, which keeps the emulation of goimagehash's resize filter close (see
// resample.go), and a multiple of ThumbSize, so the thumbnail is an exact
// pooling of the grid.
const gridSize = 128

// axisBins maps one image axis of n pixels onto gridSize equal bins for an
// exact-area average. Coordinates are counted in 1/gridSize of a pixel, so
// every bin is n units wide and every pixel gridSize units: all overlaps are
// integers and the accumulation is exact integer arithmetic.
//
// A reduced decode (a JPEG decoded at 1/scale) is binned over the extent of
// the original instead: pixel x stands for the original's pixels
// x·scale .. x·scale+scale-1, but the last one only for what is left of
// them. A JPEG of 537 rows decodes at 1/8 to 68 rows, the last made of one
// real row; weighting it as a whole eighth stretches the picture by 1.3%,
// which moved thumbnails of such copies past the copy rule. With ext the
// original's length, bins are ext units wide and a whole pixel
// scale·gridSize units (unit), the last pixel what remains of ext.
type axisBins struct {
	n int // pixels along the axis these bins were computed for; 0 = none yet
	// scale and ext are the reduction and the original's length the bins
	// were computed for (1 and n for an image at full size).
	scale, ext int
	// unit is the weight of a whole pixel, scale·gridSize.
	unit uint64
	// k is the number of pixels per bin when n is a multiple of gridSize
	// at full size (every bin then is pixels k·i .. k·i+k-1, whole), else 0.
	k int
	// narrow says no bin holds more than one whole pixel (n < 2·gridSize,
	// a reduced decode's axis): binRow8 then reads three weighted pixels
	// per bin instead of summing a run.
	narrow bool
	bin    [gridSize]bin
}

// bin i is made of the pixels a..b-1, each wholly inside it (weight unit),
// plus at most one partly covered pixel on each side: pl with weight wl and
// pr with weight wr (weight 0 = no such pixel; the index is then 0 so it
// can be read without a branch). When the image is smaller than the grid a
// bin may lie inside one pixel: that is pl with weight ext alone.
type bin struct {
	a, b, pl, pr int32
	wl, wr       uint32
}

// reducedExtent returns the scale and original length to bin an axis of n
// pixels with: scale and full when n pixels at 1/scale can have come from
// full (the last pixel covering 1..scale of them), else 1 and n.
func reducedExtent(n, scale, full int) (int, int) {
	if scale <= 1 || full <= (n-1)*scale || full > n*scale {
		return 1, n
	}
	return scale, full
}

// set computes the bins for n pixels standing for an original of ext
// pixels at 1/scale; see reducedExtent. At full size, scale is 1 and ext n.
func (ax *axisBins) set(n, scale, ext int) {
	if ax.n == n && ax.scale == scale && ax.ext == ext {
		return
	}
	ax.n, ax.scale, ax.ext = n, scale, ext
	unit := scale * gridSize
	ax.unit = uint64(unit)
	ax.k = 0
	ax.narrow = true
	if scale == 1 && n%gridSize == 0 {
		ax.k = n / gridSize
	}
	for i := range gridSize {
		lo, hi := i*ext, (i+1)*ext
		x0, x1 := lo/unit, (hi-1)/unit // first and last pixel touched
		var c bin
		switch {
		case x0 == x1:
			c.pl, c.wl = int32(x0), uint32(ext)
		default:
			c.a, c.b = int32(x0), int32(x1+1)
			if lo%unit != 0 {
				c.pl, c.wl = int32(x0), uint32((x0+1)*unit-lo)
				c.a++
			}
			// The last pixel of a reduced axis may be short: it is
			// never whole, even where the bin ends with it.
			if hi != (x1+1)*unit {
				c.pr, c.wr = int32(x1), uint32(hi-x1*unit)
				c.b--
			}
		}
		ax.narrow = ax.narrow && c.b-c.a <= 1
		ax.bin[i] = c
	}
}

// gridExt is the side of the grid with its border: cell 0 and cell
// gridSize+1 of each axis hold the first and last pixel row (column) of the
// image on their own. goimagehash's resize clamps taps that fall outside the
// image to the edge pixel, and for the large kernels of the 8x8 and 9x8
// resizes that single pixel row gets over a tenth of the weight; the average
// of the first grid cell is not a good enough stand-in for it.
const gridExt = gridSize + 2

// The binRow functions add up one row of luma into gridSize bins, each pixel
// weighted by its overlap with the bin: out[1+i] = Σ overlap(x,i)·luma[x].
// out[0] and out[gridSize+1] are the first and last pixel alone, given the
// same total weight (n) as a bin. These loops are the only ones that touch
// every pixel of the image, so the whole pixels of a bin are a plain
// integer sum.

// binRow8 bins 8-bit luma (grey, JPEG Y plane).
func binRow8(row []uint8, ax *axisBins, out *[gridExt]uint64) {
	n, unit := uint64(ax.ext), ax.unit
	row = row[:ax.n]
	out[0] = n * uint64(row[0])
	out[gridExt-1] = n * uint64(row[len(row)-1])
	bins := (*[gridSize]uint64)(out[1:])
	if ax.k == 8 {
		// The common 1024-pixel row: one 8-byte word per bin.
		for i := range bins {
			v := binary.LittleEndian.Uint64(row[8*i:])
			v = v&0x00ff00ff00ff00ff + v>>8&0x00ff00ff00ff00ff
			v = v&0x0000ffff0000ffff + v>>16&0x0000ffff0000ffff
			bins[i] = (v&0xffffffff + v>>32) * gridSize
		}
		return
	}
	if k := ax.k; k > 0 {
		for i := range bins {
			bins[i] = uint64(sum8(row[k*i:k*i+k])) * gridSize
		}
		return
	}
	if ax.narrow {
		// c.a is a pixel of the row even when the bin has no whole pixel
		// (c.a == c.b), so it can be read and weighted by zero.
		for i := range bins {
			c := &ax.bin[i]
			wa := uint64(c.b-c.a) * unit
			bins[i] = wa*uint64(row[c.a]) + uint64(c.wl)*uint64(row[c.pl]) + uint64(c.wr)*uint64(row[c.pr])
		}
		return
	}
	for i := range bins {
		c := &ax.bin[i]
		s := uint64(sum8(row[c.a:c.b]))
		bins[i] = s*unit + uint64(c.wl)*uint64(row[c.pl]) + uint64(c.wr)*uint64(row[c.pr])
	}
}

// sum8 adds up bytes eight at a time (SWAR): pairs of bytes into 16-bit
// lanes, then pairs of lanes into 32-bit lanes.
func sum8(p []uint8) uint32 {
	var s uint32
	for len(p) >= 8 {
		v := binary.LittleEndian.Uint64(p)
		v = v&0x00ff00ff00ff00ff + v>>8&0x00ff00ff00ff00ff
		v = v&0x0000ffff0000ffff + v>>16&0x0000ffff0000ffff
		s += uint32(v) + uint32(v>>32)
		p = p[8:]
	}
	for _, x := range p {
		s += uint32(x)
	}
	return s
}

// binRowRGB bins opaque 8-bit RGB(A) pixels (4 bytes each). Luma is linear,
// so it sums each channel over the bin and weights the sums once: luma in
// units of 1/65536 grey level, with no per-pixel rounding.
func binRowRGB(pix []uint8, ax *axisBins, out *[gridExt]uint64) {
	n, unit := uint64(ax.ext), ax.unit
	pix = pix[:4*ax.n]
	px := func(x int32) (r, g, b uint64) {
		q := pix[4*x : 4*x+3 : 4*x+3]
		return uint64(q[0]), uint64(q[1]), uint64(q[2])
	}
	r, g, b := px(0)
	out[0] = n * (lumaR*r + lumaG*g + lumaB*b)
	r, g, b = px(int32(ax.n - 1))
	out[gridExt-1] = n * (lumaR*r + lumaG*g + lumaB*b)
	bins := (*[gridSize]uint64)(out[1:])
	for i := range bins {
		c := &ax.bin[i]
		sr, sg, sb := sumRGB(pix[4*c.a : 4*c.b])
		r, g, b := sr*unit, sg*unit, sb*unit
		wl, wr := uint64(c.wl), uint64(c.wr)
		lr, lg, lb := px(c.pl)
		rr, rg, rb := px(c.pr)
		r += wl*lr + wr*rr
		g += wl*lg + wr*rg
		b += wl*lb + wr*rb
		bins[i] = lumaR*r + lumaG*g + lumaB*b
	}
}

// sumRGB adds up the R, G and B bytes of 4-byte pixels, two pixels per
// 8-byte word: masking the even bytes gives R and B in 16-bit lanes, the odd
// ones G (and alpha, ignored). A lane holds up to 257 sums of a byte, so the
// lanes are folded into the totals every 256 words.
func sumRGB(p []uint8) (r, g, b uint64) {
	const m = 0x00ff00ff00ff00ff
	for len(p) >= 8 {
		var rb, ga uint64
		for k := 0; k < 256 && len(p) >= 8; k++ {
			v := binary.LittleEndian.Uint64(p)
			rb += v & m
			ga += v >> 8 & m
			p = p[8:]
		}
		r += rb&0xffff + rb>>32&0xffff
		b += rb>>16&0xffff + rb>>48
		g += ga&0xffff + ga>>32&0xffff
	}
	if len(p) >= 4 {
		r += uint64(p[0])
		g += uint64(p[1])
		b += uint64(p[2])
	}
	return r, g, b
}

// binRowN bins luma already computed per pixel (16-bit grey, premultiplied
// or 16-bit colour).
func binRowN[T uint16 | uint32](row []T, ax *axisBins, out *[gridExt]uint64) {
	n, unit := uint64(ax.ext), ax.unit
	row = row[:ax.n]
	out[0] = n * uint64(row[0])
	out[gridExt-1] = n * uint64(row[len(row)-1])
	bins := (*[gridSize]uint64)(out[1:])
	for i := range bins {
		c := &ax.bin[i]
		var s uint64
		for _, v := range row[c.a:c.b] {
			s += uint64(v)
		}
		bins[i] = s*unit + uint64(c.wl)*uint64(row[c.pl]) + uint64(c.wr)*uint64(row[c.pr])
	}
}

// Units of the luma fed to the bins, per source format: how many integer
// units one 8-bit grey level is worth.
const (
	scale8   = 1     // Gray, YCbCr Y plane
	scale16  = 257   // Gray16, 16-bit colour, the generic path
	scaleRGB = 65536 // 8-bit RGB weighted by lumaR/G/B
)

// Luma weights in 1/65536 (they add up to exactly 65536, so grey stays
// grey): the 0.299/0.587/0.114 of goimagehash's Rgb2Gray.
const (
	lumaR = 19595
	lumaG = 38470
	lumaB = 7471
)

func luma16(r, g, b uint32) uint32 {
	return uint32((uint64(lumaR)*uint64(r) + uint64(lumaG)*uint64(g) + uint64(lumaB)*uint64(b) + 32768) >> 16)
}

// buildGrid fills h.grid with the exact-area average luma of img, in 8-bit
// grey levels (0..255, fractional), squashing the aspect ratio to a square.
// Luma follows goimagehash: the Y plane for JPEG colour (what its
// YCbCr->RGB->luma round trip approximates), 0.299R+0.587G+0.114B for RGB,
// with alpha premultiplied (transparent pixels count as black, as nfnt/resize
// does before goimagehash sees them). It reports false for an empty image
// or one whose pixel buffer is shorter than its bounds.
func (h *Hasher) buildGrid(img image.Image) bool {
	b := img.Bounds()
	w, ht := b.Dx(), b.Dy()
	if w <= 0 || ht <= 0 || !wellFormed(img) {
		return false
	}
	h.setBins(w, ht)
	switch m := img.(type) {
	case *image.Gray:
		h.accumulate(scale8, func(y int) { binRow8(m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):], &h.bx, &h.rowSum) })
	case *image.YCbCr:
		h.accumulate(scale8, func(y int) { binRow8(m.Y[m.YOffset(b.Min.X, b.Min.Y+y):], &h.bx, &h.rowSum) })
	case *image.RGBA:
		// Read as stored. Premultiplied colour is what nfnt/resize
		// averages too.
		h.accumulate(scaleRGB, func(y int) { binRowRGB(m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):], &h.bx, &h.rowSum) })
	case *image.NRGBA:
		row := h.row32(w)
		h.accumulate(scaleRGB, func(y int) {
			p := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][: 4*w : 4*w]
			if opaque(p) {
				binRowRGB(p, &h.bx, &h.rowSum)
				return
			}
			for x := range row {
				q := p[4*x : 4*x+4 : 4*x+4]
				l := lumaR*uint32(q[0]) + lumaG*uint32(q[1]) + lumaB*uint32(q[2])
				row[x] = uint32(uint64(l) * uint64(q[3]) / 0xff)
			}
			binRowN(row, &h.bx, &h.rowSum)
		})
	case *image.Gray16:
		row := h.row16(w)
		h.accumulate(scale16, func(y int) {
			p := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][: 2*w : 2*w]
			for x := range row {
				row[x] = uint16(p[2*x])<<8 | uint16(p[2*x+1])
			}
			binRowN(row, &h.bx, &h.rowSum)
		})
	case *image.NRGBA64:
		row := h.row32(w)
		h.accumulate(scale16, func(y int) {
			p := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][: 8*w : 8*w]
			for x := range row {
				q := p[8*x : 8*x+8 : 8*x+8]
				r := uint32(q[0])<<8 | uint32(q[1])
				g := uint32(q[2])<<8 | uint32(q[3])
				bl := uint32(q[4])<<8 | uint32(q[5])
				a := uint32(q[6])<<8 | uint32(q[7])
				l := luma16(r, g, bl)
				if a != 0xffff {
					l = uint32(uint64(l) * uint64(a) / 0xffff)
				}
				row[x] = l
			}
			binRowN(row, &h.bx, &h.rowSum)
		})
	case *image.Paletted:
		// A luma per palette entry (16-bit, premultiplied, as the generic
		// path computes it); indices beyond the palette read as black.
		var lut [256]uint32
		for i, c := range m.Palette {
			if i < len(lut) && c != nil {
				r, g, bl, _ := c.RGBA()
				lut[i] = luma16(r, g, bl)
			}
		}
		row := h.row32(w)
		h.accumulate(scale16, func(y int) {
			p := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:w:w]
			for x, v := range p {
				row[x] = lut[v]
			}
			binRowN(row, &h.bx, &h.rowSum)
		})
	case image.RGBA64Image:
		// Every other standard image type (RGBA64, CMYK, NYCbCrA, ...):
		// RGBA64At returns a plain struct, so unlike At it does not
		// allocate per pixel. Premultiplied and 16-bit, like RGBA().
		row := h.row32(w)
		h.accumulate(scale16, func(y int) {
			for x := range row {
				c := m.RGBA64At(b.Min.X+x, b.Min.Y+y)
				row[x] = luma16(uint32(c.R), uint32(c.G), uint32(c.B))
			}
			binRowN(row, &h.bx, &h.rowSum)
		})
	default:
		// Slow path: one interface call per pixel. color.RGBA() is already
		// alpha-premultiplied and 16-bit.
		row := h.row32(w)
		h.accumulate(scale16, func(y int) {
			for x := range row {
				r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				row[x] = luma16(r, g, bl)
			}
			binRowN(row, &h.bx, &h.rowSum)
		})
	}
	return true
}

// setBins computes the grid's bins for a w x ht image, over the original's
// extent when it is a reduced decode (see ComputeReduced).
func (h *Hasher) setBins(w, ht int) {
	sx, ex, sy, ey := h.extents(w, ht)
	h.bx.set(w, sx, ex)
	h.by.set(ht, sy, ey)
}

// extents gives each axis of a w x ht image its scale and original length
// (reducedExtent) from what ComputeReduced was told.
func (h *Hasher) extents(w, ht int) (sx, ex, sy, ey int) {
	sx, ex = reducedExtent(w, h.reduced.scale, h.reduced.width)
	sy, ey = reducedExtent(ht, h.reduced.scale, h.reduced.height)
	return sx, ex, sy, ey
}

// opaque reports whether every pixel of an NRGBA row has alpha 255.
func opaque(p []uint8) bool {
	for i := 3; i < len(p); i += 4 {
		if p[i] != 0xff {
			return false
		}
	}
	return true
}

// accumulate walks the grid rows top to bottom and adds each source row
// that overlaps grid row j, weighted by the overlap, into h.acc; the row
// is then complete and goes into h.grid (row 1+j) as averages. Rows 0 and
// gridSize+1 get the first and last source row alone. binY(y) must leave
// the binned source row y, in units of 1/scale grey level, in h.rowSum. A
// source row that straddles two grid rows (or, when upscaling, feeds many)
// is binned once. Only one row of integer sums exists at a time: the
// whole grid of them would be 135 KB more for the cache to hold.
func (h *Hasher) accumulate(scale uint64, binY func(y int)) {
	// Every cell's weights add up to w·ht (units of 1/gridSize² pixel; the
	// original's w·ht for a reduced decode, see axisBins), so
	// this division turns the exact integer sums into averages. A flat
	// region gives exactly equal cells, which keeps ties ties downstream.
	den := float64(uint64(h.bx.ext) * uint64(h.by.ext) * scale)
	average := func(row int, sums *[gridExt]uint64, w uint64) {
		g := (*[gridExt]float64)(h.grid[row*gridExt:])
		for i, v := range sums {
			g[i] = float64(w*v) / den
		}
	}
	last := -1
	n := uint64(h.by.ext)
	ax := &h.by
	add := func(y int, wy uint64, first bool) {
		if y != last {
			binY(y)
			last = y
			if y == 0 {
				average(0, &h.rowSum, n)
			}
			if y == ax.n-1 {
				average(gridExt-1, &h.rowSum, n)
			}
		}
		// Every grid row gets at least one source row; the first is
		// stored rather than added, so h.acc need not be cleared.
		if first {
			setRow(&h.acc, &h.rowSum, wy)
		} else {
			addRow(&h.acc, &h.rowSum, wy)
		}
	}
	for j := range gridSize {
		c := &ax.bin[j]
		first := true
		if c.wl != 0 {
			add(int(c.pl), uint64(c.wl), first)
			first = false
		}
		for y := c.a; y < c.b; y++ {
			add(int(y), ax.unit, first)
			first = false
		}
		if c.wr != 0 {
			add(int(c.pr), uint64(c.wr), first)
		}
		average(1+j, &h.acc, 1)
	}
}

func setRow(dst, src *[gridExt]uint64, w uint64) {
	for i, s := range src {
		dst[i] = w * s
	}
}

func addRow(dst, src *[gridExt]uint64, w uint64) {
	for i, s := range src {
		dst[i] += w * s
	}
}

func (h *Hasher) row16(w int) []uint16 {
	if cap(h.buf16) < w {
		h.buf16 = make([]uint16, w)
	}
	return h.buf16[:w]
}

func (h *Hasher) row32(w int) []uint32 {
	if cap(h.buf32) < w {
		h.buf32 = make([]uint32, w)
	}
	return h.buf32[:w]
}

// wellFormed reports whether the pixel buffers of the image types read
// directly hold every pixel inside the bounds. Decoders always produce such
// images; a hand-built one with a short buffer would otherwise make the fast
// paths index out of range. Other types are read through At and are their
// own responsibility.
func wellFormed(img image.Image) bool {
	b := img.Bounds()
	if b.Empty() {
		return true
	}
	last := image.Pt(b.Max.X-1, b.Max.Y-1)
	fits := func(stride, first, end, n int) bool {
		return stride >= 0 && first >= 0 && first <= end && end <= n
	}
	switch m := img.(type) {
	case *image.Gray:
		return fits(m.Stride, m.PixOffset(b.Min.X, b.Min.Y), m.PixOffset(last.X, last.Y)+1, len(m.Pix))
	case *image.Gray16:
		return fits(m.Stride, m.PixOffset(b.Min.X, b.Min.Y), m.PixOffset(last.X, last.Y)+2, len(m.Pix))
	case *image.RGBA:
		return fits(m.Stride, m.PixOffset(b.Min.X, b.Min.Y), m.PixOffset(last.X, last.Y)+4, len(m.Pix))
	case *image.NRGBA:
		return fits(m.Stride, m.PixOffset(b.Min.X, b.Min.Y), m.PixOffset(last.X, last.Y)+4, len(m.Pix))
	case *image.NRGBA64:
		return fits(m.Stride, m.PixOffset(b.Min.X, b.Min.Y), m.PixOffset(last.X, last.Y)+8, len(m.Pix))
	case *image.Paletted:
		return fits(m.Stride, m.PixOffset(b.Min.X, b.Min.Y), m.PixOffset(last.X, last.Y)+1, len(m.Pix))
	case *image.YCbCr:
		return fits(m.YStride, m.YOffset(b.Min.X, b.Min.Y), m.YOffset(last.X, last.Y)+1, len(m.Y)) &&
			fits(m.CStride, m.COffset(b.Min.X, b.Min.Y), m.COffset(last.X, last.Y)+1, min(len(m.Cb), len(m.Cr)))
	}
	return true
}

package hash

import (
	"image"
	"image/color"
	"math"
)

// PDQThreshold is the largest PDQ Hamming distance (of 256 bits) at which
// two images are called the same picture. It is the threshold recommended by
// the PDQ reference documentation, and it held on copycat's corpus (see the
// package documentation for the measured distributions).
const PDQThreshold = 31

// PDQMinQuality is the PDQ quality below which the reference documentation
// calls a hash too featureless to trust: such images (flat, nearly blank)
// match each other at small distances without being copies.
const PDQMinQuality = 50

// PDQMaxZeros is the most coefficients that may be zero but for rounding
// (Fingerprint.PDQZeros) for a PDQ hash to be compared. Where they
// straddle the median their bits are coin flips: 32 of them flip about 16
// bits between two decoders, well inside PDQThreshold.
const PDQMaxZeros = 32

// Constants of Meta's PDQ reference implementation (pdq/cpp).
const (
	pdqMaxSide = 512 // its pdq-photo-hasher first squashes larger images to 512x512
	pdqMinSide = 5   // below this on either side the hash is all zeros, quality 0
	pdqSize    = 64  // the blurred image is decimated to 64x64
	pdqDCT     = 16  // and the hash thresholds DCT coefficients 1..16 x 1..16
)

// pdqRoundOff bounds the float32 rounding in a DCT coefficient that is
// zero in exact arithmetic: on images with structure along one axis only
// (pydicom's synthetic colour bars, decoded by copycat and by DCMTK) all
// 256 thresholded coefficients measured at most 1.3e-4, while on a corpus
// photo (video-001) the tenth percentile of |coefficient| is 19 and the
// least 0.019 (TestRoundOffZeros checks both kinds).
const pdqRoundOff = 0.01

// The reference's luma weights, as float32.
const (
	pdqLumaR float32 = 0.299
	pdqLumaG float32 = 0.587
	pdqLumaB float32 = 0.114
)

// pdqState is the scratch memory of one PDQ computation. The reference works
// in float32 throughout and the hash compares coefficients with their
// median, so every arithmetic step below is done in float32, in the
// reference's order, with products explicitly rounded (float32(a*b)) so the
// compiler may not fuse them into FMAs on platforms that have them. That is
// what makes the result bit-exact rather than merely close.
type pdqState struct {
	zeros      int                        // coefficients of the last hash that are zero but for rounding
	buf1, buf2 []float32                  // rows x cols luma, then blurred in place
	part       []float32                  // rows x 64: second row pass, decimated columns only
	b64        [pdqSize * pdqSize]float32 // blurred and decimated
	t          [pdqDCT * pdqSize]float32  // D·A
	b16        [pdqDCT * pdqDCT]float32   // D·A·Dᵀ
	sel        [pdqDCT * pdqDCT]float32   // scratch for the median selection
	d          [pdqDCT * pdqSize]float32  // DCT matrix, rows 1..16
	xs, ys     [pdqSize]int32             // decimation sample positions
	srcX, srcY []int32                    // squash sample positions
	srcC       []int32                    // chroma column of each sampled x

	// The reduced-image path (pdqreduced.go).
	ax, ay pdqAxis
	rowT   []float64 // 4 x (reduced width): the row pass, four output rows at a time
	cols   [4 * pdqSize]float64
	lumaF  []float32 // luma of a reduced image that is not *image.Gray
}

func newPDQState() *pdqState {
	s := new(pdqState)
	// As the reference: a float32 scale factor times a float64 cosine,
	// rounded to float32.
	scale := float64(float32(math.Sqrt(2.0 / pdqSize)))
	for i := range pdqDCT {
		for j := range pdqSize {
			s.d[i*pdqSize+j] = float32(scale * math.Cos((math.Pi/2/pdqSize)*float64(i+1)*float64(2*j+1)))
		}
	}
	return s
}

// pdq computes the PDQ hash of img as the reference's pdq-photo-hasher does
// for the same RGB (or grey) pixels, and its quality (0-100).
func (h *Hasher) pdq(img image.Image) (hash [32]byte, quality int) {
	if h.pdqs == nil {
		h.pdqs = newPDQState()
	}
	s := h.pdqs
	b := img.Bounds()
	w, ht := b.Dx(), b.Dy()
	if w <= 0 || ht <= 0 || !wellFormed(img) {
		return hash, 0
	}
	rows, cols := ht, w
	if w > pdqMaxSide || ht > pdqMaxSide {
		rows, cols = pdqMaxSide, pdqMaxSide
	}
	if rows < pdqMinSide || cols < pdqMinSide {
		return hash, 0
	}
	n := rows * cols
	if cap(s.buf1) < n {
		s.buf1 = make([]float32, n)
		s.buf2 = make([]float32, n)
	}
	if cap(s.part) < rows*pdqSize {
		s.part = make([]float32, rows*pdqSize)
	}
	buf1, buf2 := s.buf1[:n], s.buf2[:n]
	s.fillLuma(img, rows, cols, buf1)

	if rows == pdqSize && cols == pdqSize {
		// The reference takes a 64x64 input as already downsampled.
		copy(s.b64[:], buf1)
	} else {
		wr := jaroszWindow(cols)
		wc := jaroszWindow(rows)
		for i := range pdqSize {
			s.xs[i] = int32((2*i + 1) * cols / (2 * pdqSize))
			s.ys[i] = int32((2*i + 1) * rows / (2 * pdqSize))
		}
		// Two X,Y passes of box filters (a tent), then decimation. Only
		// 64x64 values of the second pass are ever read, so its row pass
		// divides only at the 64 sampled columns and its column pass runs
		// only on those columns. The running sums are still updated at
		// every pixel, in the reference's order, which is what fixes the
		// float32 rounding.
		for r := range rows {
			box1D(buf1[r*cols:(r+1)*cols], buf2[r*cols:(r+1)*cols], wr)
		}
		boxColumns(buf2, buf1, rows, cols, wc, nil, nil)
		part := s.part[:rows*pdqSize]
		for r := range rows {
			box1DAt(buf1[r*cols:(r+1)*cols], wr, s.xs[:], part[r*pdqSize:(r+1)*pdqSize])
		}
		boxColumns(part, nil, rows, pdqSize, wc, s.ys[:], s.b64[:])
	}

	return s.hashB64(true)
}

// hashB64 finishes a PDQ computation from the blurred and decimated 64x64
// image in s.b64: quality, DCT, median threshold. exact computes the DCT
// in the reference's order of float32 operations (bit-exact hashes); else
// it takes the folded DCT, half the work, for paths that are approximate
// anyway (reduced decodes).
func (s *pdqState) hashB64(exact bool) (hash [32]byte, quality int) {
	quality = pdqQuality(&s.b64)
	if exact {
		s.dct()
	} else {
		s.dctFolded()
	}
	// The reference's Torben median returns the lower median of 256
	// values, the 128th smallest: a selection finds the same value in a
	// third of the time of a sort.
	s.zeros = 0
	for _, c := range s.b16 {
		if c < pdqRoundOff && c > -pdqRoundOff {
			s.zeros++
		}
	}
	s.sel = s.b16
	med := kthSmallest(s.sel[:], len(s.sel)/2-1)
	// Bit k = 16i+j is bit j of 16-bit word i; the reference prints word 15
	// first, each word big-endian.
	for i := range pdqDCT {
		var word uint16
		for j := range pdqDCT {
			if s.b16[i*pdqDCT+j] > med {
				word |= 1 << j
			}
		}
		hash[2*(15-i)] = byte(word >> 8)
		hash[2*(15-i)+1] = byte(word)
	}
	return hash, quality
}

// jaroszWindow is the reference's box-filter window for shrinking n pixels
// to 64 in two passes: half of n/64, rounded up.
func jaroszWindow(n int) int {
	return (n + 2*pdqSize - 1) / (2 * pdqSize)
}

// fillLuma writes the float32 luma of img, squashed by nearest-neighbour
// sampling to rows x cols when that differs from its size, into dst. Grey
// images take the reference's grey path (luma = the grey value); everything
// else goes through 8-bit R,G,B. 16-bit samples keep their high byte, the
// 8-bit value a converter would produce. Alpha is ignored (the reference
// reads the colour channels only); premultiplied formats are read as stored.
func (s *pdqState) fillLuma(img image.Image, rows, cols int, dst []float32) {
	b := img.Bounds()
	w, ht := b.Dx(), b.Dy()
	// The reference resizes with CImg's nearest-neighbour mode, which
	// samples source x·w/cols for output x.
	if cap(s.srcX) < cols {
		s.srcX = make([]int32, cols)
	}
	if cap(s.srcY) < rows {
		s.srcY = make([]int32, rows)
	}
	sx, sy := s.srcX[:cols], s.srcY[:rows]
	for x := range sx {
		sx[x] = int32(x * w / cols)
	}
	for y := range sy {
		sy[y] = int32(y * ht / rows)
	}
	switch m := img.(type) {
	case *image.Gray:
		for i, y := range sy {
			p := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+int(y)):]
			d := dst[i*cols : (i+1)*cols]
			for j, x := range sx {
				d[j] = float32(p[x])
			}
		}
	case *image.Gray16:
		for i, y := range sy {
			p := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+int(y)):]
			d := dst[i*cols : (i+1)*cols]
			for j, x := range sx {
				d[j] = float32(p[2*x])
			}
		}
	case *image.RGBA:
		for i, y := range sy {
			p := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+int(y)):]
			d := dst[i*cols : (i+1)*cols]
			for j, x := range sx {
				q := p[4*x : 4*x+3 : 4*x+3]
				d[j] = pdqLuma(q[0], q[1], q[2])
			}
		}
	case *image.NRGBA:
		for i, y := range sy {
			p := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+int(y)):]
			d := dst[i*cols : (i+1)*cols]
			for j, x := range sx {
				q := p[4*x : 4*x+3 : 4*x+3]
				d[j] = pdqLuma(q[0], q[1], q[2])
			}
		}
	case *image.NRGBA64:
		for i, y := range sy {
			p := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+int(y)):]
			d := dst[i*cols : (i+1)*cols]
			for j, x := range sx {
				q := p[8*x : 8*x+5 : 8*x+5]
				d[j] = pdqLuma(q[0], q[2], q[4])
			}
		}
	case *image.YCbCr:
		// A JPEG decoder hands the reference RGB; convert the same way
		// Go's image/color does. Chroma positions as image.YCbCr.COffset.
		hx, vy := chromaShift(m.SubsampleRatio)
		if cap(s.srcC) < cols {
			s.srcC = make([]int32, cols)
		}
		cx := s.srcC[:cols]
		for j, x := range sx {
			cx[j] = int32((b.Min.X+int(x))>>hx - m.Rect.Min.X>>hx)
		}
		for i, y := range sy {
			yy := b.Min.Y + int(y)
			yrow := m.Y[m.YOffset(b.Min.X, yy):]
			crow := (yy>>vy - m.Rect.Min.Y>>vy) * m.CStride
			cb, cr := m.Cb[crow:], m.Cr[crow:]
			d := dst[i*cols : (i+1)*cols]
			for j, x := range sx {
				c := cx[j]
				r, g, bl := color.YCbCrToRGB(yrow[x], cb[c], cr[c])
				d[j] = pdqLuma(r, g, bl)
			}
		}
	case *image.Paletted:
		// The reference sees a palette PNG expanded to RGB.
		var lut [256]float32
		for i, c := range m.Palette {
			if i < len(lut) && c != nil {
				n := color.NRGBAModel.Convert(c).(color.NRGBA)
				lut[i] = pdqLuma(n.R, n.G, n.B)
			}
		}
		for i, y := range sy {
			p := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+int(y)):]
			d := dst[i*cols : (i+1)*cols]
			for j, x := range sx {
				d[j] = lut[p[x]]
			}
		}
	case image.RGBA64Image:
		// Other standard types, without At's per-pixel allocation. The
		// un-premultiplication is color.NRGBAModel's.
		grey := img.ColorModel() == color.GrayModel || img.ColorModel() == color.Gray16Model
		for i, y := range sy {
			d := dst[i*cols : (i+1)*cols]
			for j, x := range sx {
				c := m.RGBA64At(b.Min.X+int(x), b.Min.Y+int(y))
				if grey {
					d[j] = float32(uint8(c.R >> 8))
					continue
				}
				d[j] = pdqLuma(unpremul(c))
			}
		}
	default:
		// A grey PNG decodes to a grey CImg, which takes the grey path.
		grey := img.ColorModel() == color.GrayModel || img.ColorModel() == color.Gray16Model
		for i, y := range sy {
			d := dst[i*cols : (i+1)*cols]
			for j, x := range sx {
				c := img.At(b.Min.X+int(x), b.Min.Y+int(y))
				if grey {
					d[j] = float32(color.GrayModel.Convert(c).(color.Gray).Y)
					continue
				}
				n := color.NRGBAModel.Convert(c).(color.NRGBA)
				d[j] = pdqLuma(n.R, n.G, n.B)
			}
		}
	}
}

// unpremul converts a premultiplied 16-bit colour to 8-bit straight RGB
// exactly as color.NRGBAModel does.
func unpremul(c color.RGBA64) (r, g, b uint8) {
	R, G, B, A := uint32(c.R), uint32(c.G), uint32(c.B), uint32(c.A)
	switch A {
	case 0xffff:
	case 0:
		return 0, 0, 0
	default:
		R, G, B = R*0xffff/A, G*0xffff/A, B*0xffff/A
	}
	return uint8(R >> 8), uint8(G >> 8), uint8(B >> 8)
}

// chromaShift gives the horizontal and vertical chroma subsampling of a
// YCbCr image as shifts.
func chromaShift(r image.YCbCrSubsampleRatio) (hx, vy int) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return 1, 0
	case image.YCbCrSubsampleRatio420:
		return 1, 1
	case image.YCbCrSubsampleRatio440:
		return 0, 1
	case image.YCbCrSubsampleRatio411:
		return 2, 0
	case image.YCbCrSubsampleRatio410:
		return 2, 1
	}
	return 0, 0
}

func pdqLuma(r, g, b uint8) float32 {
	return float32(float32(pdqLumaR*float32(r))+float32(pdqLumaG*float32(g))) + float32(pdqLumaB*float32(b))
}

// box1D is the reference's running-sum box filter along one line: window w,
// centred (for even w, one more sample on the right), shrinking at the ends.
// The sum is updated in the reference's order, one add and one subtract per
// step, in float32.
func box1D(in, out []float32, w int) {
	n := len(in)
	half := (w + 2) / 2
	var sum float32
	cnt := 0
	ri, li, oi := 0, 0, 0
	for range half - 1 {
		sum += in[ri]
		cnt++
		ri++
	}
	for range w - half + 1 {
		sum += in[ri]
		cnt++
		out[oi] = sum / float32(cnt)
		ri++
		oi++
	}
	in, out = in[:n], out[:n]
	for range n - w {
		sum += in[ri]
		sum -= in[li]
		out[oi] = sum / float32(cnt)
		ri++
		li++
		oi++
	}
	for range half - 1 {
		sum -= in[li]
		cnt--
		out[oi] = sum / float32(cnt)
		li++
		oi++
	}
}

// box1DAt is box1D computing the outputs at positions at (ascending, may
// repeat) only, into out[i] for at[i]; the running sum is the same.
func box1DAt(in []float32, w int, at []int32, out []float32) {
	n := len(in)
	half := (w + 2) / 2
	var sum float32
	cnt := 0
	ri, li := 0, 0
	k := 0
	for range half - 1 {
		sum += in[ri]
		cnt++
		ri++
	}
	oi := 0
	for range w - half + 1 {
		sum += in[ri]
		cnt++
		for k < len(at) && int(at[k]) == oi {
			out[k] = sum / float32(cnt)
			k++
		}
		ri++
		oi++
	}
	for range n - w {
		sum += in[ri]
		sum -= in[li]
		for k < len(at) && int(at[k]) == oi {
			out[k] = sum / float32(cnt)
			k++
		}
		ri++
		li++
		oi++
	}
	for range half - 1 {
		sum -= in[li]
		cnt--
		for k < len(at) && int(at[k]) == oi {
			out[k] = sum / float32(cnt)
			k++
		}
		li++
		oi++
	}
}

// boxColumns runs box1D down every column of the rows x cols matrix in,
// sweeping row by row so memory is read in order (each column's own sum
// sees exactly the reference's sequence of operations). With at == nil it
// writes the whole result to out; otherwise it writes only the rows listed
// in at (ascending, may repeat), compactly, to dst.
func boxColumns(in, out []float32, rows, cols, w int, at []int32, dst []float32) {
	half := (w + 2) / 2
	var sums [pdqMaxSide]float32
	sum := sums[:cols]
	cnt := 0
	ri, li, oi, k := 0, 0, 0, 0
	write := func() {
		c := float32(cnt)
		if at == nil {
			divRow(out[oi*cols:(oi+1)*cols], sum, c)
		}
		for ; k < len(at) && int(at[k]) == oi; k++ {
			divRow(dst[k*cols:(k+1)*cols], sum, c)
		}
		oi++
	}
	for range half - 1 {
		addRowF(sum, in[ri*cols:(ri+1)*cols])
		cnt++
		ri++
	}
	for range w - half + 1 {
		addRowF(sum, in[ri*cols:(ri+1)*cols])
		cnt++
		write()
		ri++
	}
	for range rows - w {
		// The reference adds the new sample before subtracting the old one.
		addSubRowF(sum, in[ri*cols:(ri+1)*cols], in[li*cols:(li+1)*cols])
		write()
		ri++
		li++
	}
	for range half - 1 {
		subRowF(sum, in[li*cols:(li+1)*cols])
		cnt--
		write()
		li++
	}
}

func addRowF(sum, row []float32) {
	row = row[:len(sum)]
	for j, v := range row {
		sum[j] += v
	}
}

func subRowF(sum, row []float32) {
	row = row[:len(sum)]
	for j, v := range row {
		sum[j] -= v
	}
}

func addSubRowF(sum, add, sub []float32) {
	add, sub = add[:len(sum)], sub[:len(sum)]
	for j := range sum {
		// Two statements: the sum is rounded after the add, as in the
		// reference.
		s := sum[j] + add[j]
		sum[j] = s - sub[j]
	}
}

func divRow(dst, sum []float32, c float32) {
	dst = dst[:len(sum)]
	for j, s := range sum {
		dst[j] = s / c
	}
}

// pdqQuality is the reference's image-domain quality: the sum of the
// significant gradients of the 64x64 image, scaled to 0..100.
func pdqQuality(b *[pdqSize * pdqSize]float32) int {
	sum := 0
	grad := func(u, v float32) {
		d := int(float32(float32(u-v)*100) / 255)
		if d < 0 {
			d = -d
		}
		sum += d
	}
	for i := range pdqSize - 1 {
		for j := range pdqSize {
			grad(b[i*pdqSize+j], b[(i+1)*pdqSize+j])
		}
	}
	for i := range pdqSize {
		for j := range pdqSize - 1 {
			grad(b[i*pdqSize+j], b[i*pdqSize+j+1])
		}
	}
	return min(sum/90, 100)
}

// dct computes b16 = D·b64·Dᵀ with float32 accumulation in the reference's
// order (k ascending).
func (s *pdqState) dct() {
	// First product, row by row: t[i][j] += d[i][k]·b64[k][j] for k
	// ascending, the reference's order for every j, with the innermost loop
	// over contiguous memory (twice as fast as the column-wise loop).
	for i := range pdqDCT {
		t := (*[pdqSize]float32)(s.t[i*pdqSize:])
		*t = [pdqSize]float32{}
		for k, dk := range (*[pdqSize]float32)(s.d[i*pdqSize:]) {
			b := (*[pdqSize]float32)(s.b64[k*pdqSize:])
			for j, v := range b {
				t[j] += float32(dk * v)
			}
		}
	}
	for i := range pdqDCT {
		t := s.t[i*pdqSize : (i+1)*pdqSize]
		for j := range pdqDCT {
			d := s.d[j*pdqSize : (j+1)*pdqSize]
			var sum float32
			for k, tk := range t {
				sum += float32(tk * d[k])
			}
			s.b16[i*pdqDCT+j] = sum
		}
	}
}

// dctFolded computes b16 = D·b64·Dᵀ like dct but with half the
// multiplications, in float64: row k and row 63-k of the cosine matrix are
// equal for even frequencies and opposite for odd ones (D holds frequencies
// 1..16, so row i is odd for even i), so each product first folds its
// 64-long input into 32 sums or differences.
func (s *pdqState) dctFolded() {
	const half = pdqSize / 2
	var sum, dif [half][pdqSize]float64 // folded rows of b64
	for k := range half {
		a := (*[pdqSize]float32)(s.b64[k*pdqSize:])
		b := (*[pdqSize]float32)(s.b64[(pdqSize-1-k)*pdqSize:])
		for j := range pdqSize {
			x, y := float64(a[j]), float64(b[j])
			sum[k][j], dif[k][j] = x+y, x-y
		}
	}
	// The sums below run four terms per pass (first loop) or four
	// outputs side by side (second), each still added in index order: the
	// same floats as one term at a time, with fewer loads and stores and
	// shorter chains of dependent additions.
	var t [pdqDCT][pdqSize]float64
	for i := range pdqDCT {
		in := &dif // frequency i+1 odd
		if i%2 == 1 {
			in = &sum
		}
		row := &t[i]
		d := (*[half]float32)(s.d[i*pdqSize:])
		for k := 0; k < half; k += 4 {
			c0, c1, c2, c3 := float64(d[k]), float64(d[k+1]), float64(d[k+2]), float64(d[k+3])
			v0, v1, v2, v3 := &in[k], &in[k+1], &in[k+2], &in[k+3]
			for j := range row {
				row[j] = row[j] + c0*v0[j] + c1*v1[j] + c2*v2[j] + c3*v3[j]
			}
		}
	}
	for i := range pdqDCT {
		row := &t[i]
		var fs, fd [half]float64
		for k := range half {
			fs[k], fd[k] = row[k]+row[pdqSize-1-k], row[k]-row[pdqSize-1-k]
		}
		// Frequencies j, j+2, j+4, j+6 share a parity, so one folded input.
		for _, j := range [4]int{0, 1, 8, 9} {
			in := &fd
			if j%2 == 1 {
				in = &fs
			}
			d0 := (*[half]float32)(s.d[j*pdqSize:])
			d1 := (*[half]float32)(s.d[(j+2)*pdqSize:])
			d2 := (*[half]float32)(s.d[(j+4)*pdqSize:])
			d3 := (*[half]float32)(s.d[(j+6)*pdqSize:])
			var a0, a1, a2, a3 float64
			for k, v := range in {
				a0 += float64(d0[k]) * v
				a1 += float64(d1[k]) * v
				a2 += float64(d2[k]) * v
				a3 += float64(d3[k]) * v
			}
			b := s.b16[i*pdqDCT:]
			b[j], b[j+2], b[j+4], b[j+6] = float32(a0), float32(a1), float32(a2), float32(a3)
		}
	}
}

// kthSmallest returns the k-th smallest (from 0) of a, reordering a:
// Hoare's selection with a median-of-three pivot, linear on average. On
// return no element after index k is smaller than the result and none
// before it is greater.
func kthSmallest[T float32 | float64](a []T, k int) T {
	lo, hi := 0, len(a)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		// Order a[lo] <= a[mid] <= a[hi]: the median of three is the pivot
		// and the ends are sentinels for the scans below.
		if a[mid] < a[lo] {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if a[hi] < a[lo] {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if a[hi] < a[mid] {
			a[hi], a[mid] = a[mid], a[hi]
		}
		p := a[mid]
		i, j := lo, hi
		for i <= j {
			for a[i] < p {
				i++
			}
			for p < a[j] {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		// Now a[lo..j] <= p <= a[i..hi], and a[j+1..i-1] == p.
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return p
		}
	}
	return a[k]
}

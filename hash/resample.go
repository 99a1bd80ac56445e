package hash

// Sizes goimagehash resizes to before hashing.
const (
	pSize = 64 // pHash: 64x64, then the top-left 8x8 of its DCT
	aSize = 8  // aHash: 8x8
	dW    = 9  // dHash: 9 wide ...
	dH    = 8  // ... by 8 high
)

// tentAxis holds, for one axis, the weights that turn gridSize grid cells
// into out resized pixels the way goimagehash's resize does it.
//
// goimagehash calls nfnt/resize with its Bilinear filter, which is not a
// 2-tap interpolation when shrinking: the tent kernel is stretched by the
// scale factor s = n/out, so each output pixel is a tent-weighted average of
// the 2s source pixels around its centre, with taps beyond the border
// clamped to the edge pixel and weights quantised to 1/256. Those per-pixel
// weights are computed here exactly as nfnt computes them and then pushed
// onto the grid cells each pixel falls in. Where a grid cell is narrower
// than a pixel (n <= gridSize) the result is the same weighted sum nfnt
// computes, before its uint8 rounding; where a cell averages several pixels
// the tent is approximated by its cell-wise mean, which for n >> 64 only
// changes the weights by a fraction of a percent.
//
// The weights of output o are kept as its band of non-zero cells over the
// bordered grid (weights(o) gives the first cell and the weights).
type tentAxis struct {
	n, out int
	pixelWeights
	row [gridExt]float64 // scratch for one output's weights
}

func (t *tentAxis) set(n, out int) {
	if t.n == n && t.out == out {
		return
	}
	t.n, t.out = n, out
	s := float64(n) / float64(out)
	taps := 2 * max(int(ceil(s)), 1)
	ff := min(1/s, 1)
	t.first, t.off, t.wt = t.first[:0], t.off[:0], t.wt[:0]
	row := &t.row
	for o := range out {
		clear(row[:])
		interp := s*(float64(o)+0.5) - 0.5
		start := int(interp) - taps/2 + 1
		var tot float64
		k0, k1 := gridExt, 0 // the cells touched
		touch := func(k int, w float64) {
			row[k] += w
			k0, k1 = min(k0, k), max(k1, k+1)
		}
		for i := range taps {
			d := (interp - float64(start+i)) * ff
			if d < 0 {
				d = -d
			}
			if d > 1 {
				continue
			}
			c := float64(int16((1 - d) * 256)) // nfnt keeps 8 bits of weight
			if c == 0 {
				continue
			}
			tot += c
			x := start + i
			switch {
			case x < 0: // clamped to the first pixel: the border cell
				touch(0, c)
				continue
			case x >= n:
				touch(gridExt-1, c)
				continue
			}
			// Pixel x spans [x·gridSize, (x+1)·gridSize) and cell k spans
			// [k·n, (k+1)·n), in units of 1/gridSize pixel.
			lo, hi := x*gridSize, (x+1)*gridSize
			for k := lo / n; k < gridSize && k*n < hi; k++ {
				ov := min(hi, (k+1)*n) - max(lo, k*n)
				touch(1+k, c*float64(ov)/gridSize)
			}
		}
		if k0 >= k1 {
			k0, k1 = 0, 0
		}
		for k := k0; k < k1; k++ {
			row[k] /= tot
		}
		t.first = append(t.first, int32(k0))
		t.off = append(t.off, int32(len(t.wt)))
		t.wt = append(t.wt, row[k0:k1]...)
	}
	t.off = append(t.off, int32(len(t.wt)))
}

func ceil(x float64) float64 {
	i := float64(int64(x))
	if i < x {
		return i + 1
	}
	return i
}

// resampleRows makes rows o0..o1-1 of the t.out rows resampled from the
// gridExt rows of in, each cols values wide: dst[o-o0][c] =
// Σ_k w[o][k]·in[k][c].
func resampleRows(t *tentAxis, o0, o1 int, in []float64, cols int, dst []float64) {
	for o := o0; o < o1; o++ {
		k0, wt := t.weights(o)
		weightedRows(dst[(o-o0)*cols:(o-o0+1)*cols], wt, in[k0*cols:], cols)
	}
}

// resampleCols makes t.out columns from each of rows rows of gridExt
// values: dst[r][o] = Σ_k w[o][k]·in[r][k].
func resampleCols(t *tentAxis, in []float64, rows int, dst []float64) {
	sampleColumns(in, gridExt, rows, &t.pixelWeights, 0, t.out, dst)
}

// pixelWeights holds, for each output k of one axis, the weights of the
// pixels first[k] .. first[k]+len(weights(k))-1.
type pixelWeights struct {
	first []int32
	off   []int32
	wt    []float64
}

func (pw *pixelWeights) weights(k int) (first int, wt []float64) {
	return int(pw.first[k]), pw.wt[pw.off[k]:pw.off[k+1]]
}

// weightedRows sets dst to Σ_i wt[i]·row i of src, whose rows start every
// w values (dst takes the first len(dst) of each). Four rows go per pass
// over dst, each sum still in weight order: the same floats as adding one
// row at a time.
func weightedRows[T uint8 | float32 | float64](dst, wt []float64, src []T, w int) {
	if len(wt) == 0 {
		clear(dst)
		return
	}
	r0 := src[:len(dst)]
	c0 := wt[0]
	for x, v := range r0 {
		dst[x] = c0 * float64(v)
	}
	i := 1
	for ; i+4 <= len(wt); i += 4 {
		c0, c1, c2, c3 := wt[i], wt[i+1], wt[i+2], wt[i+3]
		r0, r1 := src[i*w:][:len(dst)], src[(i+1)*w:][:len(dst)]
		r2, r3 := src[(i+2)*w:][:len(dst)], src[(i+3)*w:][:len(dst)]
		for x := range dst {
			dst[x] = dst[x] + c0*float64(r0[x]) + c1*float64(r1[x]) + c2*float64(r2[x]) + c3*float64(r3[x])
		}
	}
	for ; i < len(wt); i++ {
		c, r := wt[i], src[i*w:][:len(dst)]
		for x, v := range r {
			dst[x] += c * float64(v)
		}
	}
}

// sampleColumns makes out columns from each of rows rows of w values
// whose first is column origin: dst[r][k] = Σ_i wt_k[i]·src[r][first_k+i-origin].
// Rows go four side by side, sharing the loads of the weights; each sum
// runs in weight order.
func sampleColumns(src []float64, w, rows int, xs *pixelWeights, origin, out int, dst []float64) {
	r := 0
	for ; r+4 <= rows; r += 4 {
		s0, s1, s2, s3 := src[r*w:(r+1)*w], src[(r+1)*w:(r+2)*w], src[(r+2)*w:(r+3)*w], src[(r+3)*w:(r+4)*w]
		d := dst[r*out : (r+4)*out]
		for k := range out {
			x0, wt := xs.weights(k)
			x0 -= origin
			s0, s1, s2, s3 := s0[x0:x0+len(wt)], s1[x0:x0+len(wt)], s2[x0:x0+len(wt)], s3[x0:x0+len(wt)]
			var a0, a1, a2, a3 float64
			for i, c := range wt {
				a0 += c * s0[i]
				a1 += c * s1[i]
				a2 += c * s2[i]
				a3 += c * s3[i]
			}
			d[k], d[out+k], d[2*out+k], d[3*out+k] = a0, a1, a2, a3
		}
	}
	for ; r < rows; r++ {
		s := src[r*w : (r+1)*w]
		for k := range out {
			x0, wt := xs.weights(k)
			x0 -= origin
			var a float64
			for i, c := range wt {
				a += c * s[x0+i]
			}
			dst[r*out+k] = a
		}
	}
}

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
type tentAxis struct {
	n, out int
	k0, k1 [pSize]int32            // band of non-zero cells per output
	w      [pSize][gridExt]float64 // normalised weights over the bordered grid, zero outside the band
}

func (t *tentAxis) set(n, out int) {
	if t.n == n && t.out == out {
		return
	}
	t.n, t.out = n, out
	s := float64(n) / float64(out)
	taps := 2 * max(int(ceil(s)), 1)
	ff := min(1/s, 1)
	for o := range out {
		row := &t.w[o]
		// Only the band of the previous weights can be non-zero.
		if t.k0[o] < t.k1[o] {
			clear(row[t.k0[o]:t.k1[o]])
		}
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
		t.k0[o], t.k1[o] = int32(k0), int32(k1)
	}
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
// Σ_k w[o][k]·in[k][c]. Four taps are added per pass over the row, in tap
// order, so every sum is the same float64 as adding one tap at a time,
// with a quarter of the loads and stores of dst.
func resampleRows(t *tentAxis, o0, o1 int, in []float64, cols int, dst []float64) {
	for o := o0; o < o1; o++ {
		d := dst[(o-o0)*cols : (o-o0+1)*cols]
		w := &t.w[o]
		k, k1 := int(t.k0[o]), int(t.k1[o])
		if k >= k1 {
			clear(d)
			continue
		}
		w0, r0 := w[k], in[k*cols:][:len(d)]
		for c, v := range r0 {
			d[c] = w0 * v
		}
		for k++; k+4 <= k1; k += 4 {
			w0, w1, w2, w3 := w[k], w[k+1], w[k+2], w[k+3]
			r0, r1 := in[k*cols:][:len(d)], in[(k+1)*cols:][:len(d)]
			r2, r3 := in[(k+2)*cols:][:len(d)], in[(k+3)*cols:][:len(d)]
			for c := range d {
				d[c] = d[c] + w0*r0[c] + w1*r1[c] + w2*r2[c] + w3*r3[c]
			}
		}
		for ; k < k1; k++ {
			wk, r := w[k], in[k*cols:][:len(d)]
			for c, v := range r {
				d[c] += wk * v
			}
		}
	}
}

// resampleCols makes t.out columns from each of rows rows of gridExt
// values: dst[r][o] = Σ_k w[o][k]·in[r][k]. Four rows are done side by
// side, sharing the loads of the weights; each sum still runs in k order.
func resampleCols(t *tentAxis, in []float64, rows int, dst []float64) {
	r := 0
	for ; r+4 <= rows; r += 4 {
		s0 := (*[gridExt]float64)(in[r*gridExt:])
		s1 := (*[gridExt]float64)(in[(r+1)*gridExt:])
		s2 := (*[gridExt]float64)(in[(r+2)*gridExt:])
		s3 := (*[gridExt]float64)(in[(r+3)*gridExt:])
		d := dst[r*t.out : (r+4)*t.out]
		for o := range t.out {
			w := &t.w[o]
			var a0, a1, a2, a3 float64
			for k := int(t.k0[o]); k < int(t.k1[o]); k++ {
				wk := w[k]
				a0 += wk * s0[k]
				a1 += wk * s1[k]
				a2 += wk * s2[k]
				a3 += wk * s3[k]
			}
			d[o], d[t.out+o], d[2*t.out+o], d[3*t.out+o] = a0, a1, a2, a3
		}
	}
	for ; r < rows; r++ {
		src := (*[gridExt]float64)(in[r*gridExt:])
		d := dst[r*t.out : (r+1)*t.out]
		for o := range d {
			w := &t.w[o]
			var s float64
			for k := int(t.k0[o]); k < int(t.k1[o]); k++ {
				s += w[k] * src[k]
			}
			d[o] = s
		}
	}
}

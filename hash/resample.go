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
		clear(row[:])
		interp := s*(float64(o)+0.5) - 0.5
		start := int(interp) - taps/2 + 1
		var tot float64
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
				row[0] += c
				continue
			case x >= n:
				row[gridExt-1] += c
				continue
			}
			// Pixel x spans [x·gridSize, (x+1)·gridSize) and cell k spans
			// [k·n, (k+1)·n), in units of 1/gridSize pixel.
			lo, hi := x*gridSize, (x+1)*gridSize
			for k := lo / n; k < gridSize && k*n < hi; k++ {
				ov := min(hi, (k+1)*n) - max(lo, k*n)
				row[1+k] += c * float64(ov) / gridSize
			}
		}
		k0, k1 := gridExt, 0
		for k, v := range row {
			if v != 0 {
				row[k] = v / tot
				k0 = min(k0, k)
				k1 = k + 1
			}
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

// resampleRows makes t.out rows from the gridExt rows of in, each cols
// values wide: dst[o][c] = Σ_k w[o][k]·in[k][c].
func resampleRows(t *tentAxis, in []float64, cols int, dst []float64) {
	for o := range t.out {
		d := dst[o*cols : (o+1)*cols]
		clear(d)
		w := &t.w[o]
		for k := int(t.k0[o]); k < int(t.k1[o]); k++ {
			wk := w[k]
			src := in[k*cols : (k+1)*cols]
			for c, v := range src {
				d[c] += wk * v
			}
		}
	}
}

// resampleCols makes t.out columns from each of rows rows of gridExt
// values: dst[r][o] = Σ_k w[o][k]·in[r][k].
func resampleCols(t *tentAxis, in []float64, rows int, dst []float64) {
	for r := range rows {
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

package hash

import (
	"math"
)

// Identity, Rot90, Rot180, Rot270, FlipH, FlipV, Transpose and Transverse
// are the 8 dihedral transformations, the index into Fingerprint.Dihedral.
// Each names what was done to the image: Dihedral[Rot90] is the PHash the
// image has after a 90° counter-clockwise rotation. The names and directions
// are those of github.com/disintegration/imaging (Rotate90, FlipH,
// Transpose, ...).
const (
	Identity   = iota // unchanged; Dihedral[Identity] == PHash
	Rot90             // rotated 90° counter-clockwise
	Rot180            // rotated 180°
	Rot270            // rotated 270° counter-clockwise (90° clockwise)
	FlipH             // mirrored left-right
	FlipV             // mirrored top-bottom
	Transpose         // mirrored across the main diagonal (x,y) -> (y,x)
	Transverse        // mirrored across the anti-diagonal
)

// dct8 is the 8-frequency slice of the unscaled 64-point DCT-II that
// goimagehash's pHash keeps: dct8[u][x] = cos(π(2x+1)u/128). Unscaled
// means X_u = Σ x_n cos(...), the convention of its Lee transform (DC = sum).
type dct8 [8][pSize]float64

func newDCT8() *dct8 {
	var c dct8
	for u := range 8 {
		for x := range pSize {
			c[u][x] = math.Cos(math.Pi * float64((2*x+1)*u) / (2 * pSize))
		}
	}
	return &c
}

// phashBlock computes the 8x8 low-frequency DCT coefficients of the 64x64
// resized luma in h.p64, row-major with the vertical frequency first (index
// 8v+u), goimagehash's order.
func (h *Hasher) phashBlock() {
	p := &h.p64
	// Quantise to 1/1024 of a grey level and remove the mean: flat areas
	// then contribute exact zeros to every AC coefficient, as they do in
	// goimagehash (which works on uint8 pixels), instead of rounding noise
	// that would pick random bits on featureless images.
	var sum float64
	for i, v := range p {
		v = math.Round(v*1024) / 1024
		p[i] = v
		sum += v
	}
	mean := sum / float64(len(p))
	c := h.cos
	var rows [pSize][8]float64 // rows[y][u]: horizontal DCT of row y
	// All eight sums of a row (and of a column below) run side by side,
	// each in index order as a loop of its own would add them: the same
	// floats, without one long chain of dependent additions per sum.
	for y := range pSize {
		r := (*[pSize]float64)(p[y*pSize:])
		var s0, s1, s2, s3, s4, s5, s6, s7 float64
		for x, v := range r {
			d := v - mean
			s0 += d
			s1 += d * c[1][x]
			s2 += d * c[2][x]
			s3 += d * c[3][x]
			s4 += d * c[4][x]
			s5 += d * c[5][x]
			s6 += d * c[6][x]
			s7 += d * c[7][x]
		}
		rows[y] = [8]float64{s0, s1, s2, s3, s4, s5, s6, s7}
	}
	for v := range 8 {
		cv := &c[v]
		var s0, s1, s2, s3, s4, s5, s6, s7 float64
		for y := range pSize {
			k, r := cv[y], &rows[y]
			s0 += k * r[0]
			s1 += k * r[1]
			s2 += k * r[2]
			s3 += k * r[3]
			s4 += k * r[4]
			s5 += k * r[5]
			s6 += k * r[6]
			s7 += k * r[7]
		}
		*(*[8]float64)(h.coef[8*v:]) = [8]float64{s0, s1, s2, s3, s4, s5, s6, s7}
	}
	h.coef[0] = sum // DC: the plain sum, exact
	// A coefficient that is zero in exact arithmetic (every horizontal
	// frequency of an image of horizontal bars) comes out as rounding
	// noise of about 1e-12; real content, even a 1/1024 grey level step,
	// gives 1e-3 or more. Noise compared with a median that is noise
	// itself would set bits at random, differently for two decoders of the
	// same picture: make those coefficients the zeros they are.
	for i, v := range h.coef {
		if v < phashRoundOff && v > -phashRoundOff {
			h.coef[i] = 0
		}
	}
}

// phashRoundOff bounds the float64 rounding of a pHash coefficient that is
// zero in exact arithmetic (see phashBlock).
const phashRoundOff = 1e-6

// dihedralCoef writes the coefficients the image would have after
// transformation k. A left-right mirror negates the odd horizontal
// frequencies, a top-bottom mirror the odd vertical ones, and a reflection
// across the diagonal swaps the two; the 8 transformations are the
// combinations.
func dihedralCoef(k int, c *[64]float64, out *[64]float64) {
	for v := range 8 {
		for u := range 8 {
			x := c[8*v+u]
			switch k {
			case Identity:
				out[8*v+u] = x
			case FlipH:
				out[8*v+u] = sign(u) * x
			case FlipV:
				out[8*v+u] = sign(v) * x
			case Rot180:
				out[8*v+u] = sign(u+v) * x
			case Transpose:
				out[8*u+v] = x
			case Rot90:
				out[8*u+v] = sign(u) * x
			case Rot270:
				out[8*u+v] = sign(v) * x
			case Transverse:
				out[8*u+v] = sign(u+v) * x
			}
		}
	}
}

func sign(n int) float64 {
	if n&1 == 1 {
		return -1
	}
	return 1
}

// median64 is the true median of c, the mean of its 32nd and 33rd
// smallest values, so that a featureful block gets 32 bits set
// (goimagehash's rule). Each dihedral variant whose values differ needs its
// own: negating coefficients changes the median. A selection finds the
// 32nd; the 33rd is then the least of the values after it.
func median64(c *[64]float64, scratch *[64]float64) float64 {
	*scratch = *c
	lo := kthSmallest(scratch[:], 31)
	hi := scratch[32]
	for _, v := range scratch[33:] {
		hi = min(hi, v)
	}
	return lo/2 + hi/2
}

// threshold64 sets bit 63-i when c[i] > med: goimagehash's layout.
func threshold64(c *[64]float64, med float64) uint64 {
	var hv uint64
	for i, v := range c {
		if v > med {
			hv |= 1 << (63 - i)
		}
	}
	return hv
}

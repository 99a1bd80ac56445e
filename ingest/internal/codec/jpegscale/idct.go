package jpegscale

// Reduced inverse DCTs.
//
// At scale s the decoder outputs n = 8/s samples per block side, each the
// mean of an s x s group of the full inverse DCT's samples. Averaging is
// linear, so the output is A F A^T + 128, where F is the dequantised
// coefficient block and A is the n x 8 matrix whose row k averages rows
// k*s .. k*s+s-1 of the 8-point IDCT basis b(x, u) = C(u)/2 cos((2x+1)u pi/16)
// (T.81 A.3.3). For s = 8 that is the DC term alone, for s = 4 only the
// odd frequencies and DC survive the averaging (the even ones sum to zero
// over half a block), and for s = 2 and 1 all of them count.
//
// Every A is symmetric, A[n-1-k][u] = (-1)^u A[k][u], so each 1-D pass
// splits into an even part e (u even) and an odd part o (u odd) with
// x[k] = e[k] + o[k] and x[n-1-k] = e[k] - o[k]; the full 8-point case
// splits the even part once more. The constants below are the entries of
// A times 2^16, rounded; TestIDCTMatrices recomputes them from the
// definition. Both passes keep all 32 fractional bits in int64, so the
// result is within a small fraction of a count of the exact mean before
// rounding. The DC coefficient is added exactly (DC/8 per sample) rather
// than through the rounded constants, so a flat block decodes to exactly
// round(DC/8)+128 at every scale.

const (
	cK0 = 23170 // 1/(2 sqrt 2): the DC basis, and the u=4 basis up to sign

	// Full 8-point IDCT (scale 1).
	c8a  = 30274 // cos(pi/8)/2
	c8b  = 12540 // cos(3pi/8)/2
	c8d1 = 32138 // cos(pi/16)/2
	c8d3 = 27246 // cos(3pi/16)/2
	c8d5 = 18205 // cos(5pi/16)/2
	c8d7 = 6393  // cos(7pi/16)/2

	// Pairs averaged (scale 2).
	c4e2  = 21407 // (cos(pi/8)+cos(3pi/8))/4
	c4e6  = 8867  // (cos(pi/8)-cos(3pi/8))/4
	c4o01 = 29692
	c4o03 = 10426
	c4o05 = 6967 // negated below
	c4o07 = 5906 // negated below
	c4o11 = 12299
	c4o13 = 25172 // negated below
	c4o15 = 16819
	c4o17 = 2446 // negated below

	// Quarters averaged (scale 4).
	c2o1 = 20995
	c2o3 = 7373 // negated below
	c2o5 = 4926
	c2o7 = 4176 // negated below

	idctShift = 32 // fractional bits after both passes
)

// idctBias is what every output sample gets added before the final shift:
// the exact DC contribution, the level shift of 128, and one half for
// rounding.
func idctBias(dc int32) int64 {
	return int64(dc)<<(idctShift-3) + 128<<idctShift + 1<<(idctShift-1)
}

// clampShift returns (v >> idctShift) clamped to 0..255.
func clampShift(v int64) byte {
	v >>= idctShift
	if uint64(v) > 255 {
		if v < 0 {
			return 0
		}
		return 255
	}
	return byte(v)
}

// dcPixel is the scale-8 output of a block: its mean, round(DC/8) + 128,
// clamped to 0..255.
func dcPixel(dc int32) byte {
	v := (int64(dc)+4)>>3 + 128
	if uint64(v) > 255 {
		if v < 0 {
			return 0
		}
		return 255
	}
	return byte(v)
}

// fill writes the flat n x n block v to dst.
func fill(dst []byte, stride, n int, v byte) {
	for y := range n {
		row := dst[y*stride : y*stride+n]
		for x := range row {
			row[x] = v
		}
	}
}

// idct8 writes the full 8x8 inverse DCT of blk (dequantised, natural
// order) to dst. rows is one more than the last coefficient row that may
// be non-zero.
func idct8(blk *[64]int32, rows int, dst []byte, stride int) {
	_ = dst[7*stride+7]
	bias := idctBias(blk[0])
	if rows <= 1 && blk[1]|blk[2]|blk[3]|blk[4]|blk[5]|blk[6]|blk[7] == 0 {
		fill(dst, stride, 8, clampShift(bias))
		return
	}
	var tmp [64]int64
	for v := range rows {
		f := blk[v*8 : v*8+8 : v*8+8]
		f0 := int64(f[0])
		if v == 0 {
			f0 = 0 // added exactly through bias
		}
		t := tmp[v*8 : v*8+8 : v*8+8]
		if f[1]|f[2]|f[3]|f[4]|f[5]|f[6]|f[7] == 0 {
			c := cK0 * f0
			t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7] = c, c, c, c, c, c, c, c
			continue
		}
		f1, f2, f3, f4 := int64(f[1]), int64(f[2]), int64(f[3]), int64(f[4])
		f5, f6, f7 := int64(f[5]), int64(f[6]), int64(f[7])
		ee0, ee1 := cK0*(f0+f4), cK0*(f0-f4)
		eo0, eo1 := c8a*f2+c8b*f6, c8b*f2-c8a*f6
		e0, e3 := ee0+eo0, ee0-eo0
		e1, e2 := ee1+eo1, ee1-eo1
		o0 := c8d1*f1 + c8d3*f3 + c8d5*f5 + c8d7*f7
		o1 := c8d3*f1 - c8d7*f3 - c8d1*f5 - c8d5*f7
		o2 := c8d5*f1 - c8d1*f3 + c8d7*f5 + c8d3*f7
		o3 := c8d7*f1 - c8d5*f3 + c8d3*f5 - c8d1*f7
		t[0], t[7] = e0+o0, e0-o0
		t[1], t[6] = e1+o1, e1-o1
		t[2], t[5] = e2+o2, e2-o2
		t[3], t[4] = e3+o3, e3-o3
	}
	for k := range 8 {
		if rows == 1 {
			v := clampShift(cK0*tmp[k] + bias)
			for y := range 8 {
				dst[y*stride+k] = v
			}
			continue
		}
		f0, f1, f2, f3 := tmp[k], tmp[8+k], tmp[16+k], tmp[24+k]
		f4, f5, f6, f7 := tmp[32+k], tmp[40+k], tmp[48+k], tmp[56+k]
		ee0, ee1 := cK0*(f0+f4), cK0*(f0-f4)
		eo0, eo1 := c8a*f2+c8b*f6, c8b*f2-c8a*f6
		e0, e3 := ee0+eo0+bias, ee0-eo0+bias
		e1, e2 := ee1+eo1+bias, ee1-eo1+bias
		o0 := c8d1*f1 + c8d3*f3 + c8d5*f5 + c8d7*f7
		o1 := c8d3*f1 - c8d7*f3 - c8d1*f5 - c8d5*f7
		o2 := c8d5*f1 - c8d1*f3 + c8d7*f5 + c8d3*f7
		o3 := c8d7*f1 - c8d5*f3 + c8d3*f5 - c8d1*f7
		dst[0*stride+k] = clampShift(e0 + o0)
		dst[7*stride+k] = clampShift(e0 - o0)
		dst[1*stride+k] = clampShift(e1 + o1)
		dst[6*stride+k] = clampShift(e1 - o1)
		dst[2*stride+k] = clampShift(e2 + o2)
		dst[5*stride+k] = clampShift(e2 - o2)
		dst[3*stride+k] = clampShift(e3 + o3)
		dst[4*stride+k] = clampShift(e3 - o3)
	}
}

// idct4 writes the 4x4 block of 2x2 means (scale 2) of blk's inverse DCT
// to dst.
func idct4(blk *[64]int32, rows int, dst []byte, stride int) {
	_ = dst[3*stride+3]
	bias := idctBias(blk[0])
	if rows <= 1 && blk[1]|blk[2]|blk[3]|blk[5]|blk[6]|blk[7] == 0 {
		// (blk[4] averages to zero over pairs.)
		fill(dst, stride, 4, clampShift(bias))
		return
	}
	var tmp [32]int64 // 8 rows of 4
	for v := range rows {
		f := blk[v*8 : v*8+8 : v*8+8]
		f0 := int64(f[0])
		if v == 0 {
			f0 = 0
		}
		t := tmp[v*4 : v*4+4 : v*4+4]
		if f[1]|f[2]|f[3]|f[5]|f[6]|f[7] == 0 {
			c := cK0 * f0
			t[0], t[1], t[2], t[3] = c, c, c, c
			continue
		}
		f1, f2, f3 := int64(f[1]), int64(f[2]), int64(f[3])
		f5, f6, f7 := int64(f[5]), int64(f[6]), int64(f[7])
		d := c4e2*f2 - c4e6*f6
		e0, e1 := cK0*f0+d, cK0*f0-d
		o0 := c4o01*f1 + c4o03*f3 - c4o05*f5 - c4o07*f7
		o1 := c4o11*f1 - c4o13*f3 + c4o15*f5 - c4o17*f7
		t[0], t[3] = e0+o0, e0-o0
		t[1], t[2] = e1+o1, e1-o1
	}
	for k := range 4 {
		if rows == 1 {
			v := clampShift(cK0*tmp[k] + bias)
			dst[k], dst[stride+k], dst[2*stride+k], dst[3*stride+k] = v, v, v, v
			continue
		}
		f0, f1, f2, f3 := tmp[k], tmp[4+k], tmp[8+k], tmp[12+k]
		f5, f6, f7 := tmp[20+k], tmp[24+k], tmp[28+k]
		d := c4e2*f2 - c4e6*f6
		e0, e1 := cK0*f0+d+bias, cK0*f0-d+bias
		o0 := c4o01*f1 + c4o03*f3 - c4o05*f5 - c4o07*f7
		o1 := c4o11*f1 - c4o13*f3 + c4o15*f5 - c4o17*f7
		dst[k] = clampShift(e0 + o0)
		dst[3*stride+k] = clampShift(e0 - o0)
		dst[stride+k] = clampShift(e1 + o1)
		dst[2*stride+k] = clampShift(e1 - o1)
	}
}

// idct2 writes the 2x2 block of 4x4 means (scale 4) of blk's inverse DCT
// to dst. Only DC and the odd frequencies 1, 3, 5, 7 in each direction
// contribute.
func idct2(blk *[64]int32, rows int, dst []byte, stride int) {
	_ = dst[stride+1]
	bias := idctBias(blk[0])
	// Rows 0 and 1, 3, 5, 7 (even rows average to zero), each reduced to
	// its DC-like part r (u = 0) and odd part o.
	var t0, t1 [8]int64
	for v := 0; v < rows; v++ {
		if v != 0 && v&1 == 0 {
			continue
		}
		f := blk[v*8 : v*8+8 : v*8+8]
		f0 := int64(f[0])
		if v == 0 {
			f0 = 0
		}
		e := cK0 * f0
		o := c2o1*int64(f[1]) - c2o3*int64(f[3]) + c2o5*int64(f[5]) - c2o7*int64(f[7])
		t0[v], t1[v] = e+o, e-o
	}
	col := func(t *[8]int64) (int64, int64) {
		e := cK0*t[0] + bias
		o := c2o1*t[1] - c2o3*t[3] + c2o5*t[5] - c2o7*t[7]
		return e + o, e - o
	}
	a, b := col(&t0)
	c, d := col(&t1)
	dst[0], dst[stride] = clampShift(a), clampShift(b)
	dst[1], dst[stride+1] = clampShift(c), clampShift(d)
}

package ljpeg

import (
	"fmt"
	"math"

	"github.com/copycat-dev/copycat/ingest/internal/codec/jpegbits"
)

// Sequential DCT decoding (T.81 annex F) with Huffman coding, for 8- and
// 12-bit samples.

// unzig maps a zigzag index to its natural (row-major) position in a block.
var unzig = [64]uint8{
	0, 1, 8, 16, 9, 2, 3, 10,
	17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34,
	27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36,
	29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46,
	53, 60, 61, 54, 47, 55, 62, 63,
}

// idctBasis[x][u] is C(u)/2 * cos((2x+1)u*pi/16), the 1-D inverse DCT
// basis of T.81 A.3.3. It is a read-only table computed once.
var idctBasis = func() (m [8][8]float64) {
	for x := range 8 {
		for u := range 8 {
			c := 0.5
			if u == 0 {
				c = 0.5 / math.Sqrt2
			}
			m[x][u] = c * math.Cos(float64((2*x+1)*u)*math.Pi/16)
		}
	}
	return m
}()

// decodeDCT decodes one sequential scan into the planes of its components.
func (d *decoder) decodeDCT(r *jpegbits.Reader, scs []scanComp) error {
	var mcusX, mcusY int
	if len(scs) == 1 {
		// Non-interleaved: the MCU is one block, and only the blocks that
		// hold samples of the component are coded (T.81 A.2.2).
		c := scs[0].c
		mcusX, mcusY = (c.cw+7)/8, (c.ch+7)/8
	} else {
		mcusX = (d.width + 8*d.hmax - 1) / (8 * d.hmax)
		mcusY = (d.height + 8*d.vmax - 1) / (8 * d.vmax)
	}
	maxDC, maxAC := uint(d.prec+3), uint(d.prec+2) // largest magnitude categories (T.81 F.1.2)
	var pred [maxComponents]int32
	lo, hi := int32(0), int32(1)<<d.prec-1
	shift := float64(int32(1) << (d.prec - 1))
	var blk [64]int32
	left, nrst := d.restart, 0
	for my := 0; my < mcusY; my++ {
		for mx := 0; mx < mcusX; mx++ {
			if d.restart > 0 {
				if left == 0 {
					if err := r.Restart(nrst); err != nil {
						return err
					}
					nrst++
					left = d.restart
					pred = [maxComponents]int32{}
				}
				left--
			}
			for i := range scs {
				sc := &scs[i]
				c := sc.c
				hs, vs := c.h, c.v
				if len(scs) == 1 {
					hs, vs = 1, 1
				}
				for v := 0; v < vs; v++ {
					for h := 0; h < hs; h++ {
						blk = [64]int32{}
						if r.N() < 32 {
							r.Fill()
						}
						t := uint(r.Decode(&sc.dc.Table))
						if t > maxDC {
							return fmt.Errorf("ljpeg: DC magnitude category %d exceeds %d", t, maxDC)
						}
						pred[i] += r.Receive(t)
						blk[0] = pred[i] * sc.q[0]
						for k := 1; k < 64; k++ {
							if r.N() < 32 {
								r.Fill()
							}
							rs := r.Decode(&sc.ac.Table)
							run, s := rs>>4, uint(rs&15)
							if s == 0 {
								if run != 15 {
									break // end of block
								}
								k += 15 // ZRL: sixteen zeros
								continue
							}
							k += run
							if k > 63 || s > maxAC {
								return fmt.Errorf("ljpeg: bad AC coefficient run %d size %d", run, s)
							}
							blk[unzig[k]] = r.Receive(s) * sc.q[k]
						}
						bx, by := (mx*hs+h)*8, (my*vs+v)*8
						idct(&blk, c.pix[by*c.pw+bx:], c.pw, shift, lo, hi)
					}
				}
			}
		}
		if err := r.Check(); err != nil {
			return err
		}
	}
	return nil
}

// idct computes the exact 2-D inverse DCT of the dequantised block in
// float64, adds the level shift, rounds, clamps to [lo, hi] and stores the
// 8x8 samples into dst with the given row stride. Accuracy matters more
// than speed here: DICOM's 12-bit frames are compared with other decoders'
// output, and an exact transform is within one count of any conforming one.
func idct(blk *[64]int32, dst []uint16, stride int, shift float64, lo, hi int32) {
	_ = dst[7*stride+7]
	acZero := true
	for _, v := range blk[1:] {
		if v != 0 {
			acZero = false
			break
		}
	}
	if acZero {
		// Only DC: the block is flat, DC/8 plus the level shift.
		v := clamp(float64(blk[0])/8+shift, lo, hi)
		for y := range 8 {
			row := dst[y*stride : y*stride+8]
			for x := range row {
				row[x] = v
			}
		}
		return
	}
	// Rows first: tmp[v][x] = sum over u of basis[x][u] * F[v][u].
	var tmp [64]float64
	for v := range 8 {
		in := blk[v*8 : v*8+8]
		if in[1]|in[2]|in[3]|in[4]|in[5]|in[6]|in[7] == 0 {
			dc := float64(in[0]) * idctBasis[0][0]
			for x := range 8 {
				tmp[v*8+x] = dc
			}
			continue
		}
		for x := range 8 {
			b := &idctBasis[x]
			tmp[v*8+x] = b[0]*float64(in[0]) + b[1]*float64(in[1]) + b[2]*float64(in[2]) +
				b[3]*float64(in[3]) + b[4]*float64(in[4]) + b[5]*float64(in[5]) +
				b[6]*float64(in[6]) + b[7]*float64(in[7])
		}
	}
	// Then columns: out[y][x] = sum over v of basis[y][v] * tmp[v][x].
	for y := range 8 {
		b := &idctBasis[y]
		row := dst[y*stride : y*stride+8]
		for x := range 8 {
			s := b[0]*tmp[x] + b[1]*tmp[8+x] + b[2]*tmp[16+x] + b[3]*tmp[24+x] +
				b[4]*tmp[32+x] + b[5]*tmp[40+x] + b[6]*tmp[48+x] + b[7]*tmp[56+x]
			row[x] = clamp(s+shift, lo, hi)
		}
	}
}

// clamp rounds v to the nearest integer and limits it to [lo, hi]. The
// limits are applied in floating point first, since converting an
// out-of-range float to an integer is implementation-defined in Go and
// corrupt coefficients can make v huge.
func clamp(v float64, lo, hi int32) uint16 {
	switch {
	case v <= float64(lo):
		return uint16(lo)
	case v >= float64(hi):
		return uint16(hi)
	}
	return uint16(int32(v + 0.5)) // v > lo >= 0, so truncation rounds
}

package graypng

import (
	"encoding/binary"
	"fmt"
)

// PNG filter types (the byte before each row).
const (
	ftNone = iota
	ftSub
	ftUp
	ftAverage
	ftPaeth
)

// unfilter reverses the PNG filters of h rows of stride bytes held in buf
// as inflated (each row preceded by its filter type), writing row y's
// pixels to buf[y*stride:], so that buf[:h*stride] ends up holding the
// image. bpp is the filter distance, 1 or 2 bytes.
func unfilter(buf []byte, h, stride, bpp int) error {
	zero := make([]byte, stride)
	prev := zero
	for y := range h {
		in := y * (stride + 1)
		ft := buf[in]
		// cur and out overlap, out starting y+1 bytes earlier: each
		// loop below reads cur[i] before it writes out[i], and never
		// reads cur[j] for j < i.
		cur := buf[in+1 : in+1+stride]
		out := buf[y*stride : (y+1)*stride]
		switch ft {
		case ftNone:
			copy(out, cur)
		case ftSub:
			unfilterSub(out, cur, bpp)
		case ftUp:
			unfilterUp(out, cur, prev)
		case ftAverage:
			unfilterAverage(out, cur, prev, bpp)
		case ftPaeth:
			if bpp == 1 {
				unfilterPaeth1(out, cur, prev)
			} else {
				unfilterPaeth2(out, cur, prev)
			}
		default:
			return fmt.Errorf("%w: bad filter type %d", ErrCorrupt, ft)
		}
		prev = out
	}
	return nil
}

// unfilterSub reverses the Sub filter.
func unfilterSub(out, cur []byte, bpp int) {
	if bpp == 1 {
		var a byte
		for i := range out {
			a += cur[i]
			out[i] = a
		}
		return
	}
	var a0, a1 byte
	for i := 0; i+1 < len(out); i += 2 {
		a0 += cur[i]
		a1 += cur[i+1]
		out[i], out[i+1] = a0, a1
	}
}

// unfilterUp reverses the Up filter, eight bytes at a time: bytewise
// addition in a uint64, the carries out of each byte's top bit dropped.
// (out may start before cur in the same buffer: each word of cur is read
// before the word of out that could overlap it is written.)
func unfilterUp(out, cur, prev []byte) {
	const lo7, hi1 = 0x7f7f7f7f7f7f7f7f, 0x8080808080808080
	n := len(cur)
	out, prev = out[:n], prev[:n]
	i := 0
	for ; i+8 <= n; i += 8 {
		x := binary.LittleEndian.Uint64(cur[i:])
		y := binary.LittleEndian.Uint64(prev[i:])
		binary.LittleEndian.PutUint64(out[i:], (x&lo7+y&lo7)^(x^y)&hi1)
	}
	for ; i < n; i++ {
		out[i] = cur[i] + prev[i]
	}
}

// unfilterAverage reverses the Average filter.
func unfilterAverage(out, cur, prev []byte, bpp int) {
	out = out[:len(cur)]
	prev = prev[:len(cur)]
	if bpp == 1 {
		a := 0
		for i, c := range cur {
			a = int(c) + (a+int(prev[i]))>>1
			out[i] = byte(a)
			a &= 0xff
		}
		return
	}
	a0, a1 := 0, 0
	for i := 0; i+1 < len(cur); i += 2 {
		a0 = (int(cur[i]) + (a0+int(prev[i]))>>1) & 0xff
		a1 = (int(cur[i+1]) + (a1+int(prev[i+1]))>>1) & 0xff
		out[i], out[i+1] = byte(a0), byte(a1)
	}
}

// paethPredict returns the Paeth predictor of a (left), b (up) and c (up
// left), given paethThresholds(b, c). Rather than the specification's
// three distances (from p = a+b-c to a, b and c), it compares a with two
// thresholds that depend on b and c only: the predictor is max(a, b) when
// a >= t2, else min(a, b) when a <= t1, else c (TestPaethPredict checks
// every triple, ties included). The thresholds are computed off the
// dependency chain through a, the byte just decoded, which leaves two
// compares and a few conditional moves per byte, and no branches: on
// noisy X-ray rows the choice is close to random, and a mispredicted
// branch costs more than the whole computation.
//
// The thresholds: with s = 3c-b, the specification picks max(a, b) when
// s-a <= min(a, b), that is a >= s/2 and a >= s-b, and min(a, b) when
// s-a >= max(a, b), that is a <= s/2 and a <= s-b.
func paethPredict(a, b, c, t1, t2 int) int {
	p := c
	if a <= t1 {
		p = min(a, b)
	}
	if a >= t2 {
		p = max(a, b)
	}
	return p
}

// paethThresholds returns paethPredict's thresholds for b and c.
func paethThresholds(b, c int) (t1, t2 int) {
	s := 3*c - b
	return min(s>>1, s-b), max((s+1)>>1, s-b)
}

// unfilterPaeth1 reverses the Paeth filter for 1-byte pixels: each byte
// depends on the one just decoded, so the loop is one dependency chain.
func unfilterPaeth1(out, cur, prev []byte) {
	out = out[:len(cur)]
	prev = prev[:len(cur)]
	a, c := 0, 0
	for i, x := range cur {
		b := int(prev[i])
		t1, t2 := paethThresholds(b, c)
		a = int(byte(paethPredict(a, b, c, t1, t2) + int(x)))
		out[i] = byte(a)
		c = b
	}
}

// unfilterPaeth2 reverses the Paeth filter for 2-byte pixels: two
// interleaved chains, which the CPU runs side by side, so the number of
// operations counts more than the chain's length, and paethPredict2 has
// fewer.
func unfilterPaeth2(out, cur, prev []byte) {
	out = out[:len(cur)]
	prev = prev[:len(cur)]
	a0, c0, a1, c1 := 0, 0, 0, 0
	for i := 0; i+1 < len(cur); i += 2 {
		b0, b1 := int(prev[i]), int(prev[i+1])
		a0 = int(byte(paethPredict2(a0, b0, c0) + int(cur[i])))
		a1 = int(byte(paethPredict2(a1, b1, c1) + int(cur[i+1])))
		out[i], out[i+1] = byte(a0), byte(a1)
		c0, c1 = b0, b1
	}
}

// paethPredict2 returns the Paeth predictor of a, b and c as paethPredict
// does, with the threshold t = 3c-b-a compared with min(a, b) and
// max(a, b) directly (the same conditions, in fewer operations but a
// longer chain through a).
func paethPredict2(a, b, c int) int {
	t := 3*c - b - a
	lo, hi := min(a, b), max(a, b)
	p := c
	if hi <= t {
		p = lo
	}
	if t <= lo {
		p = hi
	}
	return p
}

package ljpeg

import (
	"sort"
)

// A small lossless JPEG encoder, test-only. It exists to produce streams
// that the Debian tools cannot make (restart intervals, one scan per
// component, subsampled components, unusual precisions, the 16-bit SSSS=16
// case); its output is checked against GDCM by TestEncoderAgainstGDCM, so the
// decoder is never only checked against its own mirror image.

type encOptions struct {
	prec     int
	psv      int
	pt       uint
	restart  int      // restart interval in MCUs (0: none)
	separate bool     // one scan per component instead of one interleaved scan
	hv       [][2]int // sampling factors per component (nil: all 1x1)
}

// encodeLossless codes planes (one per component, each sized for its
// sampling factors: ceil(w*h/hmax) by ceil(h*v/vmax), unpadded) as a SOF3
// stream.
func encodeLossless(planes [][]uint16, w, h int, o encOptions) []byte {
	nc := len(planes)
	hv := o.hv
	if hv == nil {
		hv = make([][2]int, nc)
		for i := range hv {
			hv[i] = [2]int{1, 1}
		}
	}
	hmax, vmax := 1, 1
	for _, s := range hv {
		hmax, vmax = max(hmax, s[0]), max(vmax, s[1])
	}
	e := &encoder{}
	e.out = append(e.out, 0xFF, 0xD8)
	// SOF3
	sof := []byte{byte(o.prec), byte(h >> 8), byte(h), byte(w >> 8), byte(w), byte(nc)}
	for i := range planes {
		sof = append(sof, byte(i+1), byte(hv[i][0]<<4|hv[i][1]), 0)
	}
	e.segment(mSOF3, sof)
	if o.restart > 0 {
		e.segment(mDRI, []byte{byte(o.restart >> 8), byte(o.restart)})
	}
	// Component geometry, as the decoder computes it.
	type comp struct {
		pix    []uint16 // shifted by pt, padded by replication to pw x ph
		cw, ch int
		pw, ph int
		h, v   int
	}
	mcusX, mcusY := (w+hmax-1)/hmax, (h+vmax-1)/vmax
	comps := make([]comp, nc)
	for i := range comps {
		c := &comps[i]
		c.h, c.v = hv[i][0], hv[i][1]
		c.cw, c.ch = (w*c.h+hmax-1)/hmax, (h*c.v+vmax-1)/vmax
		c.pw, c.ph = c.cw, c.ch
		if nc > 1 && !o.separate {
			c.pw, c.ph = mcusX*c.h, mcusY*c.v
		}
		c.pix = make([]uint16, c.pw*c.ph)
		for y := 0; y < c.ph; y++ {
			for x := 0; x < c.pw; x++ {
				c.pix[y*c.pw+x] = planes[i][min(y, c.ch-1)*c.cw+min(x, c.cw-1)] >> o.pt
			}
		}
	}
	initPred := 1 << (uint(o.prec) - o.pt - 1)
	// diffs computes the differences of one scan in coding order.
	scanDiffs := func(idx []int) []int {
		var out []int
		mx, my := mcusX, mcusY
		inter := len(idx) > 1
		if !inter {
			mx, my = comps[idx[0]].cw, comps[idx[0]].ch
		}
		rows := 0
		if o.restart > 0 {
			rows = o.restart / mx
		}
		first := 0
		for j := 0; j < my; j++ {
			if rows > 0 && j > 0 && j%rows == 0 {
				first = j
				out = append(out, restartMark)
			}
			for i := 0; i < mx; i++ {
				for _, ci := range idx {
					c := &comps[ci]
					hs, vs := c.h, c.v
					if !inter {
						hs, vs = 1, 1
					}
					for v := 0; v < vs; v++ {
						for hh := 0; hh < hs; hh++ {
							y, x := j*vs+v, i*hs+hh
							p := c.pix
							k := y*c.pw + x
							var pred int
							switch {
							case y == first*vs && x == 0:
								pred = initPred
							case y == first*vs:
								pred = int(p[k-1])
							case x == 0:
								pred = int(p[k-c.pw])
							default:
								ra, rb, rc := int(p[k-1]), int(p[k-c.pw]), int(p[k-c.pw-1])
								pred = []int{0, ra, rb, rc, ra + rb - rc, ra + (rb-rc)>>1, rb + (ra-rc)>>1, (ra + rb) >> 1}[o.psv]
							}
							out = append(out, (int(p[k])-pred)&0xFFFF)
						}
					}
				}
			}
		}
		return out
	}
	var scans [][]int
	if o.separate {
		for i := range comps {
			scans = append(scans, []int{i})
		}
	} else {
		all := make([]int, nc)
		for i := range all {
			all[i] = i
		}
		scans = [][]int{all}
	}
	for _, idx := range scans {
		diffs := scanDiffs(idx)
		var freq [17]int
		for _, d := range diffs {
			if d != restartMark {
				freq[category(d)]++
			}
		}
		lengths := huffLengths(freq[:])
		codes, dht := canonical(lengths)
		e.segment(mDHT, append([]byte{0x00}, dht...))
		sos := []byte{byte(len(idx))}
		for _, ci := range idx {
			sos = append(sos, byte(ci+1), 0x00)
		}
		sos = append(sos, byte(o.psv), 0, byte(o.pt))
		e.segment(mSOS, sos)
		nrst := 0
		for _, d := range diffs {
			if d == restartMark {
				e.flush()
				e.out = append(e.out, 0xFF, byte(0xD0+nrst%8))
				nrst++
				continue
			}
			s := category(d)
			e.bits(codes[s].code, codes[s].len)
			if s > 0 && s < 16 {
				v := d
				if d >= 32768 {
					v = d - 65536 - 1 // negative difference: ones' complement
				}
				e.bits(uint32(v)&(1<<s-1), s)
			}
		}
		e.flush()
	}
	e.out = append(e.out, 0xFF, 0xD9)
	return e.out
}

const restartMark = -1

// category returns SSSS for a difference given modulo 2^16.
func category(d int) int {
	if d == 32768 {
		return 16
	}
	if d > 32768 {
		d = 65536 - d
	}
	n := 0
	for d > 0 {
		n++
		d >>= 1
	}
	return n
}

// huffLengths builds Huffman code lengths for the symbols with nonzero
// frequency, plus a phantom symbol so that no real code is all ones; it
// falls back to flat 5-bit codes if a length would exceed 16.
func huffLengths(freq []int) []int {
	type node struct {
		f    int
		syms []int
	}
	n := len(freq)
	lengths := make([]int, n+1) // last: phantom
	var nodes []node
	for s, f := range freq {
		if f > 0 {
			nodes = append(nodes, node{f, []int{s}})
		}
	}
	nodes = append(nodes, node{0, []int{n}})
	for len(nodes) > 1 {
		sort.SliceStable(nodes, func(i, j int) bool { return nodes[i].f < nodes[j].f })
		a, b := nodes[0], nodes[1]
		for _, s := range append(append([]int{}, a.syms...), b.syms...) {
			lengths[s]++
		}
		nodes = append([]node{{a.f + b.f, append(append([]int{}, a.syms...), b.syms...)}}, nodes[2:]...)
	}
	for _, l := range lengths {
		if l > 16 {
			for s := range lengths {
				lengths[s] = 0
				if s == n || freq[s] > 0 {
					lengths[s] = 5
				}
			}
			break
		}
	}
	return lengths
}

type hcode struct {
	code uint32
	len  int
}

// canonical assigns canonical codes (T.81 annex C) with the phantom symbol
// (the last one) ordered last within its length, so it takes the all-ones
// code, and returns the codes and the DHT payload without the phantom.
func canonical(lengths []int) ([]hcode, []byte) {
	phantom := len(lengths) - 1
	var counts [17]int
	var vals []int
	for l := 1; l <= 16; l++ {
		for s, sl := range lengths {
			if sl == l && s != phantom {
				vals = append(vals, s)
				counts[l]++
			}
		}
	}
	codes := make([]hcode, len(lengths))
	code, k := uint32(0), 0
	for l := 1; l <= 16; l++ {
		for i := 0; i < counts[l]; i++ {
			codes[vals[k]] = hcode{code, l}
			code++
			k++
		}
		if lengths[phantom] == l {
			code++ // the phantom's code: never emitted
		}
		code <<= 1
	}
	dht := make([]byte, 16, 16+len(vals))
	for l := 1; l <= 16; l++ {
		dht[l-1] = byte(counts[l])
	}
	for _, v := range vals {
		dht = append(dht, byte(v))
	}
	return codes, dht
}

type encoder struct {
	out  []byte
	acc  uint64
	nacc int
}

func (e *encoder) segment(m byte, payload []byte) {
	n := len(payload) + 2
	e.out = append(e.out, 0xFF, m, byte(n>>8), byte(n))
	e.out = append(e.out, payload...)
}

func (e *encoder) bits(v uint32, n int) {
	e.acc = e.acc<<uint(n) | uint64(v)
	e.nacc += n
	for e.nacc >= 8 {
		b := byte(e.acc >> uint(e.nacc-8))
		e.out = append(e.out, b)
		if b == 0xFF {
			e.out = append(e.out, 0)
		}
		e.nacc -= 8
	}
}

// flush pads the last byte with one bits (T.81 F.1.2.3).
func (e *encoder) flush() {
	if e.nacc > 0 {
		e.bits(1<<uint(8-e.nacc)-1, 8-e.nacc)
	}
	e.acc, e.nacc = 0, 0
}

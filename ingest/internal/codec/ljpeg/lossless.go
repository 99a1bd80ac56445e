package ljpeg

import "github.com/copycat-dev/copycat/ingest/internal/codec/jpegbits"

// Lossless JPEG (T.81 annex H): each sample is predicted from its
// reconstructed neighbours Ra (left), Rb (above) and Rc (above left), and the
// Huffman-coded difference is added modulo 2^16.

// diffLUTBits is the width of the table that decodes a whole lossless
// difference (code plus extra bits) with one lookup; 12 bits cover the
// typical code and magnitude of a CT or MR sample.
const diffLUTBits = 12

// buildDiffLUT fills t.dlut: for every code whose length plus magnitude
// bits fit in diffLUTBits, each possible bit pattern maps to
// difference<<5 | bits used. Zero marks patterns left to the slow path.
func (t *huffTable) buildDiffLUT() {
	t.dlut = new([1 << diffLUTBits]int32)
	for c := range t.Codes() {
		l, s := int(c.Len), int(c.Sym)
		total := l
		if s > 0 && s < 16 {
			total += s
		}
		if s > 16 || total > diffLUTBits {
			continue
		}
		code := int(c.Bits)
		for v := 0; v < 1<<(total-l); v++ {
			var d int32
			switch {
			case s == 16:
				d = 32768
			case s > 0:
				d = jpegbits.Extend(int32(v), uint(s))
			}
			lo := (code<<(total-l) | v) << (diffLUTBits - total)
			for j := 0; j < 1<<(diffLUTBits-total); j++ {
				t.dlut[lo+j] = d<<5 | int32(total)
			}
		}
	}
}

// diff reads one lossless difference (T.81 H.1.2.2): the magnitude category
// SSSS, then SSSS extra bits; category 16 means 32768 and has no extra bits.
// The whole-difference lookup is ljpeg's own, on top of the shared reader.
func diff(r *jpegbits.Reader, t *huffTable) int {
	if r.N() < 32 {
		r.Fill()
	}
	if e := t.dlut[r.Peek()>>(64-diffLUTBits)]; e != 0 {
		r.Skip(uint(e & 31))
		return int(e >> 5)
	}
	return diffSlow(r, t)
}

func diffSlow(r *jpegbits.Reader, t *huffTable) int {
	s := uint(r.Decode(&t.Table))
	switch {
	case s < 16:
		return int(r.Receive(s))
	case s == 16:
		return 32768
	}
	if r.Err() == nil {
		r.SetErr(jpegbits.ErrBadCode)
	}
	return 0
}

// predict computes predictor psv (1..7, T.81 table H.1) from the neighbours.
// The shifts are arithmetic, as in libjpeg and the standard's reference.
func predict(psv, ra, rb, rc int) int {
	switch psv {
	case 1:
		return ra
	case 2:
		return rb
	case 3:
		return rc
	case 4:
		return ra + rb - rc
	case 5:
		return ra + (rb-rc)>>1
	case 6:
		return rb + (ra-rc)>>1
	default:
		return (ra + rb) >> 1
	}
}

// decodeLossless decodes one lossless scan with predictor psv and point
// transform pt into the planes of its components.
func (d *decoder) decodeLossless(r *jpegbits.Reader, scs []scanComp, psv int, pt uint) error {
	initPred := 1 << (uint(d.prec) - pt - 1)
	for i := range scs {
		if scs[i].dc.dlut == nil {
			scs[i].dc.buildDiffLUT()
		}
	}
	if len(scs) == 1 {
		return d.losslessSingle(r, &scs[0], psv, initPred)
	}
	mcusX := (d.width + d.hmax - 1) / d.hmax
	mcusY := (d.height + d.vmax - 1) / d.vmax
	restartRows, err := d.restartRows(mcusX)
	if err != nil {
		return err
	}
	firstMCURow, nrst := 0, 0
	for my := 0; my < mcusY; my++ {
		if restartRows > 0 && my > 0 && my%restartRows == 0 {
			if err := r.Restart(nrst); err != nil {
				return err
			}
			nrst++
			firstMCURow = my
		}
		for mx := 0; mx < mcusX; mx++ {
			for i := range scs {
				sc := &scs[i]
				c := sc.c
				p, stride := c.pix, c.pw
				firstY := firstMCURow * c.v
				for v := 0; v < c.v; v++ {
					y := my*c.v + v
					for h := 0; h < c.h; h++ {
						x := mx*c.h + h
						j := y*stride + x
						var pred int
						switch {
						case y == firstY && x == 0:
							pred = initPred
						case y == firstY:
							pred = int(p[j-1])
						case x == 0:
							pred = int(p[j-stride])
						default:
							pred = predict(psv, int(p[j-1]), int(p[j-stride]), int(p[j-stride-1]))
						}
						p[j] = uint16(pred + diff(r, sc.dc))
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

// restartRows converts the restart interval into MCU rows. T.81 H.2 requires
// a lossless restart interval to be a whole number of MCU rows, so that
// every interval starts a fresh first line.
func (d *decoder) restartRows(mcusX int) (int, error) {
	if d.restart == 0 {
		return 0, nil
	}
	if d.restart%mcusX != 0 {
		return 0, unsupported("lossless restart interval %d is not a multiple of the %d MCUs in a row", d.restart, mcusX)
	}
	return d.restart / mcusX, nil
}

// losslessSingle decodes a one-component (non-interleaved) scan, whose MCU
// is a single sample, row by row with the predictor chosen once per row:
// this is the path almost every DICOM lossless frame takes.
func (d *decoder) losslessSingle(r *jpegbits.Reader, sc *scanComp, psv, initPred int) error {
	c, t := sc.c, sc.dc
	restartRows, err := d.restartRows(c.cw)
	if err != nil {
		return err
	}
	firstY, nrst := 0, 0
	w := c.cw
	for y := 0; y < c.ch; y++ {
		if restartRows > 0 && y > 0 && y%restartRows == 0 {
			if err := r.Restart(nrst); err != nil {
				return err
			}
			nrst++
			firstY = y
		}
		row := c.pix[y*c.pw : y*c.pw+w]
		if y == firstY {
			pred := initPred
			for x := range row {
				v := uint16(pred + diff(r, t))
				row[x] = v
				pred = int(v)
			}
		} else {
			up := c.pix[(y-1)*c.pw : (y-1)*c.pw+w]
			row[0] = uint16(int(up[0]) + diff(r, t))
			switch psv {
			case 1:
				for x := 1; x < w; x++ {
					row[x] = uint16(int(row[x-1]) + diff(r, t))
				}
			case 2:
				for x := 1; x < w; x++ {
					row[x] = uint16(int(up[x]) + diff(r, t))
				}
			default:
				for x := 1; x < w; x++ {
					pred := predict(psv, int(row[x-1]), int(up[x]), int(up[x-1]))
					row[x] = uint16(pred + diff(r, t))
				}
			}
		}
		if err := r.Check(); err != nil {
			return err
		}
	}
	return nil
}

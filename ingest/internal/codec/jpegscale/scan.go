package jpegscale

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/copycat-dev/copycat/ingest/internal/codec/jpegbits"
)

var (
	errBadDC  = errors.New("jpegscale: DC magnitude category exceeds 11")
	errBadRun = errors.New("jpegscale: AC coefficient run past the end of the block or band")
)

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

// prefixRows[k] is one more than the largest row any of the zigzag
// positions 0..k falls in: the rows an inverse DCT must visit when k is
// the last non-zero coefficient.
var prefixRows = func() (t [64]uint8) {
	m := uint8(0)
	for k := range t {
		m = max(m, unzig[k]/8+1)
		t[k] = m
	}
	return t
}()

// What a scan does with a component's blocks.
const (
	modeSkip   = iota // entropy-decode and drop (chroma without a digest)
	modeDC            // keep the DC only: luma at scale 8
	modeOut           // dequantise and inverse-transform: luma at scales 4, 2, 1
	modeDigest        // keep the quantised coefficients for the digest (and the output, for luma)
)

// scanComp is one component of a scan with the tables it uses.
type scanComp struct {
	ci     int
	c      *component
	dc, ac *huffTable
	mode   int
}

// readScan parses an SOS segment and decodes (or skips) the scan that
// follows it. stop reports that nothing after it is needed.
func (d *Decoder) readScan(seg []byte) (stop bool, err error) {
	if d.sof == 0 {
		return false, errors.New("jpegscale: scan before frame header")
	}
	if !d.started {
		if err := d.start(); err != nil {
			return false, err
		}
	}
	if len(seg) < 1 {
		return false, errors.New("jpegscale: empty SOS segment")
	}
	if d.scans++; d.scans > maxScans {
		return false, fmt.Errorf("jpegscale: more than %d scans", maxScans)
	}
	ns := int(seg[0])
	if ns < 1 || ns > d.nc || len(seg) != 4+2*ns {
		return false, fmt.Errorf("jpegscale: SOS with %d components and length %d", ns, len(seg))
	}
	ss, se := int(seg[1+2*ns]), int(seg[2+2*ns])
	ah, al := int(seg[3+2*ns]>>4), int(seg[3+2*ns]&15)
	dcScan, acScan := true, true // which tables the scan needs
	if d.progressive {
		switch {
		case ss == 0 && se != 0, ss > se, se > 63:
			return false, fmt.Errorf("jpegscale: progressive scan band %d..%d", ss, se)
		case ss > 0 && ns != 1:
			return false, errors.New("jpegscale: progressive AC scan with more than one component")
		case al > 13 || (ah != 0 && ah != al+1):
			return false, fmt.Errorf("jpegscale: successive approximation Ah=%d Al=%d", ah, al)
		}
		dcScan, acScan = ss == 0 && ah == 0, ss > 0
	}
	var scs [maxComponents]scanComp
	units := 0
	for i := range ns {
		id, td, ta := seg[1+2*i], int(seg[2+2*i]>>4), int(seg[2+2*i]&15)
		ci := -1
		for j := range d.nc {
			if d.comp[j].id == id {
				ci = j
			}
		}
		if ci < 0 {
			return false, fmt.Errorf("jpegscale: scan names unknown component %d", id)
		}
		c := &d.comp[ci]
		for j := range i {
			if scs[j].ci == ci {
				return false, fmt.Errorf("jpegscale: component %d twice in one scan", id)
			}
		}
		if !d.progressive && c.scanned {
			return false, fmt.Errorf("jpegscale: component %d coded twice", id)
		}
		if d.progressive && ss > 0 && !c.dcFirst {
			return false, fmt.Errorf("jpegscale: AC scan of component %d before its DC scan", id)
		}
		if d.progressive && ss == 0 && ah > 0 && !c.dcFirst {
			return false, fmt.Errorf("jpegscale: DC refinement of component %d before its first DC scan", id)
		}
		if td > 3 || ta > 3 {
			return false, fmt.Errorf("jpegscale: component %d table selectors %d/%d out of range", id, td, ta)
		}
		if dcScan && !d.dc[td].defined {
			return false, fmt.Errorf("jpegscale: component %d uses undefined DC table %d", id, td)
		}
		if acScan && !d.ac[ta].defined {
			return false, fmt.Errorf("jpegscale: component %d uses undefined AC table %d", id, ta)
		}
		if !c.latched {
			// The table in force at a component's first scan is the one
			// its coefficients were quantised with (libjpeg latches it
			// the same way).
			if !d.qdef[c.tq] {
				return false, fmt.Errorf("jpegscale: component %d uses undefined quantisation table %d", id, c.tq)
			}
			c.q, c.latched = d.quant[c.tq], true
		}
		sc := scanComp{ci: ci, c: c, dc: &d.dc[td], ac: &d.ac[ta]}
		switch {
		case d.digest:
			sc.mode = modeDigest
		case ci == 0 && d.scale == 8:
			sc.mode = modeDC
		case ci == 0:
			sc.mode = modeOut
		}
		scs[i] = sc
		units += c.h * c.v
	}
	if ns > 1 && units > 10 {
		return false, fmt.Errorf("jpegscale: MCU of %d data units exceeds 10", units)
	}
	if d.progressive {
		needed := false
		for _, sc := range scs[:ns] {
			if ss == 0 {
				needed = needed || sc.c.stride > 0
			} else {
				needed = needed || sc.c.stride == 64
			}
		}
		if needed {
			for _, sc := range scs[:ns] {
				d.visits += int64(sc.c.bw*sc.c.bh) * int64(se-ss+1)
			}
			if d.visits > maxVisits*d.blocks {
				return false, fmt.Errorf("jpegscale: progressive scans visit more than %d coefficients per block", maxVisits)
			}
			err = d.decodeProgressive(scs[:ns], ss, se, ah, al)
		} else {
			d.skipScan()
		}
	} else {
		needed := false
		for _, sc := range scs[:ns] {
			needed = needed || sc.mode != modeSkip
		}
		if needed {
			err = d.decodeSequential(scs[:ns])
		} else {
			d.skipScan()
		}
	}
	if err != nil {
		return false, err
	}
	for _, sc := range scs[:ns] {
		sc.c.scanned = true
		if ss == 0 {
			sc.c.dcFirst = true
		}
	}
	if d.progressive {
		return false, nil
	}
	if !d.digest {
		return d.comp[0].scanned, nil
	}
	for i := range d.nc {
		if !d.comp[i].scanned {
			return false, nil
		}
	}
	return true, nil
}

// skipScan moves d.pos to the marker that ends the current scan without
// decoding it: the next marker other than RSTn.
func (d *Decoder) skipScan() {
	p := d.pos
	for {
		i := bytes.IndexByte(d.data[p:], 0xFF)
		if i < 0 || p+i+1 >= len(d.data) {
			d.pos = len(d.data)
			return
		}
		p += i
		if m := d.data[p+1]; m == 0 || m == 0xFF || (m >= mRST0 && m <= mRST7) {
			p++
			continue
		}
		d.pos = p
		return
	}
}

// mcuGrid returns the MCU count of a scan: an interleaved scan covers the
// MCU grid; a one-component scan covers that component's blocks, one per
// MCU (T.81 A.2.2).
func (d *Decoder) mcuGrid(scs []scanComp) (x, y int, single bool) {
	if len(scs) == 1 {
		return scs[0].c.bw, scs[0].c.bh, true
	}
	return d.mcusX, d.mcusY, false
}

// decodeSequential decodes one scan of a sequential frame.
func (d *Decoder) decodeSequential(scs []scanComp) error {
	br := &d.br
	br.Reset(d.data, d.pos, endSlack)
	mcusX, mcusY, single := d.mcuGrid(scs)
	var pred [maxComponents]int32
	var blk, zz [64]int32
	left, nrst := d.restart, 0
	for my := range mcusY {
		for mx := range mcusX {
			if d.restart > 0 {
				if left == 0 {
					if err := br.Restart(nrst); err != nil {
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
				if single {
					hs, vs = 1, 1
				}
				for iy := range vs {
					by := my*vs + iy
					for ix := range hs {
						bx := mx*hs + ix
						pred[i] += d.decodeDC(sc.dc)
						inGrid := bx < c.bw && by < c.bh
						switch sc.mode {
						case modeSkip:
							d.skipAC(sc.ac)
						case modeDC:
							d.skipAC(sc.ac)
							if inGrid {
								d.out.Pix[by*d.out.Stride+bx] = dcPixel(pred[i] * c.q[0])
							}
						case modeOut:
							blk[0] = pred[i] * c.q[0]
							last := d.decodeAC(sc.ac, &c.q, &blk)
							if inGrid {
								d.emit(bx, by, &blk, last)
							}
							blk = [64]int32{}
						case modeDigest:
							zz[0] = pred[i]
							last := d.decodeACZigzag(sc.ac, &zz)
							if inGrid {
								if single {
									d.ser[sc.ci] = appendBlock(d.ser[sc.ci], &zz, last)
								} else {
									d.rowSer[sc.ci][iy] = appendBlock(d.rowSer[sc.ci][iy], &zz, last)
								}
								if sc.ci == 0 {
									d.emitZigzag(bx, by, &zz, last, &c.q)
								}
							}
							clear(zz[:last+1])
						}
					}
				}
			}
		}
		if err := br.Check(); err != nil {
			return err
		}
		if d.digest && !single {
			// Blocks of an interleaved scan arrive MCU by MCU; the digest
			// wants them row by row.
			for i := range scs {
				ci, c := scs[i].ci, scs[i].c
				for iy := range c.v {
					if my*c.v+iy < c.bh {
						d.ser[ci] = append(d.ser[ci], d.rowSer[ci][iy]...)
					}
					d.rowSer[ci][iy] = d.rowSer[ci][iy][:0]
				}
			}
		}
	}
	d.pos = br.Pos()
	return nil
}

// decodeDC reads one DC difference.
func (d *Decoder) decodeDC(t *huffTable) int32 {
	br := &d.br
	if br.N() < 32 {
		br.Fill()
	}
	if e := t.fast[br.Peek()>>(64-lutBits)]; e != 0 {
		br.Skip(uint(e & fastLenMask))
		return e >> 16
	}
	s, l := t.Lookup(br.Peek())
	if l == 0 || s > 11 {
		if br.Err() == nil {
			if l == 0 {
				br.SetErr(jpegbits.ErrBadCode)
			} else {
				br.SetErr(errBadDC)
			}
		}
		return 0
	}
	br.Skip(l)
	// At least 32 bits were buffered before the code, so the s <= 11
	// magnitude bits are too.
	return br.Receive(uint(s))
}

// skipAC reads past the AC coefficients of a sequential block.
func (d *Decoder) skipAC(t *huffTable) {
	br := &d.br
	acc, n := br.Acc()
	for k := 1; k < 64; {
		if n < 32 {
			acc, n = br.Refill(acc, n)
		}
		if e := t.fast[acc>>(64-lutBits)]; e != 0 {
			l := uint(e & fastLenMask)
			acc <<= l
			n -= l
			r := int(e>>8) & 0xFF
			if r == fastEOB {
				break
			}
			k += r + 1
			continue
		}
		s, l := t.Lookup(acc)
		if l == 0 {
			br.SetErr(jpegbits.ErrBadCode)
			break
		}
		acc <<= l
		n -= l
		r, size := s>>4, uint(s&15)
		if size == 0 {
			if r != 15 {
				break // EOB
			}
			k += 16
			continue
		}
		acc <<= size
		n -= size
		k += r
		if k > 63 {
			br.SetErr(errBadRun)
			break
		}
		k++
	}
	br.SetAcc(acc, n)
}

// decodeAC reads the AC coefficients of a sequential block into blk,
// dequantised and in natural order, and returns the zigzag index of the
// last non-zero one (0 if none).
func (d *Decoder) decodeAC(t *huffTable, q *[64]int32, blk *[64]int32) int {
	br := &d.br
	acc, n := br.Acc()
	last := 0
	for k := 1; k < 64; {
		if n < 32 {
			acc, n = br.Refill(acc, n)
		}
		var v int32
		if e := t.fast[acc>>(64-lutBits)]; e != 0 {
			l := uint(e & fastLenMask)
			acc <<= l
			n -= l
			r := int(e>>8) & 0xFF
			if r == fastEOB {
				break
			}
			k += r
			v = e >> 16
		} else {
			s, l := t.Lookup(acc)
			if l == 0 {
				br.SetErr(jpegbits.ErrBadCode)
				break
			}
			acc <<= l
			n -= l
			r, size := s>>4, uint(s&15)
			if size == 0 {
				if r != 15 {
					break // EOB
				}
				k += 16
				continue
			}
			k += r
			v = jpegbits.Extend(int32(acc>>(64-size)), size)
			acc <<= size
			n -= size
		}
		if k > 63 {
			br.SetErr(errBadRun)
			break
		}
		blk[unzig[k&63]&63] = v * q[k&63]
		last = k
		k++
	}
	br.SetAcc(acc, n)
	return last
}

// decodeACZigzag reads the AC coefficients of a sequential block into zz,
// quantised and in zigzag order, and returns the index of the last
// non-zero one (0 if none).
func (d *Decoder) decodeACZigzag(t *huffTable, zz *[64]int32) int {
	br := &d.br
	acc, n := br.Acc()
	last := 0
	for k := 1; k < 64; {
		if n < 32 {
			acc, n = br.Refill(acc, n)
		}
		var v int32
		if e := t.fast[acc>>(64-lutBits)]; e != 0 {
			l := uint(e & fastLenMask)
			acc <<= l
			n -= l
			r := int(e>>8) & 0xFF
			if r == fastEOB {
				break
			}
			k += r
			v = e >> 16
		} else {
			s, l := t.Lookup(acc)
			if l == 0 {
				br.SetErr(jpegbits.ErrBadCode)
				break
			}
			acc <<= l
			n -= l
			r, size := s>>4, uint(s&15)
			if size == 0 {
				if r != 15 {
					break // EOB
				}
				k += 16
				continue
			}
			k += r
			v = jpegbits.Extend(int32(acc>>(64-size)), size)
			acc <<= size
			n -= size
		}
		if k > 63 {
			br.SetErr(errBadRun)
			break
		}
		zz[k&63] = v
		last = k
		k++
	}
	br.SetAcc(acc, n)
	return last
}

// emit writes the output of one luma block, given dequantised in natural
// order with last its last non-zero zigzag index, cropping edge blocks.
func (d *Decoder) emit(bx, by int, blk *[64]int32, last int) {
	out := d.out
	if d.n == 1 {
		out.Pix[by*out.Stride+bx] = dcPixel(blk[0])
		return
	}
	n := d.n
	rows := int(prefixRows[last&63])
	ox, oy := bx*n, by*n
	w, h := out.Rect.Dx(), out.Rect.Dy()
	if ox+n <= w && oy+n <= h {
		idctN(n, blk, rows, out.Pix[oy*out.Stride+ox:], out.Stride)
		return
	}
	idctN(n, blk, rows, d.edge[:], 8)
	for y := 0; y < n && oy+y < h; y++ {
		copy(out.Pix[(oy+y)*out.Stride+ox:(oy+y)*out.Stride+w], d.edge[y*8:y*8+n])
	}
}

// emitZigzag is emit for a quantised zigzag-order block.
func (d *Decoder) emitZigzag(bx, by int, zz *[64]int32, last int, q *[64]int32) {
	var blk [64]int32
	for k := 0; k <= last && k < 64; k++ {
		blk[unzig[k]] = zz[k] * q[k]
	}
	d.emit(bx, by, &blk, last)
}

func idctN(n int, blk *[64]int32, rows int, dst []byte, stride int) {
	switch n {
	case 8:
		idct8(blk, rows, dst, stride)
	case 4:
		idct4(blk, rows, dst, stride)
	default:
		idct2(blk, rows, dst, stride)
	}
}

// decodeProgressive decodes one scan of a progressive frame into the
// coefficient store.
func (d *Decoder) decodeProgressive(scs []scanComp, ss, se, ah, al int) error {
	br := &d.br
	br.Reset(d.data, d.pos, endSlack)
	mcusX, mcusY, single := d.mcuGrid(scs)
	var pred [maxComponents]int32
	d.eobrun = 0
	left, nrst := d.restart, 0
	for my := range mcusY {
		for mx := range mcusX {
			if d.restart > 0 {
				if left == 0 {
					if err := br.Restart(nrst); err != nil {
						return err
					}
					nrst++
					left = d.restart
					pred = [maxComponents]int32{}
					d.eobrun = 0
				}
				left--
			}
			for i := range scs {
				c := scs[i].c
				hs, vs := c.h, c.v
				if single {
					hs, vs = 1, 1
				}
				for iy := range vs {
					by := my*vs + iy
					for ix := range hs {
						bx := mx*hs + ix
						var blk []int16
						if c.stride > 0 && bx < c.bw && by < c.bh {
							o := (by*c.bw + bx) * c.stride
							blk = c.coef[o : o+c.stride]
						}
						switch {
						case ss == 0 && ah == 0:
							pred[i] += d.decodeDC(scs[i].dc)
							if blk != nil {
								blk[0] = int16(pred[i] << al)
							}
						case ss == 0:
							if br.Bit() && blk != nil {
								blk[0] |= int16(1 << al)
							}
						case blk == nil:
							// Cannot happen: AC scans run only for stored
							// components, whose blocks are all in the grid.
							return errors.New("jpegscale: internal error: AC scan of an unstored block")
						case ah == 0:
							d.acFirst(scs[i].ac, blk, ss, se, al)
						default:
							d.acRefine(scs[i].ac, blk, ss, se, al)
						}
					}
				}
			}
		}
		if err := br.Check(); err != nil {
			return err
		}
	}
	d.pos = br.Pos()
	return nil
}

// acFirst decodes a block's band ss..se in a first AC scan (T.81 G.1.2.2).
func (d *Decoder) acFirst(t *huffTable, blk []int16, ss, se, al int) {
	if d.eobrun > 0 {
		d.eobrun--
		return
	}
	blk = blk[:64]
	br := &d.br
	for k := ss; k <= se; {
		if br.N() < 32 {
			br.Fill()
		}
		if e := t.fast[br.Peek()>>(64-lutBits)]; e != 0 {
			br.Skip(uint(e & fastLenMask))
			r := int(e>>8) & 0xFF
			if r == fastEOB {
				return // an EOB run of one: this block
			}
			k += r
			if k > se {
				br.SetErr(errBadRun)
				return
			}
			blk[k&63] = int16((e >> 16) << al)
			k++
			continue
		}
		s, l := t.Lookup(br.Peek())
		if l == 0 {
			br.SetErr(jpegbits.ErrBadCode)
			return
		}
		br.Skip(l)
		r, size := s>>4, uint(s&15)
		if size == 0 {
			if r < 15 {
				// EOBRUN: this block and 2^r-1+bits more end here.
				d.eobrun = 1<<r - 1 + int(br.Bits(uint(r)))
				return
			}
			k += 16
			continue
		}
		k += r
		if k > se {
			br.SetErr(errBadRun)
			return
		}
		// At least 32 bits were buffered before the code, so the size
		// bits are too.
		blk[k&63] = int16(br.Receive(size) << al)
		k++
	}
}

// acRefine decodes a block's band ss..se in an AC refinement scan (T.81
// G.1.2.3): one correction bit for each coefficient already non-zero, and
// new coefficients of magnitude 1<<al placed among the zero ones.
func (d *Decoder) acRefine(t *huffTable, blk []int16, ss, se, al int) {
	blk = blk[:64]
	br := &d.br
	p1, m1 := int16(1)<<al, int16(-1)<<al
	k := ss
	if d.eobrun == 0 {
		for k <= se {
			rs := br.Decode(&t.Table)
			r, s := rs>>4, rs&15
			var val int16
			switch {
			case s == 1:
				if br.Bit() {
					val = p1
				} else {
					val = m1
				}
			case s != 0:
				if br.Err() == nil {
					br.SetErr(fmt.Errorf("jpegscale: refinement coefficient of magnitude category %d", s))
				}
				return
			case r != 15:
				d.eobrun = 1<<r + int(br.Bits(uint(r)))
			}
			if d.eobrun > 0 {
				break
			}
			// Walk past r zero coefficients (refining the non-zero ones
			// on the way) to the one the new value goes in; for ZRL, past
			// sixteen zeros. The bit reads are inlined by hand: this loop
			// is where refinement scans spend their time.
			acc, n := br.Acc()
			for k <= se {
				c := &blk[k&63]
				if *c != 0 {
					if n == 0 {
						acc, n = br.Refill(acc, n)
					}
					if int64(acc) < 0 && *c&p1 == 0 {
						if *c >= 0 {
							*c += p1
						} else {
							*c += m1
						}
					}
					acc <<= 1
					n--
				} else {
					if r == 0 {
						break
					}
					r--
				}
				k++
			}
			br.SetAcc(acc, n)
			if val != 0 {
				if k > se {
					if br.Err() == nil {
						br.SetErr(errBadRun)
					}
					return
				}
				blk[k&63] = val
			}
			k++
		}
	}
	if d.eobrun > 0 {
		// The rest of the band is in an EOB run: only correction bits.
		acc, n := br.Acc()
		for ; k <= se; k++ {
			if c := &blk[k&63]; *c != 0 {
				if n == 0 {
					acc, n = br.Refill(acc, n)
				}
				if int64(acc) < 0 && *c&p1 == 0 {
					if *c >= 0 {
						*c += p1
					} else {
						*c += m1
					}
				}
				acc <<= 1
				n--
			}
		}
		br.SetAcc(acc, n)
		d.eobrun--
	}
}

// progressiveOutput turns the first component's stored coefficients into
// the output image.
func (d *Decoder) progressiveOutput() {
	c := &d.comp[0]
	var blk [64]int32
	for by := range c.bh {
		for bx := range c.bw {
			o := (by*c.bw + bx) * c.stride
			if d.n == 1 {
				d.out.Pix[by*d.out.Stride+bx] = dcPixel(int32(c.coef[o]) * c.q[0])
				continue
			}
			src := c.coef[o : o+64 : o+64]
			last := 0
			for k, v := range src {
				if v != 0 {
					blk[unzig[k]] = int32(v) * c.q[k]
					last = k
				}
			}
			d.emit(bx, by, &blk, last)
			blk = [64]int32{}
		}
	}
}

// Package ljpeg decodes the JPEG processes that DICOM uses and Go's
// image/jpeg does not: lossless JPEG (process 14, SOF3, ITU T.81 annex H),
// as in transfer syntaxes 1.2.840.10008.1.2.4.57 and .70, and the 12-bit
// extended sequential DCT process (SOF1, transfer syntax .51). It also
// decodes 8-bit baseline and extended sequential streams (SOF0, SOF1), so
// one decoder covers every Huffman-coded sequential JPEG a DICOM file holds.
//
// It is the JPEG back end of copycat's DICOM reader: the caller hands it one
// frame's bitstream and gets the samples back as coded, one uint16 per
// sample, without colour conversion (a YBR frame comes back as Y, Cb, Cr) and
// with subsampled components replicated to full size.
//
// Choices worth knowing:
//   - Subsampled components are replicated (nearest neighbour), not
//     interpolated as libjpeg's "fancy upsampling" does, so chroma may differ
//     from libjpeg-based viewers near edges; luma and unsubsampled
//     components match them within one count (lossless: exactly).
//   - The inverse DCT is exact (float64), so 12-bit output is within one
//     count of any conforming decoder.
//   - Entropy-coded data that ends early is an error once more than one
//     byte's worth of bits is missing, rather than being decoded from
//     invented zeros; a missing EOI marker is fine.
//   - A lossless restart interval must be a whole number of MCU rows, as
//     T.81 H.2 requires (libjpeg requires it too); other intervals are
//     reported as unsupported.
//
// Progressive, hierarchical and arithmetic-coded JPEG (and JPEG-LS, which
// has its own package) are reported with an error matching
// codec.ErrUnsupported. A frame larger than codec.MaxSamples yields
// codec.ErrTooLarge. The decoder never panics on bad input, and checks a
// frame's declared size against what the given bytes could possibly code
// before it allocates.
//
// The marker walk, the Huffman tables and the entropy-coded bit reader are
// package jpegbits's, shared with package jpegscale.
package ljpeg

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/copycat-dev/copycat/ingest/internal/codec"
	"github.com/copycat-dev/copycat/ingest/internal/codec/jpegbits"
)

// JPEG marker codes (T.81 table B.1) that the decoder acts on.
const (
	mSOF0  = 0xC0 // baseline DCT
	mSOF1  = 0xC1 // extended sequential DCT, Huffman
	mSOF2  = 0xC2 // progressive DCT, Huffman
	mSOF3  = 0xC3 // lossless, Huffman
	mDHT   = 0xC4
	mJPG   = 0xC8 // reserved
	mDAC   = 0xCC // arithmetic conditioning: arithmetic coding
	mRST0  = 0xD0
	mRST7  = 0xD7
	mSOI   = 0xD8
	mEOI   = 0xD9
	mSOS   = 0xDA
	mDQT   = 0xDB
	mDNL   = 0xDC
	mDRI   = 0xDD
	mSOF55 = 0xF7 // JPEG-LS (ISO 14495), a different codec
)

// maxComponents is the most components a frame may have here. T.81 allows
// 255; DICOM uses 1 or 3, and 4 covers CMYK.
const maxComponents = 4

type component struct {
	id     byte
	h, v   int // sampling factors
	tq     int // quantisation table (DCT)
	cw, ch int // component size in samples (T.81 A.1.1)
	pw, ph int // plane size: cw, ch padded to whole MCUs or blocks
	pix    []uint16
	pt     uint // point transform of the scan that coded it (lossless)
	done   bool // a scan has decoded it
}

type decoder struct {
	data     []byte
	pos      int
	sof      int // 0 until a frame header is read
	lossless bool
	prec     int
	width    int
	height   int
	hmax     int
	vmax     int
	comps    []component
	dc, ac   [4]*huffTable
	quant    [4]*[64]int32 // in zigzag order
	restart  int           // restart interval in MCUs, 0 for none
}

// Decode decodes one JPEG image (SOI ... EOI) into its samples. A missing
// EOI is accepted once every component has been decoded, as some DICOM
// writers omit it.
func Decode(data []byte) (*codec.Image, error) {
	d := &decoder{data: data}
	img, err := d.decode()
	if err != nil {
		return nil, jpegbits.Wrap("ljpeg", err)
	}
	return img, nil
}

func unsupported(format string, args ...any) error {
	return fmt.Errorf("ljpeg: %s: %w", fmt.Sprintf(format, args...), codec.ErrUnsupported)
}

func (d *decoder) decode() (*codec.Image, error) {
	pos, err := jpegbits.Start(d.data)
	if err != nil {
		return nil, err
	}
	d.pos = pos
	for {
		m, ok := d.nextMarker()
		if !ok || m == mEOI {
			break
		}
		switch {
		case m == mSOF0 || m == mSOF1 || m == mSOF3:
			if err := d.readSOF(m); err != nil {
				return nil, err
			}
			continue
		case m == mSOF2:
			return nil, unsupported("progressive JPEG")
		case m >= 0xC5 && m <= 0xCF && m != mJPG && m != mDAC:
			// SOF5-7 hierarchical; SOF9-11 and SOF13-15 arithmetic coding.
			return nil, unsupported("JPEG process SOF%d", m-0xC0)
		case m == mDAC:
			return nil, unsupported("arithmetic coding")
		case m == mSOF55:
			return nil, unsupported("JPEG-LS stream")
		case m >= mRST0 && m <= mRST7, m == 0x01:
			// Stray parameterless markers carry no data.
			continue
		case m == mDNL:
			return nil, unsupported("DNL marker (image height defined after the scan)")
		}
		seg, err := d.segment(m)
		if err != nil {
			return nil, err
		}
		switch m {
		case mDHT:
			err = d.readDHT(seg)
		case mDQT:
			err = d.readDQT(seg)
		case mDRI:
			if len(seg) != 2 {
				return nil, fmt.Errorf("ljpeg: DRI length %d, want 2", len(seg))
			}
			d.restart = int(binary.BigEndian.Uint16(seg))
		case mSOS:
			err = d.readScan(seg)
		}
		if err != nil {
			return nil, err
		}
		if d.sof != 0 && d.allDone() {
			break
		}
	}
	if d.sof == 0 {
		return nil, errors.New("ljpeg: no frame header")
	}
	for i := range d.comps {
		if !d.comps[i].done {
			return nil, fmt.Errorf("ljpeg: no scan for component %d", d.comps[i].id)
		}
	}
	return d.image(), nil
}

func (d *decoder) allDone() bool {
	for i := range d.comps {
		if !d.comps[i].done {
			return false
		}
	}
	return true
}

// nextMarker finds the next marker at or after d.pos and returns its code,
// leaving d.pos after it (see jpegbits.NextMarker). It returns false at the
// end of the data.
func (d *decoder) nextMarker() (byte, bool) {
	m, pos, ok := jpegbits.NextMarker(d.data, d.pos)
	d.pos = pos
	return m, ok
}

// segment returns the payload of the marker segment at d.pos and moves past
// it.
func (d *decoder) segment(m byte) ([]byte, error) {
	seg, pos, err := jpegbits.Segment(d.data, d.pos, m)
	d.pos = pos
	return seg, err
}

func (d *decoder) readSOF(m byte) error {
	if d.sof != 0 {
		return errors.New("ljpeg: more than one frame header")
	}
	seg, err := d.segment(m)
	if err != nil {
		return err
	}
	if len(seg) < 6 {
		return fmt.Errorf("ljpeg: SOF length %d too short", len(seg))
	}
	d.sof = int(m)
	d.lossless = m == mSOF3
	d.prec = int(seg[0])
	d.height = int(binary.BigEndian.Uint16(seg[1:]))
	d.width = int(binary.BigEndian.Uint16(seg[3:]))
	nf := int(seg[5])
	switch {
	case d.lossless && (d.prec < 2 || d.prec > 16):
		return fmt.Errorf("ljpeg: lossless precision %d outside 2..16", d.prec)
	case m == mSOF0 && d.prec != 8:
		return fmt.Errorf("ljpeg: baseline precision %d, want 8", d.prec)
	case m == mSOF1 && d.prec != 8 && d.prec != 12:
		return fmt.Errorf("ljpeg: extended precision %d, want 8 or 12", d.prec)
	case d.height == 0:
		return unsupported("image height defined by a DNL marker")
	case d.width == 0:
		return errors.New("ljpeg: image width 0")
	case nf == 0:
		return errors.New("ljpeg: frame has no components")
	case nf > maxComponents:
		return unsupported("%d components", nf)
	case len(seg) != 6+3*nf:
		return fmt.Errorf("ljpeg: SOF length %d, want %d for %d components", len(seg), 6+3*nf, nf)
	}
	d.comps = make([]component, nf)
	d.hmax, d.vmax = 1, 1
	for i := range d.comps {
		c := &d.comps[i]
		b := seg[6+3*i:]
		c.id, c.h, c.v, c.tq = b[0], int(b[1]>>4), int(b[1]&15), int(b[2])
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 {
			return fmt.Errorf("ljpeg: component %d sampling factors %dx%d outside 1..4", c.id, c.h, c.v)
		}
		if c.tq > 3 {
			return fmt.Errorf("ljpeg: component %d quantisation table %d outside 0..3", c.id, c.tq)
		}
		for j := 0; j < i; j++ {
			if d.comps[j].id == c.id {
				return fmt.Errorf("ljpeg: duplicate component id %d", c.id)
			}
		}
		d.hmax, d.vmax = max(d.hmax, c.h), max(d.vmax, c.v)
	}
	return d.allocate()
}

// allocate sizes the component planes and allocates them once the frame is
// known to be plausible: within codec.MaxSamples, and codable in the bytes
// given (every lossless sample needs at least one bit, every DCT block at
// least two: a DC code and an end-of-block code).
func (d *decoder) allocate() error {
	unit := 1 // samples per data unit side
	if !d.lossless {
		unit = 8
	}
	mcuW, mcuH := d.hmax*unit, d.vmax*unit
	mcusX := (d.width + mcuW - 1) / mcuW
	mcusY := (d.height + mcuH - 1) / mcuH
	var total, coded int64
	for i := range d.comps {
		c := &d.comps[i]
		c.cw = (d.width*c.h + d.hmax - 1) / d.hmax
		c.ch = (d.height*c.v + d.vmax - 1) / d.vmax
		if len(d.comps) == 1 {
			// A one-component scan is never interleaved: its MCU is one
			// data unit whatever the sampling factors say.
			c.pw = (c.cw + unit - 1) / unit * unit
			c.ph = (c.ch + unit - 1) / unit * unit
		} else {
			c.pw, c.ph = mcusX*c.h*unit, mcusY*c.v*unit
		}
		total += int64(c.pw) * int64(c.ph)
		coded += int64(c.cw) * int64(c.ch)
	}
	out := int64(d.width) * int64(d.height) * int64(len(d.comps))
	if total > codec.MaxSamples || out > codec.MaxSamples {
		return fmt.Errorf("ljpeg: %dx%dx%d frame exceeds %d samples: %w",
			d.width, d.height, len(d.comps), codec.MaxSamples, codec.ErrTooLarge)
	}
	capacity := int64(len(d.data))*8 + jpegbits.OverrunSlack*int64(len(d.comps))
	if !d.lossless {
		coded /= 32 // two bits per 64-sample block
	}
	if coded > capacity {
		return fmt.Errorf("ljpeg: %dx%dx%d frame cannot be coded in %d bytes",
			d.width, d.height, len(d.comps), len(d.data))
	}
	for i := range d.comps {
		c := &d.comps[i]
		c.pix = make([]uint16, c.pw*c.ph)
	}
	return nil
}

// huffTable is a Huffman table with, once a lossless scan uses it, the
// lookup of whole differences built on top of it (see buildDiffLUT).
type huffTable struct {
	jpegbits.Table
	dlut *[1 << diffLUTBits]int32
}

func (d *decoder) readDHT(seg []byte) error {
	for h, err := range jpegbits.ParseDHT(seg) {
		if err != nil {
			return err
		}
		t := new(huffTable)
		if err := t.Build(h.Counts, h.Values); err != nil {
			return err
		}
		if h.Class == 0 {
			d.dc[h.Dest] = t
		} else {
			d.ac[h.Dest] = t
		}
	}
	return nil
}

func (d *decoder) readDQT(seg []byte) error {
	for len(seg) > 0 {
		pq, tq := seg[0]>>4, seg[0]&15
		if pq > 1 || tq > 3 {
			return fmt.Errorf("ljpeg: DQT precision %d destination %d out of range", pq, tq)
		}
		n := 64 << pq
		if len(seg) < 1+n {
			return errors.New("ljpeg: DQT segment truncated")
		}
		q := new([64]int32)
		for k := range q {
			if pq == 0 {
				q[k] = int32(seg[1+k])
			} else {
				q[k] = int32(binary.BigEndian.Uint16(seg[1+2*k:]))
			}
		}
		d.quant[tq] = q
		seg = seg[1+n:]
	}
	return nil
}

// scanComp is one component of a scan with the tables it uses.
type scanComp struct {
	c      *component
	dc, ac *huffTable
	q      *[64]int32
}

func (d *decoder) readScan(seg []byte) error {
	if d.sof == 0 {
		return errors.New("ljpeg: scan before frame header")
	}
	if len(seg) < 1 {
		return errors.New("ljpeg: empty SOS segment")
	}
	ns := int(seg[0])
	if ns < 1 || ns > len(d.comps) || len(seg) != 4+2*ns {
		return fmt.Errorf("ljpeg: SOS with %d components and length %d", ns, len(seg))
	}
	scs := make([]scanComp, ns)
	units := 0
	for i := range scs {
		id, td, ta := seg[1+2*i], int(seg[2+2*i]>>4), int(seg[2+2*i]&15)
		var c *component
		for j := range d.comps {
			if d.comps[j].id == id {
				c = &d.comps[j]
			}
		}
		if c == nil {
			return fmt.Errorf("ljpeg: scan names unknown component %d", id)
		}
		if c.done {
			return fmt.Errorf("ljpeg: component %d coded twice", id)
		}
		for j := 0; j < i; j++ {
			if scs[j].c == c {
				return fmt.Errorf("ljpeg: component %d twice in one scan", id)
			}
		}
		if td > 3 || d.dc[td] == nil {
			return fmt.Errorf("ljpeg: component %d uses undefined DC/lossless table %d", id, td)
		}
		scs[i] = scanComp{c: c, dc: d.dc[td]}
		if !d.lossless {
			if ta > 3 || d.ac[ta] == nil {
				return fmt.Errorf("ljpeg: component %d uses undefined AC table %d", id, ta)
			}
			if d.quant[c.tq] == nil {
				return fmt.Errorf("ljpeg: component %d uses undefined quantisation table %d", id, c.tq)
			}
			scs[i].ac, scs[i].q = d.ac[ta], d.quant[c.tq]
		}
		units += c.h * c.v
	}
	if ns > 1 && units > 10 {
		return fmt.Errorf("ljpeg: MCU of %d data units exceeds 10", units)
	}
	// Ss, Se, Ah, Al: for lossless, Ss selects the predictor and Al is the
	// point transform (Se and Ah are unused). A sequential scan must have
	// 0, 63, 0, 0, but real encoders write other values (pydicom's
	// JPEG-lossy.dcm has Se=0); like libjpeg, decode it as sequential
	// regardless, so only Ss and Al are read.
	ss, al := int(seg[1+2*ns]), uint(seg[3+2*ns]&15)
	// A stream that simply stops (no EOI) gets the same slack as one that
	// ends at a marker: DICOM writers that omit EOI exist.
	r := new(jpegbits.Reader)
	r.Reset(d.data, d.pos, jpegbits.OverrunSlack)
	var err error
	if d.lossless {
		if ss < 1 || ss > 7 {
			return fmt.Errorf("ljpeg: lossless predictor %d outside 1..7", ss)
		}
		if int(al) >= d.prec {
			return fmt.Errorf("ljpeg: point transform %d not below precision %d", al, d.prec)
		}
		err = d.decodeLossless(r, scs, ss, al)
	} else {
		al = 0
		err = d.decodeDCT(r, scs)
	}
	if err != nil {
		return err
	}
	for i := range scs {
		scs[i].c.done = true
		scs[i].c.pt = al
	}
	d.pos = r.Pos()
	return nil
}

// image assembles the decoded planes into one interleaved, full-size frame.
func (d *decoder) image() *codec.Image {
	img := &codec.Image{
		Width:      d.width,
		Height:     d.height,
		Components: len(d.comps),
		Precision:  d.prec,
	}
	mask := uint16(1<<d.prec - 1)
	nc := len(d.comps)
	if nc == 1 {
		c := &d.comps[0]
		if c.pw == d.width && c.ph == d.height {
			// Use the plane as it is: no copy for the common grey frame.
			img.Pix = c.pix
			if c.pt != 0 || d.prec < 16 {
				for i, v := range img.Pix {
					img.Pix[i] = v << c.pt & mask
				}
			}
			return img
		}
	}
	img.Pix = make([]uint16, d.width*d.height*nc)
	for ci := range d.comps {
		c := &d.comps[ci]
		full := c.h == d.hmax && c.v == d.vmax
		for y := 0; y < d.height; y++ {
			sy := y
			if !full {
				sy = y * c.v / d.vmax
			}
			row := c.pix[sy*c.pw:]
			out := img.Pix[y*d.width*nc+ci:]
			if full {
				for x := 0; x < d.width; x++ {
					out[x*nc] = row[x] << c.pt & mask
				}
				continue
			}
			for x := 0; x < d.width; x++ {
				out[x*nc] = row[x*c.h/d.hmax] << c.pt & mask
			}
		}
	}
	return img
}

package jpegscale

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"image"

	"github.com/copycat-dev/copycat/ingest/internal/codec"
	"github.com/copycat-dev/copycat/ingest/internal/codec/jpegbits"
)

// JPEG marker codes (T.81 table B.1) that the decoder acts on.
const (
	mSOF0  = 0xC0 // baseline DCT
	mSOF1  = 0xC1 // extended sequential DCT, Huffman
	mSOF2  = 0xC2 // progressive DCT, Huffman
	mDHT   = 0xC4
	mRST0  = 0xD0
	mRST7  = 0xD7
	mSOI   = 0xD8
	mEOI   = 0xD9
	mSOS   = 0xDA
	mDQT   = 0xDB
	mDRI   = 0xDD
	mAPP0  = 0xE0
	mAPP14 = 0xEE
	mSOF55 = 0xF7 // JPEG-LS (ISO 14495), a different codec
)

// maxScans bounds the scans of a frame. Real progressive encoders write
// about ten; every scan costs a pass over the component's blocks, so a
// small file with thousands of scans could otherwise keep a decoder busy
// for minutes (libjpeg-turbo's TJFLAG_LIMITSCANS guards the same way, at
// 500).
const maxScans = 1000

// maxVisits bounds the coefficient visits of the progressive scans a
// frame decodes, per block of the frame: a scan visits band width times
// blocks, even when an end-of-band run codes them in a few bits. The most
// a legitimate progression needs is about 13 successive-approximation
// passes over 63 AC coefficients plus the DC ones, under 1024.
const maxVisits = 1024

// maxComponents is the most components a frame may have here. T.81 allows
// 255; 4 covers CMYK, which is as many as any real JPEG uses.
const maxComponents = 4

// scales lists the reductions the decoder offers, largest first.
var scales = [...]int{8, 4, 2, 1}

// Scale returns the scale Luma picks for a width x height image: the
// largest of 8, 4, 2, 1 that keeps both output sides, ceil(side/scale), at
// least minSide. An image smaller than minSide is decoded at scale 1.
func Scale(width, height, minSide int) int {
	for _, s := range scales {
		if (width+s-1)/s >= minSide && (height+s-1)/s >= minSide {
			return s
		}
	}
	return 1
}

// Luma decodes the first (luma or grey) component of a baseline or
// extended sequential (SOF0, SOF1) or progressive (SOF2) 8-bit
// Huffman-coded JPEG at scale 1/scale, where scale is the largest of 8, 4,
// 2, 1 that keeps both output sides at least minSide (see Scale). The image
// is ceil(W/scale) x ceil(H/scale): at scale 8 each sample is a block's
// mean, round(DC/8)+128, and at 4 and 2 the mean of the scale x scale
// samples of the full inverse DCT it covers, before colour conversion.
//
// Streams this package does not decode (arithmetic coding, lossless,
// hierarchical, 12-bit, RGB, CMYK and YCCK colour, a subsampled first
// component) yield an error matching codec.ErrUnsupported, so the caller
// can fall back to a full decoder. Luma allocates a Decoder per call; hot
// paths should keep one Decoder per goroutine instead.
func Luma(data []byte, minSide int) (img *image.Gray, scale int, err error) {
	var d Decoder
	return d.Luma(data, minSide)
}

// LumaDigest is Luma that also writes a canonical serialisation of the
// stream's quantised DCT coefficients to h; see Decoder.LumaDigest.
func LumaDigest(data []byte, minSide int, h hash.Hash) (*image.Gray, int, error) {
	var d Decoder
	return d.LumaDigest(data, minSide, h)
}

// Decoder decodes JPEG luma at reduced scale. It keeps its Huffman tables
// and scratch buffers between calls, so reusing one saves about 50 KB of
// allocation per image. The zero value is ready to use. A Decoder is not
// safe for concurrent use: give each worker goroutine its own.
type Decoder struct {
	data []byte
	pos  int

	// Frame.
	sof           byte
	progressive   bool
	width, height int
	hmax, vmax    int
	mcusX, mcusY  int // MCUs of an interleaved scan
	nc            int
	comp          [maxComponents]component
	dc, ac        [4]huffTable
	quant         [4][64]int32 // zigzag order
	qdef          [4]bool
	restart       int // restart interval in MCUs, 0 for none
	jfif, adobe   bool
	transform     byte // Adobe colour transform
	started       bool // the first scan has set up the output
	scans         int
	blocks        int64 // blocks of all components
	visits        int64 // coefficient visits of the progressive scans so far

	// Request.
	forceScale int // tests only: decode at this scale whatever minSide says
	minSide    int
	scale      int
	n          int // output samples per block side, 8/scale
	digest     bool
	out        *image.Gray

	br     jpegbits.Reader
	eobrun int

	// Scratch kept between calls.
	coefs  []int16
	ser    [maxComponents][]byte    // digest serialisation, per component
	rowSer [maxComponents][4][]byte // one MCU row of an interleaved scan
	edge   [64]byte                 // an edge block before cropping
}

type component struct {
	id      byte
	h, v    int
	tq      int
	bw, bh  int       // blocks holding the component's samples (T.81 A.1.1)
	q       [64]int32 // quantisation table latched at the first scan, zigzag order
	latched bool
	scanned bool // some scan has coded it

	// Progressive only: stored coefficients (zigzag order), stride per
	// block: 64 for all, 1 for DC only, 0 for none (the scans are skipped).
	coef    []int16
	stride  int
	dcFirst bool // a DC first scan has been decoded
}

// Luma is the package-level Luma using d's tables and buffers.
func (d *Decoder) Luma(data []byte, minSide int) (*image.Gray, int, error) {
	defer d.release()
	if err := d.run(data, minSide, false); err != nil {
		return nil, 0, jpegbits.Wrap("jpegscale", err)
	}
	return d.out, d.scale, nil
}

// LumaDigest is Luma that also writes to h a canonical serialisation of
// every component's quantised DCT coefficients, so that streams coding the
// same coefficients digest alike whatever their markers, Huffman tables,
// restart intervals or progression (a baseline file, its jpegtran
// -optimize and -progressive re-encodes, and copies with other EXIF/APP
// data), while any change of a coefficient, quantisation table, sampling
// factor or image size changes the digest.
//
// The serialisation is: the line "jpegscale coefficients v1\n"; width and
// height (uint16, big-endian); the number of components; per component its
// sampling factors (one byte each) and quantisation table (64 uint16 in
// zigzag order); then per component, block row and block column of the
// blocks holding samples (not an interleaved scan's padding blocks), the
// non-zero coefficients in zigzag order, each as a byte giving the distance
// from the previous one (the first from index -1) and the value as a
// zigzag-encoded varint, and a 0 byte ending the block.
//
// Decoding every component's entropy-coded data costs about as much again
// as Luma at scale 8, plus the hashing; h gets nothing when an error is
// returned.
func (d *Decoder) LumaDigest(data []byte, minSide int, h hash.Hash) (*image.Gray, int, error) {
	defer d.release()
	if err := d.run(data, minSide, true); err != nil {
		return nil, 0, jpegbits.Wrap("jpegscale", err)
	}
	d.writeDigest(h)
	return d.out, d.scale, nil
}

// release drops the references to the caller's data and image, keeping
// only the reusable buffers.
func (d *Decoder) release() {
	d.out, d.data = nil, nil
	d.br.Reset(nil, 0, endSlack)
	for i := range d.comp {
		d.comp[i].coef = nil
	}
}

func unsupported(format string, args ...any) error {
	return fmt.Errorf("jpegscale: %s: %w", fmt.Sprintf(format, args...), codec.ErrUnsupported)
}

// reset forgets the previous image but keeps the buffers.
func (d *Decoder) reset(data []byte, minSide int, digest bool) {
	d.data, d.pos = data, 0
	d.sof, d.progressive, d.started, d.scans = 0, false, false, 0
	d.blocks, d.visits = 0, 0
	d.width, d.height, d.nc, d.restart = 0, 0, 0, 0
	d.jfif, d.adobe, d.transform = false, false, 0
	for i := range 4 {
		d.dc[i].defined = false
		d.ac[i].defined = false
		d.qdef[i] = false
	}
	d.comp = [maxComponents]component{}
	d.minSide, d.digest, d.out = minSide, digest, nil
	d.eobrun = 0
}

// run decodes data: marker segments up to EOI (or the end of the data),
// with the scans decoded as they come.
func (d *Decoder) run(data []byte, minSide int, digest bool) error {
	d.reset(data, minSide, digest)
	pos, err := jpegbits.Start(data)
	if err != nil {
		return err
	}
	d.pos = pos
	for {
		m, ok := d.nextMarker()
		if !ok || m == mEOI {
			break
		}
		switch {
		case m == mSOF0 || m == mSOF1 || m == mSOF2:
			seg, err := d.segment(m)
			if err != nil {
				return err
			}
			if err := d.readSOF(m, seg); err != nil {
				return err
			}
			continue
		case m == 0xC3:
			return unsupported("lossless JPEG")
		case m >= 0xC5 && m <= 0xC7:
			return unsupported("hierarchical JPEG (SOF%d)", m-0xC0)
		case m >= 0xC9 && m <= 0xCF: // SOF9-11, SOF13-15 and DAC
			return unsupported("arithmetic coding")
		case m == mSOF55:
			return unsupported("JPEG-LS stream")
		case m >= mRST0 && m <= mRST7, m == 0x01, m == mSOI:
			// Parameterless markers carry no data. (A stray RST after a
			// scan is harmless; a second SOI is ignored, as libjpeg
			// does with a warning.)
			continue
		}
		seg, err := d.segment(m)
		if err != nil {
			return err
		}
		switch m {
		case mDHT:
			err = d.readDHT(seg)
		case mDQT:
			err = d.readDQT(seg)
		case mDRI:
			if len(seg) != 2 {
				return fmt.Errorf("jpegscale: DRI length %d, want 2", len(seg))
			}
			d.restart = int(binary.BigEndian.Uint16(seg))
		case mAPP0:
			if len(seg) >= 5 && string(seg[:5]) == "JFIF\x00" {
				d.jfif = true
			}
		case mAPP14:
			if len(seg) >= 12 && string(seg[:5]) == "Adobe" {
				d.adobe, d.transform = true, seg[11]
			}
		case mSOS:
			var stop bool
			stop, err = d.readScan(seg)
			if err == nil && stop {
				return d.finish()
			}
		}
		if err != nil {
			return err
		}
	}
	return d.finish()
}

// finish checks that the image is complete and, for a progressive image,
// turns the stored coefficients into the output.
func (d *Decoder) finish() error {
	if d.sof == 0 {
		return errors.New("jpegscale: no frame header")
	}
	if !d.comp[0].scanned {
		return errors.New("jpegscale: no scan codes the first component")
	}
	if d.digest {
		for i := range d.nc {
			if !d.comp[i].scanned {
				return fmt.Errorf("jpegscale: no scan codes component %d", d.comp[i].id)
			}
		}
	}
	if d.progressive {
		d.progressiveOutput()
	}
	return nil
}

// nextMarker finds the next marker at or after d.pos and returns its code,
// leaving d.pos after it (see jpegbits.NextMarker). It returns false at the
// end of the data.
func (d *Decoder) nextMarker() (byte, bool) {
	m, pos, ok := jpegbits.NextMarker(d.data, d.pos)
	d.pos = pos
	return m, ok
}

// segment returns the payload of the marker segment at d.pos and moves past
// it.
func (d *Decoder) segment(m byte) ([]byte, error) {
	seg, pos, err := jpegbits.Segment(d.data, d.pos, m)
	d.pos = pos
	return seg, err
}

func (d *Decoder) readSOF(m byte, seg []byte) error {
	if d.sof != 0 {
		return errors.New("jpegscale: more than one frame header")
	}
	if len(seg) < 6 {
		return fmt.Errorf("jpegscale: SOF length %d too short", len(seg))
	}
	prec := int(seg[0])
	d.height = int(binary.BigEndian.Uint16(seg[1:]))
	d.width = int(binary.BigEndian.Uint16(seg[3:]))
	nc := int(seg[5])
	switch {
	case prec == 12 && m != mSOF0:
		return unsupported("12-bit JPEG")
	case prec != 8:
		return fmt.Errorf("jpegscale: sample precision %d, want 8", prec)
	case d.height == 0:
		return unsupported("image height defined by a DNL marker")
	case d.width == 0:
		return errors.New("jpegscale: image width 0")
	case nc == 0:
		return errors.New("jpegscale: frame has no components")
	case nc > maxComponents:
		return unsupported("%d components", nc)
	case len(seg) != 6+3*nc:
		return fmt.Errorf("jpegscale: SOF length %d, want %d for %d components", len(seg), 6+3*nc, nc)
	}
	d.sof, d.progressive, d.nc = m, m == mSOF2, nc
	d.hmax, d.vmax = 1, 1
	for i := range nc {
		c := &d.comp[i]
		b := seg[6+3*i:]
		c.id, c.h, c.v, c.tq = b[0], int(b[1]>>4), int(b[1]&15), int(b[2])
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 {
			return fmt.Errorf("jpegscale: component %d sampling factors %dx%d outside 1..4", c.id, c.h, c.v)
		}
		if c.tq > 3 {
			return fmt.Errorf("jpegscale: component %d quantisation table %d outside 0..3", c.id, c.tq)
		}
		for j := range i {
			if d.comp[j].id == c.id {
				return fmt.Errorf("jpegscale: duplicate component id %d", c.id)
			}
		}
		d.hmax, d.vmax = max(d.hmax, c.h), max(d.vmax, c.v)
	}
	d.mcusX = (d.width + 8*d.hmax - 1) / (8 * d.hmax)
	d.mcusY = (d.height + 8*d.vmax - 1) / (8 * d.vmax)
	var blocks int64
	for i := range nc {
		c := &d.comp[i]
		cw := (d.width*c.h + d.hmax - 1) / d.hmax
		ch := (d.height*c.v + d.vmax - 1) / d.vmax
		c.bw, c.bh = (cw+7)/8, (ch+7)/8
		blocks += int64(c.bw) * int64(c.bh)
	}
	// Refuse what cannot be real before anything is allocated: more
	// samples than codec.MaxSamples, or more blocks than the data has
	// bits (every block costs at least one bit in a DC scan, two in a
	// sequential one).
	if int64(d.width)*int64(d.height)*int64(nc) > codec.MaxSamples {
		return fmt.Errorf("jpegscale: %dx%dx%d frame exceeds %d samples: %w",
			d.width, d.height, nc, codec.MaxSamples, codec.ErrTooLarge)
	}
	if blocks > 8*int64(len(d.data))+jpegbits.OverrunSlack {
		return fmt.Errorf("jpegscale: %dx%dx%d frame cannot be coded in %d bytes: %w",
			d.width, d.height, nc, len(d.data), codec.ErrTooLarge)
	}
	d.blocks = blocks
	return nil
}

func (d *Decoder) readDHT(seg []byte) error {
	for h, err := range jpegbits.ParseDHT(seg) {
		if err != nil {
			return err
		}
		t := &d.dc[h.Dest]
		if h.Class == 1 {
			t = &d.ac[h.Dest]
		}
		if err := t.build(h.Counts, h.Values, h.Class == 1); err != nil {
			return err
		}
	}
	return nil
}

func (d *Decoder) readDQT(seg []byte) error {
	for len(seg) > 0 {
		pq, tq := seg[0]>>4, seg[0]&15
		if pq > 1 || tq > 3 {
			return fmt.Errorf("jpegscale: DQT precision %d destination %d out of range", pq, tq)
		}
		n := 64 << pq
		if len(seg) < 1+n {
			return errors.New("jpegscale: DQT segment truncated")
		}
		q := &d.quant[tq]
		for k := range q {
			if pq == 0 {
				q[k] = int32(seg[1+k])
			} else {
				q[k] = int32(binary.BigEndian.Uint16(seg[1+2*k:]))
			}
		}
		d.qdef[tq] = true
		seg = seg[1+n:]
	}
	return nil
}

// start runs at the first scan, when the markers that say what the
// components mean (JFIF, Adobe) have been seen: it rejects colour models
// whose first component is not luma, picks the scale and allocates the
// output and, for a progressive image, the coefficient store.
func (d *Decoder) start() error {
	c0 := &d.comp[0]
	switch d.nc {
	case 1:
	case 3:
		// image/jpeg's rule: JFIF means YCbCr; otherwise Adobe transform 0,
		// or component ids 'R', 'G', 'B', mean RGB.
		if !d.jfif && ((d.adobe && d.transform == 0) ||
			(c0.id == 'R' && d.comp[1].id == 'G' && d.comp[2].id == 'B')) {
			return unsupported("RGB JPEG: the first component is red, not luma")
		}
	case 2:
		return unsupported("2-component JPEG")
	case 4:
		return unsupported("4-component (CMYK or YCCK) JPEG")
	}
	if d.nc > 1 && (c0.h != d.hmax || c0.v != d.vmax) {
		return unsupported("first component subsampled (%dx%d of %dx%d)", c0.h, c0.v, d.hmax, d.vmax)
	}
	d.scale = Scale(d.width, d.height, d.minSide)
	if d.forceScale != 0 {
		d.scale = d.forceScale
	}
	d.n = 8 / d.scale
	w, h := (d.width+d.scale-1)/d.scale, (d.height+d.scale-1)/d.scale
	d.out = image.NewGray(image.Rect(0, 0, w, h))
	if d.digest {
		for i := range d.nc {
			d.ser[i] = d.ser[i][:0]
		}
	}
	if d.progressive {
		total := 0
		for i := range d.nc {
			c := &d.comp[i]
			switch {
			case d.digest || (i == 0 && d.scale < 8):
				c.stride = 64
			case i == 0:
				c.stride = 1
			}
			total += c.bw * c.bh * c.stride
		}
		if cap(d.coefs) < total {
			d.coefs = make([]int16, total)
		} else {
			d.coefs = d.coefs[:total]
			clear(d.coefs)
		}
		off := 0
		for i := range d.nc {
			c := &d.comp[i]
			n := c.bw * c.bh * c.stride
			c.coef = d.coefs[off : off+n : off+n]
			off += n
		}
	}
	d.started = true
	return nil
}

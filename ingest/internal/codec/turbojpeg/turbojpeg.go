//go:build cgo && turbojpeg

package turbojpeg

/*
#cgo pkg-config: libturbojpeg
#include <stdlib.h>
#include <turbojpeg.h>
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"runtime"
	"strings"
	"unsafe"

	"github.com/copycat-dev/copycat/ingest/internal/codec"
	"github.com/copycat-dev/copycat/ingest/internal/codec/jpegscale"
)

// Available reports whether this build includes the libjpeg-turbo decoder.
const Available = true

// truncatedWarning is the text of libjpeg's JWRN_HIT_MARKER warning (see
// jerror.h): the entropy-coded data ended before the image did. TurboJPEG
// reports warnings only as text, and libjpeg's message table has not
// changed this entry since 1994.
const truncatedWarning = "premature end of data segment"

// handle owns one TurboJPEG decompressor.
type handle struct{ h C.tjhandle }

// Decoder wraps one TurboJPEG decompressor and a scratch buffer. It is not
// safe for concurrent use: give each worker goroutine its own, and Close it
// when done (a forgotten Decoder is freed by the garbage collector, later).
type Decoder struct {
	h       *handle
	cleanup runtime.Cleanup
	factors [4]bool // 1/8, 1/4, 1/2, 1/1 offered by the library
	buf     []byte  // the input with an EOI appended, when it lacks one
	hdr     [4]C.int
	js      jpegscale.Decoder // progressive streams at 1/8: see Luma

	forceScale int // tests only: decode at this scale whatever minSide says
}

// NewDecoder makes a Decoder with its own TurboJPEG handle.
func NewDecoder() (*Decoder, error) {
	d := &Decoder{h: &handle{}}
	if err := d.renew(); err != nil {
		return nil, err
	}
	d.cleanup = runtime.AddCleanup(d, func(hd *handle) {
		if hd.h != nil {
			C.tjDestroy(hd.h)
		}
	}, d.h)
	var n C.int
	sf := C.tjGetScalingFactors(&n)
	if sf == nil {
		d.Close()
		return nil, errors.New("turbojpeg: tjGetScalingFactors failed")
	}
	for _, f := range unsafe.Slice(sf, int(n)) {
		for i, den := range []C.int{8, 4, 2, 1} {
			// A factor equal to 1/den, however the library writes it.
			if f.num > 0 && f.denom == f.num*den {
				d.factors[i] = true
			}
		}
	}
	d.factors[3] = true // 1/1 is always offered
	return d, nil
}

// renew replaces d's TurboJPEG handle by a fresh one. A handle keeps the
// Huffman and quantisation tables of the images it decoded (libjpeg's
// support for abbreviated streams), and tjDecompressHeader3 leaves it
// mid-parse when a header is corrupt, after which every later image fails;
// a fresh handle avoids both.
func (d *Decoder) renew() error {
	if d.h.h != nil {
		C.tjDestroy(d.h.h)
		d.h.h = nil
	}
	h := C.tjInitDecompress()
	if h == nil {
		return fmt.Errorf("turbojpeg: tjInitDecompress: %s", C.GoString(C.tjGetErrorStr2(nil)))
	}
	d.h.h = h
	return nil
}

// Close frees the TurboJPEG handle. The Decoder must not be used after.
func (d *Decoder) Close() error {
	if d == nil || d.h == nil || d.h.h == nil {
		return nil
	}
	d.cleanup.Stop()
	rc := C.tjDestroy(d.h.h)
	d.h.h = nil
	if rc != 0 {
		return errors.New("turbojpeg: tjDestroy failed")
	}
	return nil
}

// Luma decodes the luma (or grey) plane of data at the largest reduction
// of 1/8, 1/4, 1/2, 1/1 that keeps both sides at least minSide, and
// returns it with the denominator of the reduction; see the package
// documentation for what it accepts. It makes a Decoder per call; hot
// paths should keep one per goroutine.
func Luma(data []byte, minSide int) (*image.Gray, int, error) {
	d, err := NewDecoder()
	if err != nil {
		return nil, 0, err
	}
	defer d.Close()
	return d.Luma(data, minSide)
}

// Luma is the package-level Luma using d's handle.
func (d *Decoder) Luma(data []byte, minSide int) (*image.Gray, int, error) {
	if d == nil || d.h == nil || d.h.h == nil {
		return nil, 0, errors.New("turbojpeg: Luma on a closed Decoder")
	}
	needFresh, progressive, err := checkHeader(data)
	if err != nil {
		return nil, 0, err
	}
	if needFresh {
		// Tables left by an earlier image must not stand in for missing
		// ones: a fresh handle uses the standard Huffman tables (as
		// Motion-JPEG wants) and refuses missing quantisation tables.
		if err := d.renew(); err != nil {
			return nil, 0, err
		}
	}
	hdr := &d.hdr // a field, not locals: cgo would move locals to the heap
	src := (*C.uchar)(unsafe.Pointer(unsafe.SliceData(data)))
	if C.tjDecompressHeader3(d.h.h, src, C.ulong(len(data)), &hdr[0], &hdr[1], &hdr[2], &hdr[3]) != 0 {
		err := fmt.Errorf("turbojpeg: %s", d.errStr())
		if rerr := d.renew(); rerr != nil {
			return nil, 0, errors.Join(err, rerr)
		}
		return nil, 0, err
	}
	w, h, cs := hdr[0], hdr[1], hdr[3]
	ncomp := 3
	switch cs {
	case C.TJCS_GRAY:
		ncomp = 1
	case C.TJCS_CMYK, C.TJCS_YCCK:
		return nil, 0, fmt.Errorf("turbojpeg: CMYK/YCCK JPEG has no luma plane: %w", codec.ErrUnsupported)
	}
	width, height := int(w), int(h)
	if int64(width)*int64(height)*int64(ncomp) > codec.MaxSamples {
		return nil, 0, fmt.Errorf("turbojpeg: %dx%dx%d frame exceeds %d samples: %w",
			width, height, ncomp, codec.MaxSamples, codec.ErrTooLarge)
	}
	// Every luma block costs at least one bit: refuse what the data
	// cannot code before libjpeg allocates for it (a progressive image
	// gets a whole-image coefficient buffer).
	if blocks := int64((width+7)/8) * int64((height+7)/8); blocks > 8*int64(len(data))+8 {
		return nil, 0, fmt.Errorf("turbojpeg: %dx%d frame cannot be coded in %d bytes: %w",
			width, height, len(data), codec.ErrTooLarge)
	}
	scale := 1
	for i, s := range []int{8, 4, 2} {
		if d.factors[i] && (width+s-1)/s >= minSide && (height+s-1)/s >= minSide {
			scale = s
			break
		}
	}
	if d.forceScale != 0 {
		scale = d.forceScale
	}
	if progressive && scale == 8 {
		// libjpeg decodes every scan of a progressive image, while the
		// block means need only the DC scans: jpegscale skips the rest,
		// 15-20 times faster, with identical output at this scale. It
		// refuses what it does not decode (RGB streams, say), and libjpeg
		// takes those.
		img, s, err := d.js.Luma(data, minSide)
		if err == nil && s == 8 {
			return img, s, nil
		}
		if err != nil && !errors.Is(err, codec.ErrUnsupported) {
			return nil, 0, err
		}
	}
	sw, sh := (width+scale-1)/scale, (height+scale-1)/scale // TJSCALED
	in := d.withEOI(data)
	img := image.NewGray(image.Rect(0, 0, sw, sh))
	rc := C.tjDecompress2(d.h.h, (*C.uchar)(unsafe.Pointer(unsafe.SliceData(in))), C.ulong(len(in)),
		(*C.uchar)(unsafe.Pointer(unsafe.SliceData(img.Pix))), C.int(sw), C.int(sw), C.int(sh),
		C.TJPF_GRAY, C.TJFLAG_LIMITSCANS)
	if rc != 0 {
		msg := d.errStr()
		if C.tjGetErrorCode(d.h.h) != C.TJERR_WARNING {
			err := fmt.Errorf("turbojpeg: %s", msg)
			if rerr := d.renew(); rerr != nil {
				return nil, 0, errors.Join(err, rerr)
			}
			return nil, 0, err
		}
		if strings.Contains(msg, truncatedWarning) {
			return nil, 0, fmt.Errorf("turbojpeg: %s", msg)
		}
		// Other warnings (extraneous bytes before a marker, a bad JFIF
		// version, ...) leave a complete image.
	}
	if len(in) != len(data) || &in[0] != &data[0] {
		// The stream had no EOI. libjpeg's "premature end of data segment"
		// warning did not come reliably for streams cut a few bytes short
		// (seen in CI: a 20-byte cut decoded without it), so the pure-Go
		// decoder, whose entropy decoding runs to the end of every scan it
		// reads, checks that the data is complete. It costs a DC-only decode.
		if _, _, err := d.js.Luma(data, 1); err != nil && !errors.Is(err, codec.ErrUnsupported) {
			return nil, 0, fmt.Errorf("turbojpeg: %w", err)
		}
	}
	return img, scale, nil
}

func (d *Decoder) errStr() string {
	return C.GoString(C.tjGetErrorStr2(d.h.h))
}

// withEOI returns data, or a copy with an EOI marker appended when data
// does not end with one (ignoring the 0x00 and 0xFF padding DICOM and some
// devices add): libjpeg warns about a missing EOI exactly as it warns
// about truncation, so supplying it is what lets Luma tell them apart.
func (d *Decoder) withEOI(data []byte) []byte {
	end := len(data)
	for end > 0 && (data[end-1] == 0 || data[end-1] == 0xFF) {
		end--
	}
	if end >= 2 && data[end-2] == 0xFF && data[end-1] == 0xD9 {
		return data
	}
	d.buf = append(append(d.buf[:0], data[:end]...), 0xFF, 0xD9)
	return d.buf
}

// checkHeader walks the markers up to the first scan. It refuses, with
// codec.ErrUnsupported, the processes libjpeg-turbo 2.1 does not decode
// (lossless, hierarchical, precisions other than 8 bits; arithmetic coding
// it decodes). It reports whether the stream relies on tables it does not
// define before its first scan (a quantisation table named in the frame
// header, a Huffman table named in the first scan), or is arithmetic-coded,
// whose conditioning tables persist in the handle just the same; and
// whether it is Huffman-coded progressive.
func checkHeader(data []byte) (needFresh, progressive bool, err error) {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return false, false, errors.New("turbojpeg: missing SOI marker")
	}
	var dqt, dhtDC, dhtAC, useQ uint // bit i: table i
	sof, arith := false, false
	for p := 2; p+4 <= len(data); {
		if data[p] != 0xFF {
			p++ // libjpeg skips stray bytes too
			continue
		}
		m := data[p+1]
		switch {
		case m == 0xFF:
			p++
			continue
		case m == 0x01 || (m >= 0xD0 && m <= 0xD8):
			p += 2
			continue
		case m == 0xD9:
			return false, false, errors.New("turbojpeg: no scan")
		case m == 0xF7:
			return false, false, fmt.Errorf("turbojpeg: JPEG-LS stream: %w", codec.ErrUnsupported)
		}
		n := int(binary.BigEndian.Uint16(data[p+2:]))
		if n < 2 || p+2+n > len(data) {
			return false, false, fmt.Errorf("turbojpeg: marker 0x%02X: bad length %d", m, n)
		}
		seg := data[p+4 : p+2+n]
		switch {
		case m == 0xDA:
			if !sof {
				return false, false, errors.New("turbojpeg: scan before frame header")
			}
			var useDC, useAC uint
			if len(seg) > 0 {
				for i := 0; i < int(seg[0]) && 2+2*i < len(seg); i++ {
					useDC |= 1 << (seg[2+2*i] >> 4)
					useAC |= 1 << (seg[2+2*i] & 15)
				}
			}
			huffMissing := useDC&^dhtDC != 0 || useAC&^dhtAC != 0
			return arith || useQ&^dqt != 0 || huffMissing, progressive, nil
		case m == 0xC4:
			for len(seg) >= 17 {
				cnt := 0
				for _, c := range seg[1:17] {
					cnt += int(c)
				}
				if seg[0]>>4 == 0 {
					dhtDC |= 1 << (seg[0] & 15)
				} else {
					dhtAC |= 1 << (seg[0] & 15)
				}
				seg = seg[min(len(seg), 17+cnt):]
			}
		case m == 0xDB:
			for len(seg) >= 1 {
				dqt |= 1 << (seg[0] & 15)
				seg = seg[min(len(seg), 1+64<<(seg[0]>>4&1)):]
			}
		case m >= 0xC0 && m <= 0xCF && m != 0xC8 && m != 0xCC:
			sof = true
			switch {
			case m == 0xC3 || m == 0xCB:
				return false, false, fmt.Errorf("turbojpeg: lossless JPEG: %w", codec.ErrUnsupported)
			case m >= 0xC5 && m <= 0xC7, m >= 0xCD:
				return false, false, fmt.Errorf("turbojpeg: hierarchical JPEG: %w", codec.ErrUnsupported)
			case len(seg) >= 1 && seg[0] != 8:
				return false, false, fmt.Errorf("turbojpeg: %d-bit JPEG: %w", seg[0], codec.ErrUnsupported)
			}
			arith = m >= 0xC9
			progressive = m == 0xC2
			for i := 0; len(seg) >= 6 && i < int(seg[5]) && 8+3*i < len(seg); i++ {
				useQ |= 1 << (seg[8+3*i] & 15)
			}
		case m == 0xCC:
			arith = true
		}
		p += 2 + n
	}
	return false, false, errors.New("turbojpeg: no scan")
}

// Package jpeghdr reads what the marker segments of a JPEG stream say before
// the entropy-coded data (size, precision, components, colour transform,
// EXIF orientation, an estimate of the quality), and digests the coded
// stream without its metadata. It serves both of ingest's JPEG paths: JPEG
// files, decoded by ingest itself, and the JPEG frames of encapsulated DICOM,
// decoded by ingest/internal/dicom. It decodes no pixels.
package jpeghdr

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// Header is what the marker segments of a JPEG stream (a file, or a
// frame of an encapsulated DICOM) say before the entropy-coded data: enough
// to check the pixel budget, choose a decoder and orient the result, without
// decoding anything. One parser serves JPEG files and DICOM frames.
type Header struct {
	SOF         byte // frame marker: 0xC0..0xCF, or 0xF7 for JPEG-LS
	Precision   int
	Width       int
	Height      int // 0 when a DNL segment gives it later
	Components  int
	IDs         []byte // component identifiers
	JFIF        bool
	Adobe       bool
	Transform   int // Adobe colour transform (0 none, 1 YCbCr, 2 YCCK); -1 without an Adobe marker
	Orientation int // EXIF orientation 1..8; 0 when absent
	Quality     int // IJG quality estimated from quantisation table 0; 0 when none was seen
}

// errHeader is the error Parse returns for a stream whose marker segments
// do not lead to a frame header and a scan. Its message is unprefixed, as
// it was when this parser lived in ingest: it shows in decode errors.
var errHeader = errors.New("bad JPEG marker structure")

// Parse walks the marker segments from SOI to the first SOS.
func Parse(data []byte) (Header, error) {
	h := Header{Transform: -1}
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return h, errHeader
	}
	p := 2
	for p+4 <= len(data) {
		if data[p] != 0xFF {
			return h, errHeader
		}
		m := data[p+1]
		switch {
		case m == 0xFF: // fill byte
			p++
			continue
		case m == 0x01 || m >= 0xD0 && m <= 0xD8:
			p += 2
			continue
		case m == 0xD9:
			return h, errHeader // EOI before any scan
		}
		n := int(binary.BigEndian.Uint16(data[p+2:]))
		if n < 2 || p+2+n > len(data) {
			return h, errHeader
		}
		seg := data[p+4 : p+2+n]
		switch {
		case m == 0xDA:
			if h.SOF == 0 {
				return h, errHeader // a scan before any frame header
			}
			return h, nil
		case m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC || m == 0xF7:
			if h.SOF != 0 || len(seg) < 6 {
				return h, errHeader
			}
			h.SOF, h.Precision = m, int(seg[0])
			h.Height = int(binary.BigEndian.Uint16(seg[1:]))
			h.Width = int(binary.BigEndian.Uint16(seg[3:]))
			h.Components = int(seg[5])
			if len(seg) < 6+3*h.Components {
				return h, errHeader
			}
			for c := range h.Components {
				h.IDs = append(h.IDs, seg[6+3*c])
			}
		case m == 0xE0 && bytes.HasPrefix(seg, []byte("JFIF\x00")):
			h.JFIF = true
		case m == 0xE1 && h.Orientation == 0:
			h.Orientation = exifOrientation(seg)
		case m == 0xEE && len(seg) >= 12 && bytes.HasPrefix(seg, []byte("Adobe")):
			h.Adobe = true
			h.Transform = int(seg[11])
		case m == 0xDB && h.Quality == 0:
			h.Quality = estimateQuality(seg)
		}
		p += 2 + n
	}
	return h, errHeader
}

// ColourTransformed reports whether a 3-component stream holds YCbCr (and
// so needs converting to RGB, and has a luma plane) or RGB. The markers
// decide when they can: JFIF means YCbCr, an Adobe segment says which,
// component ids 'R','G','B' mean RGB. Otherwise the DICOM Photometric
// Interpretation does: RGB there means the encoder applied no colour
// transform (PS3.5 8.2.1), as in pydicom's SC_jpeg_no_color_transform.dcm,
// which Go's decoder alone would take for YCbCr. Plain JPEG files pass "".
func (h Header) ColourTransformed(photometric string) bool {
	switch {
	case h.JFIF:
		return true
	case h.Adobe:
		return h.Transform != 0
	case len(h.IDs) == 3 && h.IDs[0] == 'R' && h.IDs[1] == 'G' && h.IDs[2] == 'B':
		return false
	}
	return photometric != "RGB"
}

// exifOrientation returns the Orientation tag (0x0112) of IFD0 of an APP1
// Exif segment, or 0 when there is none or the segment is malformed.
func exifOrientation(seg []byte) int {
	if len(seg) < 14 || string(seg[:6]) != "Exif\x00\x00" {
		return 0
	}
	t := seg[6:]
	var bo binary.ByteOrder
	switch string(t[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return 0
	}
	off := int(bo.Uint32(t[4:]))
	if off < 8 || off+2 > len(t) {
		return 0
	}
	n := int(bo.Uint16(t[off:]))
	for i := 0; i < n; i++ {
		e := off + 2 + 12*i
		if e+12 > len(t) {
			return 0
		}
		if bo.Uint16(t[e:]) != 0x0112 {
			continue
		}
		typ := bo.Uint16(t[e+2:])
		var v int
		switch typ {
		case 3: // SHORT
			v = int(bo.Uint16(t[e+8:]))
		case 4: // LONG
			v = int(bo.Uint32(t[e+8:]))
		default:
			return 0
		}
		if v < 1 || v > 8 {
			return 0
		}
		return v
	}
	return 0
}

// stdLuminanceZigzag is the example luminance quantisation table of the
// JPEG standard (Annex K), which libjpeg scales by its quality setting, in
// the zigzag order DQT segments use.
var stdLuminanceZigzag = [64]int{
	16, 11, 12, 14, 12, 10, 16, 14, 13, 14, 18, 17, 16, 19, 24, 40,
	26, 24, 22, 22, 24, 49, 35, 37, 29, 40, 58, 51, 61, 60, 57, 51,
	56, 55, 64, 72, 92, 78, 64, 68, 87, 69, 55, 56, 80, 109, 81, 87,
	95, 98, 103, 104, 103, 62, 77, 113, 121, 112, 100, 120, 92, 101, 103, 99,
}

// estimateQuality estimates the libjpeg quality (1-100) a DQT segment's
// table 0 was made with: the mean ratio of its entries to the standard
// table is libjpeg's scale factor, which maps back to a quality. Encoders
// with other tables get the quality libjpeg would need for similar
// coarseness, which is what comparing two copies needs. It returns 0 when
// table 0 is not in the segment.
func estimateQuality(seg []byte) int {
	for len(seg) > 0 {
		pq, tq := seg[0]>>4, seg[0]&0x0F
		size := 64
		if pq == 1 {
			size = 128
		}
		if len(seg) < 1+size {
			return 0
		}
		if tq != 0 {
			seg = seg[1+size:]
			continue
		}
		sum := 0.0
		for i := range 64 {
			v := int(seg[1+i])
			if pq == 1 {
				v = int(binary.BigEndian.Uint16(seg[1+2*i:]))
			}
			sum += float64(v) * 100 / float64(stdLuminanceZigzag[i])
		}
		scale := sum / 64
		var q float64
		switch {
		case scale <= 0:
			return 100
		case scale <= 100:
			q = (200 - scale) / 2
		default:
			q = 5000 / scale
		}
		return min(max(int(q+0.5), 1), 100)
	}
	return 0
}

package ingest

import (
	"encoding/binary"
	"errors"
)

// jpegHeader is what copycat needs from a JPEG stream's markers before it
// decides how (and whether) to decode it.
type jpegHeader struct {
	SOF         byte // 0xC0..0xCF frame marker; 0 when none was found
	Precision   int
	Width       int
	Height      int
	Components  int
	Orientation int // EXIF orientation 1..8; 0 when absent
	Adobe       bool
	Transform   int // Adobe colour transform (0 none, 1 YCbCr, 2 YCCK); -1 without an Adobe marker
}

var errJPEGHeader = errors.New("bad JPEG marker structure")

// parseJPEGHeader walks the marker segments up to the first SOF. It reads
// only the headers, so the pixel budget can be checked before decoding.
func parseJPEGHeader(data []byte) (jpegHeader, error) {
	h := jpegHeader{Transform: -1}
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return h, errJPEGHeader
	}
	p := 2
	for p+4 <= len(data) {
		if data[p] != 0xFF {
			return h, errJPEGHeader
		}
		m := data[p+1]
		if m == 0xFF { // fill byte
			p++
			continue
		}
		if m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01 {
			p += 2
			continue
		}
		if m == 0xD9 || m == 0xDA {
			return h, errJPEGHeader // EOI or SOS before any frame header
		}
		n := int(binary.BigEndian.Uint16(data[p+2:]))
		if n < 2 || p+2+n > len(data) {
			return h, errJPEGHeader
		}
		seg := data[p+4 : p+2+n]
		switch {
		case m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC:
			if len(seg) < 6 {
				return h, errJPEGHeader
			}
			h.SOF = m
			h.Precision = int(seg[0])
			h.Height = int(binary.BigEndian.Uint16(seg[1:]))
			h.Width = int(binary.BigEndian.Uint16(seg[3:]))
			h.Components = int(seg[5])
			return h, nil
		case m == 0xE1 && h.Orientation == 0:
			h.Orientation = exifOrientation(seg)
		case m == 0xEE && len(seg) >= 12 && string(seg[:5]) == "Adobe":
			h.Adobe = true
			h.Transform = int(seg[11])
		}
		p += 2 + n
	}
	return h, errJPEGHeader
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

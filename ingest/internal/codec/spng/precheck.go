//go:build cgo && spng

package spng

import (
	"encoding/binary"
	"errors"
)

// Chunk-order stages, as image/png's decoder counts them.
const (
	stStart = iota
	stIHDR
	stPLTE
	stTRNS
	stIDAT
	stIEND
)

// precheck applies the chunk-layout rules by which image/png refuses a
// file and libspng does not (a PLTE chunk in a grey image, chunks out of
// image/png's order, PLTE and tRNS lengths it rejects), so that Decode
// refuses whatever image/png refuses. It reads chunk headers and the IHDR
// fields only; CRCs and contents are libspng's to check. It follows
// image/png's parseChunk, and returns the PLTE and tRNS payloads (nil when
// absent), which Decode interprets as image/png does rather than as
// libspng does (which, for one, drops tRNS entries past the palette).
func precheck(data []byte) (plte, trns []byte, err error) {
	const sig = "\x89PNG\r\n\x1a\n"
	if len(data) < len(sig) || string(data[:len(sig)]) != sig {
		return nil, nil, errors.New("spng: not a PNG file")
	}
	stage := stStart
	var depth, ct byte
	paletted := func() bool { return ct == ctPaletted }
	for p := len(sig); stage != stIEND; {
		if len(data)-p < 12 {
			return nil, nil, errors.New("spng: truncated chunk")
		}
		n := binary.BigEndian.Uint32(data[p:])
		typ := string(data[p+4 : p+8])
		if uint64(n) > uint64(len(data)-p-12) {
			return nil, nil, errors.New("spng: truncated chunk")
		}
		body := data[p+8 : p+8+int(n)]
		p += 12 + int(n)
		bad := false
		switch typ {
		case "IHDR":
			bad = stage != stStart || n != 13
			if !bad {
				depth, ct = body[8], body[9]
			}
			stage = stIHDR
		case "PLTE":
			np := int(n / 3)
			bad = stage != stIHDR || n%3 != 0 || np == 0 || np > 256 || depth < 8 && np > 1<<depth ||
				ct != ctPaletted && ct != ctTrueColor && ct != ctTrueAlpha
			stage = stPLTE
		case "tRNS":
			switch {
			case paletted():
				bad = stage != stPLTE || n > 256
			case ct == ctTrueColor:
				bad = stage != stIHDR && stage != stPLTE || n != 6
			case ct == ctGray:
				bad = stage != stIHDR || n != 2
			default:
				bad = true
			}
			stage = stTRNS
		case "IDAT":
			bad = stage < stIHDR || stage == stIHDR && paletted()
			stage = stIDAT
		case "IEND":
			bad = stage != stIDAT || n != 0
			stage = stIEND
		default:
			bad = n > 0x7fffffff
		}
		if bad {
			return nil, nil, errors.New("spng: " + typ + " chunk where image/png refuses it")
		}
		switch typ {
		case "PLTE":
			plte = body
		case "tRNS":
			trns = body
		}
	}
	return plte, trns, nil
}

package graypng

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"

	"github.com/copycat-dev/copycat/ingest/internal/codec"
)

// Errors Decode returns. ErrNotGray marks a valid-looking PNG this package
// does not decode (callers use another decoder); anything else that is not
// codec.ErrTooLarge is damage, and image/png's own verdict should be asked
// for, as it may read the file differently.
var (
	// ErrNotGray marks a PNG that is not non-interlaced 8- or 16-bit grey
	// without tRNS, or whose chunk layout this package leaves to image/png.
	ErrNotGray = fmt.Errorf("graypng: not a plain 8- or 16-bit grey PNG: %w", codec.ErrUnsupported)
	// ErrCorrupt marks a file whose chunks or pixel data are damaged.
	ErrCorrupt = errors.New("graypng: corrupt PNG")
)

// header is what Decode needs from IHDR and the chunk walk.
type header struct {
	w, h  int
	depth int    // 8 or 16
	z     []byte // the zlib stream: the run of IDAT chunks, concatenated
}

// Decode decodes a non-interlaced 8-bit or 16-bit grey PNG without tRNS
// into the *image.Gray or *image.Gray16 image/png.Decode returns for it,
// with the same pixels. An image of more than maxPixels pixels fails with
// codec.ErrTooLarge before its pixels are allocated; other PNGs fail with
// ErrNotGray; damaged ones with an error matching ErrCorrupt. It accepts a
// file only if image/png accepts it too, but for one kind of malformed
// deflate stream in the libdeflate build (see the package documentation).
// It is safe for concurrent use.
func Decode(data []byte, maxPixels int64) (image.Image, error) {
	hd, err := walk(data, maxPixels)
	if err != nil {
		return nil, err
	}
	bpp := hd.depth / 8
	stride := hd.w * bpp
	// Deflate expands at most 1032 times (a 258-byte match in 2 bits):
	// refuse a stream too short for the rows before allocating them, so
	// that a small file cannot claim the pixel budget's memory.
	if int64(len(hd.z))*1032+64 < int64(hd.h)*int64(stride+1) {
		return nil, fmt.Errorf("%w: %d bytes of IDAT data cannot hold %dx%d pixels", ErrCorrupt, len(hd.z), hd.w, hd.h)
	}
	// One buffer holds the inflated rows (a filter byte, then stride
	// bytes) and, unfiltered in place, the image's pixels: row y's
	// pixels start y+1 bytes before its filtered bytes, so unfiltering
	// left to right never overwrites a byte it has yet to read.
	raw := make([]byte, hd.h*(stride+1))
	if err := inflate(raw, hd.z); err != nil {
		return nil, err
	}
	pix := raw[: hd.h*stride : hd.h*stride]
	if err := unfilter(raw, hd.h, stride, bpp); err != nil {
		return nil, err
	}
	r := image.Rect(0, 0, hd.w, hd.h)
	if hd.depth == 8 {
		return &image.Gray{Pix: pix, Stride: stride, Rect: r}, nil
	}
	return &image.Gray16{Pix: pix, Stride: stride, Rect: r}, nil
}

// walk checks the signature, IHDR and every chunk's CRC and order through
// IEND, and returns the header and the zlib stream. It accepts only
// layouts image/png accepts and decodes the same way: a grey image
// (colour type 0) of depth 8 or 16, not interlaced, with no PLTE or tRNS,
// whose IDAT chunks are consecutive (image/png ignores IDAT chunks after
// others that follow the image data; so does walk); anything else fails.
// It follows image/png's parseChunk.
func walk(data []byte, maxPixels int64) (header, error) {
	var hd header
	const sig = "\x89PNG\r\n\x1a\n"
	if len(data) < len(sig) || string(data[:len(sig)]) != sig {
		return hd, fmt.Errorf("%w: not a PNG file", ErrCorrupt)
	}
	// The IDAT run, as offsets into data, copied into one stream at the
	// end: most encoders split it into many chunks.
	var idat [][2]int
	zlen := 0
	seenIHDR, inIDAT, seenIDAT := false, false, false
	for p := len(sig); ; {
		if len(data)-p < 12 {
			return hd, fmt.Errorf("%w: truncated chunk", ErrCorrupt)
		}
		n := binary.BigEndian.Uint32(data[p:])
		if n > 0x7fffffff || int64(n) > int64(len(data)-p-12) {
			return hd, fmt.Errorf("%w: bad chunk length", ErrCorrupt)
		}
		typ := string(data[p+4 : p+8])
		body := data[p+8 : p+8+int(n)]
		if crc32.ChecksumIEEE(data[p+4:p+8+int(n)]) != binary.BigEndian.Uint32(data[p+8+int(n):]) {
			return hd, fmt.Errorf("%w: %q chunk: invalid checksum", ErrCorrupt, typ)
		}
		p += 12 + int(n)
		if typ != "IDAT" {
			inIDAT = false
		}
		switch typ {
		case "IHDR":
			if seenIHDR || n != 13 {
				return hd, fmt.Errorf("%w: IHDR where image/png refuses it", ErrCorrupt)
			}
			seenIHDR = true
			if err := hd.parseIHDR(body, maxPixels); err != nil {
				return hd, err
			}
		case "IDAT":
			if !seenIHDR {
				return hd, fmt.Errorf("%w: IDAT before IHDR", ErrCorrupt)
			}
			if !seenIDAT {
				inIDAT, seenIDAT = true, true
			}
			if inIDAT {
				idat = append(idat, [2]int{p - 4 - int(n), p - 4})
				zlen += int(n)
			}
		case "IEND":
			if !seenIDAT || n != 0 {
				return hd, fmt.Errorf("%w: IEND where image/png refuses it", ErrCorrupt)
			}
			if len(idat) == 1 {
				hd.z = data[idat[0][0]:idat[0][1]]
			} else {
				hd.z = make([]byte, 0, zlen)
				for _, c := range idat {
					hd.z = append(hd.z, data[c[0]:c[1]]...)
				}
			}
			return hd, nil
		case "PLTE", "tRNS":
			// A PLTE chunk is an error in a grey image, tRNS a
			// conversion this package leaves to others.
			return hd, ErrNotGray
		default:
			if !seenIHDR {
				return hd, fmt.Errorf("%w: %q chunk before IHDR", ErrCorrupt, typ)
			}
		}
	}
}

// parseIHDR reads IHDR's fields, refusing what image/png refuses and what
// this package does not decode, and applies the pixel budget.
func (hd *header) parseIHDR(b []byte, maxPixels int64) error {
	w := int32(binary.BigEndian.Uint32(b[0:]))
	h := int32(binary.BigEndian.Uint32(b[4:]))
	depth, ct, comp, filter, interlace := b[8], b[9], b[10], b[11], b[12]
	if w <= 0 || h <= 0 {
		return fmt.Errorf("%w: non-positive dimension", ErrCorrupt)
	}
	if int64(w)*int64(h) > maxPixels {
		return fmt.Errorf("graypng: %dx%d image exceeds %d pixels: %w", w, h, maxPixels, codec.ErrTooLarge)
	}
	if ct != 0 || depth != 8 && depth != 16 || comp != 0 || filter != 0 || interlace != 0 {
		return ErrNotGray
	}
	hd.w, hd.h, hd.depth = int(w), int(h), int(depth)
	return nil
}

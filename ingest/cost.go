package ingest

import (
	"encoding/binary"

	"github.com/copycat-dev/copycat/ingest/internal/jpeghdr"
)

// DecodeCost estimates the bytes of memory that decoding data holds beyond
// the data itself, from its header alone: the decoded pixels and their
// normalised copy. A scan counts it against the budget its workers share,
// so that two 100-megapixel PNGs (a few MB of file each, but 400 MB as
// RGBA) are not decoded at once. It is 0 when the header says nothing
// reliable, and for DICOM, whose frames are decoded one at a time into
// about the size of the pixel data the file already holds.
func (d *Decoder) DecodeCost(data []byte) int64 {
	kind, name := Sniff(data[:min(len(data), SniffLen)])
	if kind != KindImage {
		return 0
	}
	switch Format(name) {
	case FormatPNG:
		return pngCost(data)
	case FormatJPEG:
		return jpegCost(data, d.opts)
	case FormatNIfTI:
		return niftiCost(data)
	}
	return 0
}

// pngCost is the size of the image image/png (or libspng) returns for the
// IHDR's colour type and depth, plus a normalised copy (grey pictures
// stored as colour become grey).
func pngCost(data []byte) int64 {
	if len(data) < 33 || string(data[12:16]) != "IHDR" {
		return 0
	}
	w, h := int64(binary.BigEndian.Uint32(data[16:])), int64(binary.BigEndian.Uint32(data[20:]))
	depth, colour := data[24], data[25]
	var perPixel int64
	switch colour {
	case 0: // grey: Gray or Gray16 (NRGBA with a tRNS chunk, which IHDR does not show)
		perPixel = 1
	case 3: // palette: Paletted, expanded by normalize
		perPixel = 1 + 4
	default: // RGB, RGBA, grey+alpha: RGBA or NRGBA, and a normalised copy
		perPixel = 4 + 4
	}
	if depth == 16 {
		perPixel *= 2
	}
	if w <= 0 || h <= 0 || w > 1<<31 || h > 1<<31 {
		return 0
	}
	return w * h * perPixel
}

// jpegCost is the size of the frame the JPEG decodes to: reduced in scale
// as the fast path does when Options.MinSide allows (1/2, 1/4, 1/8), one
// byte per component and pixel, twice (decoder planes and output).
func jpegCost(data []byte, opts Options) int64 {
	hd, err := jpeghdr.Parse(data)
	if err != nil || hd.Width <= 0 || hd.Height <= 0 {
		return 0
	}
	w, h := int64(hd.Width), int64(hd.Height)
	scale := int64(1)
	for opts.MinSide > 0 && scale < 8 && min(w, h)/(2*scale) >= int64(opts.MinSide) {
		scale *= 2
	}
	return 2 * (w / scale) * (h / scale) * int64(max(hd.Components, 1))
}

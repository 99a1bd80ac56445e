package dicom

import (
	"encoding/binary"
	"image"
)

// nativeColor turns one frame of uncompressed colour samples (8 or 16 bits,
// by pixel or by plane, or YBR_FULL_422's Y Y Cb Cr pairs) into interleaved
// 8-bit triples. Samples wider than 8 bits keep their top 8 stored bits,
// which is how DCMTK reduces colour depth.
func (d *dicomImage) nativeColor(data []byte, bo binary.ByteOrder, shift uint) []byte {
	n := d.rows * d.cols
	out := make([]byte, 3*n)
	if d.photometric == "YBR_FULL_422" && d.bitsAlloc == 8 {
		// PS3.3 C.7.6.3.1.2: each pair of pixels in a row is stored as
		// Y1 Y2 Cb Cr; chroma is repeated for both.
		for y := 0; y < d.rows; y++ {
			row := data[y*d.cols*2:]
			for x := 0; x < d.cols; x++ {
				pair := row[(x/2)*4:]
				o := out[3*(y*d.cols+x):]
				o[0], o[1], o[2] = pair[x%2], pair[2], pair[3]
			}
		}
		return out
	}
	sample := func(k int) uint8 { return data[k] }
	if d.bitsAlloc == 16 {
		mask := uint32(1)<<d.bitsStored - 1
		down := uint(max(d.bitsStored-8, 0))
		sample = func(k int) uint8 {
			return uint8(uint32(bo.Uint16(data[2*k:])) >> shift & mask >> down)
		}
	} else if shift != 0 || d.bitsStored < 8 {
		mask := uint32(1)<<d.bitsStored - 1
		sample = func(k int) uint8 { return uint8(uint32(data[k]) >> shift & mask) }
	}
	switch {
	case d.planar:
		for c := range 3 {
			for k := range n {
				out[3*k+c] = sample(c*n + k)
			}
		}
	case d.bitsAlloc == 8 && shift == 0 && d.bitsStored == 8:
		copy(out, data[:3*n])
	default:
		for k := range 3 * n {
			out[k] = sample(k)
		}
	}
	return out
}

// renderColor converts interleaved triples to an opaque RGBA image, through
// ybrToRGB when the triples are YBR_FULL.
func (d *dicomImage) renderColor(r *dicomRaw) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, d.cols, d.rows))
	n := d.rows * d.cols
	src, dst := r.rgb[:3*n], out.Pix[:4*n]
	for k := range n {
		s := src[3*k : 3*k+3 : 3*k+3]
		o := dst[4*k : 4*k+4 : 4*k+4]
		if r.ybr {
			o[0], o[1], o[2] = ybrToRGB(s[0], s[1], s[2])
		} else {
			o[0], o[1], o[2] = s[0], s[1], s[2]
		}
		o[3] = 255
	}
	return out
}

// ybrToRGB converts full-range YCbCr (PS3.3 C.7.6.3.1.2, the JFIF equations)
// to RGB, rounding each chroma term to nearest in 16-bit fixed point the way
// libjpeg does. Go's color.YCbCrToRGB rounds differently and lands one level
// off libjpeg (and so DCMTK, GDCM, Pillow) on about a third of pixels.
func ybrToRGB(y, cb, cr uint8) (uint8, uint8, uint8) {
	yy, b, r := int32(y), int32(cb)-128, int32(cr)-128
	const half = 1 << 15
	return clampDICOM8(yy + (91881*r+half)>>16),
		clampDICOM8(yy + (-22554*b-46802*r+half)>>16),
		clampDICOM8(yy + (116130*b+half)>>16)
}

func clampDICOM8(v int32) uint8 {
	switch {
	case v < 0:
		return 0
	case v > 255:
		return 255
	}
	return uint8(v)
}

// upsampleChromaRow writes output row y (w samples) of a chroma plane
// subsampled by (hx, vy) to dst. For 4:2:2 and 4:2:0 it uses the triangle
// ("fancy") filter of libjpeg's jdsample.c, where each output sample weighs
// its nearest input 3:1 against the next nearest in each subsampled
// direction; other ratios repeat samples, as libjpeg does. DICOM viewers
// decode JPEG with libjpeg, so doing the same keeps 4:2:2 ultrasound within
// a level or two of them, where Go's decoder (which repeats samples) is up to
// 90 levels off at the sharp colour edges of overlays.
func upsampleChromaRow(dst, c []byte, stride, w, h, hx, vy, y int) {
	cw, ch := (w+hx-1)/hx, (h+vy-1)/vy
	o := dst[:w]
	r := y / vy
	row := c[r*stride : r*stride+cw]
	switch {
	case hx == 2 && vy == 1 && cw > 1:
		o[0] = row[0]
		for i := 0; i < cw; i++ {
			c3 := 3 * int(row[i])
			if x := 2 * i; x > 0 && x < w {
				o[x] = uint8((c3 + int(row[i-1]) + 1) >> 2)
			}
			if x := 2*i + 1; x < w {
				if i == cw-1 {
					o[x] = row[i]
				} else {
					o[x] = uint8((c3 + int(row[i+1]) + 2) >> 2)
				}
			}
		}
	case hx == 2 && vy == 2 && cw > 1:
		// The neighbouring chroma row: above for even output rows, below
		// for odd, the edge row repeated at the borders.
		rn := max(r-1, 0)
		if y%2 == 1 {
			rn = min(r+1, ch-1)
		}
		near := c[rn*stride : rn*stride+cw]
		sum := func(i int) int { return 3*int(row[i]) + int(near[i]) }
		for i := 0; i < cw; i++ {
			s3 := 3 * sum(i)
			if x := 2 * i; x < w {
				if i == 0 {
					o[x] = uint8((4*sum(0) + 8) >> 4)
				} else {
					o[x] = uint8((s3 + sum(i-1) + 8) >> 4)
				}
			}
			if x := 2*i + 1; x < w {
				if i == cw-1 {
					o[x] = uint8((4*sum(i) + 7) >> 4)
				} else {
					o[x] = uint8((s3 + sum(i+1) + 7) >> 4)
				}
			}
		}
	default:
		for x := range o {
			o[x] = row[min(x/hx, cw-1)]
		}
	}
}

// ycbcrToRGBA renders a decoded JPEG's planes, upsampling chroma with
// libjpeg's filter and converting with ybrToRGB when transformed is set, or
// taking the planes as R, G and B when the stream had no colour transform.
func ycbcrToRGBA(im *image.YCbCr, hx, vy int, transformed bool) *image.RGBA {
	b := im.Bounds()
	w, h := b.Dx(), b.Dy()
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	cb, cr := make([]byte, w), make([]byte, w)
	for y := range h {
		upsampleChromaRow(cb, im.Cb, im.CStride, w, h, hx, vy, y)
		upsampleChromaRow(cr, im.Cr, im.CStride, w, h, hx, vy, y)
		yrow := im.Y[y*im.YStride : y*im.YStride+w]
		dst := out.Pix[y*out.Stride : y*out.Stride+4*w]
		for x, v := range yrow {
			o := dst[4*x : 4*x+4 : 4*x+4]
			if transformed {
				o[0], o[1], o[2] = ybrToRGB(v, cb[x], cr[x])
			} else {
				o[0], o[1], o[2] = v, cb[x], cr[x]
			}
			o[3] = 255
		}
	}
	return out
}

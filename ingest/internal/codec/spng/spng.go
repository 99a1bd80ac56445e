//go:build cgo && spng

package spng

/*
#cgo pkg-config: spng
#include <spng.h>
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"runtime"
	"unsafe"

	"github.com/copycat-dev/copycat/ingest/internal/codec"
)

// Available reports whether this build includes the libspng decoder.
const Available = true

// chunkCacheLimit caps the memory libspng keeps for ancillary chunks
// (text, ICC profiles, EXIF, decompressed zTXt and iCCP). image/png keeps
// none of them; a file over the cap fails here and is left to image/png.
const chunkCacheLimit = 64 << 20

// PNG colour types (IHDR byte 9).
const (
	ctGray      = 0
	ctTrueColor = 2
	ctPaletted  = 3
	ctGrayAlpha = 4
	ctTrueAlpha = 6
)

// Decode decodes the PNG held in data into the image type and pixels
// image/png.Decode returns for it. An image of more than maxPixels pixels
// fails with codec.ErrTooLarge before any pixel memory is allocated. It is
// safe for concurrent use; each call has its own libspng context.
func Decode(data []byte, maxPixels int64) (image.Image, error) {
	if len(data) == 0 {
		return nil, errors.New("spng: empty input")
	}
	plte, trns, err := precheck(data)
	if err != nil {
		return nil, err
	}
	ctx := C.spng_ctx_new(0)
	if ctx == nil {
		return nil, errors.New("spng: spng_ctx_new failed")
	}
	defer C.spng_ctx_free(ctx)

	// libspng keeps the buffer's address between calls: pin it.
	var pin runtime.Pinner
	defer pin.Unpin()
	pin.Pin(&data[0])

	if rc := C.spng_set_crc_action(ctx, C.SPNG_CRC_ERROR, C.SPNG_CRC_ERROR); rc != 0 {
		return nil, spngError("spng_set_crc_action", rc)
	}
	if rc := C.spng_set_chunk_limits(ctx, chunkCacheLimit, chunkCacheLimit); rc != 0 {
		return nil, spngError("spng_set_chunk_limits", rc)
	}
	if rc := C.spng_set_png_buffer(ctx, unsafe.Pointer(&data[0]), C.size_t(len(data))); rc != 0 {
		return nil, spngError("spng_set_png_buffer", rc)
	}
	var ihdr C.struct_spng_ihdr
	if rc := C.spng_get_ihdr(ctx, &ihdr); rc != 0 {
		return nil, spngError("IHDR", rc)
	}
	w, h := int64(ihdr.width), int64(ihdr.height)
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("spng: invalid dimensions %dx%d", w, h)
	}
	if w*h > maxPixels {
		return nil, fmt.Errorf("spng: %dx%d image exceeds %d pixels: %w", w, h, maxPixels, codec.ErrTooLarge)
	}
	d := decoder{
		ctx:   ctx,
		pin:   &pin,
		w:     int(w),
		h:     int(h),
		depth: int(ihdr.bit_depth),
		ct:    int(ihdr.color_type),
		plte:  plte,
		trns:  trns,
	}
	img, err := d.decode()
	if err != nil {
		return nil, err
	}
	// image/png reads every chunk through IEND and checks its CRC.
	if rc := C.spng_decode_chunks(ctx); rc != 0 {
		return nil, spngError("chunks after IDAT", rc)
	}
	return img, nil
}

// decoder holds one image's header while its pixels are converted.
type decoder struct {
	ctx       *C.spng_ctx
	pin       *runtime.Pinner
	w, h      int
	depth, ct int
	plte      []byte // PLTE payload, nil when absent
	trns      []byte // tRNS payload, nil when absent
}

// raw decodes the image into a new buffer in the given libspng format
// (SPNG_FMT_*), de-interlaced.
func (d *decoder) raw(format C.int) ([]byte, error) {
	var n C.size_t
	if rc := C.spng_decoded_image_size(d.ctx, format, &n); rc != 0 {
		return nil, spngError("image size", rc)
	}
	buf := make([]byte, int(n))
	return buf, d.into(buf, format)
}

// into decodes the image into buf in the given libspng format.
func (d *decoder) into(buf []byte, format C.int) error {
	var n C.size_t
	if rc := C.spng_decoded_image_size(d.ctx, format, &n); rc != 0 {
		return spngError("image size", rc)
	}
	if int(n) != len(buf) {
		return errors.New("spng: decoded size differs from the image's")
	}
	d.pin.Pin(&buf[0])
	if rc := C.spng_decode_image(d.ctx, unsafe.Pointer(&buf[0]), n, format, 0); rc != 0 {
		return spngError("IDAT", rc)
	}
	return nil
}

// decode converts libspng's rows into image/png's types, following
// image/png's reader (readImagePass) case by case.
func (d *decoder) decode() (image.Image, error) {
	r := image.Rect(0, 0, d.w, d.h)
	t := d.trns // precheck allows it for grey, RGB and palette images only
	switch {
	case d.ct == ctGray && d.depth <= 8 && t == nil:
		if d.depth == 8 {
			img := image.NewGray(r)
			return img, d.into(img.Pix, C.SPNG_FMT_RAW)
		}
		raw, err := d.raw(C.SPNG_FMT_RAW)
		if err != nil {
			return nil, err
		}
		img := image.NewGray(r)
		unpack(img.Pix, raw, d.w, d.h, d.depth, true)
		return img, nil
	case d.ct == ctGray && d.depth <= 8:
		raw, err := d.raw(C.SPNG_FMT_RAW)
		if err != nil {
			return nil, err
		}
		y := make([]byte, d.w*d.h)
		unpack(y, raw, d.w, d.h, d.depth, true)
		// image/png compares the low byte of the tRNS grey, scaled like
		// the samples, in 8-bit arithmetic.
		ty := t[1] * [9]uint8{1: 0xff, 2: 0x55, 4: 0x11, 8: 1}[d.depth]
		img := image.NewNRGBA(r)
		for i, v := range y {
			a := uint8(0xff)
			if v == ty {
				a = 0
			}
			p := img.Pix[4*i : 4*i+4 : 4*i+4]
			p[0], p[1], p[2], p[3] = v, v, v, a
		}
		return img, nil
	case d.ct == ctGray && t == nil: // 16-bit
		img := image.NewGray16(r)
		return img, d.into(img.Pix, C.SPNG_FMT_RAW)
	case d.ct == ctGray:
		raw, err := d.raw(C.SPNG_FMT_RAW)
		if err != nil {
			return nil, err
		}
		ty := binary.BigEndian.Uint16(t)
		img := image.NewNRGBA64(r)
		for i := 0; i < d.w*d.h; i++ {
			hi, lo := raw[2*i], raw[2*i+1]
			a := uint8(0xff)
			if uint16(hi)<<8|uint16(lo) == ty {
				a = 0
			}
			p := img.Pix[8*i : 8*i+8 : 8*i+8]
			p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7] = hi, lo, hi, lo, hi, lo, a, a
		}
		return img, nil
	case d.ct == ctTrueColor && d.depth == 8 && t == nil:
		// Without SPNG_DECODE_TRNS, libspng's RGBA8 output of an 8-bit RGB
		// image is the samples with alpha 0xff: image/png's *image.RGBA.
		img := image.NewRGBA(r)
		return img, d.into(img.Pix, C.SPNG_FMT_RGBA8)
	case d.ct == ctTrueColor && d.depth == 8:
		raw, err := d.raw(C.SPNG_FMT_RAW)
		if err != nil {
			return nil, err
		}
		// image/png compares the low bytes of the tRNS colour.
		tr, tg, tb := t[1], t[3], t[5]
		img := image.NewNRGBA(r)
		for i := 0; i < d.w*d.h; i++ {
			s := raw[3*i : 3*i+3 : 3*i+3]
			p := img.Pix[4*i : 4*i+4 : 4*i+4]
			a := uint8(0xff)
			if s[0] == tr && s[1] == tg && s[2] == tb {
				a = 0
			}
			p[0], p[1], p[2], p[3] = s[0], s[1], s[2], a
		}
		return img, nil
	case d.ct == ctTrueColor: // 16-bit
		raw, err := d.raw(C.SPNG_FMT_RAW)
		if err != nil {
			return nil, err
		}
		var pix []byte
		var img image.Image
		if t == nil {
			m := image.NewRGBA64(r)
			pix, img = m.Pix, m
		} else {
			m := image.NewNRGBA64(r)
			pix, img = m.Pix, m
		}
		for i := 0; i < d.w*d.h; i++ {
			s := raw[6*i : 6*i+6 : 6*i+6]
			p := pix[8*i : 8*i+8 : 8*i+8]
			copy(p, s)
			a := uint8(0xff)
			if t != nil && [6]byte(s) == [6]byte(t) {
				a = 0
			}
			p[6], p[7] = a, a
		}
		return img, nil
	case d.ct == ctGrayAlpha && d.depth == 8:
		raw, err := d.raw(C.SPNG_FMT_RAW)
		if err != nil {
			return nil, err
		}
		img := image.NewNRGBA(r)
		for i := 0; i < d.w*d.h; i++ {
			v, a := raw[2*i], raw[2*i+1]
			p := img.Pix[4*i : 4*i+4 : 4*i+4]
			p[0], p[1], p[2], p[3] = v, v, v, a
		}
		return img, nil
	case d.ct == ctGrayAlpha: // 16-bit
		raw, err := d.raw(C.SPNG_FMT_RAW)
		if err != nil {
			return nil, err
		}
		img := image.NewNRGBA64(r)
		for i := 0; i < d.w*d.h; i++ {
			s := raw[4*i : 4*i+4 : 4*i+4]
			p := img.Pix[8*i : 8*i+8 : 8*i+8]
			p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7] = s[0], s[1], s[0], s[1], s[0], s[1], s[2], s[3]
		}
		return img, nil
	case d.ct == ctTrueAlpha && d.depth == 8:
		img := image.NewNRGBA(r)
		return img, d.into(img.Pix, C.SPNG_FMT_RAW)
	case d.ct == ctTrueAlpha: // 16-bit
		img := image.NewNRGBA64(r)
		return img, d.into(img.Pix, C.SPNG_FMT_RAW)
	case d.ct == ctPaletted:
		return d.paletted(r)
	}
	return nil, fmt.Errorf("spng: bit depth %d, colour type %d: %w", d.depth, d.ct, codec.ErrUnsupported)
}

// paletted builds image/png's *image.Paletted: the PLTE entries as opaque
// color.RGBA, those with a tRNS alpha as color.NRGBA, and the palette
// extended with opaque black to cover the largest index used (image/png
// tolerates out-of-range indices, as libpng does).
func (d *decoder) paletted(r image.Rectangle) (image.Image, error) {
	np := len(d.plte) / 3
	pal := make(color.Palette, 256)
	for i := range pal {
		c := color.RGBA{0, 0, 0, 0xff}
		if i < np {
			c.R, c.G, c.B = d.plte[3*i], d.plte[3*i+1], d.plte[3*i+2]
		}
		pal[i] = c
	}
	for i, a := range d.trns {
		c := pal[i].(color.RGBA)
		pal[i] = color.NRGBA{c.R, c.G, c.B, a}
	}
	n := max(np, len(d.trns))
	img := image.NewPaletted(r, nil)
	if d.depth == 8 {
		if err := d.into(img.Pix, C.SPNG_FMT_RAW); err != nil {
			return nil, err
		}
	} else {
		raw, err := d.raw(C.SPNG_FMT_RAW)
		if err != nil {
			return nil, err
		}
		unpack(img.Pix, raw, d.w, d.h, d.depth, false)
	}
	if n < 256 {
		for _, v := range img.Pix {
			if int(v) >= n {
				n = int(v) + 1
			}
		}
	}
	img.Palette = pal[:n]
	return img, nil
}

// unpack spreads packed rows of 1, 2 or 4-bit samples (each row starting
// on a byte) into one byte per sample, scaled to 8 bits for grey as
// image/png scales them (v*0xff, v*0x55, v*0x11), kept as indices for a
// palette.
func unpack(dst, src []byte, w, h, depth int, scale bool) {
	if depth == 8 {
		copy(dst, src)
		return
	}
	stride := (w*depth + 7) / 8
	mul := uint8(1)
	if scale {
		mul = [5]uint8{1: 0xff, 2: 0x55, 4: 0x11}[depth]
	}
	mask := uint8(1)<<depth - 1
	for y := range h {
		row := src[y*stride : (y+1)*stride]
		out := dst[y*w : (y+1)*w]
		for x := range out {
			bit := x * depth
			shift := 8 - depth - bit%8
			out[x] = (row[bit/8] >> shift & mask) * mul
		}
	}
}

// spngError maps a libspng error code onto codec's classes: header values
// image/png calls unsupported match codec.ErrUnsupported, resource limits
// codec.ErrTooLarge, and the rest is corrupt data.
func spngError(op string, rc C.int) error {
	msg := fmt.Sprintf("spng: %s: %s", op, C.GoString(C.spng_strerror(rc)))
	switch rc {
	case C.SPNG_ECOMPRESSION_METHOD, C.SPNG_EFILTER_METHOD, C.SPNG_EBIT_DEPTH, C.SPNG_ECOLOR_TYPE,
		C.SPNG_ECHUNK_UNKNOWN_CRITICAL:
		return fmt.Errorf("%s: %w", msg, codec.ErrUnsupported)
	case C.SPNG_EMEM, C.SPNG_EOVERFLOW, C.SPNG_ECHUNK_LIMITS, C.SPNG_EUSER_WIDTH, C.SPNG_EUSER_HEIGHT:
		return fmt.Errorf("%s: %w", msg, codec.ErrTooLarge)
	}
	return errors.New(msg)
}

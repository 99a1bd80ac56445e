//go:build cgo && turbojpeg

package turbojpeg

/*
#cgo pkg-config: libturbojpeg
#include <stdlib.h>
#include <turbojpeg.h>
*/
import "C"

import (
	"fmt"
	"image"
	"runtime"
	"unsafe"
)

// Encoder wraps one TurboJPEG compressor. It is not safe for concurrent
// use; a forgotten Encoder is freed by the garbage collector.
type Encoder struct {
	h       *handle
	cleanup runtime.Cleanup
}

// NewEncoder makes an Encoder with its own TurboJPEG handle.
func NewEncoder() (*Encoder, error) {
	h := C.tjInitCompress()
	if h == nil {
		return nil, fmt.Errorf("turbojpeg: tjInitCompress: %s", C.GoString(C.tjGetErrorStr2(nil)))
	}
	e := &Encoder{h: &handle{h: h}}
	e.cleanup = runtime.AddCleanup(e, func(hd *handle) { C.tjDestroy(hd.h) }, e.h)
	return e, nil
}

// Encode compresses an *image.Gray (as greyscale) or an *image.RGBA (as
// colour, chroma subsampled 4:2:0, alpha ignored) at quality 1-100 and
// appends the JPEG to dst.
func (e *Encoder) Encode(dst []byte, img image.Image, quality int) ([]byte, error) {
	var (
		pix                []uint8
		w, h, stride       int
		format, subsamples C.int
	)
	switch m := img.(type) {
	case *image.Gray:
		pix, w, h, stride = m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y):], m.Rect.Dx(), m.Rect.Dy(), m.Stride
		format, subsamples = C.TJPF_GRAY, C.TJSAMP_GRAY
	case *image.RGBA:
		pix, w, h, stride = m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y):], m.Rect.Dx(), m.Rect.Dy(), m.Stride
		format, subsamples = C.TJPF_RGBX, C.TJSAMP_420
	default:
		return dst, fmt.Errorf("turbojpeg: cannot encode %T", img)
	}
	if w <= 0 || h <= 0 {
		return dst, fmt.Errorf("turbojpeg: empty image")
	}
	var out *C.uchar
	var size C.ulong
	rc := C.tjCompress2(e.h.h, (*C.uchar)(unsafe.Pointer(&pix[0])), C.int(w), C.int(stride), C.int(h), format,
		&out, &size, subsamples, C.int(quality), C.TJFLAG_FASTDCT)
	runtime.KeepAlive(pix)
	if out != nil {
		defer C.tjFree(out)
	}
	if rc != 0 {
		return dst, fmt.Errorf("turbojpeg: tjCompress2: %s", C.GoString(C.tjGetErrorStr2(e.h.h)))
	}
	return append(dst, unsafe.Slice((*byte)(unsafe.Pointer(out)), int(size))...), nil
}

package ingest

import (
	"bytes"
	"image"
	"image/jpeg"

	"github.com/copycat-dev/copycat/ingest/internal/codec/turbojpeg"
)

// JPEGEncoder writes small JPEGs, such as the previews a scan stores for
// people to look at. It lives beside the decoders because it shares their
// C library: with libjpeg-turbo built in (the turbojpeg tag) it encodes a
// 96x96 preview in a tenth of the time image/jpeg takes, which otherwise
// costs a fifth of a small PNG's whole scan. It is not safe for concurrent
// use: each scan worker keeps its own.
type JPEGEncoder struct {
	tj  *turbojpeg.Encoder // nil without the C library: image/jpeg then
	buf bytes.Buffer
}

// NewJPEGEncoder returns an encoder, with libjpeg-turbo when this build
// has it.
func NewJPEGEncoder() *JPEGEncoder {
	tj, err := turbojpeg.NewEncoder()
	if err != nil {
		tj = nil
	}
	return &JPEGEncoder{tj: tj}
}

// Encode returns img as a JPEG of the given quality (1-100): *image.Gray
// as greyscale, *image.RGBA as colour. Other image types go through
// image/jpeg.
func (e *JPEGEncoder) Encode(img image.Image, quality int) ([]byte, error) {
	if e.tj != nil {
		switch img.(type) {
		case *image.Gray, *image.RGBA:
			return e.tj.Encode(nil, img, quality)
		}
	}
	e.buf.Reset()
	if err := jpeg.Encode(&e.buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, err
	}
	return bytes.Clone(e.buf.Bytes()), nil
}

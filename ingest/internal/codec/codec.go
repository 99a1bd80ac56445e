// Package codec holds what the compressed-pixel decoders of copycat's DICOM
// reader share: the decoded frame type and the error classes.
//
// Each codec lives in its own sub-package (ljpeg, rle, jpegls, jpeg2000) and
// decodes one frame's bitstream, nothing more: the DICOM layer in package
// ingest finds the fragments, calls the codec, and then applies DICOM's own
// rules (photometric interpretation, pixel representation, rescale). The
// codecs therefore return samples exactly as coded, without colour
// conversion or sign extension.
//
// Errors: bad data yields an ordinary wrapped error, which the caller reports
// as corrupt input. A valid stream using a feature a codec does not implement
// yields an error matching ErrUnsupported, and a codec compiled out of this
// build (the cgo ones need build tags) yields one matching ErrNotBuilt. Both
// are matched with errors.Is.
package codec

import "errors"

// Error classes shared by the codecs. Codecs wrap them with detail, so match
// them with errors.Is.
var (
	// ErrUnsupported marks a well-formed stream that uses a feature the codec
	// does not implement (e.g. progressive or arithmetic-coded JPEG).
	ErrUnsupported = errors.New("codec: unsupported")
	// ErrNotBuilt marks a codec left out of this build: the cgo codecs need
	// cgo and their build tag (charls, openjpeg).
	ErrNotBuilt = errors.New("codec: not built")
	// ErrTooLarge marks a frame whose declared size exceeds MaxSamples or
	// cannot possibly be coded in the bytes given; it is reported before
	// any large allocation.
	ErrTooLarge = errors.New("codec: frame too large")
)

// MaxSamples is the most samples (width*height*components) a codec will
// allocate for one frame: 2^28 samples is 512 MiB of uint16, well above any
// real medical frame and low enough that hostile headers cannot exhaust
// memory.
const MaxSamples = 1 << 28

// Image holds the samples of one decoded frame.
type Image struct {
	Width, Height, Components int
	Precision                 int      // bits per sample as coded (2..16)
	Pix                       []uint16 // interleaved samples, row-major, len == Width*Height*Components

	// Signed reports that the stream itself declares signed samples (only
	// JPEG 2000 can say so). Pix then holds each sample's two's-complement
	// bit pattern within Precision bits, so the caller sign-extends from bit
	// Precision-1. Codecs whose streams carry no sign (JPEG, JPEG-LS) leave
	// it false; DICOM's Pixel Representation decides there.
	Signed bool
}

//go:build !(cgo && turbojpeg)

package turbojpeg

import (
	"fmt"
	"image"

	"github.com/copycat-dev/copycat/ingest/internal/codec"
)

// Available reports whether this build includes the libjpeg-turbo decoder.
const Available = false

var errNotBuilt = fmt.Errorf("turbojpeg: built without cgo and the turbojpeg tag: %w", codec.ErrNotBuilt)

// Decoder is a TurboJPEG decompressor; in this build it cannot be made.
type Decoder struct{}

// NewDecoder fails with an error matching codec.ErrNotBuilt in this build.
func NewDecoder() (*Decoder, error) { return nil, errNotBuilt }

// Luma fails with an error matching codec.ErrNotBuilt in this build.
func (d *Decoder) Luma(data []byte, minSide int) (*image.Gray, int, error) {
	return nil, 0, errNotBuilt
}

// Close does nothing in this build.
func (d *Decoder) Close() error { return nil }

// Luma fails with an error matching codec.ErrNotBuilt in this build.
func Luma(data []byte, minSide int) (*image.Gray, int, error) { return nil, 0, errNotBuilt }

// Encoder is a TurboJPEG compressor; in this build it cannot be made.
type Encoder struct{}

// NewEncoder fails with an error matching codec.ErrNotBuilt in this build.
func NewEncoder() (*Encoder, error) { return nil, errNotBuilt }

// Encode fails with an error matching codec.ErrNotBuilt in this build.
func (e *Encoder) Encode(dst []byte, img image.Image, quality int) ([]byte, error) {
	return dst, errNotBuilt
}

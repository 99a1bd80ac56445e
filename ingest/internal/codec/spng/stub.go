//go:build !(cgo && spng)

package spng

import (
	"fmt"
	"image"

	"github.com/copycat-dev/copycat/ingest/internal/codec"
)

// Available reports whether this build includes the libspng decoder.
const Available = false

// Decode fails with an error matching codec.ErrNotBuilt in this build.
func Decode(data []byte, maxPixels int64) (image.Image, error) {
	return nil, fmt.Errorf("spng: built without cgo and the spng tag: %w", codec.ErrNotBuilt)
}

//go:build !(cgo && charls)

package jpegls

import (
	"fmt"

	"github.com/copycat-dev/copycat/ingest/internal/codec"
)

// Available reports whether this build decodes JPEG-LS. It is false: the
// build lacks cgo or the charls tag.
const Available = false

// Decode always fails in this build with an error matching
// codec.ErrNotBuilt.
func Decode(data []byte) (*codec.Image, error) {
	return nil, fmt.Errorf("jpegls: built without CharLS (needs cgo and -tags charls): %w", codec.ErrNotBuilt)
}

//go:build !(cgo && openjpeg)

package jpeg2000

import (
	"fmt"

	"github.com/copycat-dev/copycat/ingest/internal/codec"
)

// Available reports whether this build decodes JPEG 2000. It is false: the
// build lacks cgo or the openjpeg tag.
const Available = false

// Decode always fails in this build with an error matching
// codec.ErrNotBuilt.
func Decode(data []byte) (*codec.Image, error) {
	return nil, fmt.Errorf("jpeg2000: built without OpenJPEG (needs cgo and -tags openjpeg): %w", codec.ErrNotBuilt)
}

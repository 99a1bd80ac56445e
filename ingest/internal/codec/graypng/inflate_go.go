//go:build !(cgo && libdeflate)

package graypng

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
)

// Inflater names the zlib decoder this build uses.
const Inflater = "compress/zlib"

// inflate decompresses the zlib stream z into out, which must be filled
// exactly, with the Adler-32 checked, and the stream must end where z
// ends. image/png accepts some streams followed by surplus bytes; Decode
// refuses them, and its callers ask image/png.
func inflate(out, z []byte) error {
	br := bytes.NewReader(z)
	zr, err := zlib.NewReader(br)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if _, err := io.ReadFull(zr, out); err != nil {
		return fmt.Errorf("%w: not enough pixel data: %v", ErrCorrupt, err)
	}
	// Reading past the rows verifies the Adler-32 and finds surplus data.
	var one [1]byte
	if n, err := zr.Read(one[:]); n != 0 || err != io.EOF {
		return fmt.Errorf("%w: too much pixel data or bad stream end: %v", ErrCorrupt, err)
	}
	if br.Len() != 0 {
		return fmt.Errorf("%w: %d bytes after the zlib stream", ErrCorrupt, br.Len())
	}
	return nil
}

//go:build cgo && libdeflate

package graypng

/*
#cgo pkg-config: libdeflate
#include <libdeflate.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// Inflater names the zlib decoder this build uses.
const Inflater = "libdeflate"

// inflate decompresses the zlib stream z into out, which must be filled
// exactly, with the Adler-32 checked, and the stream must end where z
// ends. image/png accepts some streams followed by surplus bytes; Decode
// refuses them, and its callers ask image/png.
//
// A decompressor is allocated per call (about 32 KB, no tables to build
// up front): sharing one would need a lock or package state, and the
// allocation is noise next to a 1-megapixel inflate.
func inflate(out, z []byte) error {
	if len(z) == 0 || len(out) == 0 {
		return fmt.Errorf("%w: no pixel data", ErrCorrupt)
	}
	d := C.libdeflate_alloc_decompressor()
	if d == nil {
		return errors.New("graypng: libdeflate_alloc_decompressor failed")
	}
	defer C.libdeflate_free_decompressor(d)
	var in, got C.size_t
	// The Go buffers hold no Go pointers and are used only during the
	// call, so cgo's rules allow passing them without pinning.
	rc := C.libdeflate_zlib_decompress_ex(d,
		unsafe.Pointer(&z[0]), C.size_t(len(z)),
		unsafe.Pointer(&out[0]), C.size_t(len(out)),
		&in, &got)
	switch {
	case rc == C.LIBDEFLATE_INSUFFICIENT_SPACE:
		return fmt.Errorf("%w: too much pixel data", ErrCorrupt)
	case rc == C.LIBDEFLATE_BAD_DATA:
		return fmt.Errorf("%w: invalid zlib stream or checksum", ErrCorrupt)
	case rc == C.LIBDEFLATE_SHORT_OUTPUT:
		return fmt.Errorf("%w: not enough pixel data", ErrCorrupt)
	case rc != C.LIBDEFLATE_SUCCESS:
		return fmt.Errorf("%w: libdeflate error %d", ErrCorrupt, int(rc))
	case int(got) != len(out):
		return fmt.Errorf("%w: not enough pixel data", ErrCorrupt)
	case int(in) != len(z):
		return fmt.Errorf("%w: %d bytes after the zlib stream", ErrCorrupt, len(z)-int(in))
	}
	return nil
}

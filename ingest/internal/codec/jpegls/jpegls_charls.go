//go:build cgo && charls

package jpegls

/*
#cgo pkg-config: charls
#include <assert.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <charls/charls.h>

// Debian builds CharLS with assertions enabled, and some corrupt streams
// trip one (context_run_mode.h: "k <= 32" when a run-mode statistic
// overflows); assert() then calls abort() and takes the whole process down.
// This definition of glibc's __assert_fail, in the executable, takes
// precedence over libc's for libcharls (ELF symbol interposition). While a
// guarded CharLS call runs on this thread it jumps back to the guard, which
// reports a decoding error; everywhere else it prints and aborts exactly
// like glibc. Jumping out skips CharLS's C++ destructors, so the objects of
// that one failed decode leak (a few KB per hostile file), which beats
// losing the process. Without assertions (NDEBUG) the same streams would
// make CharLS loop forever, so the guard cannot simply be dropped.
static __thread jmp_buf *cc_guard;
static __thread char cc_assert_msg[256];

void __assert_fail(const char *assertion, const char *file, unsigned int line, const char *function) {
	if (cc_guard != NULL) {
		jmp_buf *g = cc_guard;
		cc_guard = NULL;
		snprintf(cc_assert_msg, sizeof cc_assert_msg, "%s:%u: assertion %s failed", file, line, assertion);
		longjmp(*g, 1);
	}
	fprintf(stderr, "%s:%u: %s: Assertion `%s' failed.\n", file, line, function, assertion);
	abort();
}

// cc_assert_failed is returned by the guarded calls when CharLS asserted.
enum { cc_assert_failed = -1 };

static const char *cc_last_assert(void) { return cc_assert_msg; }

static int cc_read_header(charls_jpegls_decoder *d) {
	jmp_buf jb;
	if (setjmp(jb) != 0) return cc_assert_failed;
	cc_guard = &jb;
	int r = charls_jpegls_decoder_read_header(d);
	cc_guard = NULL;
	return r;
}

static int cc_decode(charls_jpegls_decoder *d, void *dst, size_t n) {
	jmp_buf jb;
	if (setjmp(jb) != 0) return cc_assert_failed;
	cc_guard = &jb;
	int r = charls_jpegls_decoder_decode_to_buffer(d, dst, n, 0);
	cc_guard = NULL;
	return r;
}
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"github.com/copycat-dev/copycat/ingest/internal/codec"
)

// Available reports whether this build decodes JPEG-LS. It is true: CharLS
// is linked in.
const Available = true

// maxComponents is the most components accepted: DICOM uses 1 or 3.
const maxComponents = 4

// Decode decodes one JPEG-LS image. The frame size from the header is
// checked against codec.MaxSamples before the output is allocated.
func Decode(data []byte) (*codec.Image, error) {
	if len(data) == 0 {
		return nil, errors.New("jpegls: empty input")
	}
	data = withEOI(data)
	// CharLS keeps the source pointer between calls, so the Go memory must
	// stay pinned until the decoder is destroyed. Deferred calls run last
	// in, first out: Unpin runs after destroy.
	var pin runtime.Pinner
	defer pin.Unpin()
	pin.Pin(&data[0])
	dec := C.charls_jpegls_decoder_create()
	if dec == nil {
		return nil, errors.New("jpegls: CharLS could not create a decoder")
	}
	defer C.charls_jpegls_decoder_destroy(dec)
	if err := check("set source", C.charls_jpegls_decoder_set_source_buffer(dec, unsafe.Pointer(&data[0]), C.size_t(len(data)))); err != nil {
		return nil, err
	}
	if err := checkGuarded("read header", C.cc_read_header(dec)); err != nil {
		return nil, err
	}
	var fi C.charls_frame_info
	if err := check("frame info", C.charls_jpegls_decoder_get_frame_info(dec, &fi)); err != nil {
		return nil, err
	}
	w, h, bits, nc := int(fi.width), int(fi.height), int(fi.bits_per_sample), int(fi.component_count)
	switch {
	case w <= 0 || h <= 0:
		return nil, fmt.Errorf("jpegls: bad size %dx%d", w, h)
	case bits < 2 || bits > 16:
		return nil, fmt.Errorf("jpegls: %d bits per sample outside 2..16", bits)
	case nc < 1:
		return nil, fmt.Errorf("jpegls: %d components", nc)
	case nc > maxComponents:
		return nil, fmt.Errorf("jpegls: %d components: %w", nc, codec.ErrUnsupported)
	case int64(w)*int64(h)*int64(nc) > codec.MaxSamples:
		return nil, fmt.Errorf("jpegls: %dx%dx%d frame exceeds %d samples: %w", w, h, nc, codec.MaxSamples, codec.ErrTooLarge)
	}
	var mode C.charls_interleave_mode
	if err := check("interleave mode", C.charls_jpegls_decoder_get_interleave_mode(dec, &mode)); err != nil {
		return nil, err
	}
	bps := 1
	if bits > 8 {
		bps = 2
	}
	n := w * h * nc
	var size C.size_t
	if err := check("destination size", C.charls_jpegls_decoder_get_destination_size(dec, 0, &size)); err != nil {
		return nil, err
	}
	if int(size) != n*bps {
		return nil, fmt.Errorf("jpegls: CharLS wants %d bytes for a %dx%dx%d %d-bit frame", size, w, h, nc, bits)
	}
	buf := make([]byte, n*bps)
	if err := checkGuarded("decode", C.cc_decode(dec, unsafe.Pointer(&buf[0]), size)); err != nil {
		return nil, err
	}
	img := &codec.Image{Width: w, Height: h, Components: nc, Precision: bits, Pix: make([]uint16, n)}
	// CharLS writes samples in host byte order, planar when the stream has
	// one scan per component (interleave mode none), else interleaved.
	planar := mode == C.CHARLS_INTERLEAVE_MODE_NONE && nc > 1
	plane := w * h
	for i := range img.Pix {
		src := i
		if planar {
			src = (i%nc)*plane + i/nc
		}
		if bps == 1 {
			img.Pix[i] = uint16(buf[src])
		} else {
			img.Pix[i] = binary.NativeEndian.Uint16(buf[2*src:])
		}
	}
	return img, nil
}

// withEOI returns data ending in an EOI marker, appending one (to a copy)
// when it is missing. CharLS 2.4 reading a scan that runs off the end of
// its buffer can spin for seconds (12 s measured on a 4 KB frame cut in
// half) before it reports the error; with a marker at the end it stops at
// once. A complete stream that merely lacks EOI still decodes. Trailing
// zero bytes (DICOM's even-length padding) are allowed after EOI.
func withEOI(data []byte) []byte {
	end := len(data)
	for end > 0 && data[end-1] == 0 {
		end--
	}
	if end >= 2 && data[end-2] == 0xFF && data[end-1] == 0xD9 {
		return data
	}
	out := make([]byte, end, end+2)
	copy(out, data)
	return append(out, 0xFF, 0xD9)
}

// checkGuarded is check for the calls made through the assertion guard.
func checkGuarded(op string, r C.int) error {
	if r == C.cc_assert_failed {
		return fmt.Errorf("jpegls: %s: corrupt stream (CharLS %s)", op, C.GoString(C.cc_last_assert()))
	}
	return check(op, C.charls_jpegls_errc(r))
}

// check turns a CharLS error code into a Go error, marking the codes that
// describe valid streams CharLS cannot handle as codec.ErrUnsupported.
func check(op string, ec C.charls_jpegls_errc) error {
	if ec == C.CHARLS_JPEGLS_ERRC_SUCCESS {
		return nil
	}
	msg := C.GoString(C.charls_get_error_message(ec))
	switch ec {
	case C.CHARLS_JPEGLS_ERRC_PARAMETER_VALUE_NOT_SUPPORTED,
		C.CHARLS_JPEGLS_ERRC_BIT_DEPTH_FOR_TRANSFORM_NOT_SUPPORTED,
		C.CHARLS_JPEGLS_ERRC_COLOR_TRANSFORM_NOT_SUPPORTED,
		C.CHARLS_JPEGLS_ERRC_ENCODING_NOT_SUPPORTED,
		C.CHARLS_JPEGLS_ERRC_JPEGLS_PRESET_EXTENDED_PARAMETER_TYPE_NOT_SUPPORTED:
		return fmt.Errorf("jpegls: %s: %s (CharLS error %d): %w", op, msg, int(ec), codec.ErrUnsupported)
	}
	return fmt.Errorf("jpegls: %s: %s (CharLS error %d)", op, msg, int(ec))
}

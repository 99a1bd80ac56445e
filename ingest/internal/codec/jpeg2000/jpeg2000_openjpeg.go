//go:build cgo && openjpeg

package jpeg2000

/*
#cgo pkg-config: libopenjp2
#include <stdlib.h>
#include <string.h>
#include <openjpeg.h>

// cc_src is the memory source behind an opj_stream_t. data points at Go
// memory that the caller keeps pinned until the stream is destroyed. err
// keeps OpenJPEG's first error message.
typedef struct {
	const unsigned char *data;
	OPJ_SIZE_T len, pos;
	char err[256];
} cc_src;

static OPJ_SIZE_T cc_read(void *buf, OPJ_SIZE_T n, void *user) {
	cc_src *s = user;
	if (s->pos >= s->len) return (OPJ_SIZE_T)-1;
	OPJ_SIZE_T left = s->len - s->pos;
	if (n > left) n = left;
	memcpy(buf, s->data + s->pos, n);
	s->pos += n;
	return n;
}

static OPJ_OFF_T cc_skip(OPJ_OFF_T n, void *user) {
	cc_src *s = user;
	if (n < 0) {
		if ((OPJ_SIZE_T)(-n) > s->pos) return -1;
	} else if ((OPJ_SIZE_T)n > s->len - s->pos) {
		n = (OPJ_OFF_T)(s->len - s->pos);
	}
	s->pos += n;
	return n;
}

static OPJ_BOOL cc_seek(OPJ_OFF_T n, void *user) {
	cc_src *s = user;
	if (n < 0 || (OPJ_SIZE_T)n > s->len) return OPJ_FALSE;
	s->pos = (OPJ_SIZE_T)n;
	return OPJ_TRUE;
}

static void cc_error(const char *msg, void *user) {
	cc_src *s = user;
	if (s->err[0] == 0) {
		strncpy(s->err, msg, sizeof s->err - 1);
	}
}

static void cc_quiet(const char *msg, void *user) { (void)msg; (void)user; }

static opj_stream_t *cc_stream(cc_src *s) {
	opj_stream_t *st = opj_stream_create(OPJ_J2K_STREAM_CHUNK_SIZE, OPJ_TRUE);
	if (st == NULL) return NULL;
	opj_stream_set_read_function(st, cc_read);
	opj_stream_set_skip_function(st, cc_skip);
	opj_stream_set_seek_function(st, cc_seek);
	opj_stream_set_user_data(st, s, NULL);
	opj_stream_set_user_data_length(st, s->len);
	return st;
}

static opj_codec_t *cc_codec(int jp2, cc_src *s) {
	opj_codec_t *c = opj_create_decompress(jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K);
	if (c == NULL) return NULL;
	opj_set_error_handler(c, cc_error, s);
	opj_set_warning_handler(c, cc_quiet, s);
	opj_set_info_handler(c, cc_quiet, s);
	opj_dparameters_t p;
	opj_set_default_decoder_parameters(&p);
	if (!opj_setup_decoder(c, &p)) {
		opj_destroy_codec(c);
		return NULL;
	}
	return c;
}

static opj_image_comp_t *cc_comp(opj_image_t *im, OPJ_UINT32 i) { return &im->comps[i]; }
*/
import "C"

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"github.com/copycat-dev/copycat/ingest/internal/codec"
)

// Available reports whether this build decodes JPEG 2000. It is true:
// OpenJPEG is linked in.
const Available = true

// maxComponents is the most components accepted: DICOM uses 1 or 3.
const maxComponents = 4

// A JPEG 2000 header can claim a huge image in a few bytes, and OpenJPEG
// then allocates four bytes per sample before it finds the data missing
// (a 151-byte fuzz input claimed 2686976x64 and took 2 s and 1 GB). So
// besides codec.MaxSamples a frame may have at most samplesPerByte samples
// per input byte, with minSampleBudget always allowed. Real frames are far
// below the ratio (the corpus's lossy CTs: about 100 samples per byte);
// only an almost blank, very large, losslessly coded frame could reach it.
const (
	samplesPerByte  = 1 << 14
	minSampleBudget = 1 << 24
)

var (
	j2kMagic = []byte{0xFF, 0x4F, 0xFF, 0x51}                                                 // SOC then SIZ
	jp2Magic = []byte{0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A} // JP2 signature box
)

// Decode decodes one JPEG 2000 codestream or JP2 file. The frame size from
// the header is checked against codec.MaxSamples before decoding.
func Decode(data []byte) (*codec.Image, error) {
	var jp2 C.int
	switch {
	case bytes.HasPrefix(data, j2kMagic):
	case bytes.HasPrefix(data, jp2Magic):
		jp2 = 1
	default:
		return nil, errors.New("jpeg2000: neither a J2K codestream nor a JP2 file")
	}
	// OpenJPEG reads the data through the callbacks across several calls,
	// so it stays pinned until the stream is gone (Unpin runs last).
	var pin runtime.Pinner
	defer pin.Unpin()
	pin.Pin(&data[0])
	src := (*C.cc_src)(C.calloc(1, C.size_t(unsafe.Sizeof(C.cc_src{}))))
	if src == nil {
		return nil, errors.New("jpeg2000: out of memory")
	}
	defer C.free(unsafe.Pointer(src))
	src.data = (*C.uchar)(unsafe.Pointer(&data[0]))
	src.len = C.OPJ_SIZE_T(len(data))
	stream := C.cc_stream(src)
	if stream == nil {
		return nil, errors.New("jpeg2000: cannot create stream")
	}
	defer C.opj_stream_destroy(stream)
	dec := C.cc_codec(jp2, src)
	if dec == nil {
		return nil, errors.New("jpeg2000: cannot create decoder")
	}
	defer C.opj_destroy_codec(dec)

	var im *C.opj_image_t
	ok := C.opj_read_header(stream, dec, &im)
	if im != nil {
		defer C.opj_image_destroy(im)
	}
	if ok == 0 || im == nil {
		return nil, opjError("read header", src)
	}
	w, h := int(im.x1)-int(im.x0), int(im.y1)-int(im.y0)
	nc := int(im.numcomps)
	switch {
	case w <= 0 || h <= 0:
		return nil, fmt.Errorf("jpeg2000: bad image area %dx%d", w, h)
	case nc < 1:
		return nil, errors.New("jpeg2000: no components")
	case nc > maxComponents:
		return nil, fmt.Errorf("jpeg2000: %d components: %w", nc, codec.ErrUnsupported)
	case int64(w)*int64(h)*int64(nc) > codec.MaxSamples:
		return nil, fmt.Errorf("jpeg2000: %dx%dx%d frame exceeds %d samples: %w", w, h, nc, codec.MaxSamples, codec.ErrTooLarge)
	case int64(w)*int64(h)*int64(nc) > max(minSampleBudget, samplesPerByte*int64(len(data))):
		return nil, fmt.Errorf("jpeg2000: %dx%dx%d frame is implausibly large for %d bytes: %w", w, h, nc, len(data), codec.ErrTooLarge)
	}
	for i := 0; i < nc; i++ {
		c := C.cc_comp(im, C.OPJ_UINT32(i))
		if c.prec < 1 || c.prec > 16 {
			return nil, fmt.Errorf("jpeg2000: component %d has %d bits: %w", i, int(c.prec), codec.ErrUnsupported)
		}
		if c.dx < 1 || c.dy < 1 {
			return nil, fmt.Errorf("jpeg2000: component %d subsampling %dx%d", i, int(c.dx), int(c.dy))
		}
	}
	if C.opj_decode(dec, stream, im) == 0 {
		return nil, opjError("decode", src)
	}
	if C.opj_end_decompress(dec, stream) == 0 {
		return nil, opjError("end decompress", src)
	}
	return convert(im, w, h, nc)
}

// convert copies the decoded components out of OpenJPEG's memory into an
// interleaved Image, replicating subsampled components to full size.
func convert(im *C.opj_image_t, w, h, nc int) (*codec.Image, error) {
	img := &codec.Image{Width: w, Height: h, Components: nc, Pix: make([]uint16, w*h*nc)}
	for i := 0; i < nc; i++ {
		c := C.cc_comp(im, C.OPJ_UINT32(i))
		cw, ch := int(c.w), int(c.h)
		if c.data == nil || cw <= 0 || ch <= 0 {
			return nil, fmt.Errorf("jpeg2000: component %d not decoded", i)
		}
		if int64(cw)*int64(ch) > codec.MaxSamples {
			return nil, fmt.Errorf("jpeg2000: component %d is %dx%d", i, cw, ch)
		}
		samples := unsafe.Slice((*int32)(unsafe.Pointer(c.data)), cw*ch)
		prec := int(c.prec)
		img.Precision = max(img.Precision, prec)
		if c.sgnd != 0 {
			img.Signed = true
		}
		mask := int32(1)<<prec - 1
		dx, dy := int(c.dx), int(c.dy)
		for y := 0; y < h; y++ {
			sy := min(y/dy, ch-1)
			row := samples[sy*cw : sy*cw+cw]
			out := img.Pix[y*w*nc+i:]
			for x := 0; x < w; x++ {
				// Signed samples keep their two's-complement pattern within
				// prec bits; unsigned ones are already in [0, 2^prec).
				out[x*nc] = uint16(row[min(x/dx, cw-1)] & mask)
			}
		}
	}
	return img, nil
}

func opjError(op string, src *C.cc_src) error {
	msg := C.GoString(&src.err[0])
	if msg == "" {
		msg = "failed"
	}
	return fmt.Errorf("jpeg2000: %s: %s", op, trimNL(msg))
}

func trimNL(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}

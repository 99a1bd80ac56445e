package dicom

import (
	"errors"

	"github.com/copycat-dev/copycat/ingest/internal/codec"
	"github.com/copycat-dev/copycat/ingest/internal/codec/jpeg2000"
	"github.com/copycat-dev/copycat/ingest/internal/codec/jpegls"
	"github.com/copycat-dev/copycat/ingest/internal/codec/ljpeg"
	"github.com/copycat-dev/copycat/ingest/internal/codec/rle"
)

// The DICOM decoder reaches the compressed-pixel codecs only through the
// functions in this file, which map the codec package's error classes onto
// two sentinels the frame code understands.
var (
	// errDICOMNoCodec: the codec for this transfer syntax is not in this
	// build. Reported as an unsupported transfer syntax.
	errDICOMNoCodec = errors.New("codec not built")
	// errDICOMCodecUnsupported: a valid stream using a feature the codec
	// lacks.
	errDICOMCodecUnsupported = errors.New("codec feature unsupported")
	// errDICOMCodecTooLarge: the stream declares a frame larger than the
	// codec will allocate.
	errDICOMCodecTooLarge = errors.New("codec frame too large")
)

// dicomCodecImage is a decoded frame: interleaved samples as coded.
type dicomCodecImage = codec.Image

// dicomCodecError is a codec error tagged with its class; its message is
// the codec's.
type dicomCodecError struct{ class, err error }

func (e *dicomCodecError) Error() string   { return e.err.Error() }
func (e *dicomCodecError) Unwrap() []error { return []error{e.class, e.err} }

// dicomCodecErr classifies a codec error.
func dicomCodecErr(err error) error {
	for _, c := range []struct{ from, to error }{
		{codec.ErrNotBuilt, errDICOMNoCodec},
		{codec.ErrUnsupported, errDICOMCodecUnsupported},
		{codec.ErrTooLarge, errDICOMCodecTooLarge},
	} {
		if errors.Is(err, c.from) {
			return &dicomCodecError{class: c.to, err: err}
		}
	}
	return err
}

// dicomCodecLJPEG decodes JPEG lossless (SOF3) and 12-bit DCT frames.
func dicomCodecLJPEG(b []byte) (*dicomCodecImage, error) {
	img, err := ljpeg.Decode(b)
	return img, dicomCodecErr(err)
}

// dicomCodecRLE decodes a DICOM RLE frame to little-endian interleaved
// samples.
func dicomCodecRLE(b []byte, rows, cols, spp, bitsAlloc int) ([]byte, error) {
	out, err := rle.Decode(b, rows, cols, spp, bitsAlloc)
	return out, dicomCodecErr(err)
}

// dicomCodecJPEGLS decodes a JPEG-LS frame (cgo CharLS, build tag charls).
func dicomCodecJPEGLS(b []byte) (*dicomCodecImage, error) {
	if !jpegls.Available {
		return nil, errDICOMNoCodec
	}
	img, err := jpegls.Decode(b)
	return img, dicomCodecErr(err)
}

// dicomCodecJ2K decodes a JPEG 2000 or HTJ2K frame (cgo OpenJPEG, build tag
// openjpeg).
func dicomCodecJ2K(b []byte) (*dicomCodecImage, error) {
	if !jpeg2000.Available {
		return nil, errDICOMNoCodec
	}
	img, err := jpeg2000.Decode(b)
	return img, dicomCodecErr(err)
}

package ingest

import (
	"image"

	"github.com/copycat-dev/copycat/ingest/internal/codec/jpegscale"
	"github.com/copycat-dev/copycat/ingest/internal/codec/turbojpeg"
)

// fastJPEG is one goroutine's reduced-scale JPEG decoders. Fingerprints
// need only the luma plane at about 64 pixels a side, and a full decode is
// most of a scan's time, so with Options.MinSide set, JPEG data (files and
// DICOM frames) is decoded at 1/2, 1/4 or 1/8 of its size: through
// libjpeg-turbo when the binary has it, else through the pure-Go jpegscale.
// It is the DICOM decoder's dicom.LumaDecoder too.
type fastJPEG struct {
	pure  jpegscale.Decoder
	turbo *turbojpeg.Decoder // nil without the turbojpeg build
}

func newFastJPEG() *fastJPEG {
	f := &fastJPEG{}
	if turbojpeg.Available {
		if d, err := turbojpeg.NewDecoder(); err == nil {
			f.turbo = d
		}
	}
	return f
}

func (f *fastJPEG) close() error {
	if f == nil || f.turbo == nil {
		return nil
	}
	return f.turbo.Close()
}

// Luma decodes the luma plane at the largest reduction that keeps both
// sides at least minSide. An error means the caller should decode in full
// (the full decoder then says what is wrong, if anything).
func (f *fastJPEG) Luma(data []byte, minSide int) (*image.Gray, int, error) {
	if f.turbo != nil {
		return f.turbo.Luma(data, minSide)
	}
	return f.pure.Luma(data, minSide)
}

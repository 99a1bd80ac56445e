package ingest

import (
	"github.com/copycat-dev/copycat/ingest/internal/decodeerr"
	"github.com/copycat-dev/copycat/ingest/internal/dicom"
)

// decodeDICOM decodes a DICOM file with package ingest/internal/dicom and
// turns what it returns into ingest's types: its Meta and Frames, and its
// three error types into *CorruptError, *UnsupportedError and
// *TooLargeError with the same message. An error from emit is returned as
// is. Meta is returned filled as far as the header could be read, also with
// an error, so that a caller can still record which instance failed.
func decodeDICOM(data []byte, opts Options, emit func(Frame) error) (Meta, error) {
	dopts := dicom.Options{PixelBudget: opts.pixelBudget(), Salt: opts.Salt, MinSide: opts.MinSide}
	if opts.fast != nil {
		dopts.Luma = opts.fast
	}
	m, err := dicom.Decode(data, dopts, func(f dicom.Frame) error {
		return emit(Frame{
			Index: f.Index, Image: f.Image, Scale: f.Scale, Width: f.Width, Height: f.Height,
			MinMax: f.MinMax, Digest: f.Digest,
		})
	})
	meta := Meta{
		Format: FormatDICOM,
		Width:  m.Width, Height: m.Height, Frames: m.Frames, Bits: m.Bits,
		Photometric: m.Photometric, Lossy: m.Lossy, Quality: m.Quality,
		TransferSyntax:    m.TransferSyntax,
		SOPInstanceUID:    m.SOPInstanceUID,
		SeriesInstanceUID: m.SeriesInstanceUID,
		StudyInstanceUID:  m.StudyInstanceUID,
		Modality:          m.Modality,
		PatientIDDigest:   m.PatientIDDigest,
	}
	return meta, fromDecoderError(err, FormatDICOM)
}

// fromDecoderError maps the error types of the decoders under
// ingest/internal (package decodeerr) onto ingest's, for a file of format
// f. It looks at err itself, not its chain: the decoders return their own
// errors unwrapped, and anything else (emit's error) must pass unchanged.
func fromDecoderError(err error, f Format) error {
	switch e := err.(type) {
	case *decodeerr.CorruptError:
		return &CorruptError{Format: f, Err: e.Err}
	case *decodeerr.UnsupportedError:
		return &UnsupportedError{Reason: e.Reason}
	case *decodeerr.TooLargeError:
		return &TooLargeError{What: e.What, Limit: e.Limit}
	}
	return err
}

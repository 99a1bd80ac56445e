package ingest

import "fmt"

// Decode decodes one file held in memory, whose format is detected from its
// content. It calls emit once per frame, in order, and returns what the file
// says about itself. Errors for bad input are *CorruptError,
// *UnsupportedError or *TooLargeError; an error returned by emit is passed
// through unchanged. A panic inside a decoder (ours or a third party's) is
// recovered and reported as corrupt input, so one hostile file cannot stop a
// scan.
func Decode(data []byte, opts Options, emit func(Frame) error) (meta Meta, err error) {
	if opts.MinSide > 0 && opts.fast == nil {
		opts.fast = newFastJPEG()
		defer opts.fast.close()
	}
	return decode(data, opts, emit)
}

// Decoder decodes like Decode, keeping per-goroutine codec state (the
// reduced-scale JPEG decoders, a libjpeg-turbo handle) from file to file.
// It is not safe for concurrent use: the scan gives each worker its own.
// Close releases the C resources.
type Decoder struct {
	opts Options
}

// NewDecoder returns a Decoder that decodes with opts.
func NewDecoder(opts Options) *Decoder {
	opts.fast = newFastJPEG()
	return &Decoder{opts: opts}
}

// Decode decodes one file; see the package-level Decode.
func (d *Decoder) Decode(data []byte, emit func(Frame) error) (Meta, error) {
	return decode(data, d.opts, emit)
}

// Close releases the decoder's resources.
func (d *Decoder) Close() error { return d.opts.fast.close() }

func decode(data []byte, opts Options, emit func(Frame) error) (meta Meta, err error) {
	head := data[:min(len(data), SniffLen)]
	kind, name := Sniff(head)
	if kind != KindImage {
		return meta, notImage(kind, name)
	}
	meta.Format = Format(name)
	defer func() {
		if r := recover(); r != nil {
			err = &CorruptError{Format: meta.Format, Err: fmt.Errorf("decoder panic: %v", r)}
		}
	}()
	switch meta.Format {
	case FormatPNG:
		return decodePNG(data, opts, emit)
	case FormatJPEG:
		return decodeJPEG(data, opts, emit)
	case FormatNIfTI:
		return decodeNIfTI(data, opts, emit)
	default:
		return decodeDICOM(data, opts, func(f Frame) error {
			f.Image = normalize(f.Image)
			return emit(f)
		})
	}
}

// notImage explains why content that Sniff did not call an image was not
// decoded.
func notImage(kind Kind, name string) error {
	switch kind {
	case KindEmpty:
		return corruptf("", "empty file")
	case KindOtherImage:
		return unsupportedf("unsupported image format %s", name)
	case KindArchive:
		return unsupportedf("%s archive where an image was expected", name)
	case KindDocument, KindData:
		return unsupportedf("not an image (%s)", name)
	}
	return corruptf("", "unrecognised binary content (not DICOM, PNG or JPEG)")
}

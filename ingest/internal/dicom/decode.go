package dicom

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"image"

	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/copycat-dev/copycat/ingest/internal/codec/jpegscale"
	"github.com/copycat-dev/copycat/ingest/internal/decodeerr"
	"github.com/copycat-dev/copycat/ingest/internal/jpeghdr"
)

// defaultPixelBudget is the pixel budget of a zero Options: 100
// megapixels, ingest.DefaultPixelBudget. ingest always passes its own.
const defaultPixelBudget = 100_000_000

// Options control decoding. The zero value is usable.
type Options struct {
	// PixelBudget is the largest Rows x Columns x SamplesPerPixel of a
	// frame accepted, checked from the header before any pixel is decoded
	// (frames are decoded one at a time); it also caps how far a deflated
	// data set may inflate. Zero means 100 megapixels.
	PixelBudget int64
	// Salt keys the digest of the patient ID (Meta.PatientIDDigest).
	Salt []byte
	// MinSide, when positive and Luma is set, lets 8-bit JPEG colour frames
	// be decoded reduced in size, luma only, as long as both sides stay at
	// least MinSide pixels (Frame.Scale says by how much).
	MinSide int
	// Luma is the reduced-scale JPEG decoder; nil decodes every frame in
	// full.
	Luma LumaDecoder
}

func (o Options) pixelBudget() int64 {
	if o.PixelBudget > 0 {
		return o.PixelBudget
	}
	return defaultPixelBudget
}

// LumaDecoder decodes the luma plane of a JPEG stream at the largest
// reduction (2, 4 or 8, returned as the int) that keeps both sides at least
// minSide. An error means the frame is decoded in full instead. ingest's
// per-goroutine fast decoders implement it; Decode calls it from the
// caller's goroutine only.
type LumaDecoder interface {
	Luma(data []byte, minSide int) (*image.Gray, int, error)
}

// Meta is what a DICOM file says about itself, shared by all its frames:
// ingest.Meta's fields for a DICOM, without the format.
type Meta struct {
	Width, Height, Frames int
	Bits                  int    // Bits Stored
	Photometric           string // Photometric Interpretation as the file gives it, else as rendered
	Lossy                 bool   // a lossy transfer syntax, or Lossy Image Compression "01"
	Quality               int    // libjpeg quality estimated from the first frame of JPEG data; 0 otherwise
	TransferSyntax        string // UID
	SOPInstanceUID        string
	SeriesInstanceUID     string
	StudyInstanceUID      string
	Modality              string
	PatientIDDigest       string // hex of a salted SHA-256 of PatientID; empty when absent
}

// Frame is one rendered frame: Image is an *image.Gray or *image.RGBA
// (*image.Gray at reduced scale). The fields mean what ingest.Frame's do.
type Frame struct {
	Index         int // 0-based frame number
	Image         image.Image
	Scale         int         // 1, 2, 4 or 8 under Options.MinSide; 0 or 1 means full size
	Width, Height int         // the full size, when Scale > 1
	MinMax        *image.Gray // the min-max rendering, when Image used the header's window or VOI LUT
	Digest        [32]byte    // for 8-bit DCT JPEG frames, jpeghdr.StreamDigest of the coded frame; zero otherwise
}

// Decode decodes a whole DICOM file held in memory. It fills Meta from the
// header, refuses images whose frames are over opts' pixel budget (Rows x
// Columns x SamplesPerPixel) with a *decodeerr.TooLargeError before decoding
// any pixel data, and calls emit once per frame, in order, decoding one
// frame at a time so memory stays at about one decoded frame. Errors for
// bad input are *decodeerr.CorruptError, *decodeerr.UnsupportedError or *decodeerr.TooLargeError, a panic
// while decoding included (it is reported as corrupt input); an error from
// emit stops decoding and is returned as is.
//
// Meta is returned filled as far as the header could be read, also with an
// error, so that a caller can still record which instance failed.
func Decode(data []byte, opts Options, emit func(Frame) error) (meta Meta, err error) {
	inEmit := false
	defer func() {
		if r := recover(); r != nil {
			if inEmit {
				panic(r) // the caller's bug, not hostile input
			}
			err = corruptf("decoder panic: %v", r)
		}
	}()

	h, err := parseDICOMHeader(data, opts.pixelBudget())
	if err != nil {
		return meta, err
	}
	fillDICOMMeta(&meta, h, opts.Salt)
	switch {
	case h.Pixel == nil:
		return meta, unsupportedf("no pixel data")
	case h.Pixel.Float:
		return meta, unsupportedf("unsupported DICOM float pixel data")
	}
	img, err := newDICOMImage(h)
	if err != nil {
		return meta, err
	}
	meta.Width, meta.Height, meta.Frames = img.cols, img.rows, img.frames
	meta.Bits = img.bitsStored
	if meta.Photometric == "" {
		meta.Photometric = img.photometric
	}
	if n, budget := img.frameSamples(), opts.pixelBudget(); n > budget {
		return meta, &decodeerr.TooLargeError{
			What:  fmt.Sprintf("frame %dx%d with %d samples per pixel (%.1f megapixels)", img.cols, img.rows, img.spp, float64(n)/1e6),
			Limit: fmt.Sprintf("pixel budget of %g megapixels", float64(budget)/1e6),
		}
	}
	if h.TS.Unknown {
		return meta, unsupportedf("unknown transfer syntax (%s)", h.TS.UID)
	}
	if h.TS.Kind == dcmNoCodec && h.Pixel.Encapsulated {
		return meta, h.TS.unsupported()
	}
	if err := img.prepare(); err != nil {
		return meta, err
	}
	if h.TS.Kind == dcmJPEG && img.frames > 0 {
		if jh, err := jpeghdr.Parse(img.frameData(0)); err == nil && jh.SOF != 0xC3 {
			meta.Quality = jh.Quality
		}
	}
	for i := range img.frames {
		fr, err := img.decodeFrame(i, opts)
		if err != nil {
			return meta, err
		}
		inEmit = true
		err = emit(fr)
		inEmit = false
		if err != nil {
			return meta, err
		}
	}
	return meta, nil
}

// decodeFrame decodes frame i: JPEG colour frames at reduced scale when
// opts allow it and the stream suits, every other frame in full.
func (d *dicomImage) decodeFrame(i int, opts Options) (Frame, error) {
	var (
		jpegData []byte
		mk       jpeghdr.Header
	)
	if d.h.TS.Kind == dcmJPEG {
		jpegData = d.frameData(i)
		var err error
		if mk, err = jpeghdr.Parse(jpegData); err != nil || mk.Precision != 8 || (mk.SOF != 0xC0 && mk.SOF != 0xC1 && mk.SOF != 0xC2) {
			jpegData = nil // lossless or 12-bit: digest the decoded pixels
		}
	}
	fr := Frame{Index: i}
	if jpegData != nil {
		fr.Digest = jpeghdr.StreamDigest(jpegData)
		// Only a reduced decode is worth the luma plane: at full size the
		// frame is rendered to RGB like any other colour frame, so that its
		// grey levels are those of an RGB export (the Y plane differs
		// where saturated colours clip, as on synthetic colour bars).
		if opts.Luma != nil && opts.MinSide > 0 && d.spp == 3 && jpegscale.Scale(d.cols, d.rows, opts.MinSide) > 1 &&
			jpeghdr.FastCandidate(mk.SOF, mk.Precision, len(mk.IDs), mk.ColourTransformed(d.photometric)) {
			if g, scale, err := opts.Luma.Luma(jpegData, opts.MinSide); err == nil && g.Rect.Dx() == (d.cols+scale-1)/scale && g.Rect.Dy() == (d.rows+scale-1)/scale {
				fr.Image, fr.Scale, fr.Width, fr.Height = g, scale, d.cols, d.rows
				return fr, nil
			}
		}
	}
	im, mm, err := d.frame(i)
	fr.Image, fr.MinMax = im, mm
	return fr, err
}

// fillDICOMMeta copies the identifying attributes into meta. The patient ID
// only ever leaves as a salted digest.
func fillDICOMMeta(meta *Meta, h *dicomHeader, salt []byte) {
	a := h.Attrs
	meta.TransferSyntax = h.TS.UID
	meta.SOPInstanceUID = a.str(tag.SOPInstanceUID)
	meta.SeriesInstanceUID = a.str(tag.SeriesInstanceUID)
	meta.StudyInstanceUID = a.str(tag.StudyInstanceUID)
	meta.Modality = a.str(tag.Modality)
	meta.Lossy = h.TS.Lossy || a.str(tagLossyImageCompression) == "01"
	meta.Photometric = a.str(tag.PhotometricInterpretation)
	meta.PatientIDDigest = patientIDDigest(salt, a.str(tag.PatientID))
}

// patientIDDigest is hex of the first 16 bytes of SHA-256(salt || 0x00 ||
// id), or "" for an empty id.
func patientIDDigest(salt []byte, id string) string {
	if id == "" {
		return ""
	}
	d := sha256.New()
	d.Write(salt)
	d.Write([]byte{0})
	d.Write([]byte(id))
	return hex.EncodeToString(d.Sum(nil)[:16])
}

// Sniff reports whether head (the first up to 1024 bytes of a file)
// looks like DICOM: "DICM" at offset 128, or a preamble-less file that starts
// with a plausible (0002,xxxx) or (0008,xxxx) element in explicit or implicit
// VR little endian.
func Sniff(head []byte) bool {
	if len(head) >= 132 && string(head[128:132]) == "DICM" {
		return true
	}
	if len(head) < 8 {
		return false
	}
	group := binary.LittleEndian.Uint16(head)
	if group != 0x0002 && group != 0x0008 {
		return false
	}
	elem := binary.LittleEndian.Uint16(head[2:])
	if _, err := tag.Find(tag.Tag{Group: group, Element: elem}); err != nil {
		return false // not a standard element, nor a group length
	}
	vr := string(head[4:6])
	switch {
	case isDICOMVR(vr) && isLongDICOMVR(vr):
		return len(head) >= 12 && head[6] == 0 && head[7] == 0
	case isDICOMVR(vr):
		return true
	}
	// Implicit VR: a short, even length, as these groups' elements have.
	vl := binary.LittleEndian.Uint32(head[4:])
	return vl%2 == 0 && vl <= 1024
}

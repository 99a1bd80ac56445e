package ingest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"

	"github.com/disintegration/imaging"

	"github.com/copycat-dev/copycat/ingest/internal/codec/graypng"
	"github.com/copycat-dev/copycat/ingest/internal/codec/spng"
	"github.com/copycat-dev/copycat/ingest/internal/jpeghdr"
)

// checkBudget refuses an image before decoding when its header promises more
// pixels than opts allow.
func checkBudget(opts Options, w, h, frames, samples int) error {
	total := int64(w) * int64(h) * int64(max(frames, 1)) * int64(max(samples, 1))
	if w < 0 || h < 0 || total > opts.pixelBudget() || total < 0 {
		what := fmt.Sprintf("image %dx%d", w, h)
		if frames > 1 {
			what += fmt.Sprintf("x%d frames", frames)
		}
		if samples > 1 {
			what += fmt.Sprintf("x%d samples", samples)
		}
		return &TooLargeError{
			What:  fmt.Sprintf("%s (%.1f megapixels)", what, float64(total)/1e6),
			Limit: fmt.Sprintf("pixel budget of %g megapixels", float64(opts.pixelBudget())/1e6),
		}
	}
	return nil
}

// pngPhotometric names PNG colour types the way DICOM names photometric
// interpretations, so that reports can compare a copy with its original.
var pngPhotometric = map[byte]string{
	0: "MONOCHROME2",
	2: "RGB",
	3: "PALETTE COLOR",
	4: "MONOCHROME2+ALPHA",
	6: "RGB+ALPHA",
}

// decodePNG decodes a PNG after checking its IHDR against the pixel budget,
// through the fastest decoder this build has that gives image/png's
// pixels (see decodePNGImage).
func decodePNG(data []byte, opts Options, emit func(Frame) error) (Meta, error) {
	meta := Meta{Format: FormatPNG, Frames: 1}
	if len(data) < 33 || string(data[12:16]) != "IHDR" {
		return meta, corruptf(FormatPNG, "missing IHDR chunk")
	}
	meta.Width = int(binary.BigEndian.Uint32(data[16:]))
	meta.Height = int(binary.BigEndian.Uint32(data[20:]))
	meta.Bits = int(data[24])
	ph, ok := pngPhotometric[data[25]]
	if !ok {
		return meta, corruptf(FormatPNG, "invalid colour type %d", data[25])
	}
	meta.Photometric = ph
	if meta.Width <= 0 || meta.Height <= 0 {
		return meta, corruptf(FormatPNG, "invalid dimensions %dx%d", meta.Width, meta.Height)
	}
	if err := checkBudget(opts, meta.Width, meta.Height, 1, 1); err != nil {
		return meta, err
	}
	img, err := decodePNGImage(data, opts.pixelBudget(), true)
	if err != nil {
		return meta, classifyStdlib(FormatPNG, err)
	}
	return meta, emit(Frame{Index: 0, Image: normalize(img)})
}

// decodePNGImage decodes a PNG into the image image/png returns for it.
// When fast is set it tries, in turn, the decoders that return the same
// types and pixels in less CPU time, and image/png last, so that its
// verdict and error stand for whatever the others refuse:
//
//   - package graypng, for 8- and 16-bit grey PNGs that are not
//     interlaced (chest X-ray exports): with libdeflate (build tag
//     libdeflate) about 2.5x faster than image/png on a 1024x1024 image,
//     and faster in the pure-Go build too (its unfiltering is); it
//     refuses other PNGs at IHDR, before reading further;
//   - libspng, when built in (tag spng), for the other colour types:
//     used whatever the size, since measured from 32x32 to 1024x1024
//     pixels (package spng's BenchmarkCrossover and BenchmarkDecode) it
//     never costs more than image/png, whose fixed cost per file (inflate
//     state and buffers, 48 KB allocated for a 32x32 image) exceeds the
//     cgo calls'.
//
// Both refuse some files that image/png decodes, which go to image/png:
// graypng bytes after the zlib stream, libspng unknown critical chunks,
// ancillary chunks between IDAT chunks and a chunk cache over 64 MiB.
// Each accepts one kind of damaged file that image/png refuses: libspng a
// zlib stream holding more rows than the image ("too much pixel data"),
// decoded with the same pixels as the rows it needs; graypng with
// libdeflate a deflate block declaring more Huffman codes than RFC 1951
// allows, which only a hand-made stream has.
func decodePNGImage(data []byte, budget int64, fast bool) (image.Image, error) {
	if fast {
		if img, err := graypng.Decode(data, budget); err == nil {
			return img, nil
		}
		if spng.Available {
			if img, err := spng.Decode(data, budget); err == nil {
				return img, nil
			}
		}
	}
	return png.Decode(bytes.NewReader(data))
}

// decodeJPEG decodes a JPEG through the standard library after checking its
// frame header against the pixel budget, then applies the EXIF orientation
// so that the pixels are the ones a viewer shows.
func decodeJPEG(data []byte, opts Options, emit func(Frame) error) (Meta, error) {
	meta := Meta{Format: FormatJPEG, Frames: 1, Lossy: true}
	h, err := jpeghdr.Parse(data)
	if err != nil {
		return meta, &CorruptError{Format: FormatJPEG, Err: err}
	}
	meta.Width, meta.Height, meta.Bits, meta.Quality = h.Width, h.Height, h.Precision, h.Quality
	meta.Lossy = h.SOF != 0xC3 && h.SOF != 0xC7 && h.SOF != 0xCB && h.SOF != 0xCF
	switch h.Components {
	case 1:
		meta.Photometric = "MONOCHROME2"
	case 3:
		meta.Photometric = "YBR_FULL"
		if !h.ColourTransformed("") {
			meta.Photometric = "RGB"
		}
	case 4:
		meta.Photometric = "CMYK"
	}
	if meta.Width <= 0 || meta.Height <= 0 {
		return meta, corruptf(FormatJPEG, "invalid dimensions %dx%d", meta.Width, meta.Height)
	}
	if err := checkBudget(opts, meta.Width, meta.Height, 1, 1); err != nil {
		return meta, err
	}
	digest := jpeghdr.StreamDigest(data)
	// The reduced decoders may not read every scan (at 1/8 a progressive
	// file's AC scans are skipped), so a file cut short could pass them: only
	// a stream that ends with EOI takes the fast path. Streams without EOI
	// go to the full decoder, which tells a missing marker from missing data.
	complete := bytes.HasSuffix(bytes.TrimRight(data, "\x00"), []byte{0xFF, 0xD9})
	if complete && opts.fast != nil && opts.MinSide > 0 && jpeghdr.FastCandidate(h.SOF, h.Precision, h.Components, h.ColourTransformed("")) {
		if g, scale, err := opts.fast.Luma(data, opts.MinSide); err == nil {
			var img image.Image = g
			if h.Orientation > 1 {
				img = normalize(orient(img, h.Orientation))
				if h.Orientation >= 5 {
					meta.Width, meta.Height = meta.Height, meta.Width
				}
			}
			return meta, emit(Frame{Index: 0, Image: img, Scale: scale, Width: meta.Width, Height: meta.Height, Digest: digest})
		}
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil && errors.Is(err, io.ErrUnexpectedEOF) && !bytes.HasSuffix(data, []byte{0xFF, 0xD9}) {
		// Some devices end the stream without EOI. Retry with one: a stream
		// whose entropy data is really cut short still fails.
		img, err = decodeWithEOI(data)
	}
	if err != nil {
		return meta, classifyStdlib(FormatJPEG, err)
	}
	if h.Orientation > 1 {
		img = orient(img, h.Orientation)
		if h.Orientation >= 5 {
			meta.Width, meta.Height = meta.Height, meta.Width
		}
	}
	return meta, emit(Frame{Index: 0, Image: normalize(img), Digest: digest})
}

func decodeWithEOI(data []byte) (image.Image, error) {
	fixed := make([]byte, len(data)+2)
	copy(fixed, data)
	fixed[len(data)], fixed[len(data)+1] = 0xFF, 0xD9
	return jpeg.Decode(bytes.NewReader(fixed))
}

// orient applies an EXIF orientation (2..8) so the image reads upright.
func orient(img image.Image, o int) image.Image {
	switch o {
	case 2:
		return imaging.FlipH(img)
	case 3:
		return imaging.Rotate180(img)
	case 4:
		return imaging.FlipV(img)
	case 5:
		return imaging.Transpose(img)
	case 6:
		return imaging.Rotate270(img)
	case 7:
		return imaging.Transverse(img)
	case 8:
		return imaging.Rotate90(img)
	}
	return img
}

// classifyStdlib maps the standard decoders' errors onto our classes.
func classifyStdlib(f Format, err error) error {
	var (
		pf png.FormatError
		pu png.UnsupportedError
		jf jpeg.FormatError
		ju jpeg.UnsupportedError
	)
	switch {
	case errors.As(err, &pu):
		return unsupportedf("unsupported %s feature: %s", f, string(pu))
	case errors.As(err, &ju):
		return unsupportedf("unsupported %s feature: %s", f, string(ju))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &CorruptError{Format: f, Err: errors.New("truncated")}
	case errors.As(err, &pf), errors.As(err, &jf):
		return &CorruptError{Format: f, Err: err}
	}
	return &CorruptError{Format: f, Err: err}
}

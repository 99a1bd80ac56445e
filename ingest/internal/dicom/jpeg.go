package dicom

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"

	"github.com/copycat-dev/copycat/ingest/internal/jpeghdr"
)

// fromStdJPEG decodes an 8-bit DCT frame with image/jpeg.
func (d *dicomImage) fromStdJPEG(i int, data []byte, mk jpeghdr.Header) (*dicomRaw, error) {
	// Fragments are padded to even length, and some devices omit EOI
	// (see the grailbio clips); image/jpeg needs it.
	t := bytes.TrimRight(data, "\x00")
	if !bytes.HasSuffix(t, []byte{0xFF, 0xD9}) {
		t = append(t[:len(t):len(t)], 0xFF, 0xD9)
	}
	img, err := jpeg.Decode(bytes.NewReader(t))
	if err != nil {
		var ue jpeg.UnsupportedError
		if errors.As(err, &ue) {
			return nil, unsupportedf("unsupported JPEG feature in frame %d: %v", i, ue)
		}
		return nil, corruptf("frame %d: %w", i, err)
	}
	b := img.Bounds()
	if b.Dx() != d.cols || b.Dy() != d.rows {
		return nil, corruptf("frame %d decoded to %dx%d, the header says %dx%d", i, b.Dx(), b.Dy(), d.cols, d.rows)
	}
	n := d.rows * d.cols
	switch im := img.(type) {
	case *image.Gray:
		pix := im.Pix
		if im.Stride != d.cols {
			pix = make([]byte, n)
			for y := range d.rows {
				copy(pix[y*d.cols:(y+1)*d.cols], im.Pix[y*im.Stride:])
			}
		}
		return &dicomRaw{mono: dicomMonoFrame{u8: pix[:n], mask: 0xFF}}, nil
	case *image.YCbCr:
		hx, vy := 1, 1
		switch im.SubsampleRatio {
		case image.YCbCrSubsampleRatio444:
		case image.YCbCrSubsampleRatio422:
			hx = 2
		case image.YCbCrSubsampleRatio420:
			hx, vy = 2, 2
		case image.YCbCrSubsampleRatio440:
			vy = 2
		default:
			return nil, unsupportedf("unsupported JPEG chroma subsampling %v in frame %d", im.SubsampleRatio, i)
		}
		return &dicomRaw{img: ycbcrToRGBA(im, hx, vy, mk.ColourTransformed(d.photometric))}, nil
	case *image.RGBA:
		// Go's decoder found an RGB stream (Adobe transform 0 or
		// component ids R, G, B) and copied the planes without conversion.
		if mk.ColourTransformed(d.photometric) {
			for k := 0; k+3 < len(im.Pix); k += 4 {
				im.Pix[k], im.Pix[k+1], im.Pix[k+2] = ybrToRGB(im.Pix[k], im.Pix[k+1], im.Pix[k+2])
			}
		}
		return &dicomRaw{img: im}, nil
	}
	return nil, unsupportedf("unsupported JPEG colour model %T in frame %d", img, i)
}

package ingest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/jpeg"
)

// dicomJPEGMarkers is what the marker segments of an encapsulated JPEG,
// JPEG lossless or JPEG-LS frame say before its entropy-coded data.
type dicomJPEGMarkers struct {
	sof           byte // frame marker (0xC0..0xCF, or 0xF7 for JPEG-LS)
	precision     int
	width, height int
	ids           []byte // component identifiers
	jfif, adobe   bool
	transform     int // Adobe colour transform
}

var errDICOMJPEGMarkers = errors.New("bad JPEG marker structure")

// scanDICOMJPEG reads marker segments from SOI up to the first SOS.
func scanDICOMJPEG(b []byte) (dicomJPEGMarkers, error) {
	var m dicomJPEGMarkers
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return m, errDICOMJPEGMarkers
	}
	p := 2
	for p+4 <= len(b) {
		if b[p] != 0xFF {
			return m, errDICOMJPEGMarkers
		}
		mk := b[p+1]
		switch {
		case mk == 0xFF: // fill byte
			p++
			continue
		case mk == 0x01 || mk >= 0xD0 && mk <= 0xD8:
			p += 2
			continue
		case mk == 0xD9:
			return m, errDICOMJPEGMarkers
		}
		n := int(binary.BigEndian.Uint16(b[p+2:]))
		if n < 2 || p+2+n > len(b) {
			return m, errDICOMJPEGMarkers
		}
		seg := b[p+4 : p+2+n]
		switch {
		case mk == 0xDA:
			if m.sof == 0 {
				return m, errDICOMJPEGMarkers
			}
			return m, nil
		case mk >= 0xC0 && mk <= 0xCF && mk != 0xC4 && mk != 0xC8 && mk != 0xCC || mk == 0xF7:
			if m.sof != 0 || len(seg) < 6 {
				return m, errDICOMJPEGMarkers
			}
			m.sof, m.precision = mk, int(seg[0])
			m.height = int(binary.BigEndian.Uint16(seg[1:]))
			m.width = int(binary.BigEndian.Uint16(seg[3:]))
			nc := int(seg[5])
			if len(seg) < 6+3*nc {
				return m, errDICOMJPEGMarkers
			}
			for c := range nc {
				m.ids = append(m.ids, seg[6+3*c])
			}
		case mk == 0xE0 && bytes.HasPrefix(seg, []byte("JFIF\x00")):
			m.jfif = true
		case mk == 0xEE && len(seg) >= 12 && bytes.HasPrefix(seg, []byte("Adobe")):
			m.adobe, m.transform = true, int(seg[11])
		}
		p += 2 + n
	}
	return m, errDICOMJPEGMarkers
}

// colourTransformed reports whether a 3-component JPEG holds YCbCr (and so
// needs converting to RGB) or RGB. The markers decide when they can: JFIF
// means YCbCr, an Adobe segment says which, component ids 'R','G','B' mean
// RGB. Otherwise the DICOM Photometric Interpretation does: RGB there means
// the encoder applied no colour transform (PS3.5 8.2.1), as in pydicom's
// SC_jpeg_no_color_transform.dcm, which Go's decoder alone would take for
// YCbCr.
func (m dicomJPEGMarkers) colourTransformed(photometric string) bool {
	switch {
	case m.jfif:
		return true
	case m.adobe:
		return m.transform != 0
	case len(m.ids) == 3 && m.ids[0] == 'R' && m.ids[1] == 'G' && m.ids[2] == 'B':
		return false
	}
	return photometric != "RGB"
}

// fromStdJPEG decodes an 8-bit DCT frame with image/jpeg.
func (d *dicomImage) fromStdJPEG(i int, data []byte, mk dicomJPEGMarkers) (*dicomRaw, error) {
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
		return nil, corruptf(FormatDICOM, "frame %d: %w", i, err)
	}
	b := img.Bounds()
	if b.Dx() != d.cols || b.Dy() != d.rows {
		return nil, corruptf(FormatDICOM, "frame %d decoded to %dx%d, the header says %dx%d", i, b.Dx(), b.Dy(), d.cols, d.rows)
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
		return &dicomRaw{img: ycbcrToRGBA(im, hx, vy, mk.colourTransformed(d.photometric))}, nil
	case *image.RGBA:
		// Go's decoder found an RGB stream (Adobe transform 0 or
		// component ids R, G, B) and copied the planes without conversion.
		if mk.colourTransformed(d.photometric) {
			for k := 0; k+3 < len(im.Pix); k += 4 {
				im.Pix[k], im.Pix[k+1], im.Pix[k+2] = ybrToRGB(im.Pix[k], im.Pix[k+1], im.Pix[k+2])
			}
		}
		return &dicomRaw{img: im}, nil
	}
	return nil, unsupportedf("unsupported JPEG colour model %T in frame %d", img, i)
}

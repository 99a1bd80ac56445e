package ljpeg

import (
	"bytes"
	"image"
	"image/jpeg"
)

// stdDecode decodes with image/jpeg and returns the samples in this
// package's layout (Y only, or Y Cb Cr with chroma replicated), or false
// when image/jpeg gives something else (CMYK, errors).
func stdDecode(data []byte) ([]uint16, bool) {
	m, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, false
	}
	switch m := m.(type) {
	case *image.Gray:
		b := m.Bounds()
		out := make([]uint16, 0, b.Dx()*b.Dy())
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				out = append(out, uint16(m.Pix[m.PixOffset(x, y)]))
			}
		}
		return out, true
	case *image.YCbCr:
		b := m.Bounds()
		out := make([]uint16, 0, 3*b.Dx()*b.Dy())
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				c := m.COffset(x, y)
				out = append(out, uint16(m.Y[m.YOffset(x, y)]), uint16(m.Cb[c]), uint16(m.Cr[c]))
			}
		}
		return out, true
	}
	return nil, false
}

package ingest

import (
	"image"
	"image/color"
	"image/draw"
)

// normalize brings a decoded image to one of the representations Frame
// documents, so that equal pixels get equal representations whatever the
// container: a grey picture saved as RGB becomes *image.Gray, an opaque
// NRGBA becomes *image.RGBA, a palette is expanded. The checks stop at the
// first pixel that disproves them, so colour images pay little.
func normalize(img image.Image) image.Image {
	switch m := img.(type) {
	case *image.Gray, *image.Gray16:
		return m
	case *image.YCbCr:
		if chromaNeutral(m) {
			return &image.Gray{Pix: m.Y, Stride: m.YStride, Rect: m.Rect}
		}
		return m
	case *image.RGBA:
		if rgbaIsGray(m.Pix, m.Stride, m.Rect) {
			return grayFromRGBA(m.Pix, m.Stride, m.Rect)
		}
		return m
	case *image.NRGBA:
		if !nrgbaOpaque(m) {
			return m
		}
		if rgbaIsGray(m.Pix, m.Stride, m.Rect) {
			return grayFromRGBA(m.Pix, m.Stride, m.Rect)
		}
		// Opaque: premultiplied and straight alpha hold the same bytes.
		return &image.RGBA{Pix: m.Pix, Stride: m.Stride, Rect: m.Rect}
	case *image.RGBA64:
		return normalize64(&image.NRGBA64{Pix: m.Pix, Stride: m.Stride, Rect: m.Rect}, true)
	case *image.NRGBA64:
		return normalize64(m, false)
	case *image.Paletted:
		return normalizePaletted(m)
	}
	// CMYK and anything else: draw into RGBA (opaque) or NRGBA.
	b := img.Bounds()
	out := image.NewNRGBA(b)
	draw.Draw(out, b, img, b.Min, draw.Src)
	return normalize(out)
}

func chromaNeutral(m *image.YCbCr) bool {
	for _, v := range m.Cb {
		if v != 128 {
			return false
		}
	}
	for _, v := range m.Cr {
		if v != 128 {
			return false
		}
	}
	return true
}

func nrgbaOpaque(m *image.NRGBA) bool {
	w := m.Rect.Dx() * 4
	for y := 0; y < m.Rect.Dy(); y++ {
		row := m.Pix[y*m.Stride : y*m.Stride+w]
		for i := 3; i < len(row); i += 4 {
			if row[i] != 0xFF {
				return false
			}
		}
	}
	return true
}

func rgbaIsGray(pix []byte, stride int, r image.Rectangle) bool {
	w := r.Dx() * 4
	for y := 0; y < r.Dy(); y++ {
		row := pix[y*stride : y*stride+w]
		for i := 0; i+2 < len(row); i += 4 {
			if row[i] != row[i+1] || row[i] != row[i+2] {
				return false
			}
		}
	}
	return true
}

func grayFromRGBA(pix []byte, stride int, r image.Rectangle) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, r.Dx(), r.Dy()))
	for y := 0; y < r.Dy(); y++ {
		row := pix[y*stride:]
		out := g.Pix[y*g.Stride : y*g.Stride+r.Dx()]
		for x := range out {
			out[x] = row[4*x]
		}
	}
	return g
}

// normalize64 handles 16-bit colour: kept at 16 bits, reduced to Gray16
// when grey and opaque.
func normalize64(m *image.NRGBA64, opaque bool) image.Image {
	w := m.Rect.Dx() * 8
	gray := true
	for y := 0; y < m.Rect.Dy() && (gray || !opaque); y++ {
		row := m.Pix[y*m.Stride : y*m.Stride+w]
		for i := 0; i+7 < len(row); i += 8 {
			if !opaque && (row[i+6] != 0xFF || row[i+7] != 0xFF) {
				return m
			}
			if row[i] != row[i+2] || row[i] != row[i+4] || row[i+1] != row[i+3] || row[i+1] != row[i+5] {
				gray = false
				if opaque {
					break
				}
			}
		}
	}
	if !gray {
		return m
	}
	g := image.NewGray16(image.Rect(0, 0, m.Rect.Dx(), m.Rect.Dy()))
	for y := 0; y < m.Rect.Dy(); y++ {
		row := m.Pix[y*m.Stride:]
		out := g.Pix[y*g.Stride : y*g.Stride+2*m.Rect.Dx()]
		for x := 0; 2*x+1 < len(out); x++ {
			out[2*x], out[2*x+1] = row[8*x], row[8*x+1]
		}
	}
	return g
}

func normalizePaletted(m *image.Paletted) image.Image {
	opaque, gray := true, true
	pal := make([]color.NRGBA, 256)
	for i, c := range m.Palette {
		n := color.NRGBAModel.Convert(c).(color.NRGBA)
		pal[i] = n
		opaque = opaque && n.A == 0xFF
		gray = gray && n.R == n.G && n.G == n.B
	}
	b := m.Rect
	w, h := b.Dx(), b.Dy()
	switch {
	case opaque && gray:
		g := image.NewGray(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			for x, idx := range m.Pix[y*m.Stride : y*m.Stride+w] {
				g.Pix[y*g.Stride+x] = pal[idx].R
			}
		}
		return g
	default:
		out := image.NewNRGBA(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			for x, idx := range m.Pix[y*m.Stride : y*m.Stride+w] {
				c := pal[idx]
				o := out.Pix[y*out.Stride+4*x:]
				o[0], o[1], o[2], o[3] = c.R, c.G, c.B, c.A
			}
		}
		if opaque {
			return &image.RGBA{Pix: out.Pix, Stride: out.Stride, Rect: out.Rect}
		}
		return out
	}
}

package ingest

import (
	"crypto/sha256"
	"fmt"
	"image"
	"image/color"
	"image/draw"
)

// PixelDigest returns a SHA-256 of an image's pixels in a canonical form
// (a short header naming the sample layout and size, then the samples row by
// row), so that the same pixels give the same digest whether they came from a
// DICOM, a PNG or any other lossless container. Grey colour images and
// opaque alpha are reduced first, as normalize does.
func PixelDigest(img image.Image) [32]byte {
	img = normalize(img)
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	d := sha256.New()
	header := func(kind string) { fmt.Fprintf(d, "copycat-pixels-v1 %s %d %d\n", kind, w, h) }
	switch m := img.(type) {
	case *image.Gray:
		header("gray8")
		for y := 0; y < h; y++ {
			d.Write(m.Pix[y*m.Stride : y*m.Stride+w])
		}
	case *image.Gray16:
		header("gray16be")
		for y := 0; y < h; y++ {
			d.Write(m.Pix[y*m.Stride : y*m.Stride+2*w])
		}
	case *image.RGBA:
		header("rgb8")
		row := make([]byte, 3*w)
		for y := 0; y < h; y++ {
			src := m.Pix[y*m.Stride:]
			for x := 0; x < w; x++ {
				row[3*x], row[3*x+1], row[3*x+2] = src[4*x], src[4*x+1], src[4*x+2]
			}
			d.Write(row)
		}
	case *image.YCbCr:
		header("rgb8")
		row := make([]byte, 3*w)
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				yi, ci := m.YOffset(x, y), m.COffset(x, y)
				r, g, bb := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				i := 3 * (x - b.Min.X)
				row[i], row[i+1], row[i+2] = r, g, bb
			}
			d.Write(row)
		}
	case *image.NRGBA:
		header("rgba8")
		for y := 0; y < h; y++ {
			d.Write(m.Pix[y*m.Stride : y*m.Stride+4*w])
		}
	case *image.NRGBA64:
		header("rgba16be")
		for y := 0; y < h; y++ {
			d.Write(m.Pix[y*m.Stride : y*m.Stride+8*w])
		}
	default:
		// normalize only returns the types above; keep a safe fallback.
		n := image.NewNRGBA64(image.Rect(0, 0, w, h))
		draw.Draw(n, n.Rect, img, b.Min, draw.Src)
		header("rgba16be")
		d.Write(n.Pix)
	}
	var out [32]byte
	d.Sum(out[:0])
	return out
}

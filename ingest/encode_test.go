package ingest

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
)

// TestJPEGEncoder encodes a grey and a colour picture (smooth gradients, as
// previews of scans are) and decodes them back with image/jpeg: the
// pixels come back within a few levels, grey stays grey, and the encoder
// is reusable. With the turbojpeg tag this is libjpeg-turbo's encoder,
// without it image/jpeg's.
func TestJPEGEncoder(t *testing.T) {
	grey := image.NewGray(image.Rect(0, 0, 96, 71))
	rgba := image.NewRGBA(image.Rect(0, 0, 80, 96))
	for y := range 96 {
		for x := range 96 {
			grey.SetGray(x, y, color.Gray{uint8(2*x + y)})
			rgba.SetRGBA(x, y, color.RGBA{uint8(3 * x), uint8(2 * y), uint8(x + y), 255})
		}
	}
	enc := NewJPEGEncoder()
	tests := []struct {
		name string
		img  image.Image
		grey bool
	}{{"grey", grey, true}, {"colour", rgba, false}, {"grey again", grey, true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := enc.Encode(tt.img, 75)
			if err != nil {
				t.Fatal(err)
			}
			back, err := jpeg.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if got, want := back.Bounds(), tt.img.Bounds(); got != want {
				t.Fatalf("bounds %v, want %v", got, want)
			}
			if _, isGrey := back.(*image.Gray); isGrey != tt.grey {
				t.Errorf("decoded as %T", back)
			}
			var sum, n float64
			b := back.Bounds()
			for y := b.Min.Y; y < b.Max.Y; y++ {
				for x := b.Min.X; x < b.Max.X; x++ {
					r0, g0, b0, _ := tt.img.At(x, y).RGBA()
					r1, g1, b1, _ := back.At(x, y).RGBA()
					for _, d := range []int64{int64(r0) - int64(r1), int64(g0) - int64(g1), int64(b0) - int64(b1)} {
						sum += float64(max(d, -d)) / 257
						n++
					}
				}
			}
			if mean := sum / n; mean > 3 {
				t.Errorf("mean error %.2f grey levels after the round trip, want <= 3", mean)
			}
		})
	}
}

// BenchmarkJPEGEncoder times a 96x96 preview, the size the scan stores.
func BenchmarkJPEGEncoder(b *testing.B) {
	img := image.NewRGBA(image.Rect(0, 0, 96, 96))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	grey := image.NewGray(image.Rect(0, 0, 96, 96))
	copy(grey.Pix, img.Pix)
	for _, in := range []struct {
		name string
		img  image.Image
	}{{"grey", grey}, {"colour", img}} {
		b.Run(in.name, func(b *testing.B) {
			enc := NewJPEGEncoder()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := enc.Encode(in.img, 75); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

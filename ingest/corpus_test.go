package ingest

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/disintegration/imaging"

	"github.com/copycat-dev/copycat/internal/testkit"
)

// BenchmarkDecodeFormat measures decode throughput per format on real files:
// the whole Decode call (sniff, header checks, decode, normalise).
func BenchmarkDecodeFormat(b *testing.B) {
	cases := []struct{ name, path string }{
		{"PNG8_gray_256x256", "medical_png_jpeg/itk/FatMRISlice.png"},
		{"PNG_rgb_photo", "natural/go-stdlib-variants/video-001.png"},
		{"JPEG_baseline_photo", "natural/go-stdlib-variants/video-001.jpeg"},
		{"JPEG_progressive_photo", "natural/go-stdlib-variants/video-001.progressive.jpeg"},
		{"JPEG_gray", "natural/go-stdlib-variants/video-005.gray.jpeg"},
		{"JPEG_US_800x600", "medical_png_jpeg/extracted_from_dicom/grailbio_I_000031_frame1.jpg"},
	}
	dir := testkit.Corpus(b)
	for _, c := range cases {
		data, err := os.ReadFile(filepath.Join(dir, c.path))
		if err != nil {
			continue // not every corpus version has every file
		}
		b.Run(c.name, func(b *testing.B) { benchmarkDecode(b, data) })
	}
	// The corpus has no 16-bit PNG: encode a 512x512 16-bit gradient with
	// noise, as CT exports look.
	g := image.NewGray16(image.Rect(0, 0, 512, 512))
	for i := range g.Pix {
		g.Pix[i] = byte(i*7 + i/1024)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, g); err != nil {
		b.Fatal(err)
	}
	b.Run("PNG16_gray_512x512", func(b *testing.B) { benchmarkDecode(b, buf.Bytes()) })
	// Chest X-ray datasets hold 1024x1024 8-bit grey PNGs, model-input exports
	// 224x224 ones: the corpus's 512x512 camera, resized to both.
	if data, err := os.ReadFile(filepath.Join(dir, "natural/skimage/camera.png")); err == nil {
		src, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		for _, side := range []int{224, 1024} {
			m := imaging.Resize(src, side, side, imaging.Lanczos)
			g := image.NewGray(m.Rect)
			for i := range g.Pix {
				g.Pix[i] = m.Pix[4*i]
			}
			var buf bytes.Buffer
			if err := png.Encode(&buf, g); err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("PNG8_gray_%dx%d", side, side), func(b *testing.B) { benchmarkDecode(b, buf.Bytes()) })
		}
	}
}

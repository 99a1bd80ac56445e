package jpegscale

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"github.com/corona10/goimagehash"

	"github.com/copycat-dev/copycat/ingest/internal/codec/internal/dicomtest"
)

// benchInputs returns the benchmark images: from the corpus, a 1004x958
// 4:2:0 photo, a 902x770 progressive 4:4:4 photo and an 800x600 4:2:2
// ultrasound frame; without the corpus, the 384x288 ultrasound fixture.
func benchInputs(b *testing.B) map[string][]byte {
	b.Helper()
	m := map[string][]byte{}
	dir := filepath.Join(dicomtest.ModuleRoot(b), "..", "shared", "corpus")
	for name, rel := range map[string]string{
		"photo_1004x958":      "natural/opencv/text_scenetext03.jpg",
		"progressive_902x770": "natural/opencv/ela_original.jpg",
		"us_800x600":          "medical_png_jpeg/extracted_from_dicom/grailbio_I_000031_frame1.jpg",
	} {
		if data, err := os.ReadFile(filepath.Join(dir, rel)); err == nil {
			m[name] = data
		}
	}
	if len(m) == 0 {
		m["us_384x288"] = readFile(b, "testdata/us_422.jpg")
	}
	return m
}

// reportMpix reports the source image's megapixels decoded per second.
func reportMpix(b *testing.B, data []byte) {
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	px := float64(cfg.Width * cfg.Height)
	b.ReportMetric(px*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpix/s")
}

// BenchmarkLuma decodes each input with image/jpeg (the baseline) and with
// a reused Decoder at scales 8, 4 and 1, and at scale 8 with a SHA-256
// coefficient digest.
func BenchmarkLuma(b *testing.B) {
	for name, data := range benchInputs(b) {
		b.Run(name+"/image_jpeg", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
			reportMpix(b, data)
		})
		for _, s := range []int{8, 4, 1} {
			b.Run(fmt.Sprintf("%s/scale%d", name, s), func(b *testing.B) {
				b.ReportAllocs()
				d := Decoder{forceScale: s}
				for b.Loop() {
					if _, _, err := d.Luma(data, 0); err != nil {
						b.Fatal(err)
					}
				}
				reportMpix(b, data)
			})
		}
		b.Run(name+"/scale8_digest", func(b *testing.B) {
			b.ReportAllocs()
			d := Decoder{forceScale: 8}
			h := sha256.New()
			for b.Loop() {
				h.Reset()
				if _, _, err := d.LumaDigest(data, 0, h); err != nil {
					b.Fatal(err)
				}
			}
			reportMpix(b, data)
		})
	}
}

// BenchmarkPipeline is the fingerprinting path the package exists for:
// image/jpeg.Decode then goimagehash.PerceptionHash, against Luma at the
// scale minSide 64 picks then the same hash.
func BenchmarkPipeline(b *testing.B) {
	for name, data := range benchInputs(b) {
		b.Run(name+"/image_jpeg+phash", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				img, err := jpeg.Decode(bytes.NewReader(data))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := goimagehash.PerceptionHash(img); err != nil {
					b.Fatal(err)
				}
			}
			reportMpix(b, data)
		})
		b.Run(name+"/jpegscale+phash", func(b *testing.B) {
			b.ReportAllocs()
			var d Decoder
			for b.Loop() {
				img, _, err := d.Luma(data, 64)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := goimagehash.PerceptionHash(img); err != nil {
					b.Fatal(err)
				}
			}
			reportMpix(b, data)
		})
	}
}

//go:build cgo && turbojpeg

package turbojpeg

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"github.com/corona10/goimagehash"

	"github.com/copycat-dev/copycat/ingest/internal/codec/jpegscale"
	"github.com/copycat-dev/copycat/internal/testkit"
)

// benchInputs returns the images package jpegscale benchmarks on (a
// 1004x958 4:2:0 photo, a 902x770 progressive photo, an 800x600 4:2:2
// ultrasound frame), or its 384x288 ultrasound fixture without the corpus.
func benchInputs(b *testing.B) map[string][]byte {
	b.Helper()
	m := map[string][]byte{}
	dir, _ := testkit.FindCorpus(b)
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
		m["us_384x288"] = readFile(b, fixtureDir+"us_422.jpg")
	}
	return m
}

func reportMpix(b *testing.B, data []byte) {
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(cfg.Width*cfg.Height)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpix/s")
}

// BenchmarkLuma decodes each input with image/jpeg (the baseline) and with
// a reused Decoder at scales 8, 4 and 1.
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
				d, err := NewDecoder()
				if err != nil {
					b.Fatal(err)
				}
				defer d.Close()
				d.forceScale = s
				for b.Loop() {
					if _, _, err := d.Luma(data, 0); err != nil {
						b.Fatal(err)
					}
				}
				reportMpix(b, data)
			})
		}
	}
}

// BenchmarkPipeline compares image/jpeg.Decode + goimagehash.PerceptionHash
// with Luma at minSide 64 + the same hash, here and in jpegscale.
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
			var d jpegscale.Decoder
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
		b.Run(name+"/turbojpeg+phash", func(b *testing.B) {
			b.ReportAllocs()
			d, err := NewDecoder()
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
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

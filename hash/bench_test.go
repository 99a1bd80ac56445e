package hash

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"sync"
	"testing"

	"github.com/corona10/goimagehash"
	"github.com/disintegration/imaging"
)

// benchInputs are 1024x1024 versions of testdata/hopper.jpg in the three
// layouts the scan pipeline sees most: grey (DICOM, grey PNG/JPEG), JPEG
// YCbCr 4:2:0 as decoded, and RGBA.
type benchInput struct {
	name string
	img  image.Image
}

var benchOnce = sync.OnceValues(func() ([]benchInput, error) {
	src, err := imaging.Open("testdata/hopper.jpg")
	if err != nil {
		return nil, err
	}
	big := imaging.Resize(src, 1024, 1024, imaging.Lanczos)
	grey := image.NewGray(big.Bounds())
	draw.Draw(grey, grey.Bounds(), big, image.Point{}, draw.Src)
	rgba := image.NewRGBA(big.Bounds())
	draw.Draw(rgba, rgba.Bounds(), big, image.Point{}, draw.Src)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, big, &jpeg.Options{Quality: 90}); err != nil {
		return nil, err
	}
	ycc, err := jpeg.Decode(&buf)
	if err != nil {
		return nil, err
	}
	return []benchInput{{"Gray", grey}, {"YCbCr", ycc}, {"RGBA", rgba}}, nil
})

func benchEach(b *testing.B, fn func(b *testing.B, img image.Image)) {
	b.Helper()
	inputs, err := benchOnce()
	if err != nil {
		b.Fatal(err)
	}
	for _, in := range inputs {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			start := processCPU()
			fn(b, in.img)
			if cpu := processCPU() - start; cpu > 0 && b.N > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			}
		})
	}
}

func BenchmarkPHash(b *testing.B) {
	benchEach(b, func(b *testing.B, img image.Image) {
		h := NewHasher()
		h.PHash(img) // warm up: scratch buffers grow once
		for b.Loop() {
			h.PHash(img)
		}
	})
}

func BenchmarkGoimagehashPHash(b *testing.B) {
	benchEach(b, func(b *testing.B, img image.Image) {
		for b.Loop() {
			if _, err := goimagehash.PerceptionHash(img); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDHash(b *testing.B) {
	benchEach(b, func(b *testing.B, img image.Image) {
		h := NewHasher()
		h.DHash(img) // warm up: scratch buffers grow once
		for b.Loop() {
			h.DHash(img)
		}
	})
}

func BenchmarkGoimagehashDHash(b *testing.B) {
	benchEach(b, func(b *testing.B, img image.Image) {
		for b.Loop() {
			if _, err := goimagehash.DifferenceHash(img); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkAHash(b *testing.B) {
	benchEach(b, func(b *testing.B, img image.Image) {
		h := NewHasher()
		h.AHash(img) // warm up: scratch buffers grow once
		for b.Loop() {
			h.AHash(img)
		}
	})
}

func BenchmarkGoimagehashAHash(b *testing.B) {
	benchEach(b, func(b *testing.B, img image.Image) {
		for b.Loop() {
			if _, err := goimagehash.AverageHash(img); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkGoimagehashAll is what Compute replaces: the three goimagehash
// hashes of one image.
func BenchmarkGoimagehashAll(b *testing.B) {
	benchEach(b, func(b *testing.B, img image.Image) {
		for b.Loop() {
			refHashes(b, img)
		}
	})
}

func BenchmarkPDQ(b *testing.B) {
	benchEach(b, func(b *testing.B, img image.Image) {
		h := NewHasher()
		h.PDQ(img) // warm up: scratch buffers grow once
		for b.Loop() {
			h.PDQ(img)
		}
	})
}

func BenchmarkThumbnail(b *testing.B) {
	benchEach(b, func(b *testing.B, img image.Image) {
		h := NewHasher()
		h.Thumbnail(img) // warm up: scratch buffers grow once
		for b.Loop() {
			h.Thumbnail(img)
		}
	})
}

// BenchmarkImagingThumbnail is the obvious library alternative to
// Thumbnail: an exact box-filter resize to 32x32 with imaging, then grey.
func BenchmarkImagingThumbnail(b *testing.B) {
	benchEach(b, func(b *testing.B, img image.Image) {
		for b.Loop() {
			imaging.Grayscale(imaging.Resize(img, ThumbSize, ThumbSize, imaging.Box))
		}
	})
}

func BenchmarkCompute(b *testing.B) {
	benchEach(b, func(b *testing.B, img image.Image) {
		h := NewHasher()
		h.Compute(img) // warm up: scratch buffers grow once
		for b.Loop() {
			h.Compute(img)
		}
	})
}

// BenchmarkPHashSlowPaths is PHash of the 1024x1024 RGBA input through
// the two paths for image types without a fast path: a standard type read
// with RGBA64At (an *image.RGBA64 copy) and a foreign type read with At.
func BenchmarkPHashSlowPaths(b *testing.B) {
	inputs, err := benchOnce()
	if err != nil {
		b.Fatal(err)
	}
	src := inputs[2].img
	rgba64 := image.NewRGBA64(src.Bounds())
	draw.Draw(rgba64, rgba64.Bounds(), src, image.Point{}, draw.Src)
	for _, in := range []benchInput{{"RGBA64At", rgba64}, {"At", generic{src}}} {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			h := NewHasher()
			h.PHash(in.img) // warm up: scratch buffers grow once
			start := processCPU()
			for b.Loop() {
				h.PHash(in.img)
			}
			if cpu := processCPU() - start; cpu > 0 && b.N > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			}
		})
	}
}

// BenchmarkComputeReduced is Compute on what a scan hashes for a JPEG
// photo: the luma plane decoded at 1/4 scale, here of a 480x360 photo (the
// corpus's typical size) and of a 1024x1024 one; and for a 224x224 grey
// PNG of an ML dataset, at full size.
func BenchmarkComputeReduced(b *testing.B) {
	inputs, err := benchOnce()
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		size  image.Point
		scale int
	}{{image.Pt(480, 360), 4}, {image.Pt(1024, 1024), 4}, {image.Pt(224, 224), 1}} {
		size := c.size
		small := imaging.Resize(inputs[0].img, size.X/c.scale, size.Y/c.scale, imaging.Box)
		grey := image.NewGray(small.Bounds())
		draw.Draw(grey, grey.Bounds(), small, image.Point{}, draw.Src)
		b.Run(fmt.Sprintf("%dx%d/%d", size.X, size.Y, c.scale), func(b *testing.B) {
			b.ReportAllocs()
			h := NewHasher()
			h.ComputeReduced(grey, c.scale, size.X, size.Y) // warm up
			for b.Loop() {
				h.ComputeReduced(grey, c.scale, size.X, size.Y)
			}
		})
	}
}

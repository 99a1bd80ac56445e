package scan

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/copycat-dev/copycat/hash"
	"github.com/copycat-dev/copycat/ingest"
	"github.com/copycat-dev/copycat/internal/testkit"
	"github.com/disintegration/imaging"
)

// filled returns an image of the given type and size, every pixel c.
func filled(kind string, w, h int, c color.Color) image.Image {
	r := image.Rect(0, 0, w, h)
	var m interface {
		image.Image
		Set(x, y int, c color.Color)
	}
	switch kind {
	case "gray":
		m = image.NewGray(r)
	case "gray16":
		m = image.NewGray16(r)
	case "rgba":
		m = image.NewRGBA(r)
	case "nrgba":
		m = image.NewNRGBA(r)
	case "nrgba64":
		m = image.NewNRGBA64(r)
	case "cmyk":
		m = image.NewCMYK(r)
	}
	for y := range h {
		for x := range w {
			m.Set(x, y, c)
		}
	}
	return m
}

func TestPreview(t *testing.T) {
	red := color.RGBA{200, 30, 60, 255}
	grey := color.Gray{140}
	ycc := image.NewYCbCr(image.Rect(0, 0, 300, 100), image.YCbCrSubsampleRatio420)
	for i := range ycc.Y {
		ycc.Y[i] = 90
	}
	for i := range ycc.Cb {
		ycc.Cb[i], ycc.Cr[i] = 90, 200
	}
	yr, yg, yb := color.YCbCrToRGB(90, 90, 200)
	tests := []struct {
		name   string
		img    image.Image
		w, h   int
		colour bool
		want   color.RGBA
	}{
		{"grey landscape", filled("gray", 300, 200, grey), 96, 64, false, color.RGBA{140, 140, 140, 255}},
		{"16-bit grey, large", filled("gray16", 2048, 1024, grey), 96, 48, false, color.RGBA{140, 140, 140, 255}},
		{"colour portrait", filled("rgba", 50, 200, red), 24, 96, true, red},
		{"straight alpha colour", filled("nrgba", 200, 200, red), 96, 96, true, red},
		{"16-bit colour", filled("nrgba64", 97, 13, red), 96, 13, true, red},
		{"YCbCr", ycc, 96, 32, true, color.RGBA{yr, yg, yb, 255}},
		{"CMYK, generic path", filled("cmyk", 40, 30, red), 40, 30, true, color.RGBAModel.Convert(color.CMYKModel.Convert(red)).(color.RGBA)},
		{"small: kept at its size", filled("gray", 40, 30, grey), 40, 30, false, color.RGBA{140, 140, 140, 255}},
	}
	var p previewer
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := p.encode(tt.img)
			got, err := jpeg.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if s := got.Bounds().Size(); s.X != tt.w || s.Y != tt.h {
				t.Errorf("size %v, want %dx%d", s, tt.w, tt.h)
			}
			if _, isColour := got.(*image.YCbCr); isColour != tt.colour {
				t.Errorf("colour %v, want %v (%T)", isColour, tt.colour, got)
			}
			c := color.RGBAModel.Convert(got.At(got.Bounds().Dx()/2, got.Bounds().Dy()/2)).(color.RGBA)
			for i, v := range [3][2]uint8{{c.R, tt.want.R}, {c.G, tt.want.G}, {c.B, tt.want.B}} {
				if d := int(v[0]) - int(v[1]); d < -8 || d > 8 {
					t.Errorf("channel %d is %d, want %d (JPEG: within 8)", i, v[0], v[1])
				}
			}
		})
	}
	if b := p.encode(image.NewGray(image.Rect(0, 0, 0, 5))); b != nil {
		t.Errorf("empty image: preview of %d bytes", len(b))
	}
}

// corpusFrames decodes the corpus's images as a scan does (reduced to
// hash.MinSide) and returns their first frames.
func corpusFrames(tb testing.TB) []image.Image {
	tb.Helper()
	root, files := testkit.CorpusFiles(tb, []string{".png", ".jpg", ".jpeg", ".dcm", ""})
	dec := ingest.NewDecoder(ingest.Options{MinSide: hash.MinSide})
	defer dec.Close()
	var frames []image.Image
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			tb.Fatal(err)
		}
		if k, _ := ingest.Sniff(data[:min(len(data), ingest.SniffLen)]); k != ingest.KindImage {
			continue
		}
		_, _ = dec.Decode(data, func(fr ingest.Frame) error {
			if fr.Index == 0 {
				frames = append(frames, fr.Image)
			}
			return nil
		})
	}
	return frames
}

// TestPreviewSize measures the previews of the corpus's images as a scan
// makes them: what each image adds to an index. The bound, about twice
// the measured mean (1.9 KB), catches a change of size or quality that
// would make a million-image index gigabytes larger.
func TestPreviewSize(t *testing.T) {
	frames := corpusFrames(t)
	var p previewer
	var total, largest, grey int
	for _, f := range frames {
		b := p.encode(f)
		if b == nil {
			t.Errorf("no preview of a %T %v", f, f.Bounds())
			continue
		}
		total += len(b)
		largest = max(largest, len(b))
		switch f.(type) {
		case *image.Gray, *image.Gray16:
			grey++
		}
	}
	mean := total / len(frames)
	t.Logf("%d frames (%d grey): previews of %d bytes on average, %d at most", len(frames), grey, mean, largest)
	if mean > 4000 {
		t.Errorf("previews of %d bytes on average, want under 4000", mean)
	}
}

// BenchmarkPreview is the preview's share of a scan's per-image work, on
// the corpus's frames as decoded for a scan, and on frames of typical
// sizes: the corpus resized to 224x224 (a common training size), with
// the whole per-file work of a scan on the same pictures as PNG files
// (worker-224png) for scale, and a 2048x2048 16-bit DICOM frame. Besides
// wall time it reports CPU time per image (cpu-us/op), steadier on a
// shared machine; compare with -cpu 1.
func BenchmarkPreview(b *testing.B) {
	frames := corpusFrames(b)
	var files [][]byte
	var small224 []image.Image
	for _, f := range frames {
		r := imaging.Resize(f, 224, 224, imaging.Box)
		var img image.Image = r
		if _, grey := f.(*image.Gray); grey {
			img = ingestGray(r)
		}
		small224 = append(small224, img)
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			b.Fatal(err)
		}
		files = append(files, buf.Bytes())
	}
	big := image.NewGray16(image.Rect(0, 0, 2048, 2048))
	for i := range big.Pix {
		big.Pix[i] = uint8(i ^ i>>11)
	}
	for _, c := range []struct {
		name string
		imgs []image.Image
	}{
		{"corpus", frames},
		{"224", small224},
		{"gray16-2048", []image.Image{big}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var p previewer
			b.ReportAllocs()
			cpu := testkit.CPUTime()
			for i := 0; b.Loop(); i++ {
				p.encode(c.imgs[i%len(c.imgs)])
			}
			b.ReportMetric(float64((testkit.CPUTime()-cpu).Microseconds())/float64(b.N), "cpu-us/op")
		})
	}
	b.Run("worker-224png", func(b *testing.B) {
		w := NewWorker(ingest.Options{})
		defer w.Close()
		b.ReportAllocs()
		cpu := testkit.CPUTime()
		for i := 0; b.Loop(); i++ {
			if _, failure := w.Process(ingest.NewMemoryEntry("f.png", files[i%len(files)])); failure != "" {
				b.Fatal(failure)
			}
		}
		b.ReportMetric(float64((testkit.CPUTime()-cpu).Microseconds())/float64(b.N), "cpu-us/op")
	})
}

// ingestGray is img as the grey image a scan decodes a grey PNG to.
func ingestGray(img *image.NRGBA) *image.Gray {
	g := image.NewGray(img.Rect)
	for i := range g.Pix {
		g.Pix[i] = img.Pix[4*i]
	}
	return g
}

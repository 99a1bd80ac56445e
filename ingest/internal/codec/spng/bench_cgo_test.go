//go:build cgo && spng

package spng

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/copycat-dev/copycat/internal/testkit"
	"github.com/disintegration/imaging"
)

// cpuTime returns the CPU time (user and system) the process has used.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchSource returns a photograph to build the benchmark inputs from
// (skimage's camera or astronaut, 512x512, from the shared corpus), or a
// synthetic picture of smooth shapes when the corpus is absent.
func benchSource(tb testing.TB, rgb bool) image.Image {
	tb.Helper()
	name := "camera.png"
	if rgb {
		name = "astronaut.png"
	}
	if dir, ok := testkit.FindCorpus(tb); ok {
		if f, err := os.ReadFile(filepath.Join(dir, "natural", "skimage", name)); err == nil {
			if img, err := png.Decode(bytes.NewReader(f)); err == nil {
				return img
			}
		}
	}
	img := image.NewNRGBA(image.Rect(0, 0, 512, 512))
	for y := range 512 {
		for x := range 512 {
			d := (x-256)*(x-256) + (y-200)*(y-200)
			v := byte(40 + 160*max(0, 40000-d)/40000 + x/8)
			img.Pix[img.PixOffset(x, y)+0] = v
			img.Pix[img.PixOffset(x, y)+1] = v / 2
			img.Pix[img.PixOffset(x, y)+2] = 255 - v
			img.Pix[img.PixOffset(x, y)+3] = 255
		}
	}
	return img
}

// benchPNG encodes a side x side PNG as an X-ray export looks: the
// source resized, with a little sensor noise, as 8-bit grey, 16-bit grey
// (12 bits used) or 8-bit RGB, with image/png's default compression.
func benchPNG(tb testing.TB, side int, kind string) []byte {
	tb.Helper()
	rng := rand.New(rand.NewPCG(uint64(side), 9))
	src := imaging.Resize(benchSource(tb, kind == "rgb"), side, side, imaging.Lanczos)
	noise := func(v byte) int { return int(v) + rng.IntN(5) - 2 }
	var img image.Image
	switch kind {
	case "gray":
		g := image.NewGray(src.Rect)
		for i := range g.Pix {
			g.Pix[i] = byte(min(255, max(0, noise(src.Pix[4*i]))))
		}
		img = g
	case "gray16":
		g := image.NewGray16(src.Rect)
		for i := 0; i < len(g.Pix); i += 2 {
			v := uint16(min(4095, max(0, 16*noise(src.Pix[2*i]))))
			g.Pix[i], g.Pix[i+1] = byte(v>>8), byte(v)
		}
		img = g
	case "rgb":
		for i := range src.Pix {
			if i%4 != 3 {
				src.Pix[i] = byte(min(255, max(0, noise(src.Pix[i]))))
			}
		}
		img = src
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// benchDecoders runs image/png and Decode on data as two sub-benchmarks.
func benchDecoders(b *testing.B, data []byte) {
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	var cpu0 time.Duration
	start := func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		cpu0 = cpuTime(b)
	}
	mpix := func(b *testing.B) {
		b.ReportMetric(float64(cfg.Width*cfg.Height)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpix/s")
		// The process's CPU time per decode: steadier than wall time on
		// a shared machine, where other processes take the CPU.
		b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
	}
	b.Run("image_png", func(b *testing.B) {
		start(b)
		for b.Loop() {
			if _, err := png.Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
		mpix(b)
	})
	b.Run("spng", func(b *testing.B) {
		start(b)
		for b.Loop() {
			if _, err := Decode(data, 1<<30); err != nil {
				b.Fatal(err)
			}
		}
		mpix(b)
	})
}

// BenchmarkDecode compares image/png and Decode on the image kinds of
// medical datasets: 1024x1024 8-bit grey (a chest X-ray export), 224x224
// grey (a model-input export), 1024x1024 RGB and 1024x1024 16-bit grey.
func BenchmarkDecode(b *testing.B) {
	for _, c := range []struct {
		name string
		side int
		kind string
	}{
		{"gray8_1024", 1024, "gray"},
		{"gray8_224", 224, "gray"},
		{"rgb8_1024", 1024, "rgb"},
		{"gray16_1024", 1024, "gray16"},
	} {
		data := benchPNG(b, c.side, c.kind)
		b.Run(c.name, func(b *testing.B) { benchDecoders(b, data) })
	}
}

// BenchmarkCrossover measures both decoders on 8-bit grey PNGs from 32 to
// 512 pixels a side, to place package ingest's threshold.
func BenchmarkCrossover(b *testing.B) {
	for _, side := range []int{32, 64, 96, 128, 160, 224, 320, 512} {
		data := benchPNG(b, side, "gray")
		b.Run(fmt.Sprintf("side%d", side), func(b *testing.B) { benchDecoders(b, data) })
	}
}

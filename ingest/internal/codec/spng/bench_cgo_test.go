//go:build cgo && spng

package spng

import (
	"bytes"
	"fmt"
	"image/png"
	"testing"
	"time"

	"github.com/copycat-dev/copycat/ingest/internal/codec/internal/pngtest"
)

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
		cpu0 = pngtest.CPUTime(b)
	}
	mpix := func(b *testing.B) {
		b.ReportMetric(float64(cfg.Width*cfg.Height)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpix/s")
		// The process's CPU time per decode: steadier than wall time on
		// a shared machine, where other processes take the CPU.
		b.ReportMetric(float64(pngtest.CPUTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
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
		data := pngtest.BenchPNG(b, c.side, c.kind)
		b.Run(c.name, func(b *testing.B) { benchDecoders(b, data) })
	}
}

// BenchmarkCrossover measures both decoders on 8-bit grey PNGs from 32 to
// 512 pixels a side, to place package ingest's threshold.
func BenchmarkCrossover(b *testing.B) {
	for _, side := range []int{32, 64, 96, 128, 160, 224, 320, 512} {
		data := pngtest.BenchPNG(b, side, "gray")
		b.Run(fmt.Sprintf("side%d", side), func(b *testing.B) { benchDecoders(b, data) })
	}
}

package graypng

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/copycat-dev/copycat/ingest/internal/codec/internal/pngtest"
	"github.com/copycat-dev/copycat/ingest/internal/codec/spng"
	"github.com/copycat-dev/copycat/internal/testkit"
)

// benchCase is one benchmark input.
type benchCase struct {
	name string
	data []byte
}

// benchCases returns the inputs of BenchmarkDecode: the image kinds of
// medical datasets, as pngtest.BenchPNG writes them, and a real 8-bit grey
// PNG of the corpus when it is there.
func benchCases(b *testing.B) []benchCase {
	cs := []benchCase{
		{"gray8_1024", pngtest.BenchPNG(b, 1024, "gray")},
		{"gray8_224", pngtest.BenchPNG(b, 224, "gray")},
		{"gray16_1024", pngtest.BenchPNG(b, 1024, "gray16")},
	}
	if dir, ok := testkit.FindCorpus(b); ok {
		// 8-bit grey PNGs written by other encoders: a 512x512
		// photograph (skimage's camera) and a 550x660 micrograph.
		for _, c := range []struct{ name, path string }{
			{"corpus_camera_512", "natural/skimage/camera.png"},
			{"corpus_cell_550x660", "medical_png_jpeg/skimage/cell.png"},
		} {
			if data, err := os.ReadFile(filepath.Join(dir, c.path)); err == nil {
				cs = append(cs, benchCase{c.name, data})
			}
		}
	}
	return cs
}

// BenchmarkDecode compares image/png, libspng (when built in) and Decode
// on each input, reporting the CPU time per decode (cpu-ns/op).
func BenchmarkDecode(b *testing.B) {
	for _, c := range benchCases(b) {
		b.Run(c.name, func(b *testing.B) {
			decoders := []struct {
				name string
				fn   func([]byte) error
			}{
				{"image_png", func(d []byte) error { _, err := png.Decode(bytes.NewReader(d)); return err }},
				{"spng", func(d []byte) error { _, err := spng.Decode(d, 1<<30); return err }},
				{"graypng", func(d []byte) error { _, err := Decode(d, 1<<30); return err }},
			}
			for _, d := range decoders {
				if d.name == "spng" && !spng.Available {
					continue
				}
				b.Run(d.name, func(b *testing.B) { benchCPU(b, c.data, d.fn) })
			}
		})
	}
}

// benchCPU runs fn on data b.N times and reports the process's CPU time
// per call alongside wall time.
func benchCPU(b *testing.B, data []byte, fn func([]byte) error) {
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	cpu0 := pngtest.CPUTime(b)
	for b.Loop() {
		if err := fn(data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(pngtest.CPUTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkPhases splits Decode's time on the inputs of BenchmarkDecode
// into the chunk walk, the inflate and the unfiltering.
func BenchmarkPhases(b *testing.B) {
	for _, c := range benchCases(b) {
		hd, err := walk(c.data, 1<<30)
		if err != nil {
			b.Logf("%s: %v", c.name, err)
			continue
		}
		stride := hd.w * hd.depth / 8
		raw := make([]byte, hd.h*(stride+1))
		if err := inflate(raw, hd.z); err != nil {
			b.Fatal(err)
		}
		filtered := bytes.Clone(raw)
		b.Run(c.name+"/walk", func(b *testing.B) {
			benchCPU(b, c.data, func(d []byte) error { _, err := walk(d, 1<<30); return err })
		})
		b.Run(c.name+"/inflate_"+Inflater, func(b *testing.B) {
			benchCPU(b, c.data, func([]byte) error { return inflate(raw, hd.z) })
		})
		b.Run(c.name+"/unfilter", func(b *testing.B) {
			benchCPU(b, c.data, func([]byte) error {
				copy(raw, filtered)
				return unfilter(raw, hd.h, stride, hd.depth/8)
			})
		})
		counts := [5]int{}
		for y := range hd.h {
			if f := filtered[y*(stride+1)]; f < 5 {
				counts[f]++
			}
		}
		b.Logf("%s: rows by filter (none, sub, up, average, paeth): %v", c.name, counts)
	}
}

// filterPaethStd is image/png's Paeth unfiltering loop (its reader's
// filterPaeth, in Go's paeth.go), reproduced to measure against.
func filterPaethStd(cdat, pdat []byte, bytesPerPixel int) {
	var a, b, c, pa, pb, pc int
	for i := 0; i < bytesPerPixel; i++ {
		a, c = 0, 0
		for j := i; j < len(cdat); j += bytesPerPixel {
			b = int(pdat[j])
			pa = b - c
			pb = a - c
			pc = absInt(pa + pb)
			pa = absInt(pa)
			pb = absInt(pb)
			if pa <= pb && pa <= pc {
				// a
			} else if pb <= pc {
				a = b
			} else {
				a = c
			}
			a += int(cdat[j])
			a &= 0xff
			cdat[j] = uint8(a)
			c = b
		}
	}
}

// BenchmarkPaeth compares image/png's Paeth loop with this package's on
// a 1024-pixel row of noisy data (1- and 2-byte pixels), the case where
// branches mispredict.
func BenchmarkPaeth(b *testing.B) {
	for _, bpp := range []int{1, 2} {
		n := 1024 * bpp
		cur, prev, out := make([]byte, n), make([]byte, n), make([]byte, n)
		seed := uint32(1)
		for i := range cur {
			seed = seed*1664525 + 1013904223
			cur[i], prev[i] = byte(seed>>24)&7, byte(seed>>16)
		}
		b.Run(fmt.Sprintf("bpp%d/image_png", bpp), func(b *testing.B) {
			b.SetBytes(int64(n))
			tmp := make([]byte, n)
			for b.Loop() {
				copy(tmp, cur)
				filterPaethStd(tmp, prev, bpp)
			}
		})
		b.Run(fmt.Sprintf("bpp%d/graypng", bpp), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				if bpp == 1 {
					unfilterPaeth1(out, cur, prev)
				} else {
					unfilterPaeth2(out, cur, prev)
				}
			}
		})
	}
}

// absInt returns |x| without a branch, as image/png's abs does.
func absInt(x int) int {
	m := x >> 63
	return (x ^ m) - m
}

package interchange

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/copycat-dev/copycat/index"
)

// benchImages is the size of the benchmarks' index: enough rows for
// several row groups of images.
const benchImages = 40000

// syntheticIndex writes n one-image files with random fingerprints into a
// new index in dir, as a scan would.
func syntheticIndex(tb testing.TB, dir string, n int) *index.Store {
	tb.Helper()
	st, err := index.Open(dir, index.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	w, err := st.BeginWrite("synthetic", "/data/synthetic")
	if err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		path := fmt.Sprintf("d%03d/s%07d.png", i/1000, i)
		var im index.Image
		im.Format, im.Width, im.Height, im.Bits, im.Photometric = "png", 256, 256, 8, "gray"
		im.FileSize = 40000 + int64(rng.IntN(1000))
		for j := range im.PixelSHA256 {
			im.PixelSHA256[j] = byte(rng.Uint32())
			im.FileSHA256[j] = byte(rng.Uint32())
		}
		fp := &im.Fingerprint
		fp.PHash, fp.DHash, fp.AHash = rng.Uint64(), rng.Uint64(), rng.Uint64()
		for j := range fp.Dihedral {
			fp.Dihedral[j] = rng.Uint64()
		}
		fp.Dihedral[0] = fp.PHash
		for j := range fp.PDQ {
			fp.PDQ[j] = byte(rng.Uint32())
		}
		fp.PDQQuality = 100
		for j := range fp.Thumb {
			fp.Thumb[j] = byte(j/32*4 + rng.IntN(8)) // a gradient with noise: compresses as a real one does, roughly
		}
		f := index.File{Path: path, Size: im.FileSize, ModTime: time.Unix(1700000000, int64(i)), SHA256: im.FileSHA256, Format: "png", Frames: 1}
		if err := w.Put(f, []index.Image{im}); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := w.Finish(); err != nil {
		tb.Fatal(err)
	}
	return st
}

// BenchmarkExport measures Export per image (ns/op is per image).
func BenchmarkExport(b *testing.B) {
	st := syntheticIndex(b, filepath.Join(b.TempDir(), "idx"), benchImages)
	defer st.Close()
	b.ReportAllocs()
	b.ResetTimer()
	var bytes int64
	for i := range b.N {
		sum, err := Export(context.Background(), st, filepath.Join(b.TempDir(), fmt.Sprint(i)))
		if err != nil {
			b.Fatal(err)
		}
		bytes = sum.Bytes
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchImages), "ns/image")
	b.ReportMetric(float64(bytes)/benchImages, "bytes/image")
}

// BenchmarkImport measures Import of an export into a new index, per
// image.
func BenchmarkImport(b *testing.B) {
	src := syntheticIndex(b, filepath.Join(b.TempDir(), "idx"), benchImages)
	ex := filepath.Join(b.TempDir(), "ex")
	if _, err := Export(context.Background(), src, ex); err != nil {
		b.Fatal(err)
	}
	src.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		dir := filepath.Join(b.TempDir(), fmt.Sprint(i))
		st, err := index.Open(dir, index.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := Import(context.Background(), st, []string{ex}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		st.Close()
		os.RemoveAll(dir)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchImages), "ns/image")
}

package index

import (
	"context"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/copycat-dev/copycat/internal/testkit"
)

// BenchmarkScanPut measures writing one-frame files through a scan the way
// the scan pipeline does (Unchanged, then Put): one op is one new image.
func BenchmarkScanPut(b *testing.B) {
	s := openStore(b, Options{BatchFiles: 2048, FlushInterval: time.Minute})
	sc, err := s.BeginWrite("bench", "/bench")
	if err != nil {
		b.Fatal(err)
	}
	pool := make([]Image, 256)
	for i := range pool {
		pool[i] = fakeImage(uint64(i), 0)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	cpu0 := testkit.CPUTime()
	i := 0
	for b.Loop() {
		im := pool[i%len(pool)]
		im.Fingerprint.PHash = rng.Uint64()
		im.PixelSHA256[0], im.PixelSHA256[1], im.PixelSHA256[2] = byte(i), byte(i>>8), byte(i>>16)
		f := File{Path: fmt.Sprintf("d%04d/f%08d.png", i%1000, i), Size: int64(i), SHA256: im.PixelSHA256, Frames: 1}
		if same, err := sc.Unchanged(f.Path, f.Size, f.ModTime); err != nil || same {
			b.Fatalf("Unchanged(%s) = %v, %v", f.Path, same, err)
		}
		if err := sc.Put(f, []Image{im}); err != nil {
			b.Fatal(err)
		}
		i++
	}
	if _, err := sc.Finish(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
	b.ReportMetric(float64(b.N)/(testkit.CPUTime()-cpu0).Seconds(), "images/cpu-s")
}

// BenchmarkUnchanged measures the rescan fast path: one op confirms one
// unchanged file.
func BenchmarkUnchanged(b *testing.B) {
	s := openStore(b, Options{BatchFiles: 2048, FlushInterval: time.Minute})
	const n = 10_000
	files := map[string]uint64{}
	for i := range n {
		files[fmt.Sprintf("d/%05d.dcm", i)] = uint64(i*7 + 1)
	}
	scanFiles(b, s, "d", files, func(uint64) int { return 1 })
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		sc, err := s.BeginWrite("d", "/d")
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			p := fmt.Sprintf("d/%05d.dcm", i)
			f, _ := fakeFile(p, uint64(i*7+1), 0)
			if same, err := sc.Unchanged(p, f.Size, f.ModTime); err != nil || !same {
				b.Fatalf("Unchanged(%s) = %v, %v", p, same, err)
			}
		}
		if _, err := sc.Finish(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "s/rescan-of-10k")
}

// BenchmarkQuery measures Store.Query against 100,000 indexed images.
func BenchmarkQuery(b *testing.B) {
	s := openStore(b, Options{BatchFiles: 4096, FlushInterval: time.Minute})
	sc, err := s.BeginWrite("bench", "/bench")
	if err != nil {
		b.Fatal(err)
	}
	hs := plantedHashes(b, 5, 100_000, 8, 100, true)
	base := fakeImage(1, 0)
	for i, h := range hs {
		im := base
		im.Fingerprint.PHash, im.Fingerprint.Dihedral[0] = h, h
		im.PixelSHA256[0], im.PixelSHA256[1], im.PixelSHA256[2] = byte(i), byte(i>>8), byte(i>>16)
		if err := sc.Put(File{Path: fmt.Sprintf("%07d", i), Frames: 1}, []Image{im}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := sc.Finish(); err != nil {
		b.Fatal(err)
	}
	if _, err := s.PrepareSearch(); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		q := base
		q.Fingerprint.PHash = flipBits(rng, hs[rng.IntN(len(hs))], 4)
		if _, err := s.Query(b.Context(), Query{Fingerprint: q.Fingerprint, FileSHA256: q.FileSHA256, MaxDistance: 8}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClusters measures Store.Clusters over 100,000 images with 1%
// planted near-duplicates.
func BenchmarkClusters(b *testing.B) {
	s := openStore(b, Options{BatchFiles: 4096, FlushInterval: time.Minute})
	sc, err := s.BeginWrite("bench", "/bench")
	if err != nil {
		b.Fatal(err)
	}
	hs := plantedHashes(b, 6, 100_000, 8, 100, true)
	for i, h := range hs {
		im := fakeImage(uint64(i%64), 0)
		// The planted pHash in every orientation (rotated bits, so that
		// they differ), and no min-max rendering: fakeImage's 64 seeds
		// would otherwise give 1,500 images one canonical or min-max
		// pHash (and SOP instance) each, a million candidate pairs per
		// seed that no real index has, and the benchmark ran for 37
		// minutes.
		im.Fingerprint.PHash = h
		for k := range im.Fingerprint.Dihedral {
			im.Fingerprint.Dihedral[k] = bits.RotateLeft64(h, 8*k)
		}
		im.MinMax = nil
		im.SOPInstanceUID = fmt.Sprintf("1.2.3.%d", i) // one instance per image, as in a real index
		im.PixelSHA256[0], im.PixelSHA256[1], im.PixelSHA256[2] = byte(i), byte(i>>8), byte(i>>16)
		im.FileSHA256 = im.PixelSHA256
		if err := sc.Put(File{Path: fmt.Sprintf("%07d", i), Frames: 1}, []Image{im}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := sc.Finish(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		cs, _, err := s.Clusters(context.Background(), ClusterOptions{MaxDistance: 8})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(cs)), "clusters")
	}
}

package bench

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/internal/testkit"
)

func TestRunIndexSmall(t *testing.T) {
	var out bytes.Buffer
	res, err := RunIndex(context.Background(), IndexConfig{N: 20_000, Queries: 100}, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	t.Log("\n" + out.String())
	if res.BrutePairs != res.Pairs {
		t.Errorf("pairs %d, brute force %d", res.Pairs, res.BrutePairs)
	}
	if res.Pairs < res.Planted {
		t.Errorf("found %d pairs, fewer than the %d planted", res.Pairs, res.Planted)
	}
	if res.InsertPerSec <= 0 || res.BytesPerImage <= 0 || res.SearchP50 <= 0 || res.QueryP50 <= 0 {
		t.Errorf("missing figures: %+v", res)
	}
	if res.Clusters < res.Planted/2 {
		t.Errorf("%d clusters for %d planted near-duplicates", res.Clusters, res.Planted)
	}
}

// BenchmarkIndex1M is `copycat bench index --n 1000000`: insert, reopen,
// pair search (no brute force), queries, clusters. It prints its report.
func BenchmarkIndex1M(b *testing.B) {
	if testing.Short() {
		b.Skip("1M images: skipped with -short")
	}
	for b.Loop() {
		var out bytes.Buffer
		res, err := RunIndex(context.Background(), IndexConfig{N: 1_000_000}, &out)
		b.Log("\n" + out.String())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(res.InsertPerSec, "inserts/s")
		b.ReportMetric(res.PairsTime.Seconds(), "pairs-s")
		b.ReportMetric(res.BytesPerImage, "disk-B/image")
	}
}

// BenchmarkPairs10M is the 10-million-hash pair search alone, in memory
// (an index that size would take 15 GB of disk).
func BenchmarkPairs10M(b *testing.B) {
	if testing.Short() {
		b.Skip("10M hashes: skipped with -short")
	}
	for b.Loop() {
		var out bytes.Buffer
		res, err := RunIndex(context.Background(), IndexConfig{N: 10_000_000, NoStore: true, Queries: 200}, &out)
		b.Log("\n" + out.String())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(res.PairsTime.Seconds(), "pairs-s")
		b.ReportMetric(float64(res.PeakRSS)/(1<<20), "peak-RSS-MB")
	}
}

// BenchmarkPairsReal1M runs the workload on a million pHashes of real
// images (corpus frames and random crops of them, see RealHashes), with
// brute force skipped and no store.
func BenchmarkPairsReal1M(b *testing.B) {
	if testing.Short() {
		b.Skip("1M real-image hashes: skipped with -short")
	}
	corpus := testkit.Corpus(b)
	hs, err := RealHashes(context.Background(), corpus, 1_000_000, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		var out bytes.Buffer
		res, err := RunIndex(context.Background(), IndexConfig{Hashes: hs, NoStore: true, Queries: 200}, &out)
		b.Log("\n" + out.String())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(res.PairsTime.Seconds(), "pairs-s")
		b.ReportMetric(float64(res.Pairs), "pairs")
	}
}

func TestRealHashesSmall(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("decodes the corpus: skipped with -short and -race")
	}
	// One folder of the corpus keeps the test quick.
	corpus := filepath.Join(testkit.Corpus(t), "medical_png_jpeg")
	hs, err := RealHashes(context.Background(), corpus, 5000, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 5000 {
		t.Fatalf("got %d hashes, want 5000 (the corpus gives about a million)", len(hs))
	}
	var out bytes.Buffer
	res, err := RunIndex(context.Background(), IndexConfig{Hashes: hs, NoStore: true, Queries: 50}, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	if res.BrutePairs != res.Pairs {
		t.Errorf("pairs %d, brute force %d", res.Pairs, res.BrutePairs)
	}
}

func TestSyntheticImagePath(t *testing.T) {
	thumbs := thumbPool(1, 1)
	var f index.File
	var im index.Image
	var buf []byte
	for _, tc := range []struct {
		i    int
		want string
	}{
		{0, "set000/img0000000.png"},
		{7, "set007/img0000007.png"},
		{1234, "set234/img0001234.png"},
		{999_999, "set999/img0999999.png"},
		{12_345_678, "set678/img12345678.png"},
	} {
		buf = syntheticImage(tc.i, tc.i, 1, &thumbs[0], &f, &im, buf)
		if got := f.Path; got != tc.want {
			t.Errorf("image %d: path %q, want %q", tc.i, got, tc.want)
		}
		if im.Fingerprint.Thumb != thumbs[0] || im.Fingerprint.PHash != 1 || im.PixelSHA256 == ([32]byte{}) {
			t.Errorf("image %d: fingerprint or digests not filled", tc.i)
		}
	}
}

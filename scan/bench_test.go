package scan

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/copycat-dev/copycat/ingest"
	"github.com/copycat-dev/copycat/internal/testkit"
)

// BenchmarkWorkerProcess is a scan's per-file work (everything but the
// index write) over the corpus's natural photos and DICOMs, per format:
// what `copycat bench hash` reports as copycat's side, in a form pprof
// and benchstat take.
func BenchmarkWorkerProcess(b *testing.B) {
	corpus := testkit.Corpus(b)
	byFormat := map[string][][]byte{}
	for _, sub := range []string{"natural", "dicom"} {
		err := filepath.WalkDir(filepath.Join(corpus, sub), func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if k, f := ingest.Sniff(data[:min(len(data), ingest.SniffLen)]); k == ingest.KindImage {
				byFormat[f] = append(byFormat[f], data)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	for _, format := range []string{"jpeg", "png", "dicom"} {
		files := byFormat[format]
		if len(files) == 0 {
			continue
		}
		for _, minSide := range []int{64, 128, 256} {
			b.Run(fmt.Sprintf("%s/minside=%d", format, minSide), func(b *testing.B) {
				benchmarkProcess(b, files, minSide)
			})
		}
	}
}

func benchmarkProcess(b *testing.B, files [][]byte, minSide int) {
	w := NewWorker(ingest.Options{MinSide: minSide})
	defer w.Close()
	var bytes int64
	for _, f := range files {
		bytes += int64(len(f))
	}
	b.SetBytes(bytes / int64(len(files)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		data := files[i%len(files)]
		if _, failure := w.Process(ingest.NewMemoryEntry("f", data)); failure != "" && i < len(files) {
			b.Logf("file %d: %s", i, failure)
		}
	}
}

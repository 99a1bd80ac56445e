package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/copycat-dev/copycat"
	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/interchange"
	"github.com/copycat-dev/copycat/scan"
)

// corpus returns the shared corpus beside the checkout, or skips.
func corpus(tb testing.TB) string {
	tb.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "corpus"))
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "dicom")); err != nil {
		tb.Skipf("the shared corpus is not at %s (../shared beside the checkout): %v", dir, err)
	}
	return dir
}

// records lists every file and image of an index, IDs cleared, the
// previews in: two indexes with equal lists hold the same records.
func records(tb testing.TB, st *index.Store) ([]index.File, []index.Image) {
	tb.Helper()
	ctx := context.Background()
	infos, err := st.Datasets(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	var files []index.File
	var images []index.Image
	for _, d := range infos {
		for f, err := range st.Files(ctx, d.Name) {
			if err != nil {
				tb.Fatal(err)
			}
			files = append(files, f)
		}
		for im, err := range st.Images(ctx, d.Name) {
			if err != nil {
				tb.Fatal(err)
			}
			if im.Preview, err = st.Preview(ctx, im.ID); err != nil {
				tb.Fatal(err)
			}
			im.ID = 0
			images = append(images, im)
		}
	}
	return files, images
}

// TestCorpus fingerprints the corpus on Prism, imports the parts and
// checks that the records equal a scan's; then runs the pairs step on the
// parts and checks the pairs and clusters against copycat's own.
func TestCorpus(t *testing.T) {
	root := corpus(t)
	ctx := context.Background()
	tmp := t.TempDir()
	datasets := []scan.Dataset{
		{Name: "dicom", Path: filepath.Join(root, "dicom")},
		{Name: "medical_png_jpeg", Path: filepath.Join(root, "medical_png_jpeg")},
		{Name: "natural", Path: filepath.Join(root, "natural")},
	}
	// Two indexes with one salt: one scans, one imports the parts.
	base := filepath.Join(tmp, "base")
	st, err := index.Open(base, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	salt := slices.Clone(st.Salt())
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	scanned, imported := filepath.Join(tmp, "scanned"), filepath.Join(tmp, "imported")
	for _, d := range []string{scanned, imported} {
		if err := os.CopyFS(d, os.DirFS(base)); err != nil {
			t.Fatal(err)
		}
	}
	ix, err := copycat.Open(scanned, copycat.Options{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := ix.Scan(ctx, datasets, copycat.ScanOptions{}); err != nil {
		t.Fatal(err)
	}
	scanTime := time.Since(start)
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(tmp, "parts")
	took := runPrism(t, func(s beam.Scope) {
		Fingerprint(s, FingerprintOptions{Datasets: datasets, Out: out, Shards: 3, Salt: salt})
	})
	t.Logf("corpus: copycat scan %v, Prism fingerprint %v", scanTime.Round(time.Millisecond), took.Round(time.Millisecond))
	parts, err := filepath.Glob(filepath.Join(out, "part-*"))
	if err != nil || len(parts) != 3*len(datasets) {
		t.Fatalf("%d parts (%v), want %d", len(parts), err, 3*len(datasets))
	}
	ist, err := index.Open(imported, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := interchange.Import(ctx, ist, parts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.DigestsDropped != 0 {
		t.Errorf("%d patient-ID digests dropped: the parts were not made with the index's salt", sum.DigestsDropped)
	}
	gotFiles, gotImages := records(t, ist)
	if err := ist.Close(); err != nil {
		t.Fatal(err)
	}
	sst, err := index.Open(scanned, index.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	wantFiles, wantImages := records(t, sst)
	if err := sst.Close(); err != nil {
		t.Fatal(err)
	}
	if len(wantImages) == 0 {
		t.Fatal("the scan indexed no image")
	}
	if !reflect.DeepEqual(gotFiles, wantFiles) {
		t.Errorf("files: the parts hold %d, the scan %d, and they differ", len(gotFiles), len(wantFiles))
	}
	if len(gotImages) != len(wantImages) {
		t.Errorf("images: the parts hold %d, the scan %d", len(gotImages), len(wantImages))
	}
	for i := range min(len(gotImages), len(wantImages)) {
		if !reflect.DeepEqual(gotImages[i], wantImages[i]) {
			t.Errorf("image %s %s#%d differs from the scan's", wantImages[i].Dataset, wantImages[i].Path, wantImages[i].Frame)
			break
		}
	}

	// The pairs of the parts, against the index that imports them.
	checkExportPairs(t, parts, PairsOptions{MaxDistance: -1})
}

package ingest

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/copycat-dev/copycat/ingest/internal/codec/spng"
	"github.com/copycat-dev/copycat/internal/testkit"
)

// requireSpng skips a test of the libspng path in a build without it.
func requireSpng(tb testing.TB) {
	tb.Helper()
	if !spng.Available {
		tb.Skip("built without libspng (cgo and the spng build tag): only image/png decodes PNG")
	}
}

// comparePNGPaths decodes data through decodePNG's libspng path and its
// image/png path and reports any difference in verdict, type or pixels.
func comparePNGPaths(tb testing.TB, data []byte) {
	tb.Helper()
	want, werr := decodePNGImage(data, DefaultPixelBudget, false)
	got, gerr := decodePNGImage(data, DefaultPixelBudget, true)
	switch {
	case (werr == nil) != (gerr == nil):
		tb.Errorf("image/png: err = %v; libspng path: err = %v", werr, gerr)
	case werr != nil:
	case !reflect.DeepEqual(got, want):
		tb.Errorf("libspng path gives a %T %v, image/png a %T %v, or their pixels differ", got, got.Bounds(), want, want.Bounds())
	}
}

// TestPNGPathsRaster compares the two PNG paths on the raster fixtures
// (every colour type), whatever their size.
func TestPNGPathsRaster(t *testing.T) {
	requireSpng(t)
	files, err := filepath.Glob(filepath.Join("testdata", "raster", "*.png"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { comparePNGPaths(t, readFixture(t, "raster/"+filepath.Base(f))) })
	}
}

// TestPNGPathsCorpus compares the two PNG paths on every PNG of the shared
// corpus.
func TestPNGPathsCorpus(t *testing.T) {
	requireSpng(t)
	dir := testkit.Corpus(t)
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.EqualFold(filepath.Ext(path), ".png") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		t.Run(rel, func(t *testing.T) { comparePNGPaths(t, data) })
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestPNGFallback checks that what libspng refuses and image/png accepts
// still decodes, through image/png: here an unknown critical chunk, which
// image/png skips.
func TestPNGFallback(t *testing.T) {
	data := readFixture(t, "raster/gray8.png")
	i := bytes.Index(data, []byte("IDAT")) - 4
	chunk := []byte{0, 0, 0, 1, 'Z', 'Z', 'Z', 'Z', 7, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(chunk[9:], crc32.ChecksumIEEE(chunk[4:9]))
	odd := append(append(bytes.Clone(data[:i]), chunk...), data[i:]...)
	want, err := png.Decode(bytes.NewReader(odd))
	if err != nil {
		t.Fatalf("image/png: %v", err)
	}
	if spng.Available {
		if _, err := spng.Decode(odd, DefaultPixelBudget); err == nil {
			t.Error("libspng decodes a PNG with an unknown critical chunk: this test needs another example")
		}
	}
	got, err := decodePNGImage(odd, DefaultPixelBudget, spng.Available)
	if err != nil {
		t.Fatalf("decodePNGImage: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Error("the fallback's image differs from image/png's")
	}
}

package ingest

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/copycat-dev/copycat/ingest/internal/codec/graypng"
	"github.com/copycat-dev/copycat/ingest/internal/codec/spng"
	"github.com/copycat-dev/copycat/internal/testkit"
)

// comparePNGPaths decodes data through decodePNG's fast decoders (graypng,
// and libspng when built in) and through image/png alone, and reports any
// difference in verdict, type or pixels.
func comparePNGPaths(tb testing.TB, data []byte) {
	tb.Helper()
	want, werr := decodePNGImage(data, DefaultPixelBudget, false)
	got, gerr := decodePNGImage(data, DefaultPixelBudget, true)
	switch {
	case (werr == nil) != (gerr == nil):
		tb.Errorf("image/png: err = %v; fast path: err = %v", werr, gerr)
	case werr != nil:
	case !reflect.DeepEqual(got, want):
		tb.Errorf("fast path gives a %T %v, image/png a %T %v, or their pixels differ", got, got.Bounds(), want, want.Bounds())
	}
}

// TestPNGPathsRaster compares the two PNG paths on the raster fixtures
// (every colour type), whatever their size.
func TestPNGPathsRaster(t *testing.T) {
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
	root, files := testkit.CorpusFiles(t, []string{".png"})
	for _, rel := range files {
		data, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(rel, func(t *testing.T) { comparePNGPaths(t, data) })
	}
}

// TestPNGFallback checks that what the fast decoders refuse and image/png
// accepts still decodes, through image/png: an unknown critical chunk in a
// palette image, which image/png skips and libspng refuses, and bytes
// after the zlib stream of a grey image, which image/png ignores and
// graypng refuses.
func TestPNGFallback(t *testing.T) {
	// chunk returns a chunk with its length and CRC.
	chunk := func(typ string, body []byte) []byte {
		c := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
		c = append(append(c, typ...), body...)
		return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
	}
	// insertChunk inserts a chunk before the first IDAT chunk.
	insertChunk := func(data []byte, typ string, body []byte) []byte {
		i := bytes.Index(data, []byte("IDAT")) - 4
		return append(append(bytes.Clone(data[:i]), chunk(typ, body)...), data[i:]...)
	}
	// trailing makes the zlib stream in the first IDAT chunk end three
	// bytes before the chunk does.
	trailing := func(data []byte) []byte {
		i := bytes.Index(data, []byte("IDAT")) - 4
		n := int(binary.BigEndian.Uint32(data[i:]))
		idat := chunk("IDAT", append(bytes.Clone(data[i+8:i+8+n]), 0, 0, 0))
		return append(append(bytes.Clone(data[:i]), idat...), data[i+12+n:]...)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"unknown critical chunk", insertChunk(readFixture(t, "raster/palette.png"), "ZZZZ", []byte{7})},
		{"bytes after the zlib stream", trailing(readFixture(t, "raster/gray8.png"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := png.Decode(bytes.NewReader(tt.data))
			if err != nil {
				t.Fatalf("image/png: %v", err)
			}
			_, gerr := graypng.Decode(tt.data, DefaultPixelBudget)
			_, serr := spng.Decode(tt.data, DefaultPixelBudget)
			if gerr == nil || spng.Available && serr == nil && tt.name == "unknown critical chunk" {
				t.Errorf("graypng: %v; libspng: %v: this test needs another example", gerr, serr)
			}
			got, err := decodePNGImage(tt.data, DefaultPixelBudget, true)
			if err != nil {
				t.Fatalf("decodePNGImage: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Error("the fallback's image differs from image/png's")
			}
		})
	}
}

//go:build cgo && spng

package spng

import (
	"bytes"
	"errors"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/copycat-dev/copycat/ingest/internal/codec"
	"github.com/copycat-dev/copycat/ingest/internal/codec/internal/pngtest"
	"github.com/copycat-dev/copycat/internal/testkit"
)

// compareStd decodes data with image/png and Decode and reports a
// difference: a different type, bounds, stride, pixel or palette entry, or
// Decode accepting what image/png refuses. Decode refusing what image/png
// accepts is returned as spngErr, for the caller to judge.
func compareStd(tb testing.TB, data []byte) (spngErr error) {
	tb.Helper()
	want, werr := png.Decode(bytes.NewReader(data))
	got, gerr := Decode(data, 1<<26)
	switch {
	case werr == png.FormatError("too much pixel data") && gerr == nil:
		// libspng stops inflating at the last row, as libpng does: the
		// one leniency precheck cannot see (TestLenient).
	case werr != nil && gerr == nil:
		tb.Errorf("image/png refuses (%v), spng decodes a %T", werr, got)
	case werr != nil:
	case gerr != nil:
		return gerr
	case !reflect.DeepEqual(got, want):
		tb.Errorf("spng gives %s, image/png %s", pngtest.Describe(got), pngtest.Describe(want))
	}
	return nil
}

// TestGenerated compares Decode with image/png on every generated case;
// all are valid, so both must decode them.
func TestGenerated(t *testing.T) {
	for name, data := range pngtest.GeneratedCases(t) {
		t.Run(name, func(t *testing.T) {
			if err := compareStd(t, data); err != nil {
				t.Errorf("spng refuses a valid PNG that image/png decodes: %v", err)
			}
		})
	}
}

// TestCorpus compares Decode with image/png on every PNG in the shared
// corpus.
func TestCorpus(t *testing.T) {
	root, files := testkit.CorpusFiles(t, []string{".png"})
	if len(files) == 0 {
		t.Skip("no PNG in the corpus")
	}
	for _, rel := range files {
		data, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(rel, func(t *testing.T) {
			if err := compareStd(t, data); err != nil {
				t.Logf("spng refuses, image/png decodes (callers fall back): %v", err)
			}
		})
	}
	t.Logf("%d PNG files", len(files))
}

// TestTooLarge checks that the pixel budget is applied from IHDR.
func TestTooLarge(t *testing.T) {
	data := pngtest.Encode(t, pngtest.RandomSpec(rand.New(rand.NewPCG(1, 1)), 40, 30, 8, 0))
	if _, err := Decode(data, 40*30-1); !errors.Is(err, codec.ErrTooLarge) {
		t.Errorf("40x30 with budget 1199: err = %v, want codec.ErrTooLarge", err)
	}
	if _, err := Decode(data, 40*30); err != nil {
		t.Errorf("40x30 with budget 1200: %v", err)
	}
}

// FuzzDecode checks Decode against image/png on arbitrary input: where
// image/png refuses, Decode must refuse; where both decode, the images
// must be identical. Decode may refuse what image/png accepts (see the
// package documentation); callers then use image/png.
func FuzzDecode(f *testing.F) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, data := range pngtest.GeneratedCases(f) {
		if rng.IntN(4) == 0 {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if cfg, err := png.DecodeConfig(bytes.NewReader(data)); err == nil && cfg.Width*cfg.Height > 1<<22 {
			return // image/png would allocate it all
		}
		compareStd(t, data)
	})
}

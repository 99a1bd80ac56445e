//go:build cgo && spng

package spng

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/copycat-dev/copycat/ingest/internal/codec"
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
		tb.Errorf("spng gives %s, image/png %s", describe(got), describe(want))
	}
	return nil
}

// describe summarises an image and the first bytes of its pixels.
func describe(img image.Image) string {
	v := reflect.ValueOf(img).Elem()
	pix := v.FieldByName("Pix").Bytes()
	s := fmt.Sprintf("%T %v stride %d pix[:16] % x", img, img.Bounds(), v.FieldByName("Stride").Int(), pix[:min(16, len(pix))])
	if p, ok := img.(*image.Paletted); ok {
		s += fmt.Sprintf(" palette %d entries", len(p.Palette))
	}
	return s
}

// generatedCases lists PNGs covering every colour type and bit depth,
// with and without tRNS, plain and Adam7, at sizes that leave partial
// bytes and empty interlace passes, with every filter type.
func generatedCases(tb testing.TB) map[string][]byte {
	rng := rand.New(rand.NewPCG(14, 3))
	sizes := [][2]int{{1, 1}, {3, 7}, {13, 5}, {33, 17}, {64, 9}}
	formats := []struct{ ct, depth int }{
		{0, 1}, {0, 2}, {0, 4}, {0, 8}, {0, 16},
		{4, 8}, {4, 16},
		{2, 8}, {2, 16},
		{6, 8}, {6, 16},
		{3, 1}, {3, 2}, {3, 4}, {3, 8},
	}
	cases := map[string][]byte{}
	for _, f := range formats {
		for _, sz := range sizes {
			for _, interlace := range []bool{false, true} {
				for _, trns := range []string{"", "tRNS", "tRNS-short", "small-PLTE"} {
					if trns != "" && (f.ct == 4 || f.ct == 6) ||
						trns == "tRNS-short" && f.ct != 3 ||
						trns == "small-PLTE" && f.ct != 3 {
						continue
					}
					s := randomSpec(rng, sz[0], sz[1], f.depth, f.ct)
					s.interlace, s.filter = interlace, -1
					switch {
					case trns == "small-PLTE":
						// Indices past the palette: image/png extends
						// it with opaque black.
						s.plte = s.plte[:3]
					case trns == "" || trns == "tRNS-short":
						if f.ct == 3 && trns != "" {
							s.trns = []byte{0, 128}
						}
					case f.ct == 3:
						s.trns = make([]byte, 1<<f.depth)
						for i := range s.trns {
							s.trns[i] = byte(rng.IntN(256))
						}
					default:
						// Make the transparent colour the first pixel's,
						// so that some pixels match it.
						ch := channels(f.ct)
						for c := 0; c < ch; c++ {
							s.trns = append(s.trns, byte(s.samples[c]>>8), byte(s.samples[c]))
						}
					}
					name := fmt.Sprintf("ct%d_%dbit_%dx%d", f.ct, f.depth, sz[0], sz[1])
					if interlace {
						name += "_adam7"
					}
					if trns != "" {
						name += "_" + trns
					}
					cases[name] = encodePNG(tb, s)
				}
			}
		}
	}
	// Every filter type alone, and image/png's own encoder's choice.
	for f := 0; f <= 4; f++ {
		for _, ct := range []int{0, 2, 6} {
			s := randomSpec(rng, 29, 11, 8, ct)
			s.filter = f
			cases[fmt.Sprintf("filter%d_ct%d", f, ct)] = encodePNG(tb, s)
			s.depth = 16
			s = randomSpec(rng, 29, 11, 16, ct)
			s.filter = f
			cases[fmt.Sprintf("filter%d_ct%d_16bit", f, ct)] = encodePNG(tb, s)
		}
	}
	for _, img := range stdImages(rng) {
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			tb.Fatal(err)
		}
		cases[fmt.Sprintf("image_png_%T", img)] = buf.Bytes()
	}
	return cases
}

// stdImages returns small smooth images of the types image/png encodes,
// which its encoder filters with all five filters.
func stdImages(rng *rand.Rand) []image.Image {
	r := image.Rect(0, 0, 77, 45)
	imgs := []image.Image{image.NewGray(r), image.NewGray16(r), image.NewRGBA(r), image.NewNRGBA(r), image.NewRGBA64(r), image.NewNRGBA64(r)}
	for _, img := range imgs {
		pix := reflect.ValueOf(img).Elem().FieldByName("Pix").Bytes()
		for i := range pix {
			pix[i] = byte(i/7 + rng.IntN(3))
		}
	}
	return imgs
}

// TestGenerated compares Decode with image/png on every generated case;
// all are valid, so both must decode them.
func TestGenerated(t *testing.T) {
	for name, data := range generatedCases(t) {
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
	dir := testkit.Corpus(t)
	n := 0
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.EqualFold(filepath.Ext(path), ".png") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		rel, _ := filepath.Rel(dir, path)
		t.Run(rel, func(t *testing.T) {
			if err := compareStd(t, data); err != nil {
				t.Logf("spng refuses, image/png decodes (callers fall back): %v", err)
			}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Skip("no PNG in the corpus")
	}
	t.Logf("%d PNG files", n)
}

// TestTooLarge checks that the pixel budget is applied from IHDR.
func TestTooLarge(t *testing.T) {
	s := randomSpec(rand.New(rand.NewPCG(1, 1)), 40, 30, 8, 0)
	data := encodePNG(t, s)
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
	for _, data := range generatedCases(f) {
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

package jpegscale

import (
	"bytes"
	"crypto/sha256"
	"testing"
)

// FuzzLuma is seeded with the fixtures under 16 KB. For every input it
// decodes at scales 8 and 1 and with the digest at scale 2: nothing may
// panic, a successful decode must have the documented size, and the
// digest's output must equal the plain decode's.
func FuzzLuma(f *testing.F) {
	for _, name := range fixtures(f) {
		if b := readFile(f, name); len(b) < 16<<10 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var sizes [9][2]int
		var plain2 []byte
		for _, s := range []int{8, 2, 1} {
			d := Decoder{forceScale: s}
			img, got, err := d.Luma(data, 0)
			if err != nil {
				continue
			}
			if got != s {
				t.Fatalf("scale %d, want %d", got, s)
			}
			w, h := img.Rect.Dx(), img.Rect.Dy()
			if w <= 0 || h <= 0 || len(img.Pix) != w*h || img.Stride != w {
				t.Fatalf("scale %d: bad image %v stride %d len %d", s, img.Rect, img.Stride, len(img.Pix))
			}
			sizes[s] = [2]int{w, h}
			if s == 2 {
				plain2 = img.Pix
			}
		}
		if sizes[8] != [2]int{} && sizes[1] != [2]int{} {
			if w, h := sizes[1][0], sizes[1][1]; sizes[8] != [2]int{(w + 7) / 8, (h + 7) / 8} {
				t.Fatalf("scale 8 gives %v for a %dx%d image", sizes[8], w, h)
			}
		}
		d := Decoder{forceScale: 2}
		img, _, err := d.LumaDigest(data, 0, sha256.New())
		if err == nil && plain2 != nil && !bytes.Equal(img.Pix, plain2) {
			t.Fatal("LumaDigest output differs from Luma's")
		}
	})
}

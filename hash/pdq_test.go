package hash

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

type pdqVector struct {
	file    string
	hash    string
	quality int
}

func readPDQVectors(tb testing.TB, dir string) []pdqVector {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "expected.tsv"))
	if err != nil {
		tb.Fatal(err)
	}
	var vs []pdqVector
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			tb.Fatalf("expected.tsv: bad line %q", line)
		}
		q, err := strconv.Atoi(f[2])
		if err != nil {
			tb.Fatalf("expected.tsv: %q: %v", line, err)
		}
		vs = append(vs, pdqVector{f[0], f[1], q})
	}
	return vs
}

// TestPDQReferenceExact checks bit-exactness against Meta's reference
// pdq-photo-hasher on lossless PNG copies of its test images.
func TestPDQReferenceExact(t *testing.T) {
	dir := sharedDir(t, "pdq/png")
	h := NewHasher()
	for _, v := range readPDQVectors(t, dir) {
		t.Run(v.file, func(t *testing.T) {
			img := decodeFile(t, filepath.Join(dir, v.file))
			hash, q := h.PDQ(img)
			if got := hex.EncodeToString(hash[:]); got != v.hash || q != v.quality {
				want, _ := hex.DecodeString(v.hash)
				t.Errorf("PDQ(%s) = %s q=%d, want %s q=%d (%d bits differ)", v.file, got, q, v.hash, v.quality,
					DistancePDQ(hash, [32]byte(want)))
			}
		})
	}
}

// TestPDQReferenceOriginals checks the reference's published criterion on
// the original files, which the reference decoded with libjpeg (and squashed
// to 512x512 when larger): at most 10 bits off for quality >= 80.
func TestPDQReferenceOriginals(t *testing.T) {
	dir := sharedDir(t, "pdq/orig")
	h := NewHasher()
	var st distStats
	for _, v := range readPDQVectors(t, dir) {
		img := decodeFile(t, filepath.Join(dir, v.file))
		hash, q := h.PDQ(img)
		want, err := hex.DecodeString(v.hash)
		if err != nil {
			t.Fatal(err)
		}
		d := DistancePDQ(hash, [32]byte(want))
		b := img.Bounds()
		t.Logf("%-45s %4dx%-4d %-14T dist=%3d quality=%3d (ref %3d)", v.file, b.Dx(), b.Dy(), img, d, q, v.quality)
		if v.quality < 80 {
			continue
		}
		st.add(d)
		if d > 10 {
			t.Errorf("PDQ(%s): %d bits from the reference, want <= 10", v.file, d)
		}
	}
	t.Logf("orig/ (quality >= 80): n=%d mean=%.2f max=%d histogram %s", st.n, st.mean(), st.max, st.histString())
}

package jpegscale

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/copycat-dev/copycat/ingest/internal/codec/internal/dicomtest"
)

// digestOf returns the hex coefficient digest of data.
func digestOf(tb testing.TB, data []byte, minSide int) string {
	tb.Helper()
	h := sha256.New()
	if _, _, err := LumaDigest(data, minSide, h); err != nil {
		tb.Fatalf("LumaDigest: %v", err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestDigestFixtures compares the digests of fixtures that code the same
// coefficients (equal) and of ones that do not (different).
func TestDigestFixtures(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"v420.jpg", "v420_tran_prog.jpg", true},     // jpegtran -progressive
		{"v420.jpg", "v420_tran_opt.jpg", true},      // jpegtran -optimize
		{"v420.jpg", "v420_tran_scans.jpg", true},    // odd progression, DC refinement
		{"v420.jpg", "v420_tran_rst.jpg", true},      // restart markers added
		{"v420.jpg", "v420_tran_seqscans.jpg", true}, // one sequential scan per component
		{"v420.jpg", "v420_prog.jpg", true},          // cjpeg -progressive, same settings
		{"v420.jpg", "v420_rst_row.jpg", true},
		{"v444.jpg", "v444_prog_rst.jpg", true},
		{"g.jpg", "g_prog.jpg", true},
		{"v420.jpg", "v420_q50.jpg", false},
		{"v420.jpg", "v444.jpg", false},
		{"v420.jpg", "v422.jpg", false},
		{"g.jpg", "g_sampled2x2.jpg", false}, // same blocks, other sampling factors
	}
	for _, tt := range tests {
		a := digestOf(t, readFile(t, "testdata/"+tt.a), 32)
		b := digestOf(t, readFile(t, "testdata/"+tt.b), 32)
		if (a == b) != tt.same {
			t.Errorf("%s vs %s: digests equal = %v, want %v", tt.a, tt.b, a == b, tt.same)
		}
	}
}

// TestDigestIgnoresMarkers checks that markers which do not change the
// coefficients do not change the digest, nor does the requested scale.
func TestDigestIgnoresMarkers(t *testing.T) {
	for _, name := range []string{"testdata/v420.jpg", "testdata/v420_prog.jpg", "testdata/us_422.jpg"} {
		data := readFile(t, name)
		want := digestOf(t, data, 32)
		eoi := bytes.LastIndex(data, []byte{0xFF, mEOI})
		exif := append([]byte{0xFF, 0xE1, 0x00, 0x10}, "Exif\x00\x00MM\x00\x2A\x00\x00\x00\x08"...)
		com := append([]byte{0xFF, 0xFE, 0x00, 0x07}, "hello"...)
		variants := map[string][]byte{
			"no EOI":          data[:eoi],
			"APP1 and COM":    slices.Concat(data[:2], exif, com, data[2:]),
			"fill before EOI": slices.Concat(data[:eoi], []byte{0xFF, 0xFF}, data[eoi:]),
		}
		for v, b := range variants {
			if got := digestOf(t, b, 32); got != want {
				t.Errorf("%s, %s: digest changed", name, v)
			}
		}
		for _, minSide := range []int{1, 20, 60, 1000} {
			if got := digestOf(t, data, minSide); got != want {
				t.Errorf("%s: digest depends on minSide (%d)", name, minSide)
			}
		}
	}
}

// TestDigestChanges checks that changing what the pixels depend on changes
// the digest: a quantisation table entry, or one bit of entropy-coded data
// (which either fails to decode or decodes to other coefficients).
func TestDigestChanges(t *testing.T) {
	data := readFile(t, "testdata/v420.jpg")
	want := digestOf(t, data, 32)
	dqt := bytes.Index(data, []byte{0xFF, mDQT})
	q := bytes.Clone(data)
	q[dqt+5+10]++ // table 0, zigzag index 10
	if got := digestOf(t, q, 32); got == want {
		t.Error("changing a quantisation table entry left the digest unchanged")
	}
	sos := bytes.Index(data, []byte{0xFF, mSOS})
	start := sos + 2 + (int(data[sos+2])<<8 | int(data[sos+3]))
	changed, failed := 0, 0
	for i := start + 10; i < len(data)-10; i += 97 {
		if data[i] == 0xFF || data[i]^1 == 0xFF || data[i-1] == 0xFF {
			continue
		}
		b := bytes.Clone(data)
		b[i] ^= 1
		h := sha256.New()
		if _, _, err := LumaDigest(b, 32, h); err != nil {
			failed++
			continue
		}
		if hex.EncodeToString(h.Sum(nil)) == want {
			t.Errorf("flipping a bit at offset %d left the digest unchanged", i)
		}
		changed++
	}
	t.Logf("%d bit flips changed the digest, %d made the stream undecodable", changed, failed)
}

// TestDigestOutputSame checks that LumaDigest's image equals Luma's.
func TestDigestOutputSame(t *testing.T) {
	for _, name := range fixtures(t) {
		data := readFile(t, name)
		for _, minSide := range []int{8, 40, 100, 200} {
			a, sa, errA := Luma(data, minSide)
			b, sb, errB := LumaDigest(data, minSide, sha256.New())
			if (errA == nil) != (errB == nil) {
				t.Fatalf("%s: Luma err %v, LumaDigest err %v", name, errA, errB)
			}
			if errA == nil && (sa != sb || !bytes.Equal(a.Pix, b.Pix)) {
				t.Errorf("%s minSide %d: outputs differ", name, minSide)
			}
		}
	}
}

// TestDigestNothingOnError checks that a failed decode writes nothing.
func TestDigestNothingOnError(t *testing.T) {
	data := readFile(t, "testdata/v420.jpg")
	var buf bytes.Buffer
	h := writerHash{&buf}
	if _, _, err := LumaDigest(data[:len(data)/2], 32, h); err == nil {
		t.Fatal("half a stream decoded")
	}
	if buf.Len() != 0 {
		t.Errorf("%d bytes written to the hash for a failed decode", buf.Len())
	}
}

// writerHash is a hash.Hash that records what it is given.
type writerHash struct{ *bytes.Buffer }

func (writerHash) Sum(b []byte) []byte { return b }
func (writerHash) Size() int           { return 0 }
func (writerHash) BlockSize() int      { return 1 }

// TestDigestJpegtran re-encodes real files with jpegtran (lossless
// transcodes: equal digests) and with djpeg | cjpeg at another quality
// (different digest). It covers a 4:2:0 photo, an odd-sized progressive
// 4:4:4 photo, and a DICOM ultrasound frame, when the corpus and the tools
// are present.
func TestDigestJpegtran(t *testing.T) {
	jpegtran := dicomtest.NeedTool(t, "jpegtran")
	djpeg := dicomtest.NeedTool(t, "djpeg")
	cjpeg := dicomtest.NeedTool(t, "cjpeg")
	dir := dicomtest.CorpusDir(t)
	names := []string{
		"natural/opencv/building.jpg",
		"natural/opencv/ela_modified.jpg",
		"medical_png_jpeg/extracted_from_dicom/grailbio_I_000031_frame1.jpg",
		"natural/go-stdlib-variants/video-001.q50.422.progressive.jpeg",
	}
	tmp := t.TempDir()
	run := func(out, prog string, args ...string) []byte {
		t.Helper()
		cmd := exec.Command(prog, args...)
		b, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %v: %v", prog, args, err)
		}
		if out != "" {
			if err := os.WriteFile(out, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return b
	}
	for _, rel := range names {
		src := filepath.Join(dir, rel)
		if _, err := os.Stat(src); err != nil {
			t.Logf("%s missing", rel)
			continue
		}
		want := digestOf(t, readFile(t, src), 64)
		for _, args := range [][]string{
			{"-progressive", "-copy", "none"},
			{"-optimize", "-copy", "none"},
			{"-restart", "2", "-copy", "all"},
		} {
			b := run("", jpegtran, append(args, src)...)
			if got := digestOf(t, b, 64); got != want {
				t.Errorf("%s: jpegtran %v changed the digest", rel, args)
			}
		}
		ppm := filepath.Join(tmp, "x.ppm")
		run(ppm, djpeg, src)
		for _, q := range []string{"75", "95"} {
			b := run("", cjpeg, "-quality", q, ppm)
			if got := digestOf(t, b, 64); got == want {
				t.Errorf("%s: re-encode at quality %s kept the digest", rel, q)
			}
		}
	}
}

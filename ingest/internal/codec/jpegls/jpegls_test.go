package jpegls

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/copycat-dev/copycat/ingest/internal/codec"
	"github.com/copycat-dev/copycat/ingest/internal/codec/internal/dicomtest"
	"github.com/copycat-dev/copycat/ingest/internal/codec/rle"
	"github.com/copycat-dev/copycat/internal/testkit"
)

func needCharLS(tb testing.TB) {
	tb.Helper()
	if !Available {
		tb.Skip("built without CharLS (use -tags charls with cgo)")
	}
}

func readFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func pixHash(img *codec.Image) string {
	b := make([]byte, 2*len(img.Pix))
	for i, v := range img.Pix {
		binary.LittleEndian.PutUint16(b[2*i:], v)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// fixture is a JPEG-LS frame under testdata and where its source pixels
// come from, for an exact (lossless) or bounded (near-lossless) check.
type fixture struct {
	file   string
	source string // corpus file with the original pixels
	near   int    // allowed error: 0 for lossless
}

var fixtureTable = []fixture{
	{"fmap12_jls.jls", "dicom/heudiconv/01-fmap_acq-3mm.dcm", 0},       // dcmcjpls, 12-bit
	{"fmap12_jls_near2.jls", "dicom/heudiconv/01-fmap_acq-3mm.dcm", 2}, // dcmcjpls +en
	{"gray8_jls.jls", "dicom/pydicom/image_dfl.dcm", 0},                // gdcmconv --jpegls, 8-bit 512x512
	{"mr_jls_dcmtk.jls", "dicom/pydicom/MR_small.dcm", 0},              // dcmcjpls, 16-bit
	{"mr_jls_gdcm.jls", "dicom/pydicom/MR_small.dcm", 0},               // gdcmconv --jpegls
	{"rgb16_jls_line.jls", "dicom/pydicom/SC_rgb_rle_16bit.dcm", 0},    // dcmcjpls +il, 16-bit RGB
	{"rgb8_jls_gdcm.jls", "dicom/pydicom/SC_rgb_rle.dcm", 0},           // gdcmconv --jpegls, RGB
	{"rgb8_jls_none.jls", "dicom/pydicom/SC_rgb_rle.dcm", 0},           // dcmcjpls +in (planar scans)
	{"rgb8_jls_sample.jls", "dicom/pydicom/SC_rgb_rle.dcm", 0},         // dcmcjpls +is
}

// sourcePixels returns a corpus file's first frame as uint16 samples,
// decoding RLE sources with package rle (itself checked against DCMTK).
func sourcePixels(tb testing.TB, rel string) []uint16 {
	tb.Helper()
	f := dicomtest.Read(tb, dicomtest.CorpusFile(tb, rel))
	if f.Frames != nil {
		raw, err := rle.Decode(f.Frames[0], f.Rows, f.Columns, f.Samples, f.BitsAllocated)
		if err != nil {
			tb.Fatalf("%s: %v", rel, err)
		}
		f.Native, f.Frames, f.Planar = raw, nil, 0
	}
	return f.Samples16(tb, 0)
}

func TestStubReportsNotBuilt(t *testing.T) {
	if Available {
		t.Skip("CharLS build: the stub is not compiled in")
	}
	_, err := Decode([]byte{0xFF, 0xD8})
	if !errors.Is(err, codec.ErrNotBuilt) {
		t.Errorf("got %v, want an error matching codec.ErrNotBuilt", err)
	}
}

// TestFixtures decodes each fixture and checks it against the pixels it was
// made from: exact for lossless, within NEAR for near-lossless. It also
// keeps testdata/golden.tsv, which pins the near-lossless output.
func TestFixtures(t *testing.T) {
	needCharLS(t)
	var lines []string
	for _, f := range fixtureTable {
		t.Run(f.file, func(t *testing.T) {
			img, err := Decode(readFile(t, filepath.Join("testdata", f.file)))
			if err != nil {
				t.Fatal(err)
			}
			lines = append(lines, fmt.Sprintf("%s\t%dx%dx%d\tP%d\t%s", f.file, img.Width, img.Height, img.Components, img.Precision, pixHash(img)))
			want := sourcePixels(t, f.source)
			if len(want) != len(img.Pix) {
				t.Fatalf("%d samples, source has %d", len(img.Pix), len(want))
			}
			worst := 0
			for i := range want {
				worst = max(worst, abs(int(img.Pix[i])-int(want[i])))
			}
			if worst > f.near {
				t.Errorf("max difference from source %d, want <= %d", worst, f.near)
			}
		})
	}
	testkit.Check(t, filepath.Join("testdata", "golden.tsv"), strings.Join(lines, "\n")+"\n")
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestNearLosslessAgainstDCMTK compares the near-lossless fixture with
// DCMTK's dcmdjpls, since near-lossless output is defined by the decoder.
func TestNearLosslessAgainstDCMTK(t *testing.T) {
	needCharLS(t)
	dicomtest.NeedTool(t, "dcmdjpls")
	data := readFile(t, "testdata/fmap12_jls_near2.jls")
	img, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.dcm"), filepath.Join(dir, "out.dcm")
	dcm := dicomtest.Encapsulate("1.2.840.10008.1.2.4.81", "", img.Height, img.Width, 1, 16, 12, [][]byte{data})
	if err := os.WriteFile(in, dcm, 0o644); err != nil {
		t.Fatal(err)
	}
	dicomtest.Run(t, "dcmdjpls", in, out)
	want := dicomtest.Read(t, out).Samples16(t, 0)
	for i := range want {
		if img.Pix[i] != want[i] {
			t.Fatalf("sample %d: got %d, dcmdjpls %d", i, img.Pix[i], want[i])
		}
	}
}

// TestCorpus: MR_small_jpeg_ls_lossless.dcm must equal MR_small's pixels.
func TestCorpus(t *testing.T) {
	needCharLS(t)
	f := dicomtest.Read(t, dicomtest.CorpusFile(t, "dicom/pydicom/MR_small_jpeg_ls_lossless.dcm"))
	img, err := Decode(f.Frames[0])
	if err != nil {
		t.Fatal(err)
	}
	want := sourcePixels(t, "dicom/pydicom/MR_small.dcm")
	if img.Width != 64 || img.Height != 64 || img.Components != 1 || img.Precision != 16 {
		t.Fatalf("got %dx%dx%d P%d, want 64x64x1 P16", img.Width, img.Height, img.Components, img.Precision)
	}
	for i := range want {
		if img.Pix[i] != want[i] {
			t.Fatalf("sample %d: got %d, want %d", i, img.Pix[i], want[i])
		}
	}
}

func TestErrors(t *testing.T) {
	needCharLS(t)
	good := readFile(t, "testdata/mr_jls_dcmtk.jls")
	tests := []struct {
		name        string
		data        []byte
		unsupported bool
	}{
		{"empty", nil, false},
		{"garbage", []byte("not a JPEG-LS stream at all"), false},
		{"header only", good[:30], false},
		{"truncated", good[:len(good)/2], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.data)
			if err == nil {
				t.Fatal("no error")
			}
			if got := errors.Is(err, codec.ErrUnsupported); got != tt.unsupported {
				t.Errorf("errors.Is(%v, ErrUnsupported) = %v, want %v", err, got, tt.unsupported)
			}
		})
	}
}

// TestTruncatedIsQuick guards the EOI workaround in Decode: without it
// CharLS spends seconds on some truncated streams before failing.
func TestTruncatedIsQuick(t *testing.T) {
	needCharLS(t)
	good := readFile(t, "testdata/mr_jls_dcmtk.jls")
	start := time.Now()
	for n := len(good) / 4; n < len(good)-2; n += len(good) / 16 {
		if _, err := Decode(good[:n]); err == nil {
			t.Errorf("prefix of %d/%d bytes decoded without error", n, len(good))
		}
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("12 truncated decodes took %v", el)
	}
}

func FuzzDecode(f *testing.F) {
	for _, ft := range fixtureTable {
		if b := readFile(f, filepath.Join("testdata", ft.file)); len(b) < 8192 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		needCharLS(t)
		img, err := Decode(data)
		if err != nil {
			if !Available && !errors.Is(err, codec.ErrNotBuilt) {
				t.Fatalf("stub error %v does not match ErrNotBuilt", err)
			}
			return
		}
		if n := img.Width * img.Height * img.Components; len(img.Pix) != n {
			t.Fatalf("len(Pix) = %d, want %d", len(img.Pix), n)
		}
	})
}

// BenchmarkDecode16 decodes a 512x512 16-bit CT frame compressed with
// dcmcjpls (needs the corpus and DCMTK); MB/s counts decoded bytes.
func BenchmarkDecode16(b *testing.B) {
	needCharLS(b)
	src := filepath.Join(testkit.Corpus(b), "dicom", "grailbio", "CT-MONO2-16-ort.dcm")
	out := filepath.Join(b.TempDir(), "ct.dcm")
	dicomtest.Run(b, "dcmcjpls", src, out)
	data := dicomtest.Read(b, out).Frames[0]
	b.ReportAllocs()
	b.SetBytes(512 * 512 * 2)
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

package jpeg2000

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/copycat-dev/copycat/ingest/internal/codec"
	"github.com/copycat-dev/copycat/ingest/internal/codec/internal/dicomtest"
	"github.com/copycat-dev/copycat/ingest/internal/codec/rle"
	"github.com/copycat-dev/copycat/internal/testkit"
)

func needOpenJPEG(tb testing.TB) {
	tb.Helper()
	if !Available {
		tb.Skip("built without OpenJPEG (use -tags openjpeg with cgo)")
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

// sourcePixels returns a DICOM file's first frame as uint16 samples (corpus
// path, or a testdata PGM), decoding RLE sources with package rle.
func sourcePixels(tb testing.TB, src string) []uint16 {
	tb.Helper()
	if strings.HasSuffix(src, ".pgm") {
		return readPGM(tb, filepath.Join("testdata", src))
	}
	f := dicomtest.Read(tb, dicomtest.CorpusFile(tb, src))
	if f.Frames != nil {
		raw, err := rle.Decode(f.Frames[0], f.Rows, f.Columns, f.Samples, f.BitsAllocated)
		if err != nil {
			tb.Fatalf("%s: %v", src, err)
		}
		f.Native, f.Frames, f.Planar = raw, nil, 0
	}
	return f.Samples16(tb, 0)
}

// readPGM reads a binary PGM (P5), 8- or 16-bit.
func readPGM(tb testing.TB, name string) []uint16 {
	tb.Helper()
	b := readFile(tb, name)
	f := strings.Fields(string(b[:min(len(b), 40)]))
	if len(f) < 4 || f[0] != "P5" {
		tb.Fatalf("%s: not a P5 PGM", name)
	}
	w, _ := strconv.Atoi(f[1])
	h, _ := strconv.Atoi(f[2])
	maxv, _ := strconv.Atoi(f[3])
	hdr := len(fmt.Sprintf("P5\n%d %d\n%d\n", w, h, maxv))
	out := make([]uint16, w*h)
	for i := range out {
		if maxv > 255 {
			out[i] = binary.BigEndian.Uint16(b[hdr+2*i:])
		} else {
			out[i] = uint16(b[hdr+i])
		}
	}
	return out
}

type fixture struct {
	file   string
	source string // the pixels it was made from; "" for lossy
	signed bool
}

var fixtureTable = []fixture{
	{"ct_j2k_tiles.j2k", "dicom/pydicom/CT_small.dcm", true},         // gdcmconv --j2k -t 32,32: 16 tiles
	{"fmap12_j2k.j2k", "dicom/heudiconv/01-fmap_acq-3mm.dcm", false}, // gdcmconv --j2k
	{"fmap12_j2k_irrev.j2k", "", false},                              // gdcmconv --j2k -Y --irreversible
	{"fmap12_j2k_lossy.j2k", "", false},                              // gdcmconv --j2k -Y -q 20
	{"gray16_im.jp2", "gray16_im.pgm", false},                        // ImageMagick convert, JP2 boxes
	{"gray8_im.jp2", "gray8_im.pgm", false},                          // ImageMagick convert, JP2 boxes
	{"mr_j2k.j2k", "dicom/pydicom/MR_small.dcm", true},               // gdcmconv --j2k, signed 16-bit
	{"rgb16_j2k.j2k", "dicom/pydicom/SC_rgb_rle_16bit.dcm", false},   // gdcmconv --j2k, RCT
	{"rgb8_j2k.j2k", "dicom/pydicom/SC_rgb_rle.dcm", false},          // gdcmconv --j2k, RCT
}

func TestStubReportsNotBuilt(t *testing.T) {
	if Available {
		t.Skip("OpenJPEG build: the stub is not compiled in")
	}
	_, err := Decode([]byte{0xFF, 0x4F, 0xFF, 0x51})
	if !errors.Is(err, codec.ErrNotBuilt) {
		t.Errorf("got %v, want an error matching codec.ErrNotBuilt", err)
	}
}

// TestFixtures checks lossless fixtures against their source pixels and
// pins every fixture's output in testdata/golden.tsv (lossy ones are
// checked against GDCM by TestFixturesAgainstGDCM).
func TestFixtures(t *testing.T) {
	needOpenJPEG(t)
	var lines []string
	for _, f := range fixtureTable {
		t.Run(f.file, func(t *testing.T) {
			img, err := Decode(readFile(t, filepath.Join("testdata", f.file)))
			if err != nil {
				t.Fatal(err)
			}
			lines = append(lines, fmt.Sprintf("%s\t%dx%dx%d\tP%d\tsigned=%v\t%s", f.file, img.Width, img.Height, img.Components, img.Precision, img.Signed, pixHash(img)))
			if img.Signed != f.signed {
				t.Errorf("Signed = %v, want %v", img.Signed, f.signed)
			}
			if f.source == "" {
				return
			}
			want := sourcePixels(t, f.source)
			if len(want) != len(img.Pix) {
				t.Fatalf("%d samples, source has %d", len(img.Pix), len(want))
			}
			mask := uint16(1<<img.Precision - 1)
			for i := range want {
				if img.Pix[i] != want[i]&mask {
					t.Fatalf("sample %d: got %d, source %d", i, img.Pix[i], want[i]&mask)
				}
			}
		})
	}
	testkit.Check(t, filepath.Join("testdata", "golden.tsv"), strings.Join(lines, "\n")+"\n")
}

// compareGDCM checks img against gdcmconv --raw of a DICOM file, as bit
// patterns within the precision (GDCM sign-extends signed samples).
func compareGDCM(t *testing.T, dcm string, frame int, img *codec.Image) {
	t.Helper()
	ref := dicomtest.Raw(t, dcm)
	want := ref.Samples16(t, frame)
	if len(want) != len(img.Pix) {
		t.Fatalf("GDCM gives %d samples, Decode %d", len(want), len(img.Pix))
	}
	mask := uint16(1<<img.Precision - 1)
	diffs, worst := 0, 0
	for i := range want {
		if d := int(img.Pix[i]) - int(want[i]&mask); d != 0 {
			diffs++
			worst = max(worst, max(d, -d))
		}
	}
	if diffs > 0 {
		t.Errorf("%d of %d samples differ from GDCM (max %d)", diffs, len(want), worst)
	}
}

// TestFixturesAgainstGDCM wraps each fixture in a DICOM file and compares
// with gdcmconv --raw.
func TestFixturesAgainstGDCM(t *testing.T) {
	needOpenJPEG(t)
	dicomtest.NeedTool(t, "gdcmconv")
	for _, f := range fixtureTable {
		if strings.HasSuffix(f.file, ".jp2") {
			continue // GDCM wants a raw codestream in DICOM
		}
		t.Run(f.file, func(t *testing.T) {
			data := readFile(t, filepath.Join("testdata", f.file))
			img, err := Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			alloc := 8
			if img.Precision > 8 {
				alloc = 16
			}
			dcm := dicomtest.Encapsulate("1.2.840.10008.1.2.4.91", "", img.Height, img.Width, img.Components, alloc, img.Precision, [][]byte{data})
			in := filepath.Join(t.TempDir(), "in.dcm")
			if err := os.WriteFile(in, dcm, 0o644); err != nil {
				t.Fatal(err)
			}
			compareGDCM(t, in, 0, img)
		})
	}
}

// TestCorpus decodes the corpus JPEG 2000 files and compares with
// gdcmconv --raw; MR_small_jp2klossless must also equal MR_small.
func TestCorpus(t *testing.T) {
	needOpenJPEG(t)
	tests := []struct {
		file   string
		w, h   int
		nc     int
		prec   int
		signed bool
	}{
		{"dicom/pydicom/MR_small_jp2klossless.dcm", 64, 64, 1, 16, true},
		{"dicom/pydicom/JPEG2000.dcm", 256, 1024, 1, 16, true},
		{"dicom/pydicom/GDCMJ2K_TextGBR.dcm", 400, 400, 3, 8, false},
		{"dicom/pydicom/693_J2KI.dcm", 512, 512, 1, 16, true}, // DICOM says 14 bits stored; the codestream says 16
		{"dicom/pydicom/J2K_pixelrep_mismatch.dcm", 512, 512, 1, 13, false},
		{"dicom/pydicom/SC_rgb_gdcm_KY.dcm", 100, 100, 3, 8, false},
		{"dicom/grailbio/IM-0001-0001.dcm", 512, 512, 1, 12, false},
		{"dicom/grailbio/IM-0001-0002.dcm", 512, 512, 1, 12, false},
		{"dicom/grailbio/IM-0001-0003.dcm", 512, 512, 1, 12, false},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			p := dicomtest.CorpusFile(t, tt.file)
			f := dicomtest.Read(t, p)
			img, err := Decode(f.Frames[0])
			if err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprintf("%dx%dx%d P%d signed=%v", img.Width, img.Height, img.Components, img.Precision, img.Signed)
			want := fmt.Sprintf("%dx%dx%d P%d signed=%v", tt.w, tt.h, tt.nc, tt.prec, tt.signed)
			if got != want {
				t.Errorf("got %s, want %s", got, want)
			}
			if strings.Contains(tt.file, "MR_small") {
				src := sourcePixels(t, "dicom/pydicom/MR_small.dcm")
				for i := range src {
					if img.Pix[i] != src[i] {
						t.Fatalf("sample %d: got %d, MR_small has %d", i, img.Pix[i], src[i])
					}
				}
			}
			if _, err := os.Stat(p); err == nil {
				dicomtest.NeedTool(t, "gdcmconv")
				compareGDCM(t, p, 0, img)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	needOpenJPEG(t)
	good := readFile(t, "testdata/mr_j2k.j2k")
	jp2 := readFile(t, "testdata/gray8_im.jp2")
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"not JPEG 2000", []byte("definitely not a codestream")},
		{"magic only", good[:4]},
		{"truncated header", good[:40]},
		{"truncated data", good[:len(good)/2]},
		{"truncated JP2", jp2[:60]},
		{"garbage after magic", append(bytes.Clone(good[:4]), bytes.Repeat([]byte{0xA5}, 200)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := Decode(tt.data)
			if err == nil {
				// OpenJPEG decodes a truncated codestream to the layers
				// it has; that is allowed, but the size must be right.
				if tt.name == "truncated data" && len(img.Pix) == 64*64 {
					return
				}
				t.Fatalf("no error (got %dx%d)", img.Width, img.Height)
			}
			if errors.Is(err, codec.ErrUnsupported) {
				t.Errorf("corrupt input reported as unsupported: %v", err)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	for _, ft := range fixtureTable {
		f.Add(readFile(f, filepath.Join("testdata", ft.file)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		needOpenJPEG(t)
		// OpenJPEG has no hang detection of its own; a decode this slow
		// means a size check is missing (the limit is generous for loaded
		// machines: real frames take milliseconds).
		start := time.Now()
		img, err := Decode(data)
		if el := time.Since(start); el > 20*time.Second {
			t.Fatalf("decode took %v", el)
		}
		if err != nil {
			return
		}
		if n := img.Width * img.Height * img.Components; len(img.Pix) != n {
			t.Fatalf("len(Pix) = %d, want %d", len(img.Pix), n)
		}
	})
}

// BenchmarkDecode16 decodes the grailbio 512x512 12-bit CT (lossy J2K) from
// the corpus; MB/s counts decoded bytes.
func BenchmarkDecode16(b *testing.B) {
	needOpenJPEG(b)
	f := dicomtest.Read(b, dicomtest.CorpusFile(b, "dicom/grailbio/IM-0001-0001.dcm"))
	data := f.Frames[0]
	b.ReportAllocs()
	b.SetBytes(512 * 512 * 2)
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

package rle

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/copycat-dev/copycat/ingest/internal/codec"
	"github.com/copycat-dev/copycat/ingest/internal/codec/internal/dicomtest"
	"github.com/copycat-dev/copycat/internal/testkit"
)

// fixture is a frame under testdata with the geometry a DICOM header would
// give, and optionally the corpus file holding the same pixels natively.
type fixture struct {
	file                string
	rows, cols, spp, ba int
	native              string
}

var fixtureTable = []fixture{
	{"mr_rle_dcmtk.rle", 64, 64, 1, 16, "dicom/pydicom/MR_small.dcm"}, // dcmcrle
	{"mr_rle_gdcm.rle", 64, 64, 1, 16, "dicom/pydicom/MR_small.dcm"},  // gdcmconv --rle
	{"ct_rle.rle", 128, 128, 1, 16, "dicom/pydicom/CT_small.dcm"},     // dcmcrle
	{"rgb8_rle.rle", 100, 100, 3, 8, ""},                              // dcmcrle of SC_rgb
	{"rgb16_rle.rle", 100, 100, 3, 16, ""},                            // gdcmconv --rle of SC_rgb 16-bit
	{"synth_odd_8.rle", 7, 13, 1, 8, ""},                              // test encoder, odd rows
	{"synth_rgb32.rle", 5, 9, 3, 32, ""},                              // test encoder, 9 segments
	{"synth_runs_16.rle", 3, 300, 1, 16, ""},                          // long runs split at 128
}

func readFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func hash(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// synthFrames are the test encoder's fixtures: planes chosen to exercise
// odd lengths, many segments and runs longer than 128.
func synthFrame(name string) (f fixture, frame, native []byte) {
	for _, ft := range fixtureTable {
		if ft.file == name {
			f = ft
		}
	}
	r := rand.New(rand.NewPCG(uint64(len(name)), 3))
	native = make([]byte, f.rows*f.cols*f.spp*f.ba/8)
	for i := range native {
		switch name {
		case "synth_runs_16.rle":
			native[i] = byte(i / 700) // long runs
		default:
			if r.IntN(3) == 0 {
				native[i] = byte(r.IntN(256))
			} else if i > 0 {
				native[i] = native[i-1]
			}
		}
	}
	return f, encode(native, f.rows, f.cols, f.spp, f.ba), native
}

// encode is a test-only PackBits encoder laying out segments as PS3.5
// annex G says, each row coded separately.
func encode(native []byte, rows, cols, spp, ba int) []byte {
	bps := ba / 8
	nseg := spp * bps
	hdr := make([]byte, 64)
	binary.LittleEndian.PutUint32(hdr, uint32(nseg))
	var body []byte
	for i := 0; i < nseg; i++ {
		binary.LittleEndian.PutUint32(hdr[4+4*i:], uint32(64+len(body)))
		s, b := i/bps, i%bps
		pos := s*bps + (bps - 1 - b)
		for y := 0; y < rows; y++ {
			row := make([]byte, cols)
			for x := range row {
				row[x] = native[((y*cols+x)*nseg)+pos]
			}
			body = packBits(body, row)
		}
		if len(body)%2 == 1 {
			body = append(body, 0)
		}
	}
	return append(hdr, body...)
}

func packBits(dst, row []byte) []byte {
	for i := 0; i < len(row); {
		j := i + 1
		for j < len(row) && j-i < 128 && row[j] == row[i] {
			j++
		}
		if j-i >= 2 {
			dst = append(dst, byte(int8(1-(j-i))), row[i])
			i = j
			continue
		}
		j = i + 1
		for j < len(row) && j-i < 128 && (j+1 >= len(row) || row[j] != row[j+1]) {
			j++
		}
		dst = append(dst, byte(j-i-1))
		dst = append(dst, row[i:j]...)
		i = j
	}
	return dst
}

// TestGolden decodes every fixture and compares with testdata/golden.tsv;
// the golden hashes are checked independently by TestFixturesAgainstReference.
func TestGolden(t *testing.T) {
	if testkit.Update() {
		for _, f := range fixtureTable {
			if strings.HasPrefix(f.file, "synth_") {
				_, frame, _ := synthFrame(f.file)
				if err := os.WriteFile(filepath.Join("testdata", f.file), frame, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	var got []string
	for _, f := range fixtureTable {
		out, err := Decode(readFile(t, filepath.Join("testdata", f.file)), f.rows, f.cols, f.spp, f.ba)
		if err != nil {
			t.Fatalf("%s: %v", f.file, err)
		}
		if want := f.rows * f.cols * f.spp * f.ba / 8; len(out) != want {
			t.Fatalf("%s: %d bytes, want %d", f.file, len(out), want)
		}
		got = append(got, fmt.Sprintf("%s\t%s", f.file, hash(out)))
	}
	testkit.Check(t, filepath.Join("testdata", "golden.tsv"), strings.Join(got, "\n")+"\n")
}

// TestSyntheticExact checks the test encoder's frames against the bytes
// they were made from.
func TestSyntheticExact(t *testing.T) {
	for _, f := range fixtureTable {
		if !strings.HasPrefix(f.file, "synth_") {
			continue
		}
		_, frame, native := synthFrame(f.file)
		out, err := Decode(frame, f.rows, f.cols, f.spp, f.ba)
		if err != nil {
			t.Fatalf("%s: %v", f.file, err)
		}
		if !bytes.Equal(out, native) {
			t.Errorf("%s: decoded bytes differ from the source", f.file)
		}
	}
}

// TestFixturesAgainstReference checks each fixture against the corpus file
// it was made from when there is one, and against DCMTK's dcmdrle (an
// independent decoder) otherwise.
func TestFixturesAgainstReference(t *testing.T) {
	for _, f := range fixtureTable {
		t.Run(f.file, func(t *testing.T) {
			frame := readFile(t, filepath.Join("testdata", f.file))
			out, err := Decode(frame, f.rows, f.cols, f.spp, f.ba)
			if err != nil {
				t.Fatal(err)
			}
			var want []byte
			if f.native != "" {
				want = dicomtest.Read(t, dicomtest.CorpusFile(t, f.native)).Native
			} else {
				dir := t.TempDir()
				in, outp := filepath.Join(dir, "in.dcm"), filepath.Join(dir, "out.dcm")
				dcm := dicomtest.Encapsulate("1.2.840.10008.1.2.5", "", f.rows, f.cols, f.spp, f.ba, f.ba, [][]byte{frame})
				if err := os.WriteFile(in, dcm, 0o644); err != nil {
					t.Fatal(err)
				}
				dicomtest.Run(t, "dcmdrle", in, outp)
				want = dicomtest.Read(t, outp).Native
			}
			if len(want) > len(out) && len(want) == len(out)+1 {
				want = want[:len(out)] // native data padded to even length
			}
			if !bytes.Equal(out, want) {
				t.Errorf("%s differs from the reference", f.file)
			}
		})
	}
}

// TestCorpus decodes the corpus RLE files: MR_small_RLE must equal
// MR_small's native pixels exactly; the others must equal DCMTK's dcmdrle.
// (Not gdcmconv --raw: GDCM 3.0.21 misorders the segments of 16-bit RGB
// RLE, giving SC_rgb_rle_16bit a first pixel of 0000/ff00/00ff where the
// red bar is ffff/0000/0000, as the 8-bit SC_rgb_rle shows.)
func TestCorpus(t *testing.T) {
	tests := []struct {
		file, native string // native "" means: compare with dcmdrle
	}{
		{"dicom/pydicom/MR_small_RLE.dcm", "dicom/pydicom/MR_small.dcm"},
		{"dicom/pydicom/SC_rgb_rle.dcm", ""},
		{"dicom/pydicom/SC_rgb_rle_16bit.dcm", ""},
		{"dicom/pydicom/SC_rgb_rle_2frame.dcm", ""},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			p := dicomtest.CorpusFile(t, tt.file)
			f := dicomtest.Read(t, p)
			var ref *dicomtest.File
			if tt.native != "" {
				ref = dicomtest.Read(t, dicomtest.CorpusFile(t, tt.native))
			} else {
				out := filepath.Join(t.TempDir(), "out.dcm")
				dicomtest.Run(t, "dcmdrle", p, out)
				ref = dicomtest.Read(t, out)
			}
			frameLen := f.Rows * f.Columns * f.Samples * f.BitsAllocated / 8
			for i, frame := range f.Frames {
				out, err := Decode(frame, f.Rows, f.Columns, f.Samples, f.BitsAllocated)
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				want := ref.Native[i*frameLen : (i+1)*frameLen]
				if ref.Planar == 1 {
					t.Fatalf("reference is planar; test expects interleaved")
				}
				if !bytes.Equal(out, want) {
					t.Errorf("frame %d differs from the reference", i)
				}
			}
		})
	}
}

func TestErrors(t *testing.T) {
	good := readFile(t, "testdata/rgb8_rle.rle")
	mod := func(f func(b []byte)) []byte {
		b := bytes.Clone(good)
		f(b)
		return b
	}
	tests := []struct {
		name                string
		data                []byte
		rows, cols, spp, ba int
		unsupported         bool
	}{
		{"empty", nil, 100, 100, 3, 8, false},
		{"short header", good[:40], 100, 100, 3, 8, false},
		{"segment count", mod(func(b []byte) { b[0] = 4 }), 100, 100, 3, 8, false},
		{"offset past end", mod(func(b []byte) { binary.LittleEndian.PutUint32(b[8:], 1<<30) }), 100, 100, 3, 8, false},
		{"offsets out of order", mod(func(b []byte) { binary.LittleEndian.PutUint32(b[8:], 64) }), 100, 100, 3, 8, false},
		{"first offset in header", mod(func(b []byte) { binary.LittleEndian.PutUint32(b[4:], 10) }), 100, 100, 3, 8, false},
		{"truncated", good[:len(good)-40], 100, 100, 3, 8, false},
		{"too few bytes for plane", good, 1000, 1000, 3, 8, false},
		{"geometry", good, 0, 100, 3, 8, false},
		{"too many segments", good, 100, 100, 4, 32, false},
		{"huge", good, 65535, 65535, 3, 16, false},
		{"12 bits allocated", good, 100, 100, 3, 12, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.data, tt.rows, tt.cols, tt.spp, tt.ba)
			if err == nil {
				t.Fatal("no error")
			}
			if got := errors.Is(err, codec.ErrUnsupported); got != tt.unsupported {
				t.Errorf("errors.Is(%v, ErrUnsupported) = %v, want %v", err, got, tt.unsupported)
			}
		})
	}
}

// TestOverlongSegment checks the documented tolerance: a segment that
// decodes past its plane is cut, not rejected.
func TestOverlongSegment(t *testing.T) {
	native := []byte{1, 2, 3, 4, 5, 6}
	frame := encode(native, 2, 3, 1, 8)
	frame = append(frame, 0xFD, 9) // a trailing run of 4 bytes past the plane
	got, err := Decode(frame, 2, 3, 1, 8)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, native) {
		t.Errorf("got %v, want %v", got, native)
	}
}

func FuzzDecode(f *testing.F) {
	for _, ft := range fixtureTable {
		f.Add(readFile(f, filepath.Join("testdata", ft.file)), uint16(ft.rows), uint16(ft.cols), uint8(ft.spp), uint8(ft.ba))
	}
	f.Fuzz(func(t *testing.T, data []byte, rows, cols uint16, spp, ba uint8) {
		out, err := Decode(data, int(rows), int(cols), int(spp), int(ba))
		if err != nil {
			return
		}
		if want := int(rows) * int(cols) * int(spp) * int(ba) / 8; len(out) != want {
			t.Fatalf("%d bytes, want %d", len(out), want)
		}
	})
}

// BenchmarkDecode16 decodes a 512x512 16-bit frame (the corpus CT when
// present, else a synthetic one); MB/s counts decoded bytes.
func BenchmarkDecode16(b *testing.B) {
	native := make([]byte, 512*512*2)
	corpus, _ := testkit.FindCorpus(b)
	p := filepath.Join(corpus, "dicom", "grailbio", "CT-MONO2-16-ort.dcm")
	if _, err := os.Stat(p); err == nil {
		if f := dicomtest.Read(b, p); len(f.Native) >= len(native) {
			copy(native, f.Native)
		}
	} else {
		r := rand.New(rand.NewPCG(1, 2))
		for i := range native {
			native[i] = byte(r.IntN(4) + i/4096)
		}
	}
	frame := encode(native, 512, 512, 1, 16)
	b.ReportAllocs()
	b.SetBytes(int64(len(native)))
	for b.Loop() {
		if _, err := Decode(frame, 512, 512, 1, 16); err != nil {
			b.Fatal(err)
		}
	}
}

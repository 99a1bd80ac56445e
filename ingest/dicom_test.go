package ingest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/copycat-dev/copycat/internal/testkit"
)

// dicomFixture reads a fixture of the DICOM decoder's testdata.
func dicomFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("internal", "dicom", "testdata", "dicom", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestDecodeDICOMGlue checks what ingest adds to the DICOM decoder (package
// ingest/internal/dicom, where the pixel pipeline is tested): the format in
// Meta, Frames passed on, and the decoder's errors turned into ingest's
// typed errors, matchable with errors.As and errors.Is and worded as
// before; emit's own error passes unchanged.
func TestDecodeDICOMGlue(t *testing.T) {
	mono := dicomFixture(t, "mono8_minmax.dcm")
	multi := dicomFixture(t, "multiframe_fg.dcm")
	stop := errors.New("stop")
	tests := []struct {
		name    string
		data    []byte
		opts    Options
		stopAt  int    // emit returns stop at this frame (-1: never)
		want    string // the error class: ok, corrupt, unsupported, too large, stop
		message string // the whole message, when pinned
		frames  int
	}{
		{"multiframe", multi, Options{}, -1, "ok", "", 3},
		{"emit error", multi, Options{}, 1, "stop", "stop", 2},
		{"truncated pixels", mono[:len(mono)-10], Options{}, -1, "corrupt",
			"corrupt dicom: pixel data length 3220, 3210 bytes left: element runs past the end of the data", 0},
		{"no pixel data", dicomFixture(t, "no_pixel_data.dcm"), Options{}, -1, "unsupported", "no pixel data", 0},
		{"over budget", multi, Options{PixelBudget: 100}, -1, "too large",
			"too large: frame 70x46 with 1 samples per pixel (0.0 megapixels) exceeds pixel budget of 0.0001 megapixels", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			meta, err := Decode(tt.data, tt.opts, func(f Frame) error {
				if f.Index != n || f.Image == nil {
					t.Errorf("frame %d: Index %d, Image %T", n, f.Index, f.Image)
				}
				n++
				if n-1 == tt.stopAt {
					return stop
				}
				return nil
			})
			if meta.Format != FormatDICOM {
				t.Errorf("Format = %q, want %q", meta.Format, FormatDICOM)
			}
			var (
				ce *CorruptError
				ue *UnsupportedError
				te *TooLargeError
			)
			got := "other"
			switch {
			case err == nil:
				got = "ok"
			case err == stop:
				got = "stop"
			case errors.As(err, &ce) && errors.Is(err, ErrCorrupt) && ce.Format == FormatDICOM:
				got = "corrupt"
			case errors.As(err, &ue) && errors.Is(err, ErrUnsupported):
				got = "unsupported"
			case errors.As(err, &te) && errors.Is(err, ErrTooLarge):
				got = "too large"
			}
			if got != tt.want {
				t.Fatalf("err = %v (%T): class %s, want %s", err, err, got, tt.want)
			}
			if tt.message != "" && err.Error() != tt.message {
				t.Errorf("message %q, want %q", err, tt.message)
			}
			if n != tt.frames {
				t.Errorf("emit called %d times, want %d", n, tt.frames)
			}
		})
	}
	meta, err := Decode(multi, Options{Salt: []byte("s")}, func(Frame) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if meta.Width != 70 || meta.Height != 46 || meta.Frames != 3 || meta.Bits != 14 || meta.Photometric != "MONOCHROME2" ||
		meta.TransferSyntax != "1.2.840.10008.1.2.1" || meta.SOPInstanceUID == "" || meta.SeriesInstanceUID == "" ||
		meta.StudyInstanceUID == "" || meta.Modality == "" || len(meta.PatientIDDigest) != 32 {
		t.Errorf("meta = %+v", meta)
	}
	if k, name := Sniff(mono[:SniffLen]); k != KindImage || name != string(FormatDICOM) {
		t.Errorf("Sniff = %v, %q; want an image, dicom", k, name)
	}
}

// TestDICOMMRSmallDigest checks what the index stores for the one MR image
// pydicom ships in eight encodings: the same pixel digest through the
// scan's decoder (which may reduce JPEG frames; these are lossless).
func TestDICOMMRSmallDigest(t *testing.T) {
	c := testkit.Corpus(t)
	files, _ := filepath.Glob(filepath.Join(c, "dicom", "pydicom", "MR_small*.dcm"))
	if len(files) != 8 {
		t.Fatalf("found %d MR_small files, want 8", len(files))
	}
	var want [32]byte
	if _, err := Decode(readFile(t, filepath.Join(c, "dicom", "pydicom", "MR_small.dcm")), Options{}, func(fr Frame) error {
		want = PixelDigest(fr.Image)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	dec := NewDecoder(Options{MinSide: 256})
	defer dec.Close()
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var d [32]byte
			_, err := dec.Decode(readFile(t, f), func(fr Frame) error { d = FrameDigest(fr); return nil })
			var ue *UnsupportedError
			if errors.As(err, &ue) && strings.HasPrefix(ue.Reason, "unsupported transfer syntax") {
				t.Skipf("codec not in this build: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			if d != want {
				t.Errorf("pixel digest %x, want %x (MR_small.dcm's)", d[:8], want[:8])
			}
		})
	}
}

func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// BenchmarkDecodeDICOM measures DICOM decoding through ingest (the decoder
// and the glue that turns its results into ingest's types), on corpus files.
func BenchmarkDecodeDICOM(b *testing.B) {
	c := testkit.Corpus(b)
	cases := []struct{ name, path string }{
		{"CR-4.dcm-2140x1760-mono1", "dicom/suyashkumar/4.dcm"},
		{"CT-512-signed16", "dicom/grailbio/CT-MONO2-16-ort.dcm"},
		{"US-480x430x34-jpeg", "dicom/grailbio/I_000001.dcm"},
		{"XA-512x75-jpeg-mono", "dicom/grailbio/I_000000.dcm"},
		{"MR_small-explicit", "dicom/pydicom/MR_small.dcm"},
	}
	paths := map[string]string{}
	for _, cs := range cases {
		paths[cs.name] = filepath.Join(c, cs.path)
	}
	// MR_small as JPEG lossless (process 14 SV1), made with DCMTK.
	if _, err := exec.LookPath("dcmcjpeg"); err == nil {
		out := filepath.Join(b.TempDir(), "mr_small_ljpeg.dcm")
		if err := exec.Command("dcmcjpeg", "+e1", paths["MR_small-explicit"], out).Run(); err == nil {
			cases = append(cases, struct{ name, path string }{"MR_small-jpeg-lossless", out})
			paths["MR_small-jpeg-lossless"] = out
		}
	}
	for _, cs := range cases {
		b.Run(cs.name, func(b *testing.B) {
			data := readFile(b, paths[cs.name])
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := decodeDICOM(data, Options{PixelBudget: 1 << 30}, func(Frame) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package dicom

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/copycat-dev/copycat/ingest/internal/decodeerr"
	"github.com/copycat-dev/copycat/internal/testkit"
)

// dicomFixtures lists the DICOM files under testdata/dicom.
func dicomFixtures(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "dicom", "*.dcm"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no DICOM fixtures: %v", err)
	}
	return files
}

// corpusDICOMs lists the corpus DICOM files, relative to the corpus.
func corpusDICOMs(tb testing.TB) (string, []string) {
	tb.Helper()
	c := testkit.Corpus(tb)
	files, err := filepath.Glob(filepath.Join(c, "dicom", "*", "*.dcm"))
	if err != nil || len(files) == 0 {
		tb.Skipf("no DICOM files in %s", c)
	}
	for i, f := range files {
		files[i], _ = filepath.Rel(c, f)
	}
	return c, files
}

func dicomReadFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// decodeDICOMAll decodes every frame, keeping those whose index passes keep
// (all when keep is nil).
func decodeDICOMAll(data []byte, opts Options, keep func(int) bool) (Meta, []image.Image, error) {
	var frames []image.Image
	meta, err := Decode(data, opts, func(f Frame) error {
		if keep == nil || keep(f.Index) {
			frames = append(frames, f.Image)
		} else {
			frames = append(frames, nil)
		}
		return nil
	})
	return meta, frames, err
}

// dicomErrClass names the error class of err, for tables and goldens.
func dicomErrClass(err error) string {
	var (
		ce *decodeerr.CorruptError
		ue *decodeerr.UnsupportedError
		te *decodeerr.TooLargeError
	)
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &ce):
		return "corrupt"
	case errors.As(err, &ue):
		return "unsupported"
	case errors.As(err, &te):
		return "too large"
	}
	return "other"
}

// isCorrupt reports whether err is a *decodeerr.CorruptError.
func isCorrupt(err error) bool { return dicomErrClass(err) == "corrupt" }

// pixelHash is a short digest of a rendered frame's pixels.
func dicomPixelHash(img image.Image) string {
	h := sha256.New()
	switch m := img.(type) {
	case *image.Gray:
		fmt.Fprintf(h, "gray %v\n", m.Rect)
		h.Write(m.Pix)
	case *image.RGBA:
		fmt.Fprintf(h, "rgba %v\n", m.Rect)
		h.Write(m.Pix)
	default:
		return fmt.Sprintf("%T", img)
	}
	return hex.EncodeToString(h.Sum(nil)[:6])
}

// codecBuild names which optional codecs this build has, for golden files
// whose content depends on it.
func codecBuild() string {
	var parts []string
	if _, err := dicomCodecJPEGLS(nil); !errors.Is(err, errDICOMNoCodec) {
		parts = append(parts, "jpegls")
	}
	if _, err := dicomCodecJ2K(nil); !errors.Is(err, errDICOMNoCodec) {
		parts = append(parts, "j2k")
	}
	if _, err := dicomCodecRLE(nil, 1, 1, 1, 8); !errors.Is(err, errDICOMNoCodec) {
		parts = append(parts, "rle")
	}
	if len(parts) == 0 {
		return "nocodec"
	}
	return strings.Join(parts, "+")
}

func TestDecodeDICOMFixtures(t *testing.T) {
	const (
		el   = "1.2.840.10008.1.2.1"
		il   = "1.2.840.10008.1.2"
		eb   = "1.2.840.10008.1.2.2"
		dfl  = "1.2.840.10008.1.2.1.99"
		ljp1 = "1.2.840.10008.1.2.4.70"
		ljp  = "1.2.840.10008.1.2.4.57"
		base = "1.2.840.10008.1.2.4.50"
		ext  = "1.2.840.10008.1.2.4.51"
		jls  = "1.2.840.10008.1.2.4.80"
		j2k  = "1.2.840.10008.1.2.4.90"
		rle  = "1.2.840.10008.1.2.5"
	)
	tests := []struct {
		name        string
		ts          string
		w, h        int
		frames      int
		bits        int
		photometric string
		lossy       bool
		colour      bool
		codec       string // optional codec the file needs ("" for pure Go)
	}{
		{"mono8_minmax.dcm", el, 70, 46, 1, 8, "MONOCHROME2", false, false, ""},
		{"mono8_inverse.dcm", el, 70, 46, 1, 8, "MONOCHROME2", false, false, ""},
		{"mono8_deflated.dcm", dfl, 70, 46, 1, 8, "MONOCHROME2", false, false, ""},
		{"mono8_jpeg_baseline.dcm", base, 70, 46, 1, 8, "MONOCHROME2", true, false, ""},
		{"ct12_signed_rescale_implicit.dcm", il, 70, 46, 1, 12, "MONOCHROME2", false, false, ""},
		{"ct12_nometa_implicit.dcm", il, 70, 46, 1, 12, "MONOCHROME2", false, false, ""},
		{"ct12_jpeg_lossless_sv1.dcm", ljp1, 70, 46, 1, 12, "MONOCHROME2", false, false, ""},
		{"ct12_jpegls.dcm", jls, 70, 46, 1, 12, "MONOCHROME2", false, false, "jpegls"},
		{"ct12_j2k.dcm", j2k, 70, 46, 1, 12, "MONOCHROME2", false, false, "j2k"},
		{"ct_modality_lut.dcm", el, 70, 46, 1, 12, "MONOCHROME2", false, false, ""},
		{"cr_mono1_highbit_bigendian.dcm", eb, 70, 46, 1, 10, "MONOCHROME1", false, false, ""},
		{"cr_jpeg_extended12.dcm", ext, 70, 46, 1, 12, "MONOCHROME1", true, false, ""},
		{"mr16_voilut.dcm", el, 70, 46, 1, 16, "MONOCHROME2", false, false, ""},
		{"mr16_sigmoid.dcm", el, 70, 46, 1, 16, "MONOCHROME2", false, false, ""},
		{"multiframe_fg.dcm", el, 70, 46, 3, 14, "MONOCHROME2", false, false, ""},
		{"multiframe_nometa_explicit.dcm", el, 70, 46, 3, 14, "MONOCHROME2", false, false, ""},
		{"multiframe_rle.dcm", rle, 70, 46, 3, 14, "MONOCHROME2", false, false, "rle"},
		{"multiframe_jpeg_lossless_sv6.dcm", ljp, 70, 46, 3, 14, "MONOCHROME2", false, false, ""},
		{"palette16.dcm", el, 70, 46, 1, 8, "PALETTE COLOR", false, true, ""},
		{"palette8_packed.dcm", el, 70, 46, 1, 8, "PALETTE COLOR", false, true, ""},
		{"rgb.dcm", el, 70, 46, 1, 8, "RGB", false, true, ""},
		{"rgb_planar_bigendian.dcm", eb, 70, 46, 1, 8, "RGB", false, true, ""},
		{"rgb_rle.dcm", rle, 70, 46, 1, 8, "RGB", false, true, "rle"},
		{"rgb_j2k.dcm", j2k, 70, 46, 1, 8, "RGB", false, true, "j2k"},
		{"rgb_jpeg_baseline_422.dcm", base, 70, 46, 1, 8, "YBR_FULL_422", true, true, ""},
		{"ybr_full.dcm", el, 70, 46, 1, 8, "YBR_FULL", false, true, ""},
	}
	build := codecBuild()
	var golden strings.Builder
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := dicomReadFile(t, filepath.Join("testdata", "dicom", tt.name))
			meta, frames, err := decodeDICOMAll(data, Options{Salt: []byte("s")}, nil)
			if tt.codec != "" && !strings.Contains(build, tt.codec) {
				var ue *decodeerr.UnsupportedError
				if !errors.As(err, &ue) || !strings.HasPrefix(ue.Reason, "unsupported transfer syntax ") || !strings.HasSuffix(ue.Reason, "("+tt.ts+")") {
					t.Fatalf("without the %s codec: err = %v, want unsupported transfer syntax ... (%s)", tt.codec, err, tt.ts)
				}
				t.Skipf("%s codec not in this build", tt.codec)
			}
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			got := fmt.Sprintf("%s %dx%d frames=%d bits=%d %s lossy=%v", meta.TransferSyntax, meta.Width, meta.Height, meta.Frames, meta.Bits, meta.Photometric, meta.Lossy)
			want := fmt.Sprintf("%s %dx%d frames=%d bits=%d %s lossy=%v", tt.ts, tt.w, tt.h, tt.frames, tt.bits, tt.photometric, tt.lossy)
			if got != want {
				t.Errorf("meta = %s\nwant   %s", got, want)
			}
			if meta.SOPInstanceUID == "" || meta.StudyInstanceUID == "" || meta.SeriesInstanceUID == "" {
				t.Errorf("identifiers missing: %+v", meta)
			}
			if wantPID := patientIDDigest([]byte("s"), "FIXTURE-PID-1"); meta.PatientIDDigest != wantPID {
				t.Errorf("PatientIDDigest = %q, want %q", meta.PatientIDDigest, wantPID)
			}
			if len(frames) != tt.frames {
				t.Fatalf("%d frames emitted, want %d", len(frames), tt.frames)
			}
			var hashes []string
			for _, f := range frames {
				switch f.(type) {
				case *image.RGBA:
					if !tt.colour {
						t.Errorf("frame is %T, want *image.Gray", f)
					}
				case *image.Gray:
					if tt.colour {
						t.Errorf("frame is %T, want *image.RGBA", f)
					}
				default:
					t.Errorf("frame is %T", f)
				}
				if f.Bounds() != image.Rect(0, 0, tt.w, tt.h) {
					t.Errorf("frame bounds %v", f.Bounds())
				}
				hashes = append(hashes, dicomPixelHash(f))
			}
			fmt.Fprintf(&golden, "%s %s\n", tt.name, strings.Join(hashes, " "))
		})
	}
	if !t.Failed() {
		testkit.Check(t, filepath.Join("testdata", "dicom_fixtures."+build+".golden"), golden.String())
	}
}

// TestDICOMPatientIdentity checks that neither the patient's name nor ID
// leaves the decoder except as the salted digest.
func TestDICOMPatientIdentity(t *testing.T) {
	for _, f := range dicomFixtures(t) {
		data := dicomReadFile(t, f)
		for _, cut := range []int{len(data), len(data) / 2} {
			meta, err := Decode(data[:cut], Options{}, func(Frame) error { return nil })
			text := fmt.Sprintf("%+v %v", meta, err)
			if strings.Contains(text, "FIXTURE-PID") || strings.Contains(text, "Fixture") {
				t.Errorf("%s[:%d]: patient identity leaked: %s", f, cut, text)
			}
		}
	}
	for _, tt := range []struct{ salt, id string }{
		{"", ""},
		{"", "12345"},
		{"pepper", "12345"},
		{"pepper", "12346"},
	} {
		got := patientIDDigest([]byte(tt.salt), tt.id)
		sum := sha256.Sum256(append(append([]byte(tt.salt), 0), tt.id...))
		want := hex.EncodeToString(sum[:16])
		if tt.id == "" {
			want = ""
		}
		if got != want {
			t.Errorf("patientIDDigest(%q, %q) = %q, want %q", tt.salt, tt.id, got, want)
		}
	}
}

func TestSniffDICOM(t *testing.T) {
	head := func(name string) []byte {
		b := dicomReadFile(t, filepath.Join("testdata", "dicom", name))
		return b[:min(len(b), 1024)]
	}
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	tests := []struct {
		name string
		head []byte
		want bool
	}{
		{"preamble and DICM", head("mono8_minmax.dcm"), true},
		{"no meta, implicit VR", head("ct12_nometa_implicit.dcm"), true},
		{"no meta, explicit VR", head("multiframe_nometa_explicit.dcm"), true},
		{"meta group without preamble", head("mono8_minmax.dcm")[132:], true},
		{"PNG", png, false},
		{"text", []byte("group,element\n0008,0016\n"), false},
		{"zeros", make([]byte, 512), false},
		{"short", []byte{0x08, 0x00}, false},
		{"group 8 unknown element", []byte{0x08, 0x00, 0x77, 0x77, 'U', 'I', 4, 0, '1', '.', '2', 0}, false},
		{"group 8 implicit odd length", []byte{0x08, 0x00, 0x16, 0x00, 0x07, 0x00, 0x00, 0x00}, false},
		{"group 8 implicit", []byte{0x08, 0x00, 0x16, 0x00, 0x08, 0x00, 0x00, 0x00}, true},
	}
	for _, tt := range tests {
		if got := Sniff(tt.head); got != tt.want {
			t.Errorf("%s: sniffDICOM = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestDecodeDICOMErrors(t *testing.T) {
	mono := dicomReadFile(t, filepath.Join("testdata", "dicom", "mono8_minmax.dcm"))
	multi := dicomReadFile(t, filepath.Join("testdata", "dicom", "multiframe_fg.dcm"))
	stop := errors.New("stop")
	tests := []struct {
		name   string
		data   []byte
		opts   Options
		emitOK int    // frames emit accepts before returning stop (-1: all)
		want   string // dicomErrClass of the error, or "stop" for the emit error itself
		reason string // expected substring of the message
		emits  int
	}{
		{"no pixel data", dicomReadFile(t, filepath.Join("testdata", "dicom", "no_pixel_data.dcm")), Options{}, -1, "unsupported", "no pixel data", 0},
		// The budget is per frame: the 3-frame image fits in one frame's.
		{"over budget", multi, Options{PixelBudget: 70*46 - 1}, -1, "too large", "exceeds pixel budget", 0},
		{"at budget", multi, Options{PixelBudget: 70 * 46}, -1, "ok", "", 3},
		{"emit error stops", multi, Options{}, 1, "stop", "stop", 2},
		{"garbage", bytes.Repeat([]byte{0xA5}, 300), Options{}, -1, "corrupt", "", 0},
		{"empty", nil, Options{}, -1, "corrupt", "", 0},
		{"preamble only", append(make([]byte, 128), "DICM"...), Options{}, -1, "corrupt", "", 0},
		{"truncated pixels", mono[:len(mono)-10], Options{}, -1, "corrupt", "", 0},
		{"header only", mono[:len(mono)-70*46-12], Options{}, -1, "unsupported", "no pixel data", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			_, err := Decode(tt.data, tt.opts, func(Frame) error {
				n++
				if tt.emitOK >= 0 && n > tt.emitOK {
					return stop
				}
				return nil
			})
			switch {
			case tt.want == "stop" && err != stop:
				t.Fatalf("err = %v, want the emit error itself", err)
			case tt.want != "stop" && dicomErrClass(err) != tt.want:
				t.Fatalf("err = %v, want %s", err, tt.want)
			case tt.reason != "" && !strings.Contains(err.Error(), tt.reason):
				t.Errorf("err = %q, want it to mention %q", err, tt.reason)
			}
			if n != tt.emits {
				t.Errorf("emit called %d times, want %d", n, tt.emits)
			}
		})
	}
}

// TestDICOMHostileLengths checks that declared lengths far beyond the data
// are refused before anything allocates them.
func TestDICOMHostileLengths(t *testing.T) {
	implicit := func(elems ...[]byte) []byte { return bytes.Join(elems, nil) }
	el := func(g, e uint16, vl uint32, val ...byte) []byte {
		b := binary.LittleEndian.AppendUint16(nil, g)
		b = binary.LittleEndian.AppendUint16(b, e)
		b = binary.LittleEndian.AppendUint32(b, vl)
		return append(b, val...)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"huge string", implicit(el(8, 0x16, 8, []byte("1.2.3.4\x00")...), el(8, 0x18, 0xFFFFFFF0, 'x'))},
		{"huge date", implicit(el(8, 0x16, 8, []byte("1.2.3.4\x00")...), el(8, 0x20, 0xFFFFFFFF))},
		{"huge bytes in item", implicit(el(8, 0x16, 8, []byte("1.2.3.4\x00")...), el(0x0008, 0x1140, 0xFFFFFFFF),
			el(0xFFFE, 0xE000, 0xFFFFFFFF), el(0x0009, 0x0010, 0xFFFFFF00))},
		{"huge pixel data", implicit(el(8, 0x16, 8, []byte("1.2.3.4\x00")...), el(0x28, 0x10, 2, 1, 0), el(0x28, 0x11, 2, 1, 0),
			el(0x28, 0x100, 2, 8, 0), el(0x7FE0, 0x10, 0xFFFFFFF0))},
		{"deep nesting", implicit(append(el(8, 0x16, 8, []byte("1.2.3.4\x00")...),
			bytes.Repeat(append(el(0x0008, 0x1140, 0xFFFFFFFF), el(0xFFFE, 0xE000, 0xFFFFFFFF)...), 10000)...))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := Decode(tt.data, Options{}, func(Frame) error { return nil })
			runtime.ReadMemStats(&after)
			if !isCorrupt(err) {
				t.Errorf("err = %v, want corrupt", err)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
				t.Errorf("allocated %d bytes for a %d-byte file", alloc, len(tt.data))
			}
		})
	}
}

// TestDICOMTruncated cuts every fixture at many points and corpus files in
// half: each prefix must fail as corrupt (or, cut before Pixel Data, as
// having none) and never panic.
func TestDICOMTruncated(t *testing.T) {
	check := func(t *testing.T, name string, data []byte) {
		t.Helper()
		_, err := Decode(data, Options{}, func(Frame) error { return nil })
		if err == nil {
			t.Errorf("%s (%d bytes): decoded without error", name, len(data))
			return
		}
		if !isCorrupt(err) && !strings.Contains(err.Error(), "no pixel data") {
			t.Errorf("%s (%d bytes): err = %v, want corrupt", name, len(data), err)
		}
		if strings.Contains(err.Error(), "panic") {
			t.Errorf("%s (%d bytes): %v", name, len(data), err)
		}
	}
	for _, f := range dicomFixtures(t) {
		data := dicomReadFile(t, f)
		if strings.Contains(f, "no_pixel_data") {
			continue
		}
		for cut := 0; cut < len(data)-1; cut += 1 + len(data)/150 {
			check(t, f, data[:cut])
		}
	}
	if testing.Short() {
		return
	}
	c, files := corpusDICOMs(t)
	for _, f := range files {
		data := dicomReadFile(t, filepath.Join(c, f))
		check(t, f, data[:len(data)/2])
	}
}

// TestDICOMMRSmallIdentical decodes the one MR image pydicom ships in eight
// encodings: all must give the same pixels. (ingest's TestDICOMMRSmallDigest
// checks the pixel digest the index stores, through the scan's decoder.)
func TestDICOMMRSmallIdentical(t *testing.T) {
	c := testkit.Corpus(t)
	files, _ := filepath.Glob(filepath.Join(c, "dicom", "pydicom", "MR_small*.dcm"))
	if len(files) != 8 {
		t.Fatalf("found %d MR_small files, want 8", len(files))
	}
	_, ref, err := decodeDICOMAll(dicomReadFile(t, filepath.Join(c, "dicom", "pydicom", "MR_small.dcm")), Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, got, err := decodeDICOMAll(dicomReadFile(t, f), Options{}, nil)
			var ue *decodeerr.UnsupportedError
			if errors.As(err, &ue) && strings.HasPrefix(ue.Reason, "unsupported transfer syntax") {
				t.Skipf("codec not in this build: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got[0].(*image.Gray).Pix, ref[0].(*image.Gray).Pix) {
				t.Errorf("pixels differ from MR_small.dcm")
			}
		})
	}
}

// TestDICOMMonochrome1Chest checks that 4.dcm, a MONOCHROME1 chest CR, shows
// dark lungs beside a bright spine, as on a viewer.
func TestDICOMMonochrome1Chest(t *testing.T) {
	c := testkit.Corpus(t)
	_, frames, err := decodeDICOMAll(dicomReadFile(t, filepath.Join(c, "dicom", "suyashkumar", "4.dcm")), Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := frames[0].(*image.Gray)
	mean := func(x0, y0, x1, y1 float64) float64 {
		b := g.Bounds()
		var sum, n float64
		for y := int(y0 * float64(b.Dy())); y < int(y1*float64(b.Dy())); y++ {
			for x := int(x0 * float64(b.Dx())); x < int(x1*float64(b.Dx())); x++ {
				sum += float64(g.GrayAt(x, y).Y)
				n++
			}
		}
		return sum / n
	}
	lungs := (mean(0.22, 0.25, 0.35, 0.45) + mean(0.65, 0.25, 0.78, 0.45)) / 2
	spine := mean(0.47, 0.25, 0.53, 0.55)
	t.Logf("mean grey: lungs %.1f, spine %.1f", lungs, spine)
	if spine < lungs+40 {
		t.Errorf("spine (%.1f) is not clearly brighter than the lungs (%.1f): MONOCHROME1 not inverted?", spine, lungs)
	}
}

// TestDICOMCorpus decodes every corpus DICOM and records, per file, its
// transfer syntax and the outcome, in a golden file for this build's codec
// set; the log gets the count per transfer syntax.
// errEnoughFrames stops a decode early under the race detector.
var errEnoughFrames = errors.New("enough frames")

func TestDICOMCorpus(t *testing.T) {
	c, files := corpusDICOMs(t)
	type count struct{ ok, fail int }
	perTS := map[string]*count{}
	var golden strings.Builder
	for _, f := range files {
		data := dicomReadFile(t, filepath.Join(c, f))
		frames := 0
		var first image.Image
		meta, err := Decode(data, Options{}, func(fr Frame) error {
			if frames == 0 {
				first = fr.Image
			}
			frames++
			if raceEnabled && frames == 2 {
				return errEnoughFrames
			}
			return nil
		})
		if errors.Is(err, errEnoughFrames) {
			err, frames = nil, meta.Frames
		}
		if err == nil && frames != meta.Frames {
			t.Errorf("%s: decoded %d frames, header says %d", f, frames, meta.Frames)
		}
		ts := lookupDICOMTS(meta.TransferSyntax)
		result := dicomErrClass(err)
		if err != nil {
			result += ": " + err.Error()
			if isCorrupt(err) {
				t.Errorf("%s: %v", f, err)
			}
		} else {
			result += fmt.Sprintf(": %d frames %dx%d %T %s", frames, meta.Width, meta.Height, first, meta.Photometric)
		}
		fmt.Fprintf(&golden, "%s\t%s\t%s\n", f, ts.Name, result)
		k := ts.Name + " (" + ts.UID + ")"
		if perTS[k] == nil {
			perTS[k] = &count{}
		}
		if err == nil {
			perTS[k].ok++
		} else {
			perTS[k].fail++
		}
	}
	var keys []string
	for k := range perTS {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("%-100s decoded %2d, failed %2d", k, perTS[k].ok, perTS[k].fail)
	}
	testkit.Check(t, filepath.Join("testdata", "dicom_corpus."+codecBuild()+".golden"), golden.String())
}

func FuzzDecodeDICOM(f *testing.F) {
	for _, name := range dicomFixtures(f) {
		f.Add(dicomReadFile(f, name))
	}
	if c := os.Getenv("COPYCAT_FUZZ_CORPUS"); c != "" {
		// Corpus seeds are opt-in: they are large and slow the fuzzer.
		files, _ := filepath.Glob(filepath.Join(c, "dicom", "*", "*.dcm"))
		for _, name := range files {
			if b := dicomReadFile(f, name); len(b) < 256<<10 {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		Sniff(data[:min(len(data), 1024)])
		_, err := Decode(data, Options{PixelBudget: 1 << 20}, func(fr Frame) error {
			if fr.Image == nil || fr.Image.Bounds().Empty() {
				t.Fatalf("frame %d: empty image", fr.Index)
			}
			return nil
		})
		if err != nil {
			if c := dicomErrClass(err); c == "other" {
				t.Fatalf("error %q (%T) is none of the three classes", err, err)
			}
			if strings.Contains(err.Error(), "decoder panic") {
				t.Fatalf("panic: %v", err)
			}
		}
	})
}

package ljpeg

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/copycat-dev/copycat/ingest/internal/codec"
	"github.com/copycat-dev/copycat/ingest/internal/codec/internal/dicomtest"
	"github.com/copycat-dev/copycat/internal/testkit"
)

var (
	full = flag.Bool("full", false, "compare every corpus JPEG with image/jpeg, not a sample")
)

// pixHash is the SHA-256 of the decoded samples as little-endian uint16.
func pixHash(img *codec.Image) string {
	b := make([]byte, 2*len(img.Pix))
	for i, v := range img.Pix {
		binary.LittleEndian.PutUint16(b[2*i:], v)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func describe(img *codec.Image) string {
	return fmt.Sprintf("%dx%dx%d\tP%d\t%s", img.Width, img.Height, img.Components, img.Precision, pixHash(img))
}

func fixtures(tb testing.TB) []string {
	tb.Helper()
	names, err := filepath.Glob("testdata/*.jpg")
	if err != nil || len(names) == 0 {
		tb.Fatalf("no fixtures in testdata: %v", err)
	}
	sort.Strings(names)
	return names
}

func readFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func mustDecode(tb testing.TB, data []byte) *codec.Image {
	tb.Helper()
	img, err := Decode(data)
	if err != nil {
		tb.Fatalf("Decode: %v", err)
	}
	if n := img.Width * img.Height * img.Components; len(img.Pix) != n {
		tb.Fatalf("len(Pix) = %d, want %d", len(img.Pix), n)
	}
	return img
}

// TestGolden decodes every fixture and compares size, precision and the
// hash of the samples with testdata/golden.tsv. The golden values are
// themselves checked against GDCM by TestFixturesAgainstGDCM.
func TestGolden(t *testing.T) {
	const golden = "testdata/golden.tsv"
	var got []string
	for _, name := range fixtures(t) {
		img := mustDecode(t, readFile(t, name))
		got = append(got, filepath.Base(name)+"\t"+describe(img))
	}
	if testkit.Update() {
		if err := os.WriteFile(golden, []byte(strings.Join(got, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := strings.Split(strings.TrimSpace(string(readFile(t, golden))), "\n")
	if len(got) != len(want) {
		t.Fatalf("%d fixtures, golden has %d lines (run with -update after adding fixtures)", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("got  %s\nwant %s", got[i], want[i])
		}
	}
}

// frameInfo reads the SOF of a stream to wrap it in a DICOM file.
func frameInfo(tb testing.TB, data []byte) (sof, prec, nc int, subsampled bool) {
	tb.Helper()
	for p := 2; p+4 < len(data); {
		m := data[p+1]
		n := int(binary.BigEndian.Uint16(data[p+2:]))
		if m == mSOF0 || m == mSOF1 || m == mSOF3 {
			seg := data[p+4:]
			nc = int(seg[5])
			for i := 0; i < nc; i++ {
				if seg[7+3*i] != seg[7] {
					subsampled = true
				}
			}
			return int(m), int(seg[0]), nc, subsampled
		}
		p += 2 + n
	}
	tb.Fatal("no SOF marker")
	return
}

// reference decodes a JPEG stream with GDCM by wrapping it in a DICOM file.
// GDCM refuses precisions below 8 (it asserts Bits Allocated == Bits
// Stored for them), so those go to DCMTK's dcmdjpeg instead.
func reference(tb testing.TB, data []byte, img *codec.Image) []uint16 {
	tb.Helper()
	sof, prec, nc, _ := frameInfo(tb, data)
	ts, pi := "1.2.840.10008.1.2.4.57", ""
	if sof != mSOF3 {
		ts = "1.2.840.10008.1.2.4.51"
		if nc == 3 {
			pi = "YBR_FULL" // stops GDCM converting colour
		}
	}
	alloc := 8
	if prec > 8 {
		alloc = 16
	}
	dcm := dicomtest.Encapsulate(ts, pi, img.Height, img.Width, nc, alloc, prec, [][]byte{data})
	dir := tb.TempDir()
	in := filepath.Join(dir, "in.dcm")
	if err := os.WriteFile(in, dcm, 0o644); err != nil {
		tb.Fatal(err)
	}
	if prec < 8 {
		out := filepath.Join(dir, "out.dcm")
		dicomtest.Run(tb, "dcmdjpeg", in, out)
		return dicomtest.Read(tb, out).Samples16(tb, 0)
	}
	return dicomtest.Raw(tb, in).Samples16(tb, 0)
}

type diffStats struct {
	max  int
	mean float64
}

// compare returns per-component differences between got and want.
func compare(got, want []uint16, nc int) []diffStats {
	st := make([]diffStats, nc)
	for i := range got {
		d := int(got[i]) - int(want[i])
		if d < 0 {
			d = -d
		}
		s := &st[i%nc]
		s.max = max(s.max, d)
		s.mean += float64(d)
	}
	for i := range st {
		st[i].mean /= float64(len(got) / nc)
	}
	return st
}

// checkAgainst applies the tolerance rules: lossless must be exact; DCT
// within one count for full-resolution components. Subsampled components
// only get a mean bound (2% of full scale), since GDCM's libjpeg
// interpolates chroma ("fancy upsampling") where this decoder replicates
// it; their exact decoding is checked against image/jpeg, whose raw chroma
// planes are not upsampled, in TestBaselineAgainstImageJPEG.
func checkAgainst(tb testing.TB, name string, img *codec.Image, lossless bool, subsampledComp func(int) bool, want []uint16) {
	tb.Helper()
	if len(want) != len(img.Pix) {
		tb.Fatalf("%s: reference has %d samples, decoder %d", name, len(want), len(img.Pix))
	}
	meanBound := 0.02 * float64(int(1)<<img.Precision)
	for c, s := range compare(img.Pix, want, img.Components) {
		switch {
		case lossless && s.max != 0:
			tb.Errorf("%s: component %d differs from GDCM (max %d, mean %.3f); lossless must be exact", name, c, s.max, s.mean)
		case !lossless && !subsampledComp(c) && s.max > 1:
			tb.Errorf("%s: component %d max difference %d from GDCM, want <= 1", name, c, s.max)
		case !lossless && subsampledComp(c) && s.mean > meanBound:
			tb.Errorf("%s: subsampled component %d mean difference %.2f from GDCM, want <= %.1f", name, c, s.mean, meanBound)
		}
		tb.Logf("%s: component %d: max diff %d, mean %.4f", name, c, s.max, s.mean)
	}
}

// TestFixturesAgainstGDCM checks every fixture (and so the golden file)
// against GDCM's decoder.
func TestFixturesAgainstGDCM(t *testing.T) {
	dicomtest.NeedTool(t, "gdcmconv")
	for _, name := range fixtures(t) {
		t.Run(filepath.Base(name), func(t *testing.T) {
			data := readFile(t, name)
			img := mustDecode(t, data)
			sof, _, _, _ := frameInfo(t, data)
			want := reference(t, data, img)
			sub := subsampledFunc(data)
			checkAgainst(t, name, img, sof == mSOF3, sub, want)
		})
	}
}

// subsampledFunc reports which components of a stream have lower sampling
// factors than the maximum.
func subsampledFunc(data []byte) func(int) bool {
	d := &decoder{data: data}
	d.pos = 2
	for {
		m, ok := d.nextMarker()
		if !ok {
			return func(int) bool { return false }
		}
		if m == mSOF0 || m == mSOF1 || m == mSOF3 {
			if d.readSOF(m) != nil {
				return func(int) bool { return false }
			}
			return func(c int) bool { return d.comps[c].h != d.hmax || d.comps[c].v != d.vmax }
		}
	}
}

// TestLosslessFixturesExact checks the dcmtk- and GDCM-made lossless
// fixtures against the pixels they were made from (corpus files), which is
// independent of any decoder.
func TestLosslessFixturesExact(t *testing.T) {
	tests := []struct {
		fixture, source string
		pt              uint
	}{
		{"mr_sv1.jpg", "dicom/pydicom/MR_small.dcm", 0},
		{"mr_sv2.jpg", "dicom/pydicom/MR_small.dcm", 0},
		{"mr_sv3.jpg", "dicom/pydicom/MR_small.dcm", 0},
		{"mr_sv4.jpg", "dicom/pydicom/MR_small.dcm", 0},
		{"mr_sv5.jpg", "dicom/pydicom/MR_small.dcm", 0},
		{"mr_sv6.jpg", "dicom/pydicom/MR_small.dcm", 0},
		{"mr_sv7.jpg", "dicom/pydicom/MR_small.dcm", 0},
		{"mr_gdcm.jpg", "dicom/pydicom/MR_small.dcm", 0},
		{"mr_sv1_pt2.jpg", "dicom/pydicom/MR_small.dcm", 2},
		{"fmap_ll.jpg", "dicom/heudiconv/01-fmap_acq-3mm.dcm", 0},
		{"fmap_gdcm.jpg", "dicom/heudiconv/01-fmap_acq-3mm.dcm", 0},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			src := dicomtest.Read(t, dicomtest.CorpusFile(t, tt.source))
			want := src.Samples16(t, 0)
			for i := range want {
				want[i] = want[i] >> tt.pt << tt.pt
			}
			img := mustDecode(t, readFile(t, filepath.Join("testdata", tt.fixture)))
			if !equal16(img.Pix, want) {
				t.Errorf("%s: decoded samples differ from %s", tt.fixture, tt.source)
			}
		})
	}
}

func equal16(a, b []uint16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestCorpusAgainstGDCM decodes every JPEG-compressed DICOM of the shared
// corpus (first and last frame) and compares with gdcmconv --raw of the
// same frame.
func TestCorpusAgainstGDCM(t *testing.T) {
	dir := dicomtest.CorpusDir(t)
	dicomtest.NeedTool(t, "gdcmconv")
	paths, _ := filepath.Glob(filepath.Join(dir, "dicom", "*", "*.dcm"))
	n := 0
	for _, p := range paths {
		rel, _ := filepath.Rel(dir, p)
		b := readFile(t, p)
		f, err := dicomtest.Parse(b)
		if err != nil || f.Frames == nil || !strings.HasPrefix(f.TransferSyntax, "1.2.840.10008.1.2.4.") {
			continue
		}
		switch strings.TrimPrefix(f.TransferSyntax, "1.2.840.10008.1.2.4.") {
		case "50", "51", "57", "70":
		default:
			continue
		}
		if testing.Short() && n >= 6 {
			break
		}
		n++
		t.Run(rel, func(t *testing.T) {
			lossless := f.TransferSyntax == "1.2.840.10008.1.2.4.57" || f.TransferSyntax == "1.2.840.10008.1.2.4.70"
			frames := []int{0}
			if len(f.Frames) > 1 {
				frames = append(frames, len(f.Frames)-1)
			}
			for _, fi := range frames {
				img := mustDecode(t, f.Frames[fi])
				if img.Width != f.Columns || img.Height != f.Rows || img.Components != f.Samples {
					t.Fatalf("frame %d: %dx%dx%d, DICOM says %dx%dx%d", fi, img.Width, img.Height, img.Components, f.Columns, f.Rows, f.Samples)
				}
				// Converting only this frame (rewrapped alone) is much
				// cheaper than gdcmconv on a 75-frame clip, and the same
				// decoder runs on it.
				want := reference(t, f.Frames[fi], img)
				checkAgainst(t, fmt.Sprintf("%s frame %d", rel, fi), img, lossless, subsampledFunc(f.Frames[fi]), want)
			}
		})
	}
	if n == 0 {
		t.Skip("no JPEG DICOM files in the corpus")
	}
}

// synth makes a deterministic test image: gradients plus noise, with
// occasional full-range jumps so every magnitude category occurs.
func synth(w, h, prec int, seed uint64) []uint16 {
	r := rand.New(rand.NewPCG(seed, 7))
	maxv := 1<<prec - 1
	out := make([]uint16, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := (x*maxv/max(1, w-1) + y*maxv/max(1, h-1)) / 2
			v += r.IntN(1+maxv/16) - maxv/32
			if r.IntN(50) == 0 {
				v = r.IntN(maxv + 1)
			}
			out[y*w+x] = uint16(min(max(v, 0), maxv))
		}
	}
	return out
}

type synthCase struct {
	name string
	w, h int
	nc   int
	o    encOptions
	pat  string // "" synthetic; "ssss16": 0/32768 checkerboard
}

func synthCases() []synthCase {
	var cs []synthCase
	for psv := 1; psv <= 7; psv++ {
		cs = append(cs, synthCase{name: fmt.Sprintf("p12_psv%d_rst", psv), w: 37, h: 23, nc: 1,
			o: encOptions{prec: 12, psv: psv, restart: 37 * 2}})
	}
	for _, prec := range []int{2, 5, 8, 10, 15, 16} {
		cs = append(cs, synthCase{name: fmt.Sprintf("p%d_psv6_pt1", prec), w: 19, h: 17, nc: 1,
			o: encOptions{prec: prec, psv: 6, pt: 1}})
	}
	cs = append(cs,
		synthCase{name: "ssss16", w: 16, h: 8, nc: 1, o: encOptions{prec: 16, psv: 1}, pat: "ssss16"},
		synthCase{name: "ssss16_psv7", w: 16, h: 8, nc: 1, o: encOptions{prec: 16, psv: 7}, pat: "ssss16"},
		synthCase{name: "rgb8_interleaved_rst", w: 21, h: 11, nc: 3, o: encOptions{prec: 8, psv: 4, restart: 21}},
		synthCase{name: "rgb16_separate_rst", w: 21, h: 11, nc: 3, o: encOptions{prec: 16, psv: 5, restart: 42, separate: true}},
		synthCase{name: "rgb12_separate", w: 9, h: 30, nc: 3, o: encOptions{prec: 12, psv: 2, separate: true}},
		synthCase{name: "cmyk10_interleaved", w: 13, h: 7, nc: 4, o: encOptions{prec: 10, psv: 7}},
		synthCase{name: "ycc_h2v2_interleaved", w: 15, h: 9, nc: 3, o: encOptions{prec: 8, psv: 1, restart: 8, hv: [][2]int{{2, 2}, {1, 1}, {1, 1}}}},
		synthCase{name: "ycc_h2v1_separate", w: 15, h: 9, nc: 3, o: encOptions{prec: 12, psv: 6, separate: true, hv: [][2]int{{2, 1}, {1, 1}, {1, 1}}}},
	)
	return cs
}

// planes builds the per-component input of a synthetic case.
func (c synthCase) planes() [][]uint16 {
	hmax, vmax := 1, 1
	for _, s := range c.o.hv {
		hmax, vmax = max(hmax, s[0]), max(vmax, s[1])
	}
	ps := make([][]uint16, c.nc)
	for i := range ps {
		cw, ch := c.w, c.h
		if c.o.hv != nil {
			cw, ch = (c.w*c.o.hv[i][0]+hmax-1)/hmax, (c.h*c.o.hv[i][1]+vmax-1)/vmax
		}
		if c.pat == "ssss16" {
			ps[i] = make([]uint16, cw*ch)
			for j := range ps[i] {
				ps[i][j] = uint16((j + j/cw) % 2 * 32768)
			}
			continue
		}
		ps[i] = synth(cw, ch, c.o.prec, uint64(i+1))
	}
	return ps
}

// want is the interleaved full-size image the decoder should return:
// point-transformed samples, subsampled components replicated.
func (c synthCase) want() []uint16 {
	ps := c.planes()
	hmax, vmax := 1, 1
	for _, s := range c.o.hv {
		hmax, vmax = max(hmax, s[0]), max(vmax, s[1])
	}
	out := make([]uint16, c.w*c.h*c.nc)
	for i, p := range ps {
		h, v, cw := 1, 1, c.w
		if c.o.hv != nil {
			h, v = c.o.hv[i][0], c.o.hv[i][1]
			cw = (c.w*h + hmax - 1) / hmax
		}
		for y := 0; y < c.h; y++ {
			for x := 0; x < c.w; x++ {
				if c.o.hv == nil {
					out[(y*c.w+x)*c.nc+i] = p[y*cw+x] >> c.o.pt << c.o.pt
				} else {
					out[(y*c.w+x)*c.nc+i] = p[(y*v/vmax)*cw+x*h/hmax] >> c.o.pt << c.o.pt
				}
			}
		}
	}
	return out
}

// TestSyntheticRoundTrip decodes streams from the test encoder: every
// predictor, precisions 2..16, point transforms, restart intervals,
// interleaved and separate scans, 1-4 components, subsampling and the
// SSSS=16 case.
func TestSyntheticRoundTrip(t *testing.T) {
	for _, c := range synthCases() {
		t.Run(c.name, func(t *testing.T) {
			data := encodeLossless(c.planes(), c.w, c.h, c.o)
			img := mustDecode(t, data)
			if img.Width != c.w || img.Height != c.h || img.Components != c.nc || img.Precision != c.o.prec {
				t.Fatalf("got %dx%dx%d P%d, want %dx%dx%d P%d", img.Width, img.Height, img.Components, img.Precision, c.w, c.h, c.nc, c.o.prec)
			}
			if want := c.want(); !equal16(img.Pix, want) {
				st := compare(img.Pix, want, c.nc)
				t.Errorf("samples differ: %+v", st)
			}
			if testkit.Update() && (strings.Contains(c.name, "rst") || strings.HasPrefix(c.name, "ssss16") || strings.Contains(c.name, "separate") || strings.Contains(c.name, "p2_")) {
				if err := os.WriteFile(filepath.Join("testdata", "synth_"+c.name+".jpg"), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestEncoderAgainstGDCM proves the test encoder's streams mean to GDCM
// what they mean to this decoder, so the round trip above is not a closed
// loop. Cases GDCM cannot carry in DICOM (4 components, subsampling) are
// skipped.
func TestEncoderAgainstGDCM(t *testing.T) {
	dicomtest.NeedTool(t, "gdcmconv")
	dicomtest.NeedTool(t, "dcmdjpeg")
	for _, c := range synthCases() {
		if c.nc == 4 || c.o.hv != nil {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			data := encodeLossless(c.planes(), c.w, c.h, c.o)
			img := &codec.Image{Width: c.w, Height: c.h, Components: c.nc, Precision: c.o.prec}
			got := reference(t, data, img)
			if want := c.want(); !equal16(got, want) {
				t.Errorf("GDCM decodes the test encoder's stream differently: %+v", compare(got, want, c.nc))
			}
		})
	}
}

// TestBaselineAgainstImageJPEG compares 8-bit sequential decoding with Go's
// image/jpeg on the corpus JPEG files, plane by plane (image/jpeg keeps the
// Y, Cb and Cr planes without colour conversion).
func TestBaselineAgainstImageJPEG(t *testing.T) {
	dir := dicomtest.CorpusDir(t)
	var paths []string
	for _, pat := range []string{"natural/*/*.jp*g", "medical_png_jpeg/*/*.jp*g"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		paths = append(paths, m...)
	}
	if !*full {
		// A sample keeps the default run short: every variant of the Go
		// test photo (4:2:0, 4:2:2, 4:4:4, restart markers, grey, CMYK,
		// progressive), the frames copied out of DICOM files, and every
		// fifth other file. -full checks them all.
		var sample []string
		for i, p := range paths {
			if strings.Contains(p, "go-stdlib-variants") || strings.Contains(p, "extracted_from_dicom") || i%5 == 0 {
				sample = append(sample, p)
			}
		}
		paths = sample
	}
	checked := 0
	for _, p := range paths {
		rel, _ := filepath.Rel(dir, p)
		data := readFile(t, p)
		img, err := Decode(data)
		if errors.Is(err, codec.ErrUnsupported) {
			continue // progressive
		}
		want, ok := stdDecode(data)
		if !ok {
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		checked++
		if len(want) != len(img.Pix) {
			t.Errorf("%s: image/jpeg gives %d samples, Decode %d", rel, len(want), len(img.Pix))
			continue
		}
		for c, s := range compare(img.Pix, want, img.Components) {
			if s.max > 2 || s.mean > 0.1 {
				t.Errorf("%s: component %d differs from image/jpeg: max %d mean %.4f", rel, c, s.max, s.mean)
			}
		}
	}
	t.Logf("%d corpus JPEG files match image/jpeg", checked)
}

// TestUnsupported checks that valid streams of processes the decoder does
// not implement report codec.ErrUnsupported.
func TestUnsupported(t *testing.T) {
	base := readFile(t, "testdata/rgb_eb.jpg")
	sofAt := bytes.Index(base, []byte{0xFF, mSOF0})
	tests := []struct {
		name   string
		marker byte
	}{
		{"progressive", mSOF2},
		{"hierarchical", 0xC5},
		{"arithmetic", 0xC9},
		{"arithmetic lossless", 0xCB},
		{"JPEG-LS", mSOF55},
	}
	t.Run("lossless restart mid-row", func(t *testing.T) {
		// DRI of 5 MCUs in rows of 37: T.81 H.2 does not allow it.
		data := encodeLossless([][]uint16{synth(37, 4, 8, 1)}, 37, 4, encOptions{prec: 8, psv: 1, restart: 5})
		if _, err := Decode(data); !errors.Is(err, codec.ErrUnsupported) {
			t.Errorf("got %v, want an error matching codec.ErrUnsupported", err)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := bytes.Clone(base)
			data[sofAt+1] = tt.marker
			_, err := Decode(data)
			if !errors.Is(err, codec.ErrUnsupported) {
				t.Errorf("got %v, want an error matching codec.ErrUnsupported", err)
			}
		})
	}
}

// TestCorrupt feeds broken streams: each must fail with an error that is
// not ErrUnsupported, and nothing may panic.
func TestCorrupt(t *testing.T) {
	good := readFile(t, "testdata/mr_sv1.jpg")
	sof := bytes.Index(good, []byte{0xFF, mSOF3})
	huge := bytes.Clone(good)
	binary.BigEndian.PutUint16(huge[sof+5:], 65535) // height
	binary.BigEndian.PutUint16(huge[sof+7:], 65535) // width
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"no SOI", good[2:]},
		{"only SOI", good[:2]},
		{"truncated header", good[:sof+6]},
		{"truncated scan", good[:len(good)/2]},
		{"garbage scan", append(bytes.Clone(good[:len(good)-200]), bytes.Repeat([]byte{0xFF, 0x00}, 100)...)},
		{"huge frame", huge},
		{"second frame header", append(bytes.Clone(good[:sof+2+int(binary.BigEndian.Uint16(good[sof+2:]))]), good[sof:]...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := Decode(tt.data)
			if err == nil {
				t.Fatalf("decoded %dx%d from a corrupt stream", img.Width, img.Height)
			}
			if errors.Is(err, codec.ErrUnsupported) {
				t.Errorf("corrupt input reported as unsupported: %v", err)
			}
		})
	}
}

// TestEveryPrefix decodes every prefix of a few fixtures: none may panic,
// and only the complete stream, or one missing EOI and at most one byte of
// entropy-coded data (overrunSlack), may succeed.
func TestEveryPrefix(t *testing.T) {
	for _, name := range []string{"testdata/mr_sv4.jpg", "testdata/rgb_ee12.jpg", "testdata/synth_rgb16_separate_rst.jpg"} {
		data := readFile(t, name)
		end := len(data) - 2 // before EOI and any fill bytes in front of it
		for data[end-1] == 0xFF {
			end--
		}
		for n := 0; n < len(data)-2; n++ {
			if n > 300 && n < end-16 && n%7 != 0 {
				continue // every header prefix and the tail; a sample between
			}
			if _, err := Decode(data[:n]); err == nil && n < end-1 {
				t.Errorf("%s: prefix of %d/%d bytes decoded without error", name, n, len(data))
			}
		}
	}
}

// FuzzDecode is seeded with the fixtures under 16 KB; the two big 8-bit
// 512x512 ones only slow every mutation down.
func FuzzDecode(f *testing.F) {
	for _, name := range fixtures(f) {
		if b := readFile(f, name); len(b) < 16<<10 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := Decode(data)
		if err != nil {
			return
		}
		if n := img.Width * img.Height * img.Components; len(img.Pix) != n {
			t.Fatalf("len(Pix) = %d, want %d", len(img.Pix), n)
		}
		lim := uint16(1<<img.Precision - 1)
		for _, v := range img.Pix {
			if v > lim {
				t.Fatalf("sample %d exceeds precision %d", v, img.Precision)
			}
		}
	})
}

// benchSource returns a real 512x512 16-bit CT from the corpus, or a
// synthetic image when the corpus is absent.
func benchSource(b *testing.B) []uint16 {
	b.Helper()
	p := filepath.Join(dicomtest.ModuleRoot(b), "..", "shared", "corpus", "dicom", "grailbio", "CT-MONO2-16-ort.dcm")
	if _, err := os.Stat(p); err == nil {
		f := dicomtest.Read(b, p)
		if f.Native != nil && f.Rows == 512 && f.Columns == 512 && f.BitsAllocated == 16 {
			return f.Samples16(b, 0)
		}
	}
	return synth(512, 512, 16, 1)
}

// BenchmarkDecodeLossless16 decodes a 512x512 16-bit lossless frame
// (predictor 1 and 7); SetBytes counts decoded bytes, so MB/s is output.
func BenchmarkDecodeLossless16(b *testing.B) {
	src := benchSource(b)
	for _, psv := range []int{1, 7} {
		data := encodeLossless([][]uint16{src}, 512, 512, encOptions{prec: 16, psv: psv})
		b.Run(fmt.Sprintf("psv%d", psv), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(512 * 512 * 2)
			for b.Loop() {
				if _, err := Decode(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeExtended12 decodes the 64x64 12-bit DCT fixture and, when
// the corpus is present, the 256x1024 12-bit JPGExtended.dcm frame.
func BenchmarkDecodeExtended12(b *testing.B) {
	inputs := map[string][]byte{"fmap_ee_64x64": readFile(b, "testdata/fmap_ee.jpg")}
	p := filepath.Join(dicomtest.ModuleRoot(b), "..", "shared", "corpus", "dicom", "pydicom", "JPGExtended.dcm")
	if _, err := os.Stat(p); err == nil {
		inputs["JPGExtended_256x1024"] = dicomtest.Read(b, p).Frames[0]
	}
	for name, data := range inputs {
		img := mustDecode(b, data)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(2 * len(img.Pix)))
			for b.Loop() {
				if _, err := Decode(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestFixturesAgainstImageJPEG compares the 8-bit sequential fixtures
// (grey, 4:2:2 and 4:2:0 colour) with image/jpeg's raw planes, which checks
// the subsampled chroma layout exactly.
func TestFixturesAgainstImageJPEG(t *testing.T) {
	for _, name := range []string{"testdata/rgb_eb.jpg", "testdata/rgb_eb_420.jpg", "testdata/gray8_ee.jpg"} {
		data := readFile(t, name)
		want, ok := stdDecode(data)
		if !ok {
			t.Fatalf("%s: image/jpeg cannot decode it", name)
		}
		img := mustDecode(t, data)
		for c, s := range compare(img.Pix, want, img.Components) {
			if s.max > 1 {
				t.Errorf("%s: component %d differs from image/jpeg by up to %d", name, c, s.max)
			}
		}
	}
}

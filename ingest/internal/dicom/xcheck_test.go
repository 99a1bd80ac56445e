package dicom

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/copycat-dev/copycat/internal/testkit"
)

// The cross-check renders the same frames with DCMTK (dcm2pnm, dcmj2pnm for
// JPEG) and, for syntaxes DCMTK lacks here (JPEG 2000, JPEG-LS), GDCM's
// gdcmconv --raw followed by dcm2pnm, passing DCMTK the VOI window copycat
// chose so that both apply the same transform. It reports per file the
// largest difference and the share of samples off by more than one level.

// dicomReference renders frame (0-based) of file with DCMTK through the
// given VOI arguments and returns the PNG it wrote, or a reason it could
// not.
func dicomReference(tb testing.TB, file string, ts dicomTS, frame int, voi []string) (image.Image, string) {
	tb.Helper()
	dir := tb.TempDir()
	src, tool := file, "dcm2pnm"
	switch ts.Kind {
	case dcmJPEG:
		tool = "dcmj2pnm"
	case dcmJPEGLS, dcmJPEG2000, dcmEncapNative:
		if _, err := exec.LookPath("gdcmconv"); err != nil {
			return nil, "gdcmconv not installed"
		}
		src = filepath.Join(dir, "raw.dcm")
		if out, err := exec.Command("gdcmconv", "--raw", file, src).CombinedOutput(); err != nil {
			return nil, fmt.Sprintf("gdcmconv --raw: %v: %s", err, firstLine(out))
		}
	}
	if _, err := exec.LookPath(tool); err != nil {
		return nil, tool + " not installed"
	}
	out := filepath.Join(dir, "ref.png")
	args := append([]string{"+on", "+F", strconv.Itoa(frame + 1)}, voi...)
	args = append(args, src, out)
	if msg, err := exec.Command(tool, args...).CombinedOutput(); err != nil {
		return nil, fmt.Sprintf("%s: %v: %s", tool, err, firstLine(msg))
	}
	f, err := os.ReadFile(out)
	if err != nil {
		return nil, err.Error()
	}
	img, err := png.Decode(bytes.NewReader(f))
	if err != nil {
		return nil, err.Error()
	}
	return img, ""
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return s
}

// dicomVOIArgs returns the dcm2pnm options that select the VOI transform
// copycat applies to frame i, or ok=false when DCMTK has no equivalent.
func dicomVOIArgs(tb testing.TB, data []byte, i int) (args []string, ok bool) {
	tb.Helper()
	h, err := parseDICOMHeader(data, defaultPixelBudget)
	if err != nil {
		tb.Fatal(err)
	}
	d, err := newDICOMImage(h)
	if err != nil || d.spp != 1 || d.photometric == "PALETTE COLOR" {
		return nil, err == nil
	}
	if err := d.prepare(); err != nil {
		tb.Fatal(err)
	}
	m := d.monoFor(i)
	// The window is handed to DCMTK in stored-value units with its Modality
	// LUT off (-M), so that the comparison does not depend on DCMTK reading
	// the rescale the way copycat does: DCMTK ignores standard attributes
	// stored with VR UN (as GDCM writes them), copycat decodes them.
	stored := func(c, w float64, fn string) []string {
		if m.modLUT != nil || m.slope <= 0 {
			return []string{"+Ww", fmt.Sprint(c), fmt.Sprint(w)}
		}
		s, b := m.slope, m.intercept
		if fn == "SIGMOID" {
			return []string{"-M", "+Ww", fmt.Sprint((c - b) / s), fmt.Sprint(w / s), "+Wfs"}
		}
		// LINEAR's edges c-0.5-(w-1)/2 and c-0.5+(w-1)/2 mapped through
		// x = (v-b)/s.
		return []string{"-M", "+Ww", fmt.Sprint((c-0.5-b)/s + 0.5), fmt.Sprint((w-1)/s + 1)}
	}
	switch {
	case m.win != nil && m.win.fn == "LINEAR_EXACT":
		return nil, false
	case m.win != nil:
		return stored(m.win.center, m.win.width, m.win.fn), true
	case m.voiLUT != nil:
		return []string{"+Wl", "1"}, true
	}
	raw, err := d.raw(i)
	if err != nil {
		tb.Fatal(err)
	}
	var lo, hi float64
	if raw.mono.u32 == nil {
		seen := make([]bool, int(raw.mono.mask)+1)
		raw.mono.markSeen(seen)
		lo, hi = m.rangeOfSeen(seen)
	}
	// DCMTK's LINEAR window with these values is exactly min-max.
	return stored((lo+hi+1)/2, hi-lo+1, "LINEAR"), true
}

// dicomDiff compares two renderings sample by sample.
type dicomDiff struct {
	max     int
	over1   int // samples differing by more than 1
	samples int
}

func (d dicomDiff) String() string {
	return fmt.Sprintf("max %d, %.3f%% >1", d.max, 100*float64(d.over1)/float64(max(d.samples, 1)))
}

// compareDICOMImages compares got (Gray or RGBA) with the reference PNG.
func compareDICOMImages(tb testing.TB, got, want image.Image) dicomDiff {
	tb.Helper()
	if got.Bounds().Size() != want.Bounds().Size() {
		tb.Fatalf("size %v, reference %v", got.Bounds().Size(), want.Bounds().Size())
	}
	var d dicomDiff
	b := got.Bounds()
	wb := want.Bounds()
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			r1, g1, b1, _ := got.At(b.Min.X+x, b.Min.Y+y).RGBA()
			r2, g2, b2, _ := want.At(wb.Min.X+x, wb.Min.Y+y).RGBA()
			for _, p := range [][2]uint32{{r1, r2}, {g1, g2}, {b1, b2}} {
				diff := int(p[0]>>8) - int(p[1]>>8)
				if diff < 0 {
					diff = -diff
				}
				d.samples++
				d.max = max(d.max, diff)
				if diff > 1 {
					d.over1++
				}
			}
		}
	}
	return d
}

// TestDICOMAgainstDCMTK renders the first and last frame of every fixture
// and corpus DICOM with copycat and with DCMTK (through GDCM for JPEG 2000
// and JPEG-LS) under the same VOI window, and requires agreement within one
// grey level for lossless data, and within the spread of JPEG decoders' IDCT
// rounding (4 levels on under 1% of samples) for lossy JPEG.
func TestDICOMAgainstDCMTK(t *testing.T) {
	if _, err := exec.LookPath("dcm2pnm"); err != nil {
		t.Skip("DCMTK (dcm2pnm) not installed")
	}
	files := dicomFixtures(t)
	if !testing.Short() {
		if c, rel := corpusDICOMsIfPresent(t); c != "" {
			for _, f := range rel {
				files = append(files, filepath.Join(c, f))
			}
		}
	}
	for _, f := range files {
		data := dicomReadFile(t, f)
		last := -1
		var (
			meta   Meta
			frames []image.Image
			err    error
		)
		if raceEnabled {
			// Under the race detector compare the first frame only: the
			// plain run compares first and last.
			meta, err = Decode(data, Options{PixelBudget: 1 << 30}, func(f Frame) error {
				frames, last = append(frames, f.Image), 0
				return errEnoughFrames
			})
			if errors.Is(err, errEnoughFrames) {
				err = nil
			}
		} else {
			meta, frames, err = decodeDICOMAll(data, Options{PixelBudget: 1 << 30}, func(i int) bool { last = i; return true })
		}
		if err != nil {
			t.Logf("%-60s skipped: %v", shortDICOMName(f), err)
			continue
		}
		ts := lookupDICOMTS(meta.TransferSyntax)
		for _, k := range []int{0, last} {
			if k < 0 || k == 0 && len(frames) > 1 && k == last {
				continue
			}
			voi, ok := dicomVOIArgs(t, data, k)
			if !ok {
				t.Logf("%-60s frame %d: no DCMTK equivalent of the VOI transform", shortDICOMName(f), k)
				continue
			}
			ref, why := dicomReference(t, f, ts, k, voi)
			if ref == nil {
				t.Logf("%-60s frame %d: no reference: %s", shortDICOMName(f), k, why)
				continue
			}
			d := compareDICOMImages(t, frames[k], ref)
			limit, share := 1, 0.0
			switch {
			case ts.Lossy:
				limit, share = 4, 0.01
			case strings.HasPrefix(meta.Photometric, "YBR") && ts.Kind == dcmNative:
				// DCMTK converts native YBR with truncating tables; copycat
				// rounds (within one level of the RGB the fixture was made
				// from: TestDICOMYBRGroundTruth).
				limit, share = 2, 0.15
			}
			t.Logf("%-48s frame %2d %-13s %-22s %v", shortDICOMName(f), k, meta.Photometric, strings.Join(voi, " "), d)
			if d.max > limit || float64(d.over1) > share*float64(d.samples) {
				t.Errorf("%s frame %d: %v, allowed max %d with %.1f%% >1", f, k, d, limit, 100*share)
			}
			if k == last {
				break
			}
		}
	}
}

// TestDICOMYBRGroundTruth compares YBR renderings with the RGB they were
// made from (rgb.dcm holds it).
func TestDICOMYBRGroundTruth(t *testing.T) {
	_, want, err := decodeDICOMAll(dicomReadFile(t, filepath.Join("testdata", "dicom", "rgb.dcm")), Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		limit int
		share float64
	}{
		{"ybr_full.dcm", 1, 0},                 // rounding of the fixture's conversion
		{"rgb_planar_bigendian.dcm", 0, 0},     // lossless
		{"rgb_jpeg_baseline_422.dcm", 64, 0.8}, // lossy: sanity only
	} {
		_, got, err := decodeDICOMAll(dicomReadFile(t, filepath.Join("testdata", "dicom", tt.name)), Options{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		d := compareDICOMImages(t, got[0], want[0])
		t.Logf("%s vs rgb.dcm: %v", tt.name, d)
		if d.max > tt.limit || float64(d.over1) > tt.share*float64(d.samples) {
			t.Errorf("%s: %v, allowed max %d", tt.name, d, tt.limit)
		}
	}
}

// TestDICOMPreambleless strips real corpus files of their preamble (and of
// their whole meta group) and checks they decode to the same pixels.
func TestDICOMPreambleless(t *testing.T) {
	c := testkit.Corpus(t)
	for _, name := range []string{"pydicom/MR_small.dcm", "pydicom/CT_small.dcm", "grailbio/CT-MONO2-16-ort.dcm", "suyashkumar/5.dcm"} {
		data := dicomReadFile(t, filepath.Join(c, "dicom", name))
		_, want, err := decodeDICOMAll(data, Options{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _, err := splitDICOMMeta(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []struct {
			what string
			b    []byte
		}{{"no preamble", data[132:]}, {"no preamble nor meta", body}} {
			if !Sniff(v.b[:min(len(v.b), 1024)]) {
				t.Errorf("%s, %s: not sniffed as DICOM", name, v.what)
			}
			_, got, err := decodeDICOMAll(v.b, Options{}, nil)
			if err != nil {
				t.Errorf("%s, %s: %v", name, v.what, err)
				continue
			}
			for k := range want {
				if dicomPixelHash(got[k]) != dicomPixelHash(want[k]) {
					t.Errorf("%s, %s: frame %d differs", name, v.what, k)
				}
			}
		}
	}
}

// corpusDICOMsIfPresent is corpusDICOMs without the skip.
func corpusDICOMsIfPresent(t *testing.T) (c string, files []string) {
	t.Run("corpus", func(t *testing.T) { c, files = corpusDICOMs(t) })
	return c, files
}

func shortDICOMName(f string) string {
	if i := strings.Index(f, "corpus/"); i >= 0 {
		return f[i+len("corpus/"):]
	}
	return f
}

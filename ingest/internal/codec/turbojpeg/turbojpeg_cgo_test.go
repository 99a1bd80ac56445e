//go:build cgo && turbojpeg

package turbojpeg

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/jpeg"
	"io/fs"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/copycat-dev/copycat/ingest/internal/codec"
	"github.com/copycat-dev/copycat/ingest/internal/codec/internal/dicomtest"
	"github.com/copycat-dev/copycat/ingest/internal/codec/jpegscale"
	"github.com/copycat-dev/copycat/internal/testkit"
)

var full = flag.Bool("full", false, "compare on every corpus file, not a sample (slow under -race)")

// inputs returns the jpegscale fixtures and, when the shared corpus is
// present, its JPEG files and the first frame of each JPEG-baseline
// grailbio DICOM (every fourth of those unless -full).
func inputs(tb testing.TB) map[string][]byte {
	tb.Helper()
	m := map[string][]byte{}
	names, _ := filepath.Glob(fixtureDir + "*.jpg")
	for _, n := range names {
		m[filepath.Base(n)] = readFile(tb, n)
	}
	dir, _ := testkit.FindCorpus(tb)
	i := 0
	keep := func() bool { i++; return *full || i%4 == 0 }
	for _, sub := range []string{"natural", "medical_png_jpeg"} {
		filepath.WalkDir(filepath.Join(dir, sub), func(p string, e fs.DirEntry, err error) error {
			if err == nil && (strings.HasSuffix(p, ".jpg") || strings.HasSuffix(p, ".jpeg")) && keep() {
				m[strings.TrimPrefix(p, dir+"/")] = readFile(tb, p)
			}
			return nil
		})
	}
	dcms, _ := filepath.Glob(filepath.Join(dir, "dicom", "grailbio", "I_*.dcm"))
	for _, p := range dcms {
		if !keep() {
			continue
		}
		if f := dicomtest.Read(tb, p); f.TransferSyntax == "1.2.840.10008.1.2.4.50" && len(f.Frames) > 0 {
			m[filepath.Base(p)+"#1"] = f.Frames[0]
		}
	}
	return m
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// diff summarises |a-b| over two images of one size.
type diff struct {
	n, sum, max int
}

func (d *diff) add(a, b *image.Gray) {
	w, h := a.Rect.Dx(), a.Rect.Dy()
	for y := range h {
		ra := a.Pix[y*a.Stride : y*a.Stride+w]
		rb := b.Pix[y*b.Stride : y*b.Stride+w]
		for x := range ra {
			v := int(ra[x]) - int(rb[x])
			v = max(v, -v)
			d.sum += v
			d.max = max(d.max, v)
		}
	}
	d.n += w * h
}

func (d diff) String() string {
	return fmt.Sprintf("mean %.4f max %d over %d samples", float64(d.sum)/float64(max(d.n, 1)), d.max, d.n)
}

func decodeAt(tb testing.TB, d *Decoder, data []byte, scale int) (*image.Gray, error) {
	tb.Helper()
	d.forceScale = scale
	defer func() { d.forceScale = 0 }()
	img, got, err := d.Luma(data, 0)
	if err == nil && got != scale {
		tb.Fatalf("scale %d, want %d", got, scale)
	}
	return img, err
}

func newDecoder(tb testing.TB) *Decoder {
	tb.Helper()
	d, err := NewDecoder()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	return d
}

// TestAgainstImageJPEG compares the full-size decode with image/jpeg's
// luma: libjpeg's accurate integer IDCT and Go's differ by at most a count.
func TestAgainstImageJPEG(t *testing.T) {
	d := newDecoder(t)
	var total diff
	files := 0
	m := inputs(t)
	for _, name := range sortedKeys(m) {
		data := m[name]
		ref, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			continue
		}
		var y *image.Gray
		switch r := ref.(type) {
		case *image.YCbCr:
			y = &image.Gray{Pix: r.Y, Stride: r.YStride, Rect: r.Rect}
		case *image.Gray:
			y = r
		default:
			continue
		}
		img, err := decodeAt(t, d, data, 1)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var one diff
		one.add(img, y)
		if one.max > 1 {
			t.Errorf("%s: %v", name, one)
		}
		total.add(img, y)
		files++
	}
	t.Logf("scale 1 vs image/jpeg over %d files: %v", files, total)
}

// TestAgainstJpegscale compares with the pure-Go decoder at each scale.
// At 1/8 both output the DC mean, rounded the same way: identical. At 1/4
// and 1/2 libjpeg's reduced inverse DCTs (jidctred.c) are fixed-point
// approximations where jpegscale computes the area mean in 32 fractional
// bits, and at 1/1 the two integer IDCTs round differently: within one
// count everywhere on the corpus.
func TestAgainstJpegscale(t *testing.T) {
	d := newDecoder(t)
	m := inputs(t)
	bounds := map[int]struct {
		mean float64
		max  int
	}{1: {0.05, 1}, 2: {0.05, 1}, 4: {0.05, 1}, 8: {0, 0}}
	for _, s := range []int{8, 4, 2, 1} {
		var total diff
		files := 0
		for _, name := range sortedKeys(m) {
			data := m[name]
			var js jpegscale.Decoder
			want, _, err := js.Luma(data, minSideFor(data, s))
			if err != nil {
				continue
			}
			if want.Rect.Dx() != (widthOf(t, data)+s-1)/s {
				continue // minSideFor could not force this scale
			}
			got, err := decodeAt(t, d, data, s)
			if err != nil {
				t.Errorf("%s scale %d: %v", name, s, err)
				continue
			}
			var one diff
			one.add(got, want)
			total.add(got, want)
			files++
			if float64(one.sum)/float64(one.n) > bounds[s].mean || one.max > bounds[s].max {
				t.Errorf("%s scale %d: %v", name, s, one)
			}
		}
		t.Logf("scale %d vs jpegscale over %d files: %v", s, files, total)
	}
}

func widthOf(tb testing.TB, data []byte) int {
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return 0
	}
	return cfg.Width
}

// minSideFor returns a minSide for which jpegscale picks scale s.
func minSideFor(data []byte, s int) int {
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return 0
	}
	short := min(cfg.Width, cfg.Height)
	return (short + s - 1) / s
}

// TestTruncation pins the warning policy: a missing EOI (with or without
// padding) decodes exactly like the complete stream; a stream cut short
// is an error, however much is missing.
func TestTruncation(t *testing.T) {
	d := newDecoder(t)
	for _, name := range []string{"v420.jpg", "v420_prog.jpg", "us_gray_pad.jpg", "us_422.jpg"} {
		data := readFile(t, fixtureDir+name)
		want, err := decodeAt(t, d, data, 1)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		eoi := bytes.LastIndex(data, []byte{0xFF, 0xD9})
		ok := map[string][]byte{
			"no EOI":             data[:eoi],
			"no EOI, zero pad":   append(bytes.Clone(data[:eoi]), 0),
			"no EOI, FF pad":     append(bytes.Clone(data[:eoi]), 0xFF, 0xFF),
			"EOI and junk after": append(bytes.Clone(data[:eoi+2]), 1, 2, 3),
		}
		for v, b := range ok {
			got, err := decodeAt(t, d, b, 1)
			if err != nil {
				t.Errorf("%s, %s: %v", name, v, err)
				continue
			}
			if !bytes.Equal(got.Pix, want.Pix) {
				t.Errorf("%s, %s: output differs from the complete stream", name, v)
			}
		}
		for _, cut := range []int{eoi - 1, eoi - 20, eoi * 9 / 10, eoi / 2} {
			if _, err := decodeAt(t, d, data[:cut], 1); err == nil {
				t.Errorf("%s cut to %d of %d bytes: no error", name, cut, len(data))
			}
		}
	}
}

// TestFormats checks what is refused (CMYK: no luma; 12-bit and lossless:
// not in libjpeg-turbo 2.1) and what is decoded that jpegscale refuses:
// arithmetic coding (same coefficients as v420.jpg, so the same output)
// and RGB (libjpeg's luminance, close to the YCbCr file's luma).
func TestFormats(t *testing.T) {
	d := newDecoder(t)
	for _, name := range []string{"v_cmyk.jpg", "x_12bit.jpg", "x_lossless.jpg"} {
		if _, _, err := d.Luma(readFile(t, fixtureDir+name), 8); !errors.Is(err, codec.ErrUnsupported) {
			t.Errorf("%s: err = %v, want codec.ErrUnsupported", name, err)
		}
	}
	base, err := decodeAt(t, d, readFile(t, fixtureDir+"v420.jpg"), 1)
	if err != nil {
		t.Fatal(err)
	}
	arith, err := decodeAt(t, d, readFile(t, fixtureDir+"v_arith.jpg"), 1)
	if err != nil {
		t.Fatalf("arithmetic: %v", err)
	}
	if !bytes.Equal(arith.Pix, base.Pix) {
		t.Error("arithmetic-coded stream decodes differently from its Huffman twin")
	}
	ycc, _ := decodeAt(t, d, readFile(t, fixtureDir+"v444.jpg"), 1)
	rgb, err := decodeAt(t, d, readFile(t, fixtureDir+"v_rgb.jpg"), 1)
	if err != nil {
		t.Fatalf("RGB: %v", err)
	}
	var dd diff
	dd.add(rgb, ycc)
	if float64(dd.sum)/float64(dd.n) > 1.5 {
		t.Errorf("RGB stream's luminance far from the YCbCr stream's luma: %v", dd)
	}
	t.Logf("RGB luminance vs YCbCr luma: %v", dd)
}

// TestCorrupt checks errors, and ErrTooLarge before allocation.
func TestCorrupt(t *testing.T) {
	d := newDecoder(t)
	good := readFile(t, fixtureDir+"v420.jpg")
	sof := bytes.Index(good, []byte{0xFF, 0xC0})
	size := func(w, h int) []byte {
		b := bytes.Clone(good)
		b[sof+5], b[sof+6], b[sof+7], b[sof+8] = byte(h>>8), byte(h), byte(w>>8), byte(w)
		return b
	}
	// Corrupt in a way the header walk does not notice, so that libjpeg
	// fails inside tjDecompressHeader3 (which leaves the handle mid-parse).
	dht := bytes.Index(good, []byte{0xFF, 0xC4})
	badDHT := bytes.Clone(good)
	badDHT[dht+5+15] = 0xFF // count of 16-bit codes in the first table
	dqt := bytes.Index(good, []byte{0xFF, 0xDB})
	noDQT := slices.Concat(good[:dqt], good[dqt+2+(int(good[dqt+2])<<8|int(good[dqt+3])):])
	tests := []struct {
		name     string
		data     []byte
		tooLarge bool
	}{
		{"empty", nil, false},
		{"no SOI", good[2:], false},
		{"header only", good[:sof+6], false},
		{"huge", size(65000, 65000), true},
		{"more blocks than bits", size(8000, 8000), true},
		{"garbage", append(bytes.Clone(good[:400]), bytes.Repeat([]byte{0x55}, 300)...), false},
		{"bad Huffman table", badDHT, false},
		{"no quantisation tables", noDQT, false},
	}
	for _, tt := range tests {
		_, _, err := d.Luma(tt.data, 8)
		switch {
		case err == nil:
			t.Errorf("%s: no error", tt.name)
		case errors.Is(err, codec.ErrTooLarge) != tt.tooLarge:
			t.Errorf("%s: err = %v, ErrTooLarge want %v", tt.name, err, tt.tooLarge)
		}
		// The decoder still works after each error.
		if _, _, err := d.Luma(good, 8); err != nil {
			t.Errorf("after %s: %v", tt.name, err)
		}
	}
}

// TestTablesNotInherited checks that a stream lacking tables does not
// borrow the previous image's: without DHT the standard tables apply (the
// fixture was coded with them, so it decodes the same), without DQT it
// fails (see TestCorrupt).
func TestTablesNotInherited(t *testing.T) {
	d := newDecoder(t)
	good := readFile(t, fixtureDir+"v420.jpg")
	want, err := decodeAt(t, d, good, 1)
	if err != nil {
		t.Fatal(err)
	}
	var noDHT []byte
	for p := 0; p < len(good); {
		if i := bytes.Index(good[p:], []byte{0xFF, 0xC4}); i >= 0 && p+i < bytes.Index(good, []byte{0xFF, 0xDA}) {
			noDHT = append(noDHT, good[p:p+i]...)
			p += i + 2 + (int(good[p+i+2])<<8 | int(good[p+i+3]))
			continue
		}
		noDHT = append(noDHT, good[p:]...)
		break
	}
	// An image with other Huffman tables first: the progressive fixture
	// is coded with optimised ones.
	decodeAt(t, d, readFile(t, fixtureDir+"v420_prog.jpg"), 1)
	got, err := decodeAt(t, d, noDHT, 1)
	if err != nil {
		t.Fatalf("without DHT: %v", err)
	}
	if !bytes.Equal(got.Pix, want.Pix) {
		t.Error("stream without DHT did not decode with the standard tables")
	}
}

// TestClose checks Close is idempotent and a closed Decoder fails cleanly.
func TestClose(t *testing.T) {
	d, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, _, err := d.Luma(readFile(t, fixtureDir+"v420.jpg"), 8); err == nil {
		t.Error("Luma on a closed Decoder succeeded")
	}
}

// TestAllocs checks that a reused Decoder allocates only the output.
func TestAllocs(t *testing.T) {
	d := newDecoder(t)
	data := readFile(t, fixtureDir+"v420.jpg")
	if n := testing.AllocsPerRun(20, func() { d.Luma(data, 8) }); n > 2 {
		t.Errorf("%.0f allocations per call, want <= 2", n)
	}
}

// FuzzLuma feeds mutated fixtures through the header walk and libjpeg.
func FuzzLuma(f *testing.F) {
	names, _ := filepath.Glob(fixtureDir + "*.jpg")
	for _, n := range names {
		if b := readFile(f, n); len(b) < 16<<10 {
			f.Add(b)
		}
	}
	d, err := NewDecoder()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		img, s, err := d.Luma(data, 16)
		if err != nil {
			return
		}
		if w, h := img.Rect.Dx(), img.Rect.Dy(); w <= 0 || h <= 0 || len(img.Pix) != w*h || s < 1 {
			t.Fatalf("bad image %v at scale %d", img.Rect, s)
		}
	})
}

// TestProgressiveDelegation checks the 1/8 shortcut for progressive
// streams: the output is jpegscale's (identical to libjpeg's at this
// scale), and a progressive stream jpegscale refuses (RGB) still decodes
// through libjpeg.
func TestProgressiveDelegation(t *testing.T) {
	d := newDecoder(t)
	data := readFile(t, fixtureDir+"v420_prog.jpg")
	got, err := decodeAt(t, d, data, 8)
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := jpegscale.Luma(data, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Pix, want.Pix) {
		t.Error("progressive 1/8 output differs from jpegscale's")
	}
	jpegtran := dicomtest.NeedTool(t, "jpegtran")
	rgb, err := exec.Command(jpegtran, "-progressive", fixtureDir+"v_rgb.jpg").Output()
	if err != nil {
		t.Fatalf("jpegtran: %v", err)
	}
	if _, _, err := jpegscale.Luma(rgb, 0); !errors.Is(err, codec.ErrUnsupported) {
		t.Fatalf("jpegscale on progressive RGB: err = %v, want unsupported", err)
	}
	img, err := decodeAt(t, d, rgb, 8)
	if err != nil {
		t.Fatalf("progressive RGB at 1/8: %v", err)
	}
	if img.Rect.Dx() != 19 || img.Rect.Dy() != 13 {
		t.Errorf("progressive RGB at 1/8: %v, want 19x13", img.Rect)
	}
}

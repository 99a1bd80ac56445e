package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/copycat-dev/copycat/ingest/internal/jpeghdr"
	"github.com/copycat-dev/copycat/internal/testkit"
)

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// decodeOne decodes a single-frame file and returns its meta and image.
func decodeOne(tb testing.TB, data []byte, opts Options) (Meta, image.Image, error) {
	tb.Helper()
	var img image.Image
	meta, err := Decode(data, opts, func(f Frame) error {
		if img != nil {
			return errors.New("more than one frame")
		}
		img = f.Image
		return nil
	})
	return meta, img, err
}

func TestDecodeRaster(t *testing.T) {
	tests := []struct {
		file        string
		format      Format
		w, h, bits  int
		photometric string
		imgType     string
	}{
		{"gray1.png", FormatPNG, 40, 30, 1, "MONOCHROME2", "*image.Gray"},
		{"gray2.png", FormatPNG, 40, 30, 2, "MONOCHROME2", "*image.Gray"},
		{"gray4.png", FormatPNG, 40, 30, 4, "MONOCHROME2", "*image.Gray"},
		{"gray8.png", FormatPNG, 40, 30, 8, "MONOCHROME2", "*image.Gray"},
		{"gray16.png", FormatPNG, 40, 30, 16, "MONOCHROME2", "*image.Gray16"},
		{"graya8.png", FormatPNG, 40, 30, 8, "MONOCHROME2+ALPHA", "*image.NRGBA"},
		{"rgb8.png", FormatPNG, 40, 30, 8, "RGB", "*image.RGBA"},
		{"rgb16.png", FormatPNG, 40, 30, 16, "RGB", "*image.NRGBA64"},
		{"rgba8.png", FormatPNG, 40, 30, 8, "RGB+ALPHA", "*image.NRGBA"},
		{"rgba16.png", FormatPNG, 40, 30, 16, "RGB+ALPHA", "*image.NRGBA64"},
		{"palette.png", FormatPNG, 40, 30, 4, "PALETTE COLOR", "*image.RGBA"},
		{"gray-as-rgb.png", FormatPNG, 40, 30, 8, "RGB", "*image.Gray"},
		{"gray-as-palette.png", FormatPNG, 40, 30, 8, "PALETTE COLOR", "*image.Gray"},
		{"baseline.jpg", FormatJPEG, 40, 30, 8, "YBR_FULL", "*image.YCbCr"},
		{"progressive.jpg", FormatJPEG, 40, 30, 8, "YBR_FULL", "*image.YCbCr"},
		{"gray.jpg", FormatJPEG, 40, 30, 8, "MONOCHROME2", "*image.Gray"},
		{"cmyk.jpg", FormatJPEG, 40, 30, 8, "CMYK", "*image.RGBA"},
		{"rotated-exif6.jpg", FormatJPEG, 40, 30, 8, "YBR_FULL", "*image.RGBA"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			meta, img, err := decodeOne(t, readFixture(t, "raster/"+tt.file), Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprintf("%s %dx%d bits=%d %s %T %v", meta.Format, meta.Width, meta.Height, meta.Bits, meta.Photometric, img, img.Bounds().Size())
			want := fmt.Sprintf("%s %dx%d bits=%d %s %s %v", tt.format, tt.w, tt.h, tt.bits, tt.photometric, tt.imgType, image.Pt(tt.w, tt.h))
			if got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

// meanAbsDiff compares two images of one size on their grey levels.
func meanAbsDiff(tb testing.TB, a, b image.Image) float64 {
	tb.Helper()
	if a.Bounds().Size() != b.Bounds().Size() {
		tb.Fatalf("sizes differ: %v vs %v", a.Bounds().Size(), b.Bounds().Size())
	}
	var sum float64
	w, h := a.Bounds().Dx(), a.Bounds().Dy()
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			ar, ag, ab, _ := a.At(a.Bounds().Min.X+x, a.Bounds().Min.Y+y).RGBA()
			br, bg, bb, _ := b.At(b.Bounds().Min.X+x, b.Bounds().Min.Y+y).RGBA()
			d := (absDiff(ar, br) + absDiff(ag, bg) + absDiff(ab, bb)) / 3
			sum += float64(d) / 257
		}
	}
	return sum / float64(w*h)
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

func TestJPEGVariantsAgree(t *testing.T) {
	_, base, err := decodeOne(t, readFixture(t, "raster/baseline.jpg"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"progressive.jpg", "cmyk.jpg", "rotated-exif6.jpg"} {
		_, img, err := decodeOne(t, readFixture(t, "raster/"+name), Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// Recompression and colour conversions move pixels a little; a
		// wrong orientation or colour model moves them a lot.
		if got := meanAbsDiff(t, base, img); got > 10 {
			t.Errorf("%s: mean grey difference to baseline.jpg = %.1f, want <= 10", name, got)
		}
	}
}

func TestPixelDigestIgnoresContainer(t *testing.T) {
	digest := func(name string) [32]byte {
		_, img, err := decodeOne(t, readFixture(t, "raster/"+name), Options{})
		if err != nil {
			t.Fatal(err)
		}
		return PixelDigest(img)
	}
	want := digest("gray8.png")
	for _, name := range []string{"gray-as-rgb.png", "gray-as-palette.png"} {
		if got := digest(name); got != want {
			t.Errorf("%s: pixel digest differs from gray8.png's", name)
		}
	}
	if digest("rgb8.png") == want {
		t.Error("rgb8.png and gray8.png share a pixel digest")
	}

	// A JPEG's decoded pixels saved losslessly as PNG: identical pixels.
	_, jimg, err := decodeOne(t, readFixture(t, "raster/baseline.jpg"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	rgba := image.NewRGBA(jimg.Bounds())
	draw.Draw(rgba, rgba.Rect, jimg, jimg.Bounds().Min, draw.Src)
	var buf bytes.Buffer
	if err := png.Encode(&buf, rgba); err != nil {
		t.Fatal(err)
	}
	_, pimg, err := decodeOne(t, buf.Bytes(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if PixelDigest(jimg) != PixelDigest(pimg) {
		t.Error("JPEG and its lossless PNG re-encode have different pixel digests")
	}
}

func TestPixelBudget(t *testing.T) {
	for _, name := range []string{"raster/gray8.png", "raster/baseline.jpg"} {
		_, _, err := decodeOne(t, readFixture(t, name), Options{PixelBudget: 1000})
		var te *TooLargeError
		if !errors.As(err, &te) || !errors.Is(err, ErrTooLarge) {
			t.Fatalf("%s: err = %v, want TooLargeError", name, err)
		}
		if got, want := err.Error(), "too large: image 40x30 (0.0 megapixels) exceeds pixel budget of 0.001 megapixels"; got != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
	// A PNG header claiming 100000x100000 is refused before any decoding.
	data := readFixture(t, "raster/gray8.png")
	huge := append([]byte(nil), data...)
	copy(huge[16:], []byte{0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0})
	if _, _, err := decodeOne(t, huge, Options{}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("100000x100000 PNG: err = %v, want ErrTooLarge", err)
	}
}

func TestDecodeBadInput(t *testing.T) {
	png8 := readFixture(t, "raster/gray8.png")
	jpg := readFixture(t, "raster/baseline.jpg")
	tests := []struct {
		name  string
		data  []byte
		class error
		text  string
	}{
		{"empty", nil, ErrCorrupt, "corrupt: empty file"},
		{"random", []byte("\x01\x02\x03\x04\xff\xfe\x00\x00\x13\x37 random bytes that are no image at all"), ErrCorrupt, "corrupt: unrecognised binary content"},
		{"text", []byte("id,label\n1,cat\n"), ErrUnsupported, "not an image (text)"},
		{"tiff", []byte("II*\x00\x08\x00\x00\x00"), ErrUnsupported, "unsupported image format TIFF"},
		{"png half", png8[:len(png8)/2], ErrCorrupt, "corrupt png"},
		{"png header only", png8[:33], ErrCorrupt, "corrupt png"},
		{"jpeg half", jpg[:len(jpg)/2], ErrCorrupt, "corrupt jpeg"},
		{"jpeg markers only", jpg[:20], ErrCorrupt, "corrupt jpeg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := decodeOne(t, tt.data, Options{})
			if !errors.Is(err, tt.class) {
				t.Fatalf("err = %v, want class %v", err, tt.class)
			}
			if !strings.HasPrefix(err.Error(), tt.text) {
				t.Errorf("got %q, want prefix %q", err.Error(), tt.text)
			}
		})
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name string
		head string
		kind Kind
		fmt  string
	}{
		{"empty", "", KindEmpty, ""},
		{"png", "\x89PNG\r\n\x1a\nrest", KindImage, "png"},
		{"jpeg", "\xff\xd8\xff\xe0", KindImage, "jpeg"},
		{"dicom", strings.Repeat("\x00", 128) + "DICM\x02\x00\x00\x00UL\x04\x00", KindImage, "dicom"},
		{"zip", "PK\x03\x04", KindArchive, "zip"},
		{"gzip", "\x1f\x8b\x08", KindArchive, "gzip"},
		{"tar", strings.Repeat("a", 257) + "ustar\x0000", KindArchive, "tar"},
		{"tiff", "II*\x00", KindOtherImage, "TIFF"},
		{"npy", "\x93NUMPY\x01\x00", KindData, "NumPy"},
		{"csv", "a,b\n1,2\n", KindDocument, "text"},
		{"utf8 text", "Lizenz: CC BY 4.0 — Müller\n", KindDocument, "text"},
		{"binary", "\x00\x01\x02\x03\x04\x05", KindUnknown, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, name := Sniff([]byte(tt.head))
			if kind != tt.kind || name != tt.fmt {
				t.Errorf("got (%v, %q), want (%v, %q)", kind, name, tt.kind, tt.fmt)
			}
		})
	}
}

func TestEXIFOrientation(t *testing.T) {
	h, err := jpeghdr.Parse(readFixture(t, "raster/rotated-exif6.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.Orientation, 6; got != want {
		t.Errorf("orientation = %d, want %d", got, want)
	}
	h, err = jpeghdr.Parse(readFixture(t, "raster/baseline.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.Orientation, 0; got != want {
		t.Errorf("baseline orientation = %d, want %d", got, want)
	}
}

func FuzzDecode(f *testing.F) {
	for _, dir := range []string{"testdata/raster", "internal/dicom/testdata/dicom", "testdata/bad"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, p := range files {
			if data, err := os.ReadFile(p); err == nil && len(data) < 1<<20 {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := Options{PixelBudget: 1 << 18}
		_, err := Decode(data, opts, func(fr Frame) error {
			_ = PixelDigest(fr.Image)
			return nil
		})
		if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrTooLarge) {
			t.Fatalf("unclassified error: %v", err)
		}
	})
}

func FuzzJPEGHeader(f *testing.F) {
	for _, name := range []string{"baseline.jpg", "progressive.jpg", "gray.jpg", "cmyk.jpg", "rotated-exif6.jpg"} {
		data, err := os.ReadFile(filepath.Join("testdata/raster", name))
		if err == nil {
			f.Add(data[:min(len(data), 600)])
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := jpeghdr.Parse(data)
		if err == nil && (h.Orientation < 0 || h.Orientation > 8) {
			t.Fatalf("orientation %d out of range", h.Orientation)
		}
	})
}

func benchmarkDecode(b *testing.B, data []byte) {
	b.Helper()
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	var pixels int64
	for b.Loop() {
		pixels = 0
		if _, err := Decode(data, Options{}, func(f Frame) error {
			pixels += int64(f.Image.Bounds().Dx() * f.Image.Bounds().Dy())
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(pixels)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpixel/s")
}

func TestJPEGDigestIgnoresMetadata(t *testing.T) {
	frameDigest := func(data []byte, opts Options) [32]byte {
		t.Helper()
		var d [32]byte
		if _, err := Decode(data, opts, func(f Frame) error { d = FrameDigest(f); return nil }); err != nil {
			t.Fatal(err)
		}
		return d
	}
	base := readFixture(t, "raster/baseline.jpg")
	// The same coded picture with a comment and an APP segment added.
	extra := append([]byte{0xFF, 0xD8, 0xFF, 0xFE, 0x00, 0x07, 'h', 'e', 'l', 'l', 'o', 0xFF, 0xE5, 0x00, 0x04, 1, 2}, base[2:]...)
	want := frameDigest(base, Options{})
	tests := []struct {
		name string
		data []byte
		opts Options
		same bool
	}{
		{"metadata added", extra, Options{}, true},
		{"reduced decode", base, Options{MinSide: 8}, true},
		{"progressive re-encode", readFixture(t, "raster/progressive.jpg"), Options{}, false},
		{"grey version", readFixture(t, "raster/gray.jpg"), Options{}, false},
	}
	for _, tt := range tests {
		if got := frameDigest(tt.data, tt.opts); (got == want) != tt.same {
			t.Errorf("%s: same digest = %v, want %v", tt.name, got == want, tt.same)
		}
	}
}

func TestReducedJPEGDecode(t *testing.T) {
	var fr Frame
	meta, err := Decode(readFixture(t, "raster/baseline.jpg"), Options{MinSide: 8}, func(f Frame) error { fr = f; return nil })
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%dx%d scale=%d %T %v", meta.Width, meta.Height, fr.Scale, fr.Image, fr.Image.Bounds().Size())
	if want := "40x30 scale=4 *image.Gray (10,8)"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	// Orientation still applies to the reduced picture.
	meta, err = Decode(readFixture(t, "raster/rotated-exif6.jpg"), Options{MinSide: 8}, func(f Frame) error { fr = f; return nil })
	if err != nil {
		t.Fatal(err)
	}
	got = fmt.Sprintf("%dx%d scale=%d %v", meta.Width, meta.Height, fr.Scale, fr.Image.Bounds().Size())
	if want := "40x30 scale=4 (10,8)"; got != want {
		t.Errorf("rotated: got %s, want %s", got, want)
	}
}

func TestJPEGQualityEstimate(t *testing.T) {
	convert := testkit.ImageMagick(t)
	src := filepath.Join("testdata", "raster", "rgb8.png")
	for _, q := range []int{30, 50, 75, 90, 95} {
		out := filepath.Join(t.TempDir(), "q.jpg")
		if b, err := exec.Command(convert, src, "-quality", fmt.Sprint(q), out).CombinedOutput(); err != nil {
			t.Fatalf("convert: %v: %s", err, b)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		h, err := jpeghdr.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		if d := h.Quality - q; d < -1 || d > 1 {
			t.Errorf("quality %d estimated as %d", q, h.Quality)
		}
	}
}

package jpegscale

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/jpeg"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/copycat-dev/copycat/ingest/internal/codec"
	"github.com/copycat-dev/copycat/ingest/internal/codec/internal/dicomtest"
	"github.com/copycat-dev/copycat/internal/testkit"
)

var (
	full = flag.Bool("full", false, "compare every corpus JPEG and DICOM frame, not a sample (slow under -race)")
)

// sample keeps every file with -full, otherwise every fifth: enough to
// cover the corpus's encoders while keeping -race runs short.
func sample[T any](all []T) []T {
	if *full {
		return all
	}
	var out []T
	for i := 0; i < len(all); i += 5 {
		out = append(out, all[i])
	}
	return out
}

// fixtures returns the JPEG fixtures in testdata, sorted.
func fixtures(tb testing.TB) []string {
	tb.Helper()
	names, err := filepath.Glob("testdata/*.jpg")
	if err != nil || len(names) == 0 {
		tb.Fatalf("no fixtures in testdata: %v", err)
	}
	slices.Sort(names)
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

// corpusJPEGs returns every JPEG file of the shared corpus (natural photos
// and the medical PNG/JPEG folder), skipping when the corpus is absent.
func corpusJPEGs(tb testing.TB) []string {
	tb.Helper()
	dir := dicomtest.CorpusDir(tb)
	var names []string
	for _, sub := range []string{"natural", "medical_png_jpeg"} {
		err := filepath.WalkDir(filepath.Join(dir, sub), func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if ext := strings.ToLower(filepath.Ext(p)); ext == ".jpg" || ext == ".jpeg" {
				names = append(names, p)
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	if len(names) == 0 {
		tb.Skip("no JPEG files in the corpus")
	}
	return names
}

// decodeAt decodes at a forced scale.
func decodeAt(tb testing.TB, data []byte, scale int) *image.Gray {
	tb.Helper()
	d := Decoder{forceScale: scale}
	img, got, err := d.Luma(data, 0)
	if err != nil {
		tb.Fatalf("Luma at scale %d: %v", scale, err)
	}
	if got != scale {
		tb.Fatalf("scale = %d, want %d", got, scale)
	}
	return img
}

// stdLuma returns image/jpeg's luma (or grey) plane, or nil when image/jpeg
// gives something else (CMYK, RGB) or fails.
func stdLuma(data []byte) *image.Gray {
	m, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return nil
	}
	switch m := m.(type) {
	case *image.Gray:
		return m
	case *image.YCbCr:
		return &image.Gray{Pix: m.Y, Stride: m.YStride, Rect: m.Rect}
	}
	return nil
}

// agreement summarises how a scaled decode differs from the s x s means of
// a full-size reference, over the groups that lie inside the image.
type agreement struct {
	n, exact      int
	sum, max      int
	nFlat         int // groups with no clipped reference sample
	sumFlat, maxF int
}

func (a *agreement) add(b agreement) {
	a.n += b.n
	a.exact += b.exact
	a.sum += b.sum
	a.max = max(a.max, b.max)
	a.nFlat += b.nFlat
	a.sumFlat += b.sumFlat
	a.maxF = max(a.maxF, b.maxF)
}

func (a agreement) String() string {
	return fmt.Sprintf("max %d mean %.4f exact %.2f%%; unclipped groups: max %d mean %.4f (%d of %d)",
		a.max, float64(a.sum)/float64(max(a.n, 1)), 100*float64(a.exact)/float64(max(a.n, 1)),
		a.maxF, float64(a.sumFlat)/float64(max(a.nFlat, 1)), a.nFlat, a.n)
}

func compareScaled(tb testing.TB, got, ref *image.Gray, s int) agreement {
	tb.Helper()
	rw, rh := ref.Rect.Dx(), ref.Rect.Dy()
	if w, h := got.Rect.Dx(), got.Rect.Dy(); w != (rw+s-1)/s || h != (rh+s-1)/s {
		tb.Fatalf("scale %d: got %dx%d for a %dx%d image", s, w, h, rw, rh)
	}
	var a agreement
	for oy := 0; (oy+1)*s <= rh; oy++ {
		for ox := 0; (ox+1)*s <= rw; ox++ {
			sum, clipped := 0, false
			for y := oy * s; y < oy*s+s; y++ {
				for _, v := range ref.Pix[y*ref.Stride+ox*s : y*ref.Stride+ox*s+s] {
					sum += int(v)
					clipped = clipped || v == 0 || v == 255
				}
			}
			want := (2*sum + s*s) / (2 * s * s) // rounded mean
			diff := int(got.Pix[oy*got.Stride+ox]) - want
			diff = max(diff, -diff)
			a.n++
			a.sum += diff
			a.max = max(a.max, diff)
			if diff == 0 {
				a.exact++
			}
			if !clipped {
				a.nFlat++
				a.sumFlat += diff
				a.maxF = max(a.maxF, diff)
			}
		}
	}
	return a
}

// TestScale checks the scale choice.
func TestScale(t *testing.T) {
	tests := []struct {
		w, h, minSide, want int
	}{
		{1024, 768, 64, 8},
		{1024, 768, 96, 8},
		{1024, 768, 97, 4},
		{1024, 768, 128, 4},
		{800, 600, 128, 4},
		{800, 600, 76, 4},
		{800, 600, 75, 8},
		{150, 103, 64, 1},
		{150, 103, 53, 1},
		{150, 103, 52, 2},
		{130, 130, 17, 8}, // ceil(130/8) = 17
		{130, 130, 18, 4},
		{3, 3, 64, 1},
		{64, 64, 0, 8},
		{64, 64, -1, 8},
	}
	for _, tt := range tests {
		if got := Scale(tt.w, tt.h, tt.minSide); got != tt.want {
			t.Errorf("Scale(%d, %d, %d) = %d, want %d", tt.w, tt.h, tt.minSide, got, tt.want)
		}
	}
}

// TestAgainstImageJPEG compares every fixture and corpus JPEG (a sample
// unless -full) that image/jpeg decodes to a luma plane, at every scale: scale 1 within one
// count of image/jpeg everywhere; scales 2, 4 and 8 within one count of the
// rounded mean of image/jpeg's samples wherever none of them is clipped to
// 0 or 255 (where one is, the output is the mean before clipping, as
// documented, and may differ by more).
func TestAgainstImageJPEG(t *testing.T) {
	names := fixtures(t)
	if _, err := os.Stat(filepath.Join(dicomtest.ModuleRoot(t), "..", "shared", "corpus", "MANIFEST.tsv")); err == nil {
		names = append(names, sample(corpusJPEGs(t))...)
	} else {
		t.Log("shared corpus absent: fixtures only")
	}
	totals := map[int]*agreement{1: {}, 2: {}, 4: {}, 8: {}}
	checked := 0
	for _, name := range names {
		data := readFile(t, name)
		ref := stdLuma(data)
		if ref == nil {
			continue
		}
		if _, _, err := Luma(data, 0); errors.Is(err, codec.ErrUnsupported) {
			continue // RGB, CMYK, ...: TestUnsupported
		}
		checked++
		for s, total := range totals {
			a := compareScaled(t, decodeAt(t, data, s), ref, s)
			total.add(a)
			if (s == 1 && a.max > 1) || a.maxF > 1 {
				t.Errorf("%s scale %d: %v", filepath.Base(name), s, a)
			}
		}
	}
	for _, s := range []int{1, 2, 4, 8} {
		t.Logf("scale %d over %d files: %v", s, checked, totals[s])
	}
}

// TestSequentialProgressiveSame decodes pairs that code the same
// coefficients (baseline and its progressive re-encodes): outputs must be
// identical at every scale.
func TestSequentialProgressiveSame(t *testing.T) {
	pairs := [][2]string{
		{"v420.jpg", "v420_tran_prog.jpg"},
		{"v420.jpg", "v420_tran_scans.jpg"},
		{"v420.jpg", "v420_tran_opt.jpg"},
		{"v420.jpg", "v420_tran_rst.jpg"},
		{"v420.jpg", "v420_tran_seqscans.jpg"},
		{"v420.jpg", "v420_prog.jpg"},
	}
	for _, p := range pairs {
		a, b := readFile(t, "testdata/"+p[0]), readFile(t, "testdata/"+p[1])
		for _, s := range []int{1, 2, 4, 8} {
			if x, y := decodeAt(t, a, s), decodeAt(t, b, s); !bytes.Equal(x.Pix, y.Pix) {
				t.Errorf("%s and %s differ at scale %d", p[0], p[1], s)
			}
		}
	}
}

// TestGrailbioFrames decodes the JPEG-baseline ultrasound frames of the
// grailbio DICOMs in the corpus (first and last frame; a sample of the
// files unless -full) and compares them with image/jpeg, as
// TestAgainstImageJPEG does.
func TestGrailbioFrames(t *testing.T) {
	dir := filepath.Join(dicomtest.CorpusDir(t), "dicom", "grailbio")
	names, _ := filepath.Glob(filepath.Join(dir, "I_*.dcm"))
	if len(names) == 0 {
		t.Skip("no grailbio DICOM files in the corpus")
	}
	var total agreement
	frames := 0
	for _, name := range sample(names) {
		f := dicomtest.Read(t, name)
		if f.TransferSyntax != "1.2.840.10008.1.2.4.50" || len(f.Frames) == 0 {
			continue
		}
		for _, fi := range []int{0, len(f.Frames) - 1} {
			data := f.Frames[fi]
			ref := stdLuma(data)
			if ref == nil {
				t.Errorf("%s frame %d: image/jpeg cannot decode it", filepath.Base(name), fi)
				continue
			}
			frames++
			for _, s := range []int{1, 8} {
				a := compareScaled(t, decodeAt(t, data, s), ref, s)
				if (s == 1 && a.max > 1) || a.maxF > 1 {
					t.Errorf("%s frame %d scale %d: %v", filepath.Base(name), fi, s, a)
				}
				if s == 8 {
					total.add(a)
				}
			}
		}
	}
	t.Logf("%d frames; scale 8: %v", frames, total)
}

// outputHash is a short digest of a decoded image: size and samples.
func outputHash(img *image.Gray) string {
	h := sha256.New()
	w, ht := img.Rect.Dx(), img.Rect.Dy()
	binary.Write(h, binary.BigEndian, [2]uint32{uint32(w), uint32(ht)})
	for y := range ht {
		h.Write(img.Pix[y*img.Stride : y*img.Stride+w])
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// TestGolden decodes every fixture at scales 8, 4 and 1 and with the
// digest, and compares with testdata/golden.tsv (rewrite it with -update).
// The outputs themselves are checked against image/jpeg by
// TestAgainstImageJPEG; this pins them, and the digests, against
// regressions.
func TestGolden(t *testing.T) {
	const golden = "testdata/golden.tsv"
	var got []string
	for _, name := range fixtures(t) {
		data := readFile(t, name)
		line := filepath.Base(name)
		for _, s := range []int{8, 4, 1} {
			d := Decoder{forceScale: s}
			img, _, err := d.Luma(data, 0)
			if err != nil {
				line += "\terror: " + errClass(err)
				break
			}
			line += fmt.Sprintf("\t%dx%d %s", img.Rect.Dx(), img.Rect.Dy(), outputHash(img))
		}
		h := sha256.New()
		if _, _, err := LumaDigest(data, 64, h); err == nil {
			line += "\t" + hex.EncodeToString(h.Sum(nil)[:8])
		}
		got = append(got, line)
	}
	if testkit.Update() {
		if err := os.WriteFile(golden, []byte(strings.Join(got, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want := strings.Split(strings.TrimSpace(string(readFile(t, golden))), "\n")
	if len(got) != len(want) {
		t.Fatalf("%d fixtures, golden file has %d lines (run with -update after adding fixtures)", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("got  %s\nwant %s", got[i], want[i])
		}
	}
}

func errClass(err error) string {
	switch {
	case errors.Is(err, codec.ErrUnsupported):
		return "unsupported"
	case errors.Is(err, codec.ErrTooLarge):
		return "too large"
	}
	return "corrupt"
}

// TestUnsupported checks that every stream outside what the package
// decodes is refused with codec.ErrUnsupported, which sends the caller to
// its fallback decoder.
func TestUnsupported(t *testing.T) {
	base := readFile(t, "testdata/v420.jpg")
	sof := bytes.Index(base, []byte{0xFF, mSOF0})
	withSOF := func(m byte) []byte {
		b := bytes.Clone(base)
		b[sof+1] = m
		return b
	}
	// A 2-component frame: drop the third component from SOF and SOS.
	two := func() []byte {
		b := bytes.Clone(base)
		n := int(binary.BigEndian.Uint16(b[sof+2:]))
		b[sof+9] = 2
		binary.BigEndian.PutUint16(b[sof+2:], uint16(n-3))
		return append(b[:sof+2+n-3], b[sof+2+n:]...)
	}()
	tests := []struct {
		name string
		data []byte
	}{
		{"arithmetic", readFile(t, "testdata/v_arith.jpg")},
		{"CMYK", readFile(t, "testdata/v_cmyk.jpg")},
		{"RGB", readFile(t, "testdata/v_rgb.jpg")},
		{"luma subsampled", readFile(t, "testdata/v_luma_subsampled.jpg")},
		{"12-bit", readFile(t, "testdata/x_12bit.jpg")},
		{"lossless", readFile(t, "testdata/x_lossless.jpg")},
		{"hierarchical", withSOF(0xC5)},
		{"SOF15", withSOF(0xCF)},
		{"2 components", two},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, digest := range []bool{false, true} {
				var err error
				if digest {
					_, _, err = LumaDigest(tt.data, 32, sha256.New())
				} else {
					_, _, err = Luma(tt.data, 32)
				}
				if !errors.Is(err, codec.ErrUnsupported) {
					t.Errorf("digest=%v: err = %v, want codec.ErrUnsupported", digest, err)
				}
			}
		})
	}
}

// TestCorrupt feeds broken streams: each must fail with an error that is
// not ErrUnsupported, and nothing may panic.
func TestCorrupt(t *testing.T) {
	good := readFile(t, "testdata/v420.jpg")
	sof := bytes.Index(good, []byte{0xFF, mSOF0})
	sos := bytes.Index(good, []byte{0xFF, mSOS})
	setSize := func(b []byte, w, h int) []byte {
		b = bytes.Clone(b)
		binary.BigEndian.PutUint16(b[sof+5:], uint16(h))
		binary.BigEndian.PutUint16(b[sof+7:], uint16(w))
		return b
	}
	tests := []struct {
		name     string
		data     []byte
		tooLarge bool
	}{
		{"empty", nil, false},
		{"no SOI", good[2:], false},
		{"only SOI", good[:2], false},
		{"truncated header", good[:sof+6], false},
		{"no scan", good[:sos], false},
		{"truncated scan", good[:len(good)/2], false},
		{"garbage scan", append(bytes.Clone(good[:sos+200]), bytes.Repeat([]byte{0xFF, 0x00}, 100)...), false},
		{"huge frame", setSize(good, 65535, 65535), true},
		{"frame larger than the data can code", setSize(good, 8000, 8000), true},
		{"second frame header", append(bytes.Clone(good[:sos]), good[sof:]...), false},
		{"width 0", setSize(good, 0, 103), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, digest := range []bool{false, true} {
				var err error
				if digest {
					_, _, err = LumaDigest(tt.data, 32, sha256.New())
				} else {
					_, _, err = Luma(tt.data, 32)
				}
				switch {
				case err == nil:
					t.Fatalf("digest=%v: decoded a corrupt stream", digest)
				case errors.Is(err, codec.ErrUnsupported):
					t.Errorf("digest=%v: corrupt input reported as unsupported: %v", digest, err)
				case tt.tooLarge != errors.Is(err, codec.ErrTooLarge):
					t.Errorf("digest=%v: err = %v, ErrTooLarge want %v", digest, err, tt.tooLarge)
				}
			}
		})
	}
}

// TestEveryPrefix decodes prefixes of a few fixtures (every header prefix,
// a sample of the rest): none may panic, and only the complete stream, or
// one missing its EOI and at most a byte of entropy-coded data, may
// succeed. At scale 8 without a digest a progressive stream legitimately
// needs none of its last AC scans, so only the sequential ones are held to
// that rule.
func TestEveryPrefix(t *testing.T) {
	for _, name := range []string{"testdata/v420_rst_5b.jpg", "testdata/v444_prog_rst.jpg", "testdata/odd_422_prog.jpg", "testdata/g.jpg"} {
		data := readFile(t, name)
		progressive := bytes.Contains(data, []byte{0xFF, mSOF2})
		end := len(data) - 2
		for data[end-1] == 0xFF {
			end--
		}
		for n := 0; n < len(data)-2; n++ {
			if n > 700 && n < end-16 && n%23 != 0 {
				continue
			}
			for _, s := range []int{8, 2} {
				d := Decoder{forceScale: s}
				_, _, err := d.Luma(data[:n], 0)
				if err == nil && n < end-1 && !progressive {
					t.Errorf("%s: prefix of %d/%d bytes decoded at scale %d without error", name, n, len(data), s)
				}
			}
			if _, _, err := LumaDigest(data[:n], 0, sha256.New()); err == nil && n < end-1 && !progressive {
				t.Errorf("%s: prefix of %d/%d bytes digested without error", name, n, len(data))
			}
		}
	}
}

// TestMarkersIgnored checks that what a decoder must look past changes
// nothing: a missing EOI, fill bytes before markers, APP and COM segments,
// trailing padding.
func TestMarkersIgnored(t *testing.T) {
	for _, name := range []string{"testdata/v420.jpg", "testdata/v420_prog.jpg", "testdata/v420_rst_row.jpg"} {
		data := readFile(t, name)
		eoi := bytes.LastIndex(data, []byte{0xFF, mEOI})
		sos := bytes.Index(data, []byte{0xFF, mSOS})
		exif := append([]byte{0xFF, 0xE1, 0x00, 0x10}, "Exif\x00\x00MM\x00\x2A\x00\x00\x00\x08"...)
		com := append([]byte{0xFF, 0xFE, 0x00, 0x07}, "hello"...)
		variants := map[string][]byte{
			"no EOI":            data[:eoi],
			"fill before EOI":   slices.Concat(data[:eoi], []byte{0xFF, 0xFF, 0xFF}, data[eoi:]),
			"fill before SOS":   slices.Concat(data[:sos], []byte{0xFF, 0xFF}, data[sos:]),
			"APP1 and COM":      slices.Concat(data[:2], exif, com, data[2:]),
			"padding after EOI": slices.Concat(data, []byte{0, 0xFF, 0xFF, 0}),
		}
		for _, s := range []int{8, 4, 1} {
			want := decodeAt(t, data, s)
			for v, b := range variants {
				if got := decodeAt(t, b, s); !bytes.Equal(got.Pix, want.Pix) {
					t.Errorf("%s, %s: scale %d output differs", name, v, s)
				}
			}
		}
	}
}

// TestDecoderReuse decodes every fixture twice with one Decoder, in two
// orders, and checks each result against a fresh Decoder's: nothing may
// leak from one image into the next (a stream that lacks tables must not
// borrow the previous image's).
func TestDecoderReuse(t *testing.T) {
	names := fixtures(t)
	type result struct {
		hash, digest string
		err          bool
	}
	run := func(d *Decoder, data []byte) result {
		h := sha256.New()
		img, _, err := d.LumaDigest(data, 40, h)
		if err != nil {
			return result{err: true}
		}
		return result{outputHash(img), hex.EncodeToString(h.Sum(nil)), false}
	}
	want := map[string]result{}
	for _, name := range names {
		want[name] = run(new(Decoder), readFile(t, name))
	}
	reversed := slices.Clone(names)
	slices.Reverse(reversed)
	var d Decoder
	for _, order := range [][]string{names, reversed} {
		for _, name := range order {
			if got := run(&d, readFile(t, name)); got != want[name] {
				t.Errorf("%s: reused decoder gives %+v, fresh %+v", name, got, want[name])
			}
			// And without the digest.
			img, _, err := d.Luma(readFile(t, name), 40)
			if (err != nil) != want[name].err || (err == nil && outputHash(img) != want[name].hash) {
				t.Errorf("%s: reused decoder without digest differs", name)
			}
		}
	}
	// A stream without DHT after one with it.
	data := readFile(t, "testdata/v420.jpg")
	dht := bytes.Index(data, []byte{0xFF, mDHT})
	sos := bytes.Index(data, []byte{0xFF, mSOS})
	noDHT := slices.Concat(data[:dht], data[sos:])
	if _, _, err := d.Luma(noDHT, 8); err == nil {
		t.Error("stream without Huffman tables decoded with the previous image's")
	}
}

// TestAllocs checks that a reused Decoder allocates only the output.
func TestAllocs(t *testing.T) {
	for _, name := range []string{"testdata/v420.jpg", "testdata/v420_prog.jpg"} {
		data := readFile(t, name)
		var d Decoder
		for _, s := range []int{8, 1} {
			d.forceScale = s
			d.Luma(data, 0)
			if n := testing.AllocsPerRun(20, func() { d.Luma(data, 0) }); n > 2 {
				t.Errorf("%s scale %d: %.0f allocations per call, want <= 2", name, s, n)
			}
		}
		h := sha256.New()
		d.LumaDigest(data, 0, h)
		if n := testing.AllocsPerRun(20, func() { d.LumaDigest(data, 0, h) }); n > 3 {
			t.Errorf("%s digest: %.0f allocations per call, want <= 3", name, n)
		}
	}
}

// TestProgressiveWorkBound repeats one AC first scan of a progressive
// fixture a hundred times: each repeat visits every luma coefficient of the
// band, so the frame exceeds the visit budget and fails quickly instead of
// keeping the decoder busy. (At scale 8 without a digest the AC scans are
// skipped, cost nothing and may succeed.)
func TestProgressiveWorkBound(t *testing.T) {
	data := readFile(t, "testdata/v420_prog.jpg")
	var sos []int
	for p := 0; ; {
		i := bytes.Index(data[p:], []byte{0xFF, mSOS})
		if i < 0 {
			break
		}
		sos = append(sos, p+i)
		p += i + 2
	}
	// Find the luma's first scan of the band 6..63, with the Huffman table
	// defined just before it: a repeat decodes as validly as the original.
	var scan []byte
	for i, p := range sos {
		seg := data[p+4:]
		if seg[0] == 1 && seg[1] == 1 && seg[3] == 6 && seg[4] == 63 && seg[5]>>4 == 0 {
			start := p
			if dht := bytes.LastIndex(data[sos[i-1]:p], []byte{0xFF, mDHT}); dht >= 0 {
				start = sos[i-1] + dht
			}
			end := sos[i+1]
			if dht := bytes.Index(data[p:end], []byte{0xFF, mDHT}); dht >= 0 {
				end = p + dht
			}
			scan = data[start:end]
		}
	}
	if scan == nil {
		t.Fatal("no luma AC first scan of band 6..63 in the fixture")
	}
	eoi := bytes.LastIndex(data, []byte{0xFF, mEOI})
	b := slices.Concat(data[:eoi], bytes.Repeat(scan, 100), data[eoi:])
	for _, s := range []int{2, 1} {
		d := Decoder{forceScale: s}
		if _, _, err := d.Luma(b, 0); err == nil || !strings.Contains(err.Error(), "coefficients per block") {
			t.Errorf("scale %d: err = %v, want the visit budget error", s, err)
		}
	}
	if _, _, err := LumaDigest(b, 0, sha256.New()); err == nil {
		t.Error("digest: no error")
	}
}

package hash

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"path/filepath"
	"strings"
	"testing"

	"github.com/copycat-dev/copycat/internal/testkit"

	"github.com/corona10/goimagehash"
	"github.com/disintegration/imaging"
)

var fixtures = []string{"hopper.jpg", "fundus-crop.png", "cell.png"}

// generic hides an image's concrete type, forcing the slow At() path.
type generic struct{ image.Image }

func TestDistance(t *testing.T) {
	var a, b [32]byte
	b[0], b[31] = 0xff, 0x01
	tests := []struct {
		name      string
		got, want int
	}{
		{"64 equal", Distance64(0xdeadbeef, 0xdeadbeef), 0},
		{"64 all", Distance64(0, ^uint64(0)), 64},
		{"64 some", Distance64(0b1011, 0b0110), 3},
		{"PDQ equal", DistancePDQ(a, a), 0},
		{"PDQ some", DistancePDQ(a, b), 9},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, tt.got, tt.want)
		}
	}
	d := [8]uint64{0xff, 0xf0, 0x0f, 0, 0xff00, 1, 2, 3}
	if dist, k := DihedralDistance(0x0f, d); dist != 0 || k != Rot180 {
		t.Errorf("DihedralDistance = %d, %d; want 0, %d", dist, k, Rot180)
	}
}

// TestDihedral checks that the PHash of a rotated or mirrored copy equals
// the matching Dihedral[k] of the original, and that goimagehash agrees.
func TestDihedral(t *testing.T) {
	ops := []struct {
		k  int
		fn func(image.Image) *image.NRGBA
	}{
		{Rot90, imaging.Rotate90},
		{Rot180, imaging.Rotate180},
		{Rot270, imaging.Rotate270},
		{FlipH, imaging.FlipH},
		{FlipV, imaging.FlipV},
		{Transpose, imaging.Transpose},
		{Transverse, imaging.Transverse},
	}
	imgs := map[string]image.Image{}
	for _, f := range fixtures {
		imgs[f] = decodeFile(t, filepath.Join("testdata", f))
	}
	if testing.Short() {
		t.Log("-short: fixtures only")
	} else if root, files := corpusImagesOrNil(t); root != "" {
		for i, rel := range files {
			if i%6 != 0 { // a spread-out sample keeps this quick
				continue
			}
			if img, err := tryDecode(filepath.Join(root, rel)); err == nil {
				imgs[rel] = img
			}
		}
	}
	h := NewHasher()
	var own, ref distStats
	for name, img := range imgs {
		// Compare like with like: the transformed copies are NRGBA, so
		// hash an NRGBA copy of the original too (a JPEG's Y plane and
		// its RGB luma differ by rounding).
		orig := imaging.Clone(img)
		d := h.Dihedral(orig)
		if p := h.PHash(orig); d[Identity] != p {
			t.Errorf("%s: Dihedral[Identity] = %016x, PHash = %016x", name, d[Identity], p)
		}
		for _, tr := range ops {
			timg := tr.fn(orig)
			got := h.PHash(timg)
			dist := Distance64(got, d[tr.k])
			own.add(dist)
			if dist > 2 {
				t.Errorf("%s transform %d: PHash of copy %016x, Dihedral %016x: %d bits", name, tr.k, got, d[tr.k], dist)
			}
			if dd, k := DihedralDistance(got, d); dd > 2 || (dd == 0 && d[k] != d[tr.k]) {
				t.Errorf("%s transform %d: DihedralDistance = %d (k=%d)", name, tr.k, dd, k)
			}
			rh, err := goimagehash.PerceptionHash(timg)
			if err != nil {
				t.Fatal(err)
			}
			ref.add(Distance64(rh.GetHash(), d[tr.k]))
		}
	}
	t.Logf("PHash(transformed) vs Dihedral[k]: n=%d mean=%.3f max=%d histogram %s", own.n, own.mean(), own.max, own.histString())
	t.Logf("goimagehash PHash(transformed) vs Dihedral[k]: n=%d mean=%.3f max=%d histogram %s", ref.n, ref.mean(), ref.max, ref.histString())
	if ref.mean() > 0.5 || ref.max > 4 {
		t.Errorf("goimagehash on transformed copies vs Dihedral: mean %.3f max %d, want <= 0.5, <= 4", ref.mean(), ref.max)
	}
}

func corpusImagesOrNil(tb testing.TB) (string, []string) {
	tb.Helper()
	if _, ok := testkit.FindCorpus(tb); !ok {
		tb.Logf("shared corpus absent, using fixtures only")
		return "", nil
	}
	return corpusImages(tb)
}

// TestDegenerate feeds images no decoder should produce but a buggy one
// might: Compute must not panic, and flat images must hash like goimagehash.
func TestDegenerate(t *testing.T) {
	grey := func(w, h int, v uint8) image.Image {
		g := image.NewGray(image.Rect(0, 0, w, h))
		for i := range g.Pix {
			g.Pix[i] = v
		}
		return g
	}
	ramp := func(w, h int) image.Image {
		g := image.NewRGBA(image.Rect(-3, 5, w-3, h+5))
		for y := range h {
			for x := range w {
				g.SetRGBA(x-3, y+5, color.RGBA{uint8(x * 7), uint8(y * 3), uint8(x + y), 255})
			}
		}
		return g
	}
	tests := []struct {
		name string
		img  image.Image
	}{
		{"nil", nil},
		{"0x0", image.NewGray(image.Rect(0, 0, 0, 0))},
		{"0x5", image.NewRGBA(image.Rect(0, 0, 0, 5))},
		{"short Pix", &image.Gray{Rect: image.Rect(5, 5, 2, 2)}}, // 3x3 bounds, no pixels
		{"short YCbCr chroma", &image.YCbCr{Y: make([]uint8, 100), YStride: 10, CStride: 5, Rect: image.Rect(0, 0, 10, 10), SubsampleRatio: image.YCbCrSubsampleRatio420}},
		{"1x1", grey(1, 1, 200)},
		{"1x1 black", grey(1, 1, 0)},
		{"1xN", ramp(1, 300)},
		{"Nx1", ramp(300, 1)},
		{"2x2", ramp(2, 2)},
		{"3x3", ramp(3, 3)},
		{"5x5", ramp(5, 5)},
		{"64x64", ramp(64, 64)},
		{"huge aspect 20000x2", ramp(20000, 2)},
		{"huge aspect 3x9000", ramp(3, 9000)},
		{"flat grey 100x80", grey(100, 80, 128)},
		{"black 640x480", grey(640, 480, 0)},
		{"white 33x17", grey(33, 17, 255)},
		{"transparent NRGBA", image.NewNRGBA(image.Rect(0, 0, 50, 50))},
		{"Gray16", image.NewGray16(image.Rect(0, 0, 40, 30))},
		{"NRGBA64", image.NewNRGBA64(image.Rect(0, 0, 40, 30))},
		{"Paletted", image.NewPaletted(image.Rect(0, 0, 40, 30), color.Palette{color.Black, color.White})},
		{"Paletted index beyond palette", &image.Paletted{Pix: []uint8{0, 1, 7, 255}, Stride: 2, Rect: image.Rect(0, 0, 2, 2), Palette: color.Palette{color.White}}},
		{"CMYK", image.NewCMYK(image.Rect(0, 0, 40, 30))},
		{"YCbCr 411", image.NewYCbCr(image.Rect(0, 0, 41, 31), image.YCbCrSubsampleRatio411)},
		{"empty YCbCr", image.NewYCbCr(image.Rect(0, 0, 0, 0), image.YCbCrSubsampleRatio420)},
	}
	h := NewHasher()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fp := h.Compute(tt.img)
			if fp.Dihedral[Identity] != fp.PHash {
				t.Errorf("Dihedral[0] %016x != PHash %016x", fp.Dihedral[Identity], fp.PHash)
			}
			if tt.img == nil || tt.img.Bounds().Empty() || strings.HasPrefix(tt.name, "short") {
				if fp != (Fingerprint{}) {
					t.Errorf("empty or malformed image: got a non-zero fingerprint")
				}
				return
			}
			b := tt.img.Bounds()
			// As the reference tool: an image over 512 pixels on a side is
			// squashed to 512x512 before the minimum-size check.
			tiny := (b.Dx() < pdqMinSide || b.Dy() < pdqMinSide) && b.Dx() <= pdqMaxSide && b.Dy() <= pdqMaxSide
			if tiny && (fp.PDQ != [32]byte{} || fp.PDQQuality != 0) {
				t.Errorf("tiny image: PDQ %x quality %d, want zero", fp.PDQ, fp.PDQQuality)
			}
			// Flat images: no bits in aHash/dHash, only the DC bit in
			// pHash (none when black), exactly as goimagehash computes.
			if strings.HasPrefix(tt.name, "flat") || strings.HasPrefix(tt.name, "black") || strings.HasPrefix(tt.name, "white") || tt.name == "1x1" {
				rp, rd, ra := refHashes(t, tt.img)
				got := []uint64{fp.PHash, fp.DHash, fp.AHash}
				want := []uint64{rp, rd, ra}
				for i := range got {
					if got[i] != want[i] {
						t.Errorf("hash %d: got %016x, goimagehash %016x", i, got[i], want[i])
					}
				}
			}
		})
	}
}

// TestFastPathsMatchGeneric checks each typed fast path, on an image whose
// bounds do not start at the origin, against the generic At() path, and
// that a sub-image hashes like a copy of those pixels.
func TestFastPathsMatchGeneric(t *testing.T) {
	src := decodeFile(t, filepath.Join("testdata", "hopper.jpg"))
	r := image.Rect(17, 9, 17+301, 9+257)
	makeAs := func(dst draw.Image) image.Image {
		draw.Draw(dst, r, src, image.Pt(40, 60), draw.Src)
		return dst
	}
	ycc := src.(*image.YCbCr).SubImage(image.Rect(64, 32, 64+301, 32+257))
	tests := []struct {
		name        string
		img         image.Image
		maxP, maxPD int // allowed pHash-family and PDQ differences
	}{
		{"Gray", makeAs(image.NewGray(r)), 0, 0},
		{"Gray16", makeAs(image.NewGray16(r)), 0, 0},
		{"RGBA", makeAs(image.NewRGBA(r)), 1, 0},
		{"NRGBA", makeAs(image.NewNRGBA(r)), 1, 0},
		{"NRGBA64", makeAs(image.NewNRGBA64(r)), 1, 0},
		{"Paletted", makeAs(image.NewPaletted(r, palette.WebSafe)), 0, 0},
		{"RGBA64 (RGBA64At path)", makeAs(image.NewRGBA64(r)), 0, 0},
		{"CMYK (RGBA64At path)", makeAs(image.NewCMYK(r)), 0, 0},
		{"translucent RGBA64 (RGBA64At path)", translucent(makeAs(image.NewRGBA64(r)).(*image.RGBA64)), 0, 0},
		// The fast path reads the Y plane, the generic path luma from
		// RGB: they differ by rounding.
		{"YCbCr sub-image", ycc, 4, 0},
	}
	h := NewHasher()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fast := h.Compute(tt.img)
			slow := h.Compute(generic{tt.img})
			for _, c := range []struct {
				name      string
				got, want uint64
			}{{"PHash", fast.PHash, slow.PHash}, {"DHash", fast.DHash, slow.DHash}, {"AHash", fast.AHash, slow.AHash}} {
				if d := Distance64(c.got, c.want); d > tt.maxP {
					t.Errorf("%s: fast %016x, generic %016x: %d bits", c.name, c.got, c.want, d)
				}
			}
			if d := DistancePDQ(fast.PDQ, slow.PDQ); d > tt.maxPD || fast.PDQQuality != slow.PDQQuality {
				t.Errorf("PDQ: fast %x q%d, generic %x q%d: %d bits", fast.PDQ, fast.PDQQuality, slow.PDQ, slow.PDQQuality, d)
			}
			thumbDiff := 0
			for i := range fast.Thumb {
				thumbDiff = max(thumbDiff, absInt(int(fast.Thumb[i])-int(slow.Thumb[i])))
			}
			if thumbDiff > 2 {
				t.Errorf("thumbnail: max difference %d grey levels", thumbDiff)
			}
		})
	}
	// A sub-image at an offset must hash exactly like the same pixels at
	// the origin.
	sub := makeAs(image.NewGray(r)).(*image.Gray)
	cp := image.NewGray(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(cp, cp.Bounds(), sub, r.Min, draw.Src)
	if a, b := h.Compute(sub), h.Compute(cp); a != b {
		t.Errorf("offset Gray image and its copy at the origin hash differently")
	}
}

// translucent fades an RGBA64 image to varying alpha (premultiplied).
func translucent(m *image.RGBA64) image.Image {
	b := m.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := m.RGBA64At(x, y)
			a := uint32(0x4000 + (x*97+y*31)%0xbfff)
			m.SetRGBA64(x, y, color.RGBA64{
				uint16(uint32(c.R) * a / 0xffff), uint16(uint32(c.G) * a / 0xffff),
				uint16(uint32(c.B) * a / 0xffff), uint16(a)})
		}
	}
	return m
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestThumbnail checks the thumbnail is the exact-area average: a 64x32
// image of 2x1 blocks of known values squashes to their means.
func TestThumbnail(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 64, 32))
	for y := range 32 {
		for x := range 64 {
			g.Pix[y*64+x] = uint8(4*(x/2) + (x%2)*2) // the pair (x even, odd) averages to 4·(x/2)+1
		}
	}
	h := NewHasher()
	th := h.Thumbnail(g)
	for ty := range ThumbSize {
		for tx := range ThumbSize {
			if got, want := th[ty*ThumbSize+tx], uint8(4*tx+1); got != want {
				t.Fatalf("thumb[%d,%d] = %d, want %d", tx, ty, got, want)
			}
		}
	}
	if fp := h.Compute(g); fp.Thumb != th {
		t.Error("Compute's thumbnail differs from Thumbnail's")
	}
}

// TestHasherReuse checks a Hasher gives the same answers whatever it
// hashed before (scratch state must not leak between images).
func TestHasherReuse(t *testing.T) {
	var imgs []image.Image
	for _, f := range fixtures {
		imgs = append(imgs, decodeFile(t, filepath.Join("testdata", f)))
	}
	shared := NewHasher()
	for round := range 2 {
		for i, img := range imgs {
			got := shared.Compute(img)
			want := NewHasher().Compute(img)
			if got != want {
				t.Errorf("round %d image %d: reused Hasher differs from a fresh one", round, i)
			}
		}
	}
}

// TestPreview checks that Preview is Compute without PDQ, for every
// fixture, and hashes nothing for an empty image.
func TestPreview(t *testing.T) {
	h := NewHasher()
	for _, f := range fixtures {
		img := decodeFile(t, filepath.Join("testdata", f))
		want := h.Compute(img)
		want.PDQ, want.PDQQuality, want.PDQZeros = [32]byte{}, 0, 0
		if got := h.Preview(img); got != want {
			t.Errorf("%s: Preview differs from Compute without PDQ", f)
		}
	}
	if got := h.Preview(image.NewGray(image.Rect(0, 0, 0, 0))); got != (Fingerprint{}) {
		t.Errorf("Preview of an empty image = %+v, want zero", got)
	}
}

func TestComputeAllocs(t *testing.T) {
	img := decodeFile(t, filepath.Join("testdata", "hopper.jpg"))
	h := NewHasher()
	h.Compute(img)
	if n := testing.AllocsPerRun(5, func() { h.Compute(img) }); n != 0 {
		t.Errorf("Compute allocates %v times per image in steady state, want 0", n)
	}
}

// TestFixturesGolden pins the fingerprints of the fixtures.
func TestFixturesGolden(t *testing.T) {
	h := NewHasher()
	var b strings.Builder
	b.WriteString("# file pHash dHash aHash PDQ quality dihedral[1..7] thumb-sha256[:8]\n")
	for _, f := range fixtures {
		fp := h.Compute(decodeFile(t, filepath.Join("testdata", f)))
		sum := sha256.Sum256(fp.Thumb[:])
		fmt.Fprintf(&b, "%s %016x %016x %016x %s %d", f, fp.PHash, fp.DHash, fp.AHash, hex.EncodeToString(fp.PDQ[:]), fp.PDQQuality)
		for _, d := range fp.Dihedral[1:] {
			fmt.Fprintf(&b, " %016x", d)
		}
		fmt.Fprintf(&b, " %x\n", sum[:8])
	}
	testkit.Check(t, filepath.Join("testdata", "fixtures.golden"), b.String())
}

// TestPDQZerosNoLeak hashes an image too small for PDQ after a normal one:
// its PDQZeros must be what it gets alone, not the previous image's count.
func TestPDQZerosNoLeak(t *testing.T) {
	big := image.NewGray(image.Rect(0, 0, 64, 64))
	for i := range big.Pix {
		big.Pix[i] = uint8(i * 37)
	}
	tiny := image.NewGray(image.Rect(0, 0, 3, 3))
	for _, h := range []*Hasher{NewHasher(), NewScanHasher()} {
		want := NewHasher().Compute(tiny)
		h.Compute(big)
		if got := h.Compute(tiny); got != want {
			t.Errorf("a 3x3 image after a 64x64 one: PDQZeros %d, alone %d", got.PDQZeros, want.PDQZeros)
		}
	}
}

package match

import (
	"image"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/disintegration/imaging"

	"github.com/copycat-dev/copycat/hash"
)

func TestTransformThumbMatchesImaging(t *testing.T) {
	var src [hash.ThumbSize * hash.ThumbSize]uint8
	rng := rand.New(rand.NewPCG(3, 3))
	for i := range src {
		src[i] = uint8(rng.Uint32())
	}
	img := image.NewGray(image.Rect(0, 0, hash.ThumbSize, hash.ThumbSize))
	copy(img.Pix, src[:])
	ops := []struct {
		t  Transform
		fn func(image.Image) *image.NRGBA
	}{
		{Rotate90, imaging.Rotate90},
		{Rotate180, imaging.Rotate180},
		{Rotate90CW, imaging.Rotate270},
		{FlipH, imaging.FlipH},
		{FlipV, imaging.FlipV},
		{Transpose, imaging.Transpose},
		{Transverse, imaging.Transverse},
	}
	for _, op := range ops {
		var got [hash.ThumbSize * hash.ThumbSize]uint8
		transformThumb(&got, &src, op.t)
		want := op.fn(img)
		for i := range got {
			if got[i] != want.Pix[4*i] {
				t.Fatalf("%v: pixel %d = %d, imaging gives %d", op.t, i, got[i], want.Pix[4*i])
			}
		}
	}
}

func TestThumbSimilarity(t *testing.T) {
	a := blobThumb(1)
	b := blobThumb(2)
	var flat, flat2, flat3 [hash.ThumbSize * hash.ThumbSize]uint8
	for i := range flat {
		flat[i], flat2[i], flat3[i] = 10, 14, 200
	}
	inverted := a
	for i := range inverted {
		inverted[i] = 255 - a[i]
	}
	tests := []struct {
		name     string
		x, y     *[hash.ThumbSize * hash.ThumbSize]uint8
		corrLo   float64
		corrHi   float64
		diffHigh bool
	}{
		{"identical", &a, &a, 1, 1, false},
		{"different pictures", &a, &b, -0.5, 0.7, true},
		{"inverted", &a, &inverted, -1, -1, true},
		{"flat, close levels", &flat, &flat2, 1, 1, false},
		{"flat, far levels", &flat, &flat3, 0, 0, true},
		{"flat vs picture", &flat, &a, 0, 0, true},
	}
	for _, tc := range tests {
		corr, diff, flat := thumbSimilarity(tc.x, tc.y)
		if flat != strings.HasPrefix(tc.name, "flat") {
			t.Errorf("%s: flat = %v", tc.name, flat)
		}
		if corr < tc.corrLo-1e-9 || corr > tc.corrHi+1e-9 {
			t.Errorf("%s: correlation %.3f, want in [%.2f, %.2f]", tc.name, corr, tc.corrLo, tc.corrHi)
		}
		if (diff > DefaultMaxThumbDiff) != tc.diffHigh {
			t.Errorf("%s: diff %.3f, want above the default threshold: %v", tc.name, diff, tc.diffHigh)
		}
	}
}

// TestSequenceNeighbours checks the file-name half of the same-acquisition
// rule: consecutive numbers in one folder, nothing else.
func TestSequenceNeighbours(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"opencv/rubberwhale1.png", "opencv/rubberwhale2.png", true},
		{"clip/frame009.png", "clip/frame010.png", true},
		{"clip/frame_0012_L.jpg", "clip/frame_0011_L.jpg", true},
		{"a.zip!/x/7.png", "a.zip!/x/8.png", true},
		{"opencv/aero1.png", "opencv/aero3.png", false},                     // two apart
		{"train/case1.png", "test/case2.png", false},                        // other folders
		{"x/scan1.png", "x/scan2.jpg", false},                               // other suffix
		{"x/a1.png", "x/b2.png", false},                                     // other prefix
		{"x/img.png", "x/img.png", false},                                   // no number
		{"x/1_a.png", "x/1_b.png", false},                                   // numbers equal, names differ
		{"x/99999999999999999999.png", "x/99999999999999999998.png", false}, // too long to read
	} {
		if got := SequenceNeighbours(tc.a, tc.b); got != tc.want {
			t.Errorf("SequenceNeighbours(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
	frame := func(path string) Acquisition {
		return Acquisition{Dataset: "d", Path: path, Format: "png", Width: 640, Height: 480}
	}
	with := func(a Acquisition, edit func(*Acquisition)) Acquisition { edit(&a); return a }
	f1, f2 := frame("clip/f1.png"), frame("clip/f2.png")
	slice := func(ds, sop string) Acquisition {
		return Acquisition{Dataset: ds, Path: sop + ".dcm", Format: "dicom", Series: "1.2", SOP: sop}
	}
	for _, tc := range []struct {
		name string
		a, b Acquisition
		want bool
	}{
		{"next frame", f1, f2, true},
		{"next frame, other dataset", f1, with(f2, func(a *Acquisition) { a.Dataset = "e" }), false},
		{"next frame, other size", f1, with(f2, func(a *Acquisition) { a.Width = 320 }), false},
		{"next frame, other format", f1, with(f2, func(a *Acquisition) { a.Format = "jpeg" }), false},
		{"same file", f1, f1, true},
		{"slices of a series", slice("d", "1.2.3"), slice("d", "1.2.4"), true},
		{"slices of a series, other datasets", slice("d", "1.2.3"), slice("e", "1.2.4"), true},
		{"one instance in two datasets", slice("d", "1.2.3"), slice("e", "1.2.3"), false},
	} {
		if got := SameAcquisition(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

// blobThumb is a smooth random thumbnail: a few blobs on a dark ground.
func blobThumb(seed uint64) [hash.ThumbSize * hash.ThumbSize]uint8 {
	rng := rand.New(rand.NewPCG(seed, 77))
	var t [hash.ThumbSize * hash.ThumbSize]uint8
	type blob struct{ x, y, r, v float64 }
	var blobs [6]blob
	for i := range blobs {
		blobs[i] = blob{rng.Float64() * 32, rng.Float64() * 32, 3 + rng.Float64()*8, 40 + rng.Float64()*200}
	}
	for y := range hash.ThumbSize {
		for x := range hash.ThumbSize {
			v := 20.0
			for _, b := range blobs {
				if dx, dy := float64(x)-b.x, float64(y)-b.y; dx*dx+dy*dy < b.r*b.r {
					v = max(v, b.v)
				}
			}
			t[y*hash.ThumbSize+x] = uint8(v)
		}
	}
	return t
}

// TestCanonicalUnderTransforms checks that a rotated or mirrored picture
// has the canonical pHashes of the original: its dihedral pHashes are the
// original's in another order, its thumbnail the transformed thumbnail.
func TestCanonicalUnderTransforms(t *testing.T) {
	for seed := range uint64(20) {
		var fp hash.Fingerprint
		rng := rand.New(rand.NewPCG(seed, 9))
		for k := range fp.Dihedral {
			fp.Dihedral[k] = rng.Uint64() | 1<<63
		}
		fp.PHash = fp.Dihedral[0]
		fp.Thumb = blobThumb(seed)
		want := Canonical(&fp)
		for s := range Transform(8) {
			var c hash.Fingerprint
			for u := range Transform(8) {
				c.Dihedral[u] = fp.Dihedral[s.Then(u)]
			}
			c.PHash = c.Dihedral[0]
			c.Thumb = TransformThumb(&fp.Thumb, s)
			got := Canonical(&c)
			if got[0] != want[0] && got[0] != want[1] {
				t.Errorf("seed %d, %v: canonical %016x, the original's %016x", seed, s, got, want)
			}
		}
	}
}

// TestTransformAlgebra checks Then and Inverse against the thumbnails.
func TestTransformAlgebra(t *testing.T) {
	src := blobThumb(4)
	for a := range Transform(8) {
		for b := range Transform(8) {
			ab := TransformThumb(&src, a)
			ab = TransformThumb(&ab, b)
			if got := TransformThumb(&src, a.Then(b)); got != ab {
				t.Errorf("%v then %v is not %v", a, b, a.Then(b))
			}
		}
		back := TransformThumb(&src, a)
		if back = TransformThumb(&back, a.Inverse()); back != src {
			t.Errorf("%v's inverse %v does not undo it", a, a.Inverse())
		}
	}
}

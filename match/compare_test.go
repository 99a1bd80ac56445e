package match

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/disintegration/imaging"

	"github.com/copycat-dev/copycat/hash"
)

// picture is a smooth, asymmetric grey test picture: blobs on a gradient.
func picture(seed uint64, w, h int) *image.Gray {
	rng := rand.New(rand.NewPCG(seed, 11))
	type blob struct{ x, y, r, v float64 }
	var blobs [9]blob
	for i := range blobs {
		blobs[i] = blob{rng.Float64() * float64(w), rng.Float64() * float64(h), 0.05*float64(w) + rng.Float64()*0.15*float64(w), 60 + rng.Float64()*150}
	}
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := 30 + 60*float64(x)/float64(w) + 20*float64(y)/float64(h)
			for _, b := range blobs {
				d := math.Hypot(float64(x)-b.x, float64(y)-b.y)
				v += b.v * math.Exp(-d*d/(2*b.r*b.r))
			}
			img.SetGray(x, y, color.Gray{uint8(min(255, v))})
		}
	}
	return img
}

func imageOf(ds, path string, img image.Image) *Image {
	fp := hash.NewHasher().Compute(img)
	b := img.Bounds()
	return &Image{Dataset: ds, Path: path, Format: "png", Width: b.Dx(), Height: b.Dy(), Bits: 8, Fingerprint: &fp}
}

// TestCompareTransforms checks that a rotated or mirrored copy is verified
// and named for what was done to the original.
func TestCompareTransforms(t *testing.T) {
	orig := picture(1, 200, 160)
	a := imageOf("a", "orig.png", orig)
	for _, tc := range []struct {
		op   func(image.Image) *image.NRGBA
		want string
	}{
		{imaging.Rotate270, "rotate-90-cw"},
		{imaging.Rotate90, "rotate-90-ccw"},
		{imaging.Rotate180, "rotate-180"},
		{imaging.FlipH, "flip-left-right"},
		{imaging.FlipV, "flip-top-bottom"},
		{imaging.Transpose, "transpose"},
		{imaging.Transverse, "transverse"},
		{func(i image.Image) *image.NRGBA { return imaging.Clone(i) }, "none"},
	} {
		b := imageOf("b", "copy.png", tc.op(orig))
		got := Compare(a, b, Options{MaxDistance: -1})
		if !got.Verified || got.TransformName() != tc.want {
			t.Errorf("%s: got %s verified %v (score %.4f, distance %d)", tc.want, got.TransformName(), got.Verified, got.Score, got.Distance)
		}
		if back := Compare(b, a, Options{MaxDistance: -1}); back.Transform != got.Transform.Inverse() {
			t.Errorf("%s: the reverse comparison says %v, want the inverse %v", tc.want, back.Transform, got.Transform.Inverse())
		}
	}
}

// TestCompareCrop checks that a copy cropped by 4% a side and resized
// back is verified as a crop, with the crop found to within a cell.
func TestCompareCrop(t *testing.T) {
	orig := picture(2, 400, 320)
	crop := imaging.Resize(imaging.Crop(orig, image.Rect(16, 13, 384, 307)), 400, 320, imaging.Lanczos)
	a, b := imageOf("a", "orig.png", orig), imageOf("b", "crop.png", crop)
	got := Rescue(a, b, Options{MaxDistance: -1})
	if !got.Verified || !got.Cropped() {
		t.Fatalf("crop not verified: %+v", got)
	}
	want := Crop{0.04, 0.04, 0.96, 0.96}
	for _, d := range [4]float64{got.Crop.X0 - want.X0, got.Crop.Y0 - want.Y0, got.Crop.X1 - want.X1, got.Crop.Y1 - want.Y1} {
		if math.Abs(d) > 1.0/hash.ThumbSize {
			t.Errorf("crop %+v, want %+v", got.Crop, want)
		}
	}
	// The other way round the original shows more than the copy.
	if back := Rescue(b, a, Options{MaxDistance: -1}); !back.Verified || back.Crop.X0 >= 0 || back.Crop.X1 <= 1 {
		t.Errorf("reverse: %+v", back.Crop)
	}
	// A different picture is no crop of it.
	if other := Rescue(a, imageOf("b", "other.png", picture(3, 400, 320)), Options{MaxDistance: -1}); other.Verified {
		t.Errorf("a different picture verified as %s", other.TransformName())
	}
}

// TestGroupsRules checks the grouping rules on hand-made decisions.
func TestGroupsRules(t *testing.T) {
	near := func(score float64) Result {
		return Result{Kind: NearDuplicate, Crop: Whole, Score: score, Verified: true, Verification: Verification{ThumbCorrelation: score, ThumbDiff: 0.01}}
	}
	im := func(ds, path, series, sop string) *Image {
		fp := hash.Fingerprint{}
		return &Image{Dataset: ds, Path: path, Series: series, SOP: sop, Format: "png", Fingerprint: &fp}
	}
	for _, tc := range []struct {
		name   string
		images []*Image
		pairs  []Pair
		want   [][]int // groups as sorted image indices
	}{
		{
			name:   "the next slice in one dataset does not link, a re-saved leak does",
			images: []*Image{im("a", "1.png", "", ""), im("a", "2.png", "", ""), im("a", "3.jpg", "", "")},
			pairs:  []Pair{{0, 1, near(0.992)}, {0, 2, near(0.99995)}},
			want:   [][]int{{0, 2}},
		},
		{
			// 1 - correlation six times one step's at two steps, as measured on a T1 volume.
			name: "a stack of slices in one dataset does not link: each is as close to the one before as to the one after",
			images: []*Image{im("a", "0.png", "", ""), im("a", "1.png", "", ""), im("a", "2.png", "", ""),
				im("a", "3.png", "", ""), im("a", "4.png", "", "")},
			pairs: []Pair{{0, 1, near(0.998)}, {1, 2, near(0.998)}, {2, 3, near(0.998)}, {3, 4, near(0.998)},
				{0, 2, near(0.988)}, {1, 3, near(0.988)}, {2, 4, near(0.988)}},
			want: nil,
		},
		{
			name: "copies of one picture in one dataset link, every one: each is close to all the others",
			images: []*Image{im("a", "photo.png", "", ""), im("a", "photo-q50.jpg", "", ""), im("a", "photo-half.jpg", "", ""),
				im("a", "other.png", "", "")},
			pairs: []Pair{{0, 1, near(0.997)}, {0, 2, near(0.996)}, {1, 2, near(0.995)}},
			want:  [][]int{{0, 1, 2}},
		},
		{
			name: "in a stack only near-identical copies link: a re-saved slice to its slice alone",
			images: []*Image{im("a", "1.png", "", ""), im("a", "2.png", "", ""), im("a", "3.png", "", ""),
				im("a", "2-again.jpg", "", ""), im("a", "4.png", "", ""), im("a", "5.png", "", "")},
			pairs: []Pair{{0, 1, near(0.998)}, {1, 2, near(0.998)}, {0, 2, near(0.988)},
				{1, 3, near(0.99995)}, {0, 3, near(0.998)}, {2, 3, near(0.998)},
				{2, 4, near(0.998)}, {1, 4, near(0.988)},
				// 4 and 5 look like a lone pair: 5's other neighbour was no candidate.
				{4, 5, near(0.997)}},
			want: [][]int{{1, 3}},
		},
		{
			name: "a sequence of shots among many photos does not link, copies of a photo do",
			images: []*Image{im("a", "shot1.png", "", ""), im("a", "shot2.png", "", ""), im("a", "shot3.png", "", ""),
				im("a", "p.png", "", ""), im("a", "p-q50.jpg", "", ""), im("a", "q.png", "", ""), im("a", "q-half.jpg", "", ""),
				im("a", "r.png", "", ""), im("a", "r-q60.jpg", "", ""), im("a", "s.png", "", ""), im("a", "s-q70.jpg", "", ""),
				im("a", "t.png", "", ""), im("a", "t-small.jpg", "", ""), im("a", "u.png", "", ""), im("a", "u-q40.jpg", "", ""),
				im("a", "v.png", "", ""), im("a", "v-q80.jpg", "", "")},
			pairs: []Pair{{0, 1, near(0.995)}, {1, 2, near(0.995)},
				{3, 4, near(0.996)}, {5, 6, near(0.994)}, {7, 8, near(0.997)}, {9, 10, near(0.996)},
				{11, 12, near(0.995)}, {13, 14, near(0.993)}, {15, 16, near(0.997)}},
			want: [][]int{{3, 4}, {5, 6}, {7, 8}, {9, 10}, {11, 12}, {13, 14}, {15, 16}},
		},
		{
			name: "a dataset whose links are mostly chain steps is a stack: its lone pair does not link",
			images: []*Image{im("a", "1.png", "", ""), im("a", "2.png", "", ""), im("a", "3.png", "", ""),
				im("a", "4.png", "", ""), im("a", "8.png", "", ""), im("a", "9.png", "", "")},
			pairs: []Pair{{0, 1, near(0.998)}, {1, 2, near(0.998)}, {2, 3, near(0.998)}, {4, 5, near(0.997)}},
			want:  nil,
		},
		{
			name:   "across datasets an image takes its best match, not every one over the thresholds",
			images: []*Image{im("a", "x.png", "", ""), im("b", "own.png", "", ""), im("b", "next.png", "", "")},
			pairs:  []Pair{{0, 1, near(0.9998)}, {0, 2, near(0.99)}},
			want:   [][]int{{0, 1}},
		},
		{
			name: "two instances of one series never share a group; the render goes with its best",
			images: []*Image{im("dicom", "1.dcm", "1.2", "1.2.1"), im("dicom2", "2.dcm", "1.2", "1.2.2"),
				im("png", "r.png", "", "")},
			pairs: []Pair{{0, 2, near(0.995)}, {1, 2, near(0.999)}},
			want:  [][]int{{1, 2}},
		},
		{
			name: "a chain across two partial uploads stops at the first cannot-link",
			images: []*Image{im("even", "0.png", "", ""), im("odd", "1.png", "", ""), im("even", "2.png", "", ""),
				im("odd", "3.png", "", "")},
			pairs: []Pair{{0, 1, near(0.99)}, {1, 2, near(0.991)}, {2, 3, near(0.992)}},
			want:  [][]int{{0, 1}, {2, 3}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got [][]int
			for _, g := range Groups(tc.images, tc.pairs, Options{}) {
				var ms []int
				for _, m := range g.Members {
					ms = append(ms, m.Image)
				}
				slicesSort(ms)
				got = append(got, ms)
			}
			sortGroups(got)
			sortGroups(tc.want)
			if !equalGroups(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func slicesSort(x []int) {
	for i := range x {
		for j := i + 1; j < len(x); j++ {
			if x[j] < x[i] {
				x[i], x[j] = x[j], x[i]
			}
		}
	}
}

func sortGroups(gs [][]int) {
	for i := range gs {
		for j := i + 1; j < len(gs); j++ {
			if gs[j][0] < gs[i][0] {
				gs[i], gs[j] = gs[j], gs[i]
			}
		}
	}
}

func equalGroups(a, b [][]int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}

func BenchmarkCompare(b *testing.B) {
	orig := picture(1, 256, 256)
	x := imageOf("a", "x.png", orig)
	for _, tc := range []struct {
		name string
		img  image.Image
	}{
		{"jpeg-like", imaging.Blur(orig, 0.6)},
		{"rotated", imaging.Rotate270(orig)},
		{"cropped", imaging.Resize(imaging.Crop(orig, image.Rect(10, 10, 246, 246)), 256, 256, imaging.Lanczos)},
	} {
		y := imageOf("b", "y.png", tc.img)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Compare(x, y, Options{MaxDistance: -1})
			}
		})
		b.Run(tc.name+"/rescue", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Rescue(x, y, Options{MaxDistance: -1})
			}
		})
	}
}

func BenchmarkGroups(b *testing.B) {
	// A series of 200 slices in 4 datasets, each slice linked to its copies
	// and to the next slice's.
	var images []*Image
	var pairs []Pair
	fp := hash.Fingerprint{}
	for ds := range 4 {
		for s := range 200 {
			images = append(images, &Image{Dataset: string(rune('a' + ds)), Path: string(rune(s)), Fingerprint: &fp})
		}
	}
	for s := range 200 {
		for da := range 4 {
			for db := da + 1; db < 4; db++ {
				pairs = append(pairs, Pair{A: da*200 + s, B: db*200 + s, Result: Result{Kind: NearDuplicate, Crop: Whole, Score: 0.9998, Verified: true}})
				if s+1 < 200 {
					pairs = append(pairs, Pair{A: da*200 + s, B: db*200 + s + 1, Result: Result{Kind: NearDuplicate, Crop: Whole, Score: 0.99, Verified: true}})
				}
			}
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if gs := Groups(images, pairs, Options{}); len(gs) != 200 {
			b.Fatalf("%d groups, want 200", len(gs))
		}
	}
}

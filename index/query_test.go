package index

import (
	"context"
	"crypto/sha256"
	"fmt"
	"image"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/disintegration/imaging"

	"github.com/copycat-dev/copycat/hash"
)

// indexFiles puts files (path -> images) into dataset name in one scan.
func indexFiles(tb testing.TB, s *Store, name string, files map[string][]Image) {
	tb.Helper()
	sc, err := s.BeginScan(name, "/"+name)
	if err != nil {
		tb.Fatal(err)
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		imgs := files[p]
		f := File{Path: p, Size: 1, Format: "png", Frames: len(imgs)}
		if len(imgs) > 0 {
			f.SHA256 = imgs[0].FileSHA256
		}
		if err := sc.Put(f, imgs); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := sc.Finish(); err != nil {
		tb.Fatal(err)
	}
}

// nearCopy is a re-encoded copy of im: new digests and SOP UID, the pHash d
// bits away, the thumbnail slightly noisy.
func nearCopy(im Image, d int, seed uint64) Image {
	rng := rand.New(rand.NewPCG(seed, 5))
	c := im
	c.FileSHA256 = sha256.Sum256(fmt.Appendf(nil, "copy file %d of %x", seed, im.FileSHA256))
	c.PixelSHA256 = sha256.Sum256(fmt.Appendf(nil, "copy pixels %d of %x", seed, im.PixelSHA256))
	c.SOPInstanceUID = ""
	c.Fingerprint.PHash = flipBits(rng, im.Fingerprint.PHash, d)
	c.Fingerprint.Dihedral[0] = c.Fingerprint.PHash
	for i := range c.Fingerprint.Thumb {
		v := int(c.Fingerprint.Thumb[i]) + rng.IntN(5) - 2
		c.Fingerprint.Thumb[i] = uint8(max(0, min(255, v)))
	}
	return c
}

func TestQueryKinds(t *testing.T) {
	s := openStore(t, Options{})
	orig := fakeImage(1, 0)
	sameFile := orig // the same file in another folder
	samePixels := orig
	samePixels.FileSHA256[0] ^= 1 // another file, same pixels
	sameInstance := nearCopy(orig, 3, 1)
	sameInstance.SOPInstanceUID = orig.SOPInstanceUID
	near := nearCopy(orig, 5, 2)
	far := nearCopy(orig, 20, 3)
	// A mirrored copy: its pHash is the original's FlipH variant and its
	// thumbnail the mirrored thumbnail.
	mirrored := nearCopy(orig, 0, 4)
	mirrored.Fingerprint.PHash = orig.Fingerprint.Dihedral[hash.FlipH]
	transformThumb(&mirrored.Fingerprint.Thumb, &orig.Fingerprint.Thumb, hash.FlipH)
	indexFiles(t, s, "a", map[string][]Image{
		"orig.dcm":      {orig},
		"copy/orig.dcm": {sameFile},
		"pixels.png":    {samePixels},
		"instance.dcm":  {sameInstance},
		"near.jpg":      {near},
		"far.jpg":       {far},
		"mirrored.png":  {mirrored},
	})
	q := Query{
		Fingerprint:    orig.Fingerprint,
		FileSHA256:     orig.FileSHA256,
		PixelSHA256:    orig.PixelSHA256,
		SOPInstanceUID: orig.SOPInstanceUID,
		MaxDistance:    -1,
	}
	ms, err := s.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		path      string
		kind      MatchKind
		dist      int
		transform Transform
		verified  bool
	}
	var got []row
	for _, m := range ms {
		got = append(got, row{m.Image.Path, m.Kind, m.Distance, m.Transform, m.Verified})
	}
	want := []row{
		{"copy/orig.dcm", KindIdenticalFile, 0, 0, true},
		{"orig.dcm", KindIdenticalFile, 0, 0, true},
		{"pixels.png", KindIdenticalPixels, 0, 0, true},
		{"instance.dcm", KindSameDICOMInstance, 0, 0, true},
		{"mirrored.png", KindNearDuplicate, 0, hash.FlipH, true},
		{"near.jpg", KindNearDuplicate, 5, 0, true},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Query:\n got %+v\nwant %+v", got, want)
	}
	// Without transforms the mirrored copy is not found.
	q.NoTransforms = true
	ms, err = s.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Image.Path == "mirrored.png" {
			t.Errorf("NoTransforms still found the mirrored copy")
		}
	}
}

func TestQueryMatchesLinearScan(t *testing.T) {
	s := openStore(t, Options{BatchFiles: 1000})
	hs := plantedHashes(t, 21, 3000, 8, 50, true)
	files := map[string][]Image{}
	for i, h := range hs {
		im := fakeImage(uint64(i), 0)
		im.Fingerprint.PHash, im.Fingerprint.Dihedral[0] = h, h
		files[itoa(i)] = []Image{im}
	}
	indexFiles(t, s, "d", files)
	rng := rand.New(rand.NewPCG(1, 1))
	for range 40 {
		qh := flipBits(rng, hs[rng.IntN(len(hs))], rng.IntN(9))
		var fp hash.Fingerprint
		fp.PHash = qh
		ms, err := s.Query(Query{Fingerprint: fp, MaxDistance: 8, NoTransforms: true})
		if err != nil {
			t.Fatal(err)
		}
		var got, want []string
		for _, m := range ms {
			got = append(got, m.Image.Path)
			if m.Distance != bits.OnesCount64(qh^m.Image.Fingerprint.PHash) {
				t.Fatalf("%s: distance %d is wrong", m.Image.Path, m.Distance)
			}
		}
		for i, h := range hs {
			if bits.OnesCount64(qh^h) <= 8 {
				want = append(want, itoa(i))
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("Query found %v, linear scan %v", got, want)
		}
	}
	n, err := s.LinearSearch(hs[0], 8)
	if err != nil || n < 1 {
		t.Errorf("LinearSearch = %d, %v", n, err)
	}
}

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
		{hash.Rot90, imaging.Rotate90},
		{hash.Rot180, imaging.Rotate180},
		{hash.Rot270, imaging.Rotate270},
		{hash.FlipH, imaging.FlipH},
		{hash.FlipV, imaging.FlipV},
		{hash.Transpose, imaging.Transpose},
		{hash.Transverse, imaging.Transverse},
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
	a := fakeFingerprint(1).Thumb
	b := fakeFingerprint(2).Thumb
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

func TestClustersSplitChains(t *testing.T) {
	s := openStore(t, Options{})
	a := fakeImage(10, 0)
	files := map[string][]Image{
		"a.dcm":        {a},
		"a-copy.jpg":   {nearCopy(a, 4, 1)},
		"a-same.png":   {func() Image { c := nearCopy(a, 30, 2); c.PixelSHA256 = a.PixelSHA256; return c }()},
		"lonely.dcm":   {fakeImage(11, 0)},
		"multi.dcm":    {fakeImage(12, 0), fakeImage(12, 1)},
		"multi-2.dcm":  {fakeImage(12, 0), fakeImage(12, 1)}, // same file bytes twice
		"instance.dcm": {func() Image { c := nearCopy(fakeImage(13, 0), 25, 3); c.SOPInstanceUID = "1.2.3.99"; return c }()},
		"instance.jpg": {func() Image { c := nearCopy(fakeImage(13, 0), 25, 4); c.SOPInstanceUID = "1.2.3.99"; return c }()},
	}
	// A chain: slice k is picture A blended 10% further towards picture B
	// than slice k-1, a pHash bit further away. Neighbours pass
	// verification; the ends do not.
	pa, pb := fakeImage(20, 0), fakeImage(21, 0)
	for k := range 10 {
		sl := nearCopy(pa, 0, uint64(100+k))
		sl.Fingerprint.PHash = pa.Fingerprint.PHash ^ (1<<uint(k) - 1)
		for i := range sl.Fingerprint.Thumb {
			w := float64(k) / 10
			sl.Fingerprint.Thumb[i] = uint8((1-w)*float64(pa.Fingerprint.Thumb[i]) + w*float64(pb.Fingerprint.Thumb[i]))
		}
		files["chain/"+itoa(k)] = []Image{sl}
	}
	indexFiles(t, s, "d", files)
	cs, st, err := s.Clusters(context.Background(), ClusterOptions{MaxDistance: -1})
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, c := range cs {
		var ms []string
		for _, m := range c.Members {
			ms = append(ms, m.Path+"#"+itoa(m.Frame)+":"+m.Kind.String())
		}
		got = append(got, ms)
	}
	slices.SortFunc(got, func(a, b []string) int { return slices.Compare(a, b) })
	for _, g := range got {
		t.Log(g)
	}
	// Checked piecewise: which slices of the chain group together depends
	// on the verification thresholds, the rest does not.
	has := func(members ...string) bool {
		for _, g := range got {
			if slices.Equal(g, members) {
				return true
			}
		}
		return false
	}
	if !has("a.dcm#0:representative", "a-same.png#0:identical-pixels", "a-copy.jpg#0:near-duplicate") {
		t.Error("a.dcm with its near copy and its same-pixel copy is not a cluster")
	}
	if !has("instance.dcm#0:representative", "instance.jpg#0:same-dicom-instance") {
		t.Error("the two copies of one DICOM instance are not a cluster")
	}
	if !has("multi-2.dcm#0:representative", "multi.dcm#0:identical-file") || !has("multi-2.dcm#1:representative", "multi.dcm#1:identical-file") {
		t.Error("identical multi-frame files are not clustered frame by frame")
	}
	chained := 0
	for _, g := range got {
		if slices.ContainsFunc(g, func(m string) bool { return strings.HasPrefix(m, "chain/") }) {
			chained++
			if len(g) > 5 {
				t.Errorf("the chain was glued into one cluster of %d: %v", len(g), g)
			}
		}
		for _, m := range g {
			if len(m) > 6 && m[:6] == "lonely" {
				t.Errorf("lonely.dcm is in a cluster: %v", g)
			}
		}
	}
	if chained == 0 {
		t.Error("the chain's neighbours were not clustered at all: the test does not exercise splitting")
	}
	if st.Split == 0 {
		t.Errorf("no component was split; stats %+v", st)
	}
}

// shiftThumb shifts src right by k pixels into dst (the left columns repeat).
func shiftThumb(dst, src *[hash.ThumbSize * hash.ThumbSize]uint8, k int) {
	const n = hash.ThumbSize
	for y := range n {
		for x := range n {
			dst[y*n+x] = src[y*n+max(0, x-k)]
		}
	}
}

// TestClustersSameAcquisition checks the metadata rule: near-identical
// frames of one file, and near-identical instances of one series, are not
// copies; the same pictures in different files and series are.
func TestClustersSameAcquisition(t *testing.T) {
	s := openStore(t, Options{})
	a := fakeImage(30, 0)
	a.SeriesInstanceUID = "1.2.840.1"
	frame1 := nearCopy(a, 1, 1)
	frame1.Frame = 1
	frame1.FileSHA256, frame1.SeriesInstanceUID, frame1.SOPInstanceUID = a.FileSHA256, a.SeriesInstanceUID, a.SOPInstanceUID
	slice := nearCopy(a, 1, 2)
	slice.SOPInstanceUID, slice.SeriesInstanceUID = "1.2.3.31", a.SeriesInstanceUID
	export := nearCopy(a, 2, 3) // a JPEG export: no DICOM metadata
	export.SeriesInstanceUID = ""
	indexFiles(t, s, "d", map[string][]Image{
		"cine.dcm":   {a, frame1},
		"slice2.dcm": {slice},
	})
	cs, _, err := s.Clusters(context.Background(), ClusterOptions{MaxDistance: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 0 {
		t.Errorf("frames of one file or slices of one series clustered: %+v", cs)
	}
	indexFiles(t, s, "e", map[string][]Image{"export.jpg": {export}})
	cs, _, err = s.Clusters(context.Background(), ClusterOptions{MaxDistance: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || len(cs[0].Members) != 2 || cs[0].Members[0].Path != "export.jpg" || cs[0].Members[1].Path != "cine.dcm" || cs[0].Members[1].Frame != 0 {
		t.Fatalf("want the export clustered with frame 0 of cine.dcm alone; got %+v", cs)
	}
	// A series-aware query marks the other slice unverified, the export
	// verified.
	ms, err := s.Query(Query{Fingerprint: a.Fingerprint, SOPInstanceUID: a.SOPInstanceUID, SeriesInstanceUID: a.SeriesInstanceUID, MaxDistance: -1, NoTransforms: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if want := m.Image.Path != "slice2.dcm"; m.Verified != want && m.Image.Path != "cine.dcm" {
			t.Errorf("%s#%d: verified %v, want %v (%+v)", m.Image.Path, m.Image.Frame, m.Verified, want, m.Verification)
		}
	}
}

func TestFreshScanRepeatedPath(t *testing.T) {
	s := openStore(t, Options{BatchFiles: 2})
	sc, err := s.BeginScan("new", "/new")
	if err != nil {
		t.Fatal(err)
	}
	for round, frames := range []int{3, 1, 2} {
		f, imgs := fakeFile("dup.dcm", uint64(10+round), frames)
		if same, err := sc.Unchanged(f.Path, f.Size, f.ModTime); err != nil || same {
			t.Fatalf("round %d: Unchanged = %v, %v", round, same, err)
		}
		if err := sc.Put(f, imgs); err != nil {
			t.Fatal(err)
		}
		other, oimgs := fakeFile(fmt.Sprintf("other%d.dcm", round), uint64(20+round), 1)
		if err := sc.Put(other, oimgs); err != nil {
			t.Fatal(err)
		}
	}
	res, err := sc.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if want := (ScanResult{Files: 4, Images: 5, Indexed: 6}); res != want {
		t.Errorf("got %+v, want %+v", res, want)
	}
	mustCheck(t, s)
}

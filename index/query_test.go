package index

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/copycat-dev/copycat/hash"
	"github.com/copycat-dev/copycat/match"
)

// indexFiles puts files (path -> images) into dataset name in one scan.
func indexFiles(tb testing.TB, s *Store, name string, files map[string][]Image) {
	tb.Helper()
	sc, err := s.BeginWrite(name, "/"+name)
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
		// Images named as renderings are renderings: match's choice of a
		// cluster's representative reads the format.
		for i := range imgs {
			switch path.Ext(p) {
			case ".png":
				imgs[i].Format, imgs[i].Lossy = "png", false
			case ".jpg":
				imgs[i].Format, imgs[i].Lossy = "jpeg", true
			}
		}
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
// bits away, the thumbnail slightly noisy, no min-max rendering.
func nearCopy(im Image, d int, seed uint64) Image {
	rng := rand.New(rand.NewPCG(seed, 5))
	c := im
	c.FileSHA256 = sha256.Sum256(fmt.Appendf(nil, "copy file %d of %x", seed, im.FileSHA256))
	c.PixelSHA256 = sha256.Sum256(fmt.Appendf(nil, "copy pixels %d of %x", seed, im.PixelSHA256))
	c.SOPInstanceUID = ""
	c.MinMax = nil // an export has one rendering
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
	mirrored.Fingerprint.Thumb = match.TransformThumb(&orig.Fingerprint.Thumb, match.FlipH)
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
	ms, err := s.Query(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		path      string
		kind      match.Kind
		dist      int
		transform match.Transform
		verified  bool
	}
	var got []row
	for _, m := range ms {
		got = append(got, row{m.Image.Path, m.Kind, m.Distance, m.Transform, m.Verified})
	}
	want := []row{
		{"copy/orig.dcm", match.IdenticalFile, 0, 0, true},
		{"orig.dcm", match.IdenticalFile, 0, 0, true},
		{"pixels.png", match.IdenticalPixels, 0, 0, true},
		{"mirrored.png", match.NearDuplicate, 0, match.FlipH, true},
		{"instance.dcm", match.SameDICOMInstance, 3, 0, true}, // re-encoded: its pHash distance
		{"near.jpg", match.NearDuplicate, 5, 0, true},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Query:\n got %+v\nwant %+v", got, want)
	}
	// Without transforms the mirrored copy is not found.
	q.NoTransforms = true
	ms, err = s.Query(t.Context(), q)
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
		ms, err := s.Query(t.Context(), Query{Fingerprint: fp, MaxDistance: 8, NoTransforms: true})
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
	// A chain across two datasets (an upload of the even slices, another
	// of the odd ones): slice k is picture A blended 10% further towards
	// picture B than slice k-1, a pHash bit further away. Neighbours pass
	// verification; the ends do not.
	pa, pb := fakeImage(20, 0), fakeImage(21, 0)
	odd := map[string][]Image{}
	for k := range 10 {
		sl := nearCopy(pa, 0, uint64(100+k))
		sl.Fingerprint.PHash = pa.Fingerprint.PHash ^ (1<<uint(k) - 1)
		for i := range sl.Fingerprint.Thumb {
			w := float64(k) / 10
			sl.Fingerprint.Thumb[i] = uint8((1-w)*float64(pa.Fingerprint.Thumb[i]) + w*float64(pb.Fingerprint.Thumb[i]))
		}
		// Lettered, not numbered: consecutive numbers in one folder are
		// frames of a sequence, which SameAcquisition keeps apart.
		if k%2 == 0 {
			files["chain/"+string(rune('a'+k))] = []Image{sl}
		} else {
			odd["chain/"+string(rune('a'+k))] = []Image{sl}
		}
	}
	indexFiles(t, s, "d", files)
	indexFiles(t, s, "e", odd)
	cs, _, err := s.Clusters(context.Background(), ClusterOptions{MaxDistance: -1})
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
			if len(g) > 2 {
				t.Errorf("the chain glued %d slices of two datasets into one cluster: %v", len(g), g)
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
	// Two frames of a video exported as numbered files.
	b := fakeImage(31, 0)
	indexFiles(t, s, "d", map[string][]Image{
		"cine.dcm":       {a, frame1},
		"slice2.dcm":     {slice},
		"clip/f0009.png": {nearCopy(b, 1, 4)},
		"clip/f0010.png": {nearCopy(b, 2, 5)},
	})
	cs, _, err := s.Clusters(context.Background(), ClusterOptions{MaxDistance: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 0 {
		t.Errorf("frames of one file or sequence, or slices of one series, clustered: %+v", cs)
	}
	indexFiles(t, s, "e", map[string][]Image{"export.jpg": {export}})
	cs, _, err = s.Clusters(context.Background(), ClusterOptions{MaxDistance: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || len(cs[0].Members) != 2 || cs[0].Members[0].Path != "cine.dcm" || cs[0].Members[0].Frame != 0 || cs[0].Members[1].Path != "export.jpg" {
		t.Fatalf("want the export clustered with frame 0 of cine.dcm alone; got %+v", cs)
	}
	// A series-aware query marks the other slice unverified, the export
	// verified.
	ms, err := s.Query(t.Context(), Query{Fingerprint: a.Fingerprint, SOPInstanceUID: a.SOPInstanceUID, SeriesInstanceUID: a.SeriesInstanceUID, MaxDistance: -1, NoTransforms: true})
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
	sc, err := s.BeginWrite("new", "/new")
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
	if want := (WriteResult{Files: 4, Images: 5, Indexed: 6}); res != want {
		t.Errorf("got %+v, want %+v", res, want)
	}
	mustCheck(t, s)
}

// TestMinMaxRendering indexes a DICOM frame with a min-max fingerprint and
// finds it through either picture: a PNG export of its min-max rendering
// (in the index, and as a query), and a query that carries a min-max
// fingerprint of its own. The pair is reported once, and rescanning the
// DICOM without it leaves no W key behind.
func TestMinMaxRendering(t *testing.T) {
	s := openStore(t, Options{})
	dcm := fakeImage(2, 0)
	if dcm.MinMax == nil {
		t.Fatal("fakeImage(2, 0) has no min-max fingerprint")
	}
	export := nearCopy(Image{Fingerprint: *dcm.MinMax, Format: "png", Width: 512, Height: 512}, 3, 9)
	export.MinMax = nil
	other := fakeImage(3, 0) // no min-max fingerprint, unrelated
	indexFiles(t, s, "dicom", map[string][]Image{"ct/1.dcm": {dcm}, "ct/2.dcm": {other}})
	indexFiles(t, s, "pngs", map[string][]Image{"1.png": {export}})
	mustCheck(t, s)

	type row struct {
		path     string
		dist     int
		minMax   bool
		verified bool
	}
	query := func(q Query) []row {
		t.Helper()
		q.MaxDistance = -1
		ms, err := s.Query(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		var got []row
		for _, m := range ms {
			got = append(got, row{m.Image.Path, m.Distance, m.MinMax, m.Verified})
		}
		return got
	}
	for _, tc := range []struct {
		name string
		q    Query
		want []row
	}{
		{"export", Query{Fingerprint: export.Fingerprint}, []row{{"1.png", 0, false, true}, {"ct/1.dcm", 3, true, true}}},
		{"dicom", Query{Fingerprint: dcm.Fingerprint, MinMax: dcm.MinMax}, []row{{"ct/1.dcm", 0, false, true}, {"1.png", 3, true, true}}},
		{"dicom without its min-max", Query{Fingerprint: dcm.Fingerprint}, []row{{"ct/1.dcm", 0, false, true}}},
	} {
		if got := query(tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}

	pairs, err := s.Pairs(t.Context(), ClusterOptions{MaxDistance: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(pairs) != 1 || pairs[0].Result.Distance != 3 || !pairs[0].Result.Verified {
		t.Errorf("Pairs = %+v, want the DICOM and its export once, verified at 3", pairs)
	}
	clusters, _, err := s.Clusters(t.Context(), ClusterOptions{MaxDistance: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(clusters) != 1 || len(clusters[0].Members) != 2 {
		t.Fatalf("Clusters = %+v, want one of two", clusters)
	}
	if m := clusters[0].Members[1]; m.Kind != match.NearDuplicate || m.Distance != 3 {
		t.Errorf("cluster member %+v, want a near-duplicate at 3", m)
	}

	// Rescanned without the min-max fingerprint (the file changed): the W
	// key goes with the old record, and the export is no longer found.
	dcm.MinMax = nil
	dcm.FileSHA256[0] ^= 1
	indexFiles(t, s, "dicom", map[string][]Image{"ct/1.dcm": {dcm}, "ct/2.dcm": {other}})
	mustCheck(t, s)
	if got := query(Query{Fingerprint: export.Fingerprint}); len(got) != 1 || got[0].path != "1.png" {
		t.Errorf("after the rescan the export query found %+v, want only itself", got)
	}
}

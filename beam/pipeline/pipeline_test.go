package pipeline

import (
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"

	"github.com/copycat-dev/copycat/hash"
	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/interchange"
	"github.com/copycat-dev/copycat/match"
)

var genImages = flag.Int("gen-images", 100_000, "images of the generated set TestPairsGenerated runs on (2,000 with -short)")

func TestMain(m *testing.M) {
	flag.Parse()
	beam.Init()
	os.Exit(m.Run())
}

// runPrism runs the pipeline built by build on Prism, in-process.
func runPrism(tb testing.TB, build func(s beam.Scope)) time.Duration {
	tb.Helper()
	p, s := beam.NewPipelineWithRoot()
	build(s)
	start := time.Now()
	if _, err := prism.Execute(context.Background(), p); err != nil {
		tb.Fatal(err)
	}
	return time.Since(start)
}

// genSet writes a generated index of n images into dir: dataset "orig"
// of random fingerprints, dataset "copies" of near copies of them at
// every distance 0-10 (the threshold is 8), mirrored copies, a family of
// 200 identical-looking images (a hot key), and unrelated images.
func genSet(tb testing.TB, dir string, n int, seed uint64) {
	tb.Helper()
	st, err := index.Open(dir, index.Options{BatchFiles: 4096, FlushInterval: time.Minute})
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	rng := rand.New(rand.NewPCG(seed, 11))
	nOrig := n / 2
	origs := make([]index.Image, 0, nOrig)
	put := func(w *index.Writer, name string, im index.Image) {
		im.PixelSHA256 = sha256.Sum256([]byte(name))
		im.FileSHA256 = im.PixelSHA256
		if err := w.Put(index.File{Path: name, Size: 1, Format: im.Format, Frames: 1, SHA256: im.FileSHA256}, []index.Image{im}); err != nil {
			tb.Fatal(err)
		}
	}
	w, err := st.BeginWrite("orig", "/orig")
	if err != nil {
		tb.Fatal(err)
	}
	for i := range nOrig {
		im := randomImage(rng)
		if i < 200 { // the family: one picture, 200 files
			if i > 0 {
				im = nearImage(rng, origs[0], 0)
			}
		}
		origs = append(origs, im)
		put(w, fmt.Sprintf("o/%07d.png", i), im)
	}
	if _, err := w.Finish(); err != nil {
		tb.Fatal(err)
	}
	w, err = st.BeginWrite("copies", "/copies")
	if err != nil {
		tb.Fatal(err)
	}
	for i := range n - nOrig {
		var im index.Image
		switch o := origs[200+rng.IntN(nOrig-200)]; {
		case i%4 == 0:
			im = nearImage(rng, o, i/4%11)
		case i%16 == 1:
			im = nearImage(rng, o, 0)
			// b = FlipH(a): b under k is a under FlipH then k.
			for k := range im.Fingerprint.Dihedral {
				im.Fingerprint.Dihedral[k] = o.Fingerprint.Dihedral[match.FlipH.Then(match.Transform(k))]
			}
			im.Fingerprint.PHash = im.Fingerprint.Dihedral[0]
			im.Fingerprint.Thumb = match.TransformThumb(&o.Fingerprint.Thumb, match.FlipH)
		default:
			im = randomImage(rng)
		}
		put(w, fmt.Sprintf("c/%07d.jpg", i), im)
	}
	if _, err := w.Finish(); err != nil {
		tb.Fatal(err)
	}
}

func randomImage(rng *rand.Rand) index.Image {
	im := index.Image{Format: "png", Width: 256, Height: 256, Bits: 8}
	h := uint64(1)
	for bits.OnesCount64(h) < 32 {
		h |= 1 << (1 + rng.IntN(63))
	}
	fp := &im.Fingerprint
	fp.PHash, fp.DHash, fp.AHash = h, rng.Uint64(), rng.Uint64()
	for k := range fp.Dihedral {
		fp.Dihedral[k] = bits.RotateLeft64(h, 8*k)
	}
	for i := range fp.PDQ {
		fp.PDQ[i] = byte(rng.Uint32())
	}
	fp.PDQQuality = 100
	// A smooth picture: thumbnails of random pixels correlate with
	// nothing, but real ones have structure the checks rely on.
	a, b, c := rng.Float64()*6, rng.Float64()*6, rng.Float64()*6
	for y := range hash.ThumbSize {
		for x := range hash.ThumbSize {
			v := 128 + 60*sinApprox(a*float64(x)/32+b*float64(y)/32) + 40*sinApprox(c*float64(x*y)/1024)
			fp.Thumb[y*hash.ThumbSize+x] = uint8(max(0, min(255, v)))
		}
	}
	return im
}

// sinApprox is a cheap smooth periodic function.
func sinApprox(x float64) float64 {
	x -= float64(int(x/6.283185)) * 6.283185
	if x < 0 {
		x += 6.283185
	}
	if x > 3.141593 {
		return -sinApprox(x - 3.141593)
	}
	return 4 * x * (3.141593 - x) / (3.141593 * 3.141593)
}

// nearImage is a re-encoded copy of o: the pHash d bits away, the
// thumbnail slightly noisy, JPEG.
func nearImage(rng *rand.Rand, o index.Image, d int) index.Image {
	c := o
	c.Format, c.Lossy = "jpeg", true
	var m uint64
	for bits.OnesCount64(m) < d {
		m |= 1 << rng.IntN(64)
	}
	c.Fingerprint.PHash ^= m
	c.Fingerprint.Dihedral[0] = c.Fingerprint.PHash
	for i := range c.Fingerprint.Thumb {
		v := int(c.Fingerprint.Thumb[i]) + rng.IntN(5) - 2
		c.Fingerprint.Thumb[i] = uint8(max(0, min(255, v)))
	}
	return c
}

// pairNames lists the pairs of pairs files as comparable strings.
func pairNames(tb testing.TB, paths []string) ([]string, interchange.PairsMeta) {
	tb.Helper()
	meta, rows, err := interchange.ReadPairs(paths)
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%s/%s#%d %s/%s#%d", r.ADataset, r.APath, r.AFrame, r.BDataset, r.BPath, r.BFrame))
	}
	slices.Sort(out)
	return slices.Compact(out), meta
}

// checkPairsEqual runs the pairs step on Prism over the export of the
// index in dir and checks that its pairs are the ones an index importing
// that export verifies, and that this index clusters them as it clusters
// by its own search.
func checkPairsEqual(t *testing.T, dir string, opts PairsOptions) {
	ctx := context.Background()
	tmp := t.TempDir()
	src, err := index.Open(dir, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	exp := filepath.Join(tmp, "export")
	_, err = interchange.Export(ctx, src, exp)
	if cerr := src.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	checkExportPairs(t, []string{exp}, opts)
}

// checkExportPairs imports the exports into a new index, and checks that
// the pairs step's pairs over them are the index's, and cluster alike.
func checkExportPairs(t *testing.T, exports []string, opts PairsOptions) {
	ctx := context.Background()
	tmp := t.TempDir()
	st, err := index.Open(filepath.Join(tmp, "index"), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := interchange.Import(ctx, st, exports); err != nil {
		t.Fatal(err)
	}
	co := index.ClusterOptions{MaxDistance: opts.MaxDistance, NoTransforms: opts.NoTransforms}
	start := time.Now()
	want, wst, err := st.Clusters(ctx, co)
	if err != nil {
		t.Fatal(err)
	}
	clustersTime := time.Since(start)
	ref := filepath.Join(tmp, "ref.parquet")
	if _, err := interchange.ExportPairs(ctx, st, ref, co); err != nil {
		t.Fatal(err)
	}
	wantPairs, wantMeta := pairNames(t, []string{ref})

	opts.Exports, opts.Out = exports, filepath.Join(tmp, "pairs")
	took := runPrism(t, func(s beam.Scope) { Pairs(s, opts) })
	files, err := filepath.Glob(filepath.Join(opts.Out, "pairs-*.parquet"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no pairs file written (%v)", err)
	}
	gotPairs, gotMeta := pairNames(t, files)
	t.Logf("%d images: Prism pairs %v, %d pairs; copycat clusters %v (%d candidates, %d verified)",
		wst.Images, took.Round(time.Millisecond), len(gotPairs), clustersTime.Round(time.Millisecond), wst.CandidatePairs, wst.VerifiedPairs)
	if gotMeta != wantMeta {
		t.Errorf("pairs metadata %+v, want %+v", gotMeta, wantMeta)
	}
	if !slices.Equal(gotPairs, wantPairs) {
		missing, extra := diffSorted(wantPairs, gotPairs)
		t.Errorf("Beam pairs: %d, copycat's: %d; %d missing (first %v), %d extra (first %v)",
			len(gotPairs), len(wantPairs), len(missing), first(missing), len(extra), first(extra))
	}
	if len(wantPairs) == 0 {
		t.Fatal("no pair at all: the data tests nothing")
	}
	if _, err := interchange.ImportPairs(ctx, st, files); err != nil {
		t.Fatal(err)
	}
	got, gst, err := st.Clusters(ctx, co)
	if err != nil {
		t.Fatal(err)
	}
	if gst.ImportedPairs != len(gotPairs) {
		t.Errorf("clusters took %d imported pairs, want %d", gst.ImportedPairs, len(gotPairs))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("clusters from the Beam pairs differ from the search's: %d clusters, want %d", len(got), len(want))
	}
}

func diffSorted(want, got []string) (missing, extra []string) {
	i, j := 0, 0
	for i < len(want) || j < len(got) {
		switch {
		case j >= len(got) || (i < len(want) && want[i] < got[j]):
			missing = append(missing, want[i])
			i++
		case i >= len(want) || got[j] < want[i]:
			extra = append(extra, got[j])
			j++
		default:
			i++
			j++
		}
	}
	return missing, extra
}

func first(s []string) []string { return s[:min(3, len(s))] }

// TestPairsGenerated: the pairs of a generated set, with a hot key split
// into cells, equal the index's.
func TestPairsGenerated(t *testing.T) {
	n := *genImages
	if testing.Short() {
		n = 2000
	}
	dir := filepath.Join(t.TempDir(), "index")
	genSet(t, dir, n, 1)
	checkPairsEqual(t, dir, PairsOptions{MaxDistance: -1, HotKey: n / 8})
}

// TestPairsOptions: other distances and no transforms.
func TestPairsOptions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	genSet(t, dir, 2000, 2)
	for _, o := range []PairsOptions{{MaxDistance: 3}, {MaxDistance: -1, NoTransforms: true}, {MaxDistance: 12, HotKey: 400, PrefixBits: 8}} {
		t.Run(fmt.Sprintf("d%d-nt%v-hot%d", o.MaxDistance, o.NoTransforms, o.HotKey), func(t *testing.T) {
			checkPairsEqual(t, dir, o)
		})
	}
}

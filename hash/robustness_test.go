package hash

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/copycat-dev/copycat/internal/corpusinfo"
	"github.com/copycat-dev/copycat/internal/testkit"
)

// transform is one ImageMagick operation applied to make a copy.
type transform struct {
	name string
	args []string // between the input and the output file
	ext  string   // output format
	flip bool     // a mirror: judged on the dihedral pHash
}

var transforms = []transform{
	{"resize-50%", []string{"-resize", "50%"}, ".png", false},
	{"squash-224x224", []string{"-resize", "224x224!"}, ".png", false},
	{"jpeg-q95", []string{"-quality", "95"}, ".jpg", false},
	{"jpeg-q75", []string{"-quality", "75"}, ".jpg", false},
	{"jpeg-q50", []string{"-quality", "50"}, ".jpg", false},
	{"png-8bit", []string{"-depth", "8"}, ".png", false},
	{"png8-palette", []string{"-colors", "256"}, ".png8", false},
	{"gamma-0.8", []string{"-gamma", "0.8"}, ".png", false},
	{"gamma-1.2", []string{"-gamma", "1.2"}, ".png", false},
	{"flop", []string{"-flop"}, ".png", true},
	{"crop-2%", []string{"-gravity", "center", "-crop", "96%x96%+0+0", "+repage"}, ".png", false},
	{"crop-5%", []string{"-gravity", "center", "-crop", "90%x90%+0+0", "+repage"}, ".png", false},
	{"rotate-3deg", []string{"-distort", "SRT", "3"}, ".png", false},
}

// pairDist is the distances between two fingerprints.
type pairDist struct {
	p, pDih, d, a, pdq int
	lowQ               bool // either PDQ quality below PDQMinQuality
}

func distances(x, y *Fingerprint) pairDist {
	pd, _ := DihedralDistance(x.PHash, y.Dihedral)
	return pairDist{
		p:    Distance64(x.PHash, y.PHash),
		pDih: pd,
		d:    Distance64(x.DHash, y.DHash),
		a:    Distance64(x.AHash, y.AHash),
		pdq:  DistancePDQ(x.PDQ, y.PDQ),
		lowQ: x.PDQQuality < PDQMinQuality || y.PDQQuality < PDQMinQuality,
	}
}

// hashCols are the columns of the summary: which distance, which threshold.
var hashCols = []struct {
	name string
	dist func(pairDist) int
	max  int
}{
	{"pHash", func(d pairDist) int { return d.p }, PHashThreshold},
	{"pHash-dihedral", func(d pairDist) int { return d.pDih }, PHashThreshold},
	{"dHash", func(d pairDist) int { return d.d }, DHashThreshold},
	{"aHash", func(d pairDist) int { return d.a }, AHashThreshold},
	{"PDQ", func(d pairDist) int { return d.pdq }, PDQThreshold},
}

// minRecall is the recall pHash must keep at its default threshold for the
// transformations copycat promises to catch (pHash-dihedral for flop), and
// the benign set the threshold sweep pools. Crops and rotation are reported
// but not promised.
var minRecall = map[string]float64{
	"resize-50%": 1, "squash-224x224": 1, "jpeg-q95": 1, "jpeg-q75": 1, "jpeg-q50": 1,
	"png-8bit": 1, "png8-palette": 1, "gamma-0.8": 1, "gamma-1.2": 1, "flop": 1,
}

// minRecallPDQ is the same for PDQ, which is not promised under resizing:
// below 128 pixels the reference's box filter stops blurring before it
// decimates to 64x64, and halving a small image moves its PDQ by up to 46
// bits on the corpus.
var minRecallPDQ = map[string]float64{
	"jpeg-q95": 1, "jpeg-q75": 1, "jpeg-q50": 1, "png-8bit": 1, "png8-palette": 1, "gamma-0.8": 1, "gamma-1.2": 1,
}

// maxFalseMatch bounds the share of distinct (non-hard) pairs each hash may
// call copies at its default threshold.
var maxFalseMatch = map[string]float64{
	"pHash": 0.0005, "pHash-dihedral": 0.0005, "dHash": 0.0005, "aHash": 0.005, "PDQ": 0.0005,
}

// sweeps are the thresholds tabulated per hash in the golden file.
var sweeps = map[string][]int{
	"pHash":          {2, 4, 6, 8, 10, 12, 14, 16},
	"pHash-dihedral": {2, 4, 6, 8, 10, 12, 14, 16},
	"dHash":          {2, 4, 5, 6, 7, 8, 9, 10, 12},
	"aHash":          {2, 3, 4, 5, 6, 8, 10},
	"PDQ":            {10, 20, 31, 40, 50, 60, 70},
}

// TestRobustness measures, on real images, what the default thresholds
// catch and what they confuse, and pins the summary in
// testdata/robustness.golden.
func TestRobustness(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: robustness study skipped (about a minute)")
	}
	if raceEnabled {
		t.Skip("measurement study: runs without -race (make test runs it so)")
	}
	convert := testkit.ImageMagick(t)
	root, files := corpusImages(t, "natural", "medical_png_jpeg")
	version := imageMagickVersion(t, convert)
	h := NewHasher()
	start := time.Now()

	fps := map[string]*Fingerprint{}
	var names []string
	for _, rel := range files {
		img, err := tryDecode(filepath.Join(root, rel))
		if err != nil {
			t.Logf("skip %s: %v", rel, err)
			continue
		}
		fp := h.Compute(img)
		fps[rel] = &fp
		names = append(names, rel)
	}

	// Distinct pairs, hard negatives and known copies.
	var distinct, hard, copies []pairDist
	type close struct {
		a, b string
		d    pairDist
	}
	var closest []close
	for i, a := range names {
		for _, b := range names[i+1:] {
			d := distances(fps[a], fps[b])
			ga, gb := corpusinfo.SameGroup(a), corpusinfo.SameGroup(b)
			switch {
			case ga != "" && ga == gb:
				copies = append(copies, d)
			case corpusinfo.HardNegative(a, b):
				hard = append(hard, d)
			default:
				distinct = append(distinct, d)
				if d.p <= PHashThreshold+4 || d.pdq <= PDQThreshold+10 || d.d <= DHashThreshold {
					closest = append(closest, close{a, b, d})
				}
			}
		}
	}
	t.Logf("fingerprints and pairs of %d images: %v", len(names), time.Since(start).Round(time.Millisecond))
	for _, c := range closest {
		t.Logf("close distinct pair: %s ~ %s: %+v", c.a, c.b, c.d)
	}

	// Transformed copies of a spread-out subset.
	const subset = 30
	var sample []string
	for i := range subset {
		sample = append(sample, names[i*len(names)/subset])
	}
	start = time.Now()
	perTransform := makeCopies(t, convert, root, sample, h, fps)
	t.Logf("%d transformed copies: %v", len(sample)*len(transforms), time.Since(start).Round(time.Millisecond))

	var b strings.Builder
	fmt.Fprintf(&b, "# copycat hash robustness (go test ./hash -run TestRobustness -update)\n")
	fmt.Fprintf(&b, "# %s\n", version)
	fmt.Fprintf(&b, "# thresholds: pHash<=%d dHash<=%d aHash<=%d PDQ<=%d (PDQ quality>=%d)\n",
		PHashThreshold, DHashThreshold, AHashThreshold, PDQThreshold, PDQMinQuality)
	fmt.Fprintf(&b, "# per cell: recall at the threshold, mean/max distance (bits)\n")
	fmt.Fprintf(&b, "\n## transformed copies: %d corpus images (natural, medical_png_jpeg) x ImageMagick\n", len(sample))
	fmt.Fprintf(&b, "%-16s", "transform")
	for _, c := range hashCols {
		fmt.Fprintf(&b, " %-20s", c.name)
	}
	b.WriteString("\n")
	for _, tr := range transforms {
		ds := perTransform[tr.name]
		fmt.Fprintf(&b, "%-16s", tr.name)
		for _, c := range hashCols {
			recall, mean, mx := summarise(ds, c.dist, c.max)
			fmt.Fprintf(&b, " %-20s", fmt.Sprintf("%.3f %5.2f/%d", recall, mean, mx))
			if want, ok := minRecall[tr.name]; ok && recall < want && (c.name == "pHash-dihedral" || (c.name == "pHash" && !tr.flip)) {
				t.Errorf("%s: %s recall %.3f at threshold %d, want >= %.3f", tr.name, c.name, recall, c.max, want)
			}
			if want, ok := minRecallPDQ[tr.name]; ok && c.name == "PDQ" && recall < want {
				t.Errorf("%s: PDQ recall %.3f at threshold %d, want >= %.3f", tr.name, recall, c.max, want)
			}
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\n## pairs of images: false-match rate at the threshold (count), mean/min distance\n")
	fmt.Fprintf(&b, "%-26s", "pairs")
	for _, c := range hashCols {
		fmt.Fprintf(&b, " %-24s", c.name)
	}
	b.WriteString("\n")
	for _, set := range []struct {
		name string
		ds   []pairDist
	}{
		{fmt.Sprintf("distinct (%d)", len(distinct)), distinct},
		{fmt.Sprintf("hard negatives (%d)", len(hard)), hard},
		{fmt.Sprintf("known copies (%d)", len(copies)), copies},
	} {
		fmt.Fprintf(&b, "%-26s", set.name)
		for _, c := range hashCols {
			rate, n, mean, mn := matchRate(set.ds, c.dist, c.max)
			fmt.Fprintf(&b, " %-24s", fmt.Sprintf("%.4f (%d) %5.2f/%d", rate, n, mean, mn))
			if strings.HasPrefix(set.name, "distinct") && rate > maxFalseMatch[c.name] {
				t.Errorf("%s: false-match rate %.4f among distinct pairs at threshold %d, want <= %v", c.name, rate, c.max, maxFalseMatch[c.name])
			}
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\n## threshold sweep: recall over the benign copies (%s; flop only for pHash-dihedral)\n", benignNames())
	fmt.Fprintf(&b, "## against false-match rate among distinct pairs and hard negatives\n")
	for _, c := range hashCols {
		var benign []pairDist
		for _, tr := range transforms {
			if _, ok := minRecall[tr.name]; ok && (!tr.flip || c.name == "pHash-dihedral") {
				benign = append(benign, perTransform[tr.name]...)
			}
		}
		fmt.Fprintf(&b, "%-15s", c.name)
		for _, thr := range sweeps[c.name] {
			rec, _, _ := summarise(benign, c.dist, thr)
			fm, _, _, _ := matchRate(distinct, c.dist, thr)
			hn, _, _, _ := matchRate(hard, c.dist, thr)
			fmt.Fprintf(&b, " <=%d:%.3f/%.4f/%.2f", thr, rec, fm, hn)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\n## distance histograms, distinct pairs (bits:count)\n")
	for _, c := range hashCols {
		var st distStats
		for _, d := range distinct {
			st.add(c.dist(d))
		}
		fmt.Fprintf(&b, "%-15s %s\n", c.name, lowTail(&st, 2*c.max))
	}
	got := b.String()
	t.Log("\n" + got)

	golden := filepath.Join("testdata", "robustness.golden")
	if !testkit.Update() {
		if want, err := os.ReadFile(golden); err == nil && !strings.Contains(string(want), version) {
			t.Skipf("robustness.golden was made with another ImageMagick; not comparing (have %s)", version)
		}
	}
	testkit.Check(t, golden, got)
}

// makeCopies applies every transform to every sample image (two convert
// processes at a time) and returns the distances from original to copy.
func makeCopies(t *testing.T, convert, root string, sample []string, h *Hasher, fps map[string]*Fingerprint) map[string][]pairDist {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	type job struct {
		rel string
		i   int
		tr  transform
		out string
	}
	var jobs []job
	for i, rel := range sample {
		for _, tr := range transforms {
			out := filepath.Join(dir, fmt.Sprintf("%02d-%s", i, tr.name))
			jobs = append(jobs, job{rel, i, tr, out})
		}
	}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	next := make(chan int)
	for range 2 {
		wg.Go(func() {
			for k := range next {
				j := jobs[k]
				dst := j.out + j.tr.ext
				if j.tr.ext == ".png8" {
					dst = "PNG8:" + j.out + ".png"
				}
				args := append([]string{filepath.Join(root, j.rel)}, j.tr.args...)
				args = append(args, dst)
				if out, err := exec.CommandContext(ctx, convert, args...).CombinedOutput(); err != nil {
					errs[k] = fmt.Errorf("convert %s: %v: %s", strings.Join(args, " "), err, out)
				}
			}
		})
	}
	for k := range jobs {
		next <- k
	}
	close(next)
	wg.Wait()

	res := map[string][]pairDist{}
	for k, j := range jobs {
		if errs[k] != nil {
			t.Error(errs[k])
			continue
		}
		path := j.out + strings.TrimSuffix(j.tr.ext, "8")
		img, err := tryDecode(path)
		if err != nil {
			t.Errorf("decode %s copy of %s: %v", j.tr.name, j.rel, err)
			continue
		}
		fp := h.Compute(img)
		d := distances(&fp, fps[j.rel])
		if !j.tr.flip && (d.p > PHashThreshold || (d.pdq > PDQThreshold && !strings.HasPrefix(j.tr.name, "crop") && !strings.HasPrefix(j.tr.name, "rotate"))) {
			b := img.Bounds()
			t.Logf("%s of %s (copy %dx%d, PDQ quality %d/%d): %+v", j.tr.name, j.rel, b.Dx(), b.Dy(), fp.PDQQuality, fps[j.rel].PDQQuality, d)
		}
		res[j.tr.name] = append(res[j.tr.name], d)
	}
	return res
}

func benignNames() string {
	var n []string
	for _, tr := range transforms {
		if _, ok := minRecall[tr.name]; ok {
			n = append(n, tr.name)
		}
	}
	return strings.Join(n, " ")
}

func summarise(ds []pairDist, dist func(pairDist) int, thr int) (recall, mean float64, mx int) {
	if len(ds) == 0 {
		return 0, 0, 0
	}
	hit, sum := 0, 0
	for _, d := range ds {
		v := dist(d)
		sum += v
		mx = max(mx, v)
		if v <= thr {
			hit++
		}
	}
	return float64(hit) / float64(len(ds)), float64(sum) / float64(len(ds)), mx
}

func matchRate(ds []pairDist, dist func(pairDist) int, thr int) (rate float64, n int, mean float64, mn int) {
	if len(ds) == 0 {
		return 0, 0, 0, 0
	}
	sum := 0
	mn = 1 << 30
	for _, d := range ds {
		v := dist(d)
		sum += v
		mn = min(mn, v)
		if v <= thr {
			n++
		}
	}
	return float64(n) / float64(len(ds)), n, float64(sum) / float64(len(ds)), mn
}

// lowTail prints the histogram up to limit and a count beyond.
func lowTail(st *distStats, limit int) string {
	var parts []string
	beyond := 0
	keys := make([]int, 0, len(st.hist))
	for k := range st.hist {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if k > limit {
			beyond += st.hist[k]
			continue
		}
		parts = append(parts, fmt.Sprintf("%d:%d", k, st.hist[k]))
	}
	parts = append(parts, fmt.Sprintf(">%d:%d", limit, beyond))
	return strings.Join(parts, " ")
}

func imageMagickVersion(tb testing.TB, convert string) string {
	tb.Helper()
	out, err := exec.Command(convert, "-version").Output()
	if err != nil {
		tb.Skipf("convert -version: %v", err)
	}
	line, _, _ := strings.Cut(string(out), "\n")
	// "Version: ImageMagick 6.9.11-60 Q16 x86_64 2021-01-25 https://..."
	f := strings.Fields(line)
	if len(f) >= 3 {
		return strings.Join(f[1:3], " ")
	}
	return line
}

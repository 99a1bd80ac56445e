package reupload

import (
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/ingest"
	"github.com/copycat-dev/copycat/lineage"
	"github.com/copycat-dev/copycat/match"
	"github.com/copycat-dev/copycat/scan"
)

// dumpWindowNames maps the dump windows of sliceDump to the names lineage
// gives them (ingest's window names).
var dumpWindowNames = map[string]string{
	"slice min-max":       ingest.NIfTISliceMinMax.String(),
	"volume min-max":      ingest.NIfTIVolumeMinMax.String(),
	"percentile 0.5-99.5": ingest.NIfTIPercentile05.String(),
	"percentile 1-99":     ingest.NIfTIPercentile1.String(),
	"cal_min/cal_max":     ingest.NIfTICal.String(),
}

// calRange returns the cal_min and cal_max of the NIfTI-1 file at p, and
// whether they are set (cal_max > cal_min).
func calRange(tb testing.TB, p string) (lo, hi float64, ok bool) {
	tb.Helper()
	f, err := os.Open(p)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(p, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			tb.Fatal(err)
		}
		r = zr
	}
	var hdr [348]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		tb.Fatal(err)
	}
	bo := binary.ByteOrder(binary.LittleEndian)
	if binary.LittleEndian.Uint32(hdr[:]) != 348 {
		bo = binary.BigEndian
	}
	hi = float64(math.Float32frombits(bo.Uint32(hdr[124:])))
	lo = float64(math.Float32frombits(bo.Uint32(hdr[128:])))
	return lo, hi, hi > lo
}

// TestNIfTIDumpWindows checks that lineage names the window of slice
// dumps. For each study volume (ch2, inia19 with cal_min/cal_max, ch2
// with a hot spot), every window (cal_min/cal_max where the header sets
// it) x {PNG, JPEG q90} x {none, rot90, transpose} is a dataset of the
// dumps of every 6th slice of the middle three fifths of the volume; all
// are scanned with the volume into one index, and each edge volume ->
// dumps must name its window. The table gives, per edge, the share of
// its pairs whose verdict includes the right window (a pair whose slice
// two windows map alike names both), the figure of the closing note.
// A combination whose dumps are featureless but for one at most (the
// hot-spot volume under its min-max) has no edge, as featureless images
// are copies only when identical: the table says so.
//
// It scans about 1,800 dumps: a measurement, skipped with -short and
// -race like the other studies of this package.
func TestNIfTIDumpWindows(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("study on real volumes: runs without -race and -short")
	}
	vols := studyVolumes(t, t.TempDir())
	dw := scan.NewWorker(ingest.Options{})
	defer dw.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "# edges volume -> slice dumps: the window lineage names, and its pairs\n")
	fmt.Fprintf(&b, "%-26s %-20s %-9s %-6s %-20s %5s %6s %8s  %s\n", "volume", "dump window", "geometry", "format", "edge window", "pairs", "right", "accuracy", "pairs per window")
	var right, pairs, edges, edgesRight int
	perWindow := map[string]*[3]int{} // right, pairs, names of other windows
	for _, p := range vols {
		v, err := ReadNIfTIFile(p)
		if err != nil {
			t.Fatal(err)
		}
		ranges := volumeWindows(v)
		wins := slices.Clone(dumpWindows)
		if lo, hi, ok := calRange(t, p); ok {
			ranges["cal_min/cal_max"] = [2]float64{lo, hi}
			wins = append(wins, "cal_min/cal_max")
		}
		root := t.TempDir()
		volDir := filepath.Join(root, "volume")
		if err := os.MkdirAll(volDir, 0o755); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(volDir, filepath.Base(p)), data, 0o644); err != nil {
			t.Fatal(err)
		}
		type combo struct {
			win, geom, format, name string
			shows                   int // dumps that are not featureless
		}
		var combos []combo
		datasets := []scan.Dataset{{Name: "volume", Path: volDir}}
		for _, win := range wins {
			for _, g := range dumpGeoms {
				for _, f := range dumpFormats {
					c := combo{win: win, geom: g, format: f, name: strings.NewReplacer(" ", "-", "/", "-").Replace(fmt.Sprintf("%s-%s-%s", win, g, f))}
					dir := filepath.Join(root, c.name)
					if err := os.MkdirAll(dir, 0o755); err != nil {
						t.Fatal(err)
					}
					for k := v.NZ / 5; k < v.NZ*4/5; k += 6 {
						ext := map[string]string{"png": ".png", "jpeg90": ".jpg"}[f]
						d := sliceDump(t, v, k, win, g, f, ranges)
						if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("slice%03d%s", k, ext)), d, 0o644); err != nil {
							t.Fatal(err)
						}
						imgs, err := dw.Frames("dump"+ext, d)
						if err != nil {
							t.Fatal(err)
						}
						if !match.Verify(&imgs[0].Fingerprint, &imgs[0].Fingerprint, match.Identity).Flat {
							c.shows++
						}
					}
					combos = append(combos, c)
					datasets = append(datasets, scan.Dataset{Name: c.name, Path: dir})
				}
			}
		}
		st, err := index.Open(filepath.Join(root, "index"), index.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := scan.Run(t.Context(), st, scan.Options{Workers: 2}, datasets); err != nil {
			t.Fatal(err)
		}
		rep, err := lineage.Analyze(t.Context(), st, lineage.Options{MaxDistance: -1, NoDocuments: true})
		st.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range combos {
			want := dumpWindowNames[c.win]
			var e *lineage.Edge
			for _, es := range [][]lineage.Edge{rep.Edges, rep.Indirect} {
				for i := range es {
					if es[i].Original == "volume" && es[i].Copy == c.name {
						e = &es[i]
					}
				}
			}
			if e == nil && c.shows < 2 {
				// The dumps are featureless but for one at most (the hot
				// spot leaves the brain black under the volume's min-max):
				// featureless images are copies only when identical, and
				// one image is an overlap, not a derivation.
				fmt.Fprintf(&b, "%-26s %-20s %-9s %-6s no edge: %d of the dumps shows something\n", filepath.Base(p), c.win, c.geom, c.format, c.shows)
				continue
			}
			if e == nil {
				t.Errorf("%s: no edge volume -> %s (%d dumps that show something)", filepath.Base(p), c.name, c.shows)
				continue
			}
			edges++
			if e.Window == want {
				edgesRight++
			} else {
				t.Errorf("%s: edge volume -> %s names the window %q, want %q (pairs per window %v)", filepath.Base(p), c.name, e.Window, want, e.Windows)
			}
			if !slices.Contains(e.Transforms, "window: "+want) && e.Window == want {
				t.Errorf("%s: edge volume -> %s: transforms %v lack %q", filepath.Base(p), c.name, e.Transforms, "window: "+want)
			}
			right += e.Windows[want]
			pairs += e.SharedImages
			pw := perWindow[want]
			if pw == nil {
				pw = &[3]int{}
				perWindow[want] = pw
			}
			pw[0] += e.Windows[want]
			pw[1] += e.SharedImages
			for n, k := range e.Windows {
				if n != want {
					pw[2] += k
				}
			}
			var counts []string
			for _, n := range slices.Sorted(maps.Keys(e.Windows)) {
				counts = append(counts, fmt.Sprintf("%s: %d", n, e.Windows[n]))
			}
			fmt.Fprintf(&b, "%-26s %-20s %-9s %-6s %-20s %5d %6d %8.3f  %s\n", filepath.Base(p), c.win, c.geom, c.format, e.Window, e.SharedImages, e.Windows[want], float64(e.Windows[want])/float64(max(1, e.SharedImages)), strings.Join(counts, ", "))
		}
	}
	fmt.Fprintf(&b, "# per pair, by dump window: share of pairs whose verdict includes the right window; other windows named (tied, or instead)\n")
	for _, w := range slices.Sorted(maps.Keys(perWindow)) {
		fmt.Fprintf(&b, "%-22s %5d of %5d  %.3f  others named %d\n", w, perWindow[w][0], perWindow[w][1], float64(perWindow[w][0])/float64(max(1, perWindow[w][1])), perWindow[w][2])
	}
	fmt.Fprintf(&b, "# all: edges named right %d of %d; pairs %d of %d (%.3f)\n", edgesRight, edges, right, pairs, float64(right)/float64(max(1, pairs)))
	t.Log("\n" + b.String())
}

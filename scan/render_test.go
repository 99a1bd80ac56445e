package scan

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/copycat-dev/copycat/hash"
	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/ingest"
	"github.com/copycat-dev/copycat/internal/testkit"
	"github.com/copycat-dev/copycat/match"
)

// fingerprintFile decodes a file the way a scan does and returns the
// fingerprint of its first frame.
func fingerprintFile(tb testing.TB, p string) (hash.Fingerprint, ingest.Meta, error) {
	tb.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		return hash.Fingerprint{}, ingest.Meta{}, err
	}
	dec := ingest.NewDecoder(ingest.Options{MinSide: hash.MinSide})
	defer dec.Close()
	meta, imgs, err := decodeImages(dec, hash.NewHasher(), nil, data, &stageTimer{})
	var fp hash.Fingerprint
	if len(imgs) > 0 {
		fp = imgs[0].Fingerprint
	}
	return fp, meta, err
}

// TestDICOMRenderRecall measures what happens to a DICOM when someone
// exports it with DCMTK, as dataset uploaders do: dcm2pnm (or dcmj2pnm for
// compressed files) renders the first frame to an 8-bit PNG with the file's
// own window, and with a min-max window. The DICOMs are scanned into a real
// index and each render is looked up in it the way `copycat query` does: a
// render is found when the query returns its DICOM's first frame as a
// verified copy. Renders that are featureless (a thumbnail under one grey
// level of spread: a window far from the data) are counted apart, since
// such images match only when their pixels are identical. The summary is
// pinned in testdata/dicom_render.golden.
func TestDICOMRenderRecall(t *testing.T) {
	if raceEnabled {
		t.Skip("measurement study: runs without -race (make test runs it so)")
	}
	corpus := testkit.Corpus(t)
	tool, err := exec.LookPath("dcmj2pnm")
	if err != nil {
		t.Skip("DCMTK (dcmj2pnm) not installed")
	}
	files, _ := filepath.Glob(filepath.Join(corpus, "dicom", "*", "*.dcm"))
	type row struct {
		name, mode string
		dist       int // -1: not within hash.PHashThreshold
		verified   bool
		minMax     bool // found through the DICOM's min-max fingerprint
		flat       bool // the render is featureless
	}
	var rows []*row
	byRender := map[string]*row{}
	var renders []string
	dir := t.TempDir()
	for _, f := range files {
		_, meta, err := fingerprintFile(t, f)
		if err != nil {
			continue // undecodable in this build: reported by the ingest tests
		}
		if strings.HasPrefix(meta.TransferSyntax, "1.2.840.10008.1.2.4.8") || strings.HasPrefix(meta.TransferSyntax, "1.2.840.10008.1.2.4.9") {
			continue // JPEG-LS and JPEG 2000: only some builds decode them, and dcmj2pnm never does
		}
		rel, _ := filepath.Rel(filepath.Join(corpus, "dicom"), f)
		for _, mode := range []struct{ name, flag string }{{"own window", "+Wi"}, {"min-max", "+Wm"}} {
			out := filepath.Join(dir, fmt.Sprintf("%d.png", len(rows)))
			args := []string{"+on", "+F", "1"}
			if mode.flag == "+Wi" {
				args = append(args, "+Wi", "1")
			} else {
				args = append(args, "+Wm")
			}
			if b, err := exec.Command(tool, append(args, f, out)...).CombinedOutput(); err != nil {
				if mode.flag == "+Wi" && strings.Contains(string(b), "window") {
					continue // no stored window
				}
				t.Logf("%s %s: dcmj2pnm: %v", rel, mode.name, strings.TrimSpace(string(b)))
				continue
			}
			png, _, err := fingerprintFile(t, out)
			if err != nil {
				t.Errorf("%s: render does not decode: %v", rel, err)
				continue
			}
			r := &row{name: rel, mode: mode.name, dist: -1, flat: match.Verify(&png, &png, 0).Flat}
			rows = append(rows, r)
			byRender[out] = r
			renders = append(renders, out)
		}
	}
	if len(rows) == 0 {
		t.Skip("no DICOM could be rendered")
	}
	idx := t.TempDir()
	runScan(t, idx, 2, Dataset{Name: "dicom", Path: filepath.Join(corpus, "dicom")})
	st, err := index.Open(idx, index.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	qw := NewQueryWorker(st)
	defer qw.Close()
	for _, p := range renders {
		r := byRender[p]
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		res, err := qw.Query(t.Context(), st, p, data, QueryOptions{MaxDistance: hash.PHashThreshold})
		if err != nil {
			t.Errorf("%s %s: query: %v", r.name, r.mode, err)
			continue
		}
		for _, q := range res {
			for _, m := range q.Matches {
				if m.Image.Path != r.name || m.Image.Frame != 0 {
					continue
				}
				if r.dist < 0 || m.Verified && !r.verified || m.Verified == r.verified && m.Distance < r.dist {
					r.dist, r.verified, r.minMax = m.Distance, m.Verified, m.MinMax
				}
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# DICOM -> DCMTK PNG render, looked up in an index of the DICOMs (first frame)\n")
	fmt.Fprintf(&b, "# go test ./scan -run TestDICOMRenderRecall -update\n")
	recall := map[string]float64{}
	for _, mode := range []string{"own window", "min-max"} {
		n, flat, within, verified, verifiedFlat, viaMinMax := 0, 0, 0, 0, 0, 0
		for _, r := range rows {
			if r.mode != mode {
				continue
			}
			n++
			if r.dist >= 0 {
				within++
			}
			switch {
			case r.flat:
				flat++
				if r.verified {
					verifiedFlat++
				}
			case r.verified:
				verified++
				if r.minMax {
					viaMinMax++
				}
			}
		}
		if n == 0 {
			continue
		}
		recall[mode] = float64(verified) / float64(max(1, n-flat))
		fmt.Fprintf(&b, "%-10s renders %3d  pHash<=%d %.3f  featureless %d (found %d)  verified copies among the rest %.3f (%d through the min-max fingerprint)\n",
			mode, n, hash.PHashThreshold, float64(within)/float64(n), flat, verifiedFlat, recall[mode], viaMinMax)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].dist > rows[j].dist })
	fmt.Fprintf(&b, "# renders that are not verified copies\n")
	for _, r := range rows {
		if r.verified {
			continue
		}
		d, why := "  >", ""
		if r.dist >= 0 {
			d = fmt.Sprintf("%3d", r.dist)
		}
		if r.flat {
			why = " featureless"
		}
		fmt.Fprintf(&b, "%-55s %-10s distance %s%s\n", r.name, r.mode, d, why)
	}
	t.Log("\n" + b.String())
	// Whatever the build, renders that show something are found.
	for mode, min := range map[string]float64{"own window": 0.99, "min-max": 0.9} {
		if got, ok := recall[mode]; ok && got < min {
			t.Errorf("%s renders: recall %.3f, want >= %.2f", mode, got, min)
		}
	}
	if c := ingest.Codecs(); len(c) > 0 {
		// libjpeg-turbo's luma differs from the pure-Go decoder's by a level
		// here and there, which moves the synthetic colour bars' hashes.
		t.Logf("golden not compared: it is the pure-Go build's, this one has %v", c)
		return
	}
	testkit.Check(t, filepath.Join("testdata", "dicom_render.golden"), b.String())
}

// TestBadCorpus scans testdata/bad (one file per kind of damage, made by
// its make.sh) and pins each file's one-line reason and the grouping.
func TestBadCorpus(t *testing.T) {
	sum := runScan(t, t.TempDir(), 2, Dataset{Name: "bad", Path: filepath.Join(testkit.ModuleRoot(t), "testdata", "bad")})
	d := sum.Datasets[0]
	var b strings.Builder
	fmt.Fprintf(&b, "files %d decoded %d skipped %d failed %d\n", d.Files, d.Decoded, d.Skipped, d.FailedTotal)
	for _, f := range d.Failed {
		fmt.Fprintf(&b, "%s: %s\n", f.Path, f.Reason)
	}
	b.WriteString("# by reason\n")
	for _, r := range d.ReasonsByCount() {
		fmt.Fprintf(&b, "%d %s\n", d.FailureReasons[r], r)
	}
	testkit.Check(t, filepath.Join("testdata", "bad.golden"), b.String())
}

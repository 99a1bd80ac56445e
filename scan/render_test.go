package scan

import (
	"flag"
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
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// checkGolden compares got with testdata/name, rewriting the file first
// with -update.
func checkGolden(tb testing.TB, name, got string) {
	tb.Helper()
	golden := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		tb.Fatalf("%v (run with -update)", err)
	}
	if string(want) != got {
		tb.Errorf("%s differs (run with -update if intended):\ngot\n%s\nwant\n%s", golden, got, want)
	}
}

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
	meta, imgs, err := decodeImages(dec, hash.NewHasher(), data)
	var fp hash.Fingerprint
	if len(imgs) > 0 {
		fp = imgs[0].Fingerprint
	}
	return fp, meta, err
}

// TestDICOMRenderRecall measures what happens to a DICOM when someone
// exports it with DCMTK, as dataset uploaders do: dcm2pnm (or dcmj2pnm for
// compressed files) renders the first frame to an 8-bit PNG with the file's
// own window, and with a min-max window. Each render is compared with
// copycat's own rendering of the DICOM: pHash distance, and whether the
// index's verification calls it a copy. The summary is pinned in
// testdata/dicom_render.golden.
func TestDICOMRenderRecall(t *testing.T) {
	if raceEnabled {
		t.Skip("measurement study: runs without -race (make test runs it so)")
	}
	corpus := sharedCorpus(t)
	tool, err := exec.LookPath("dcmj2pnm")
	if err != nil {
		t.Skip("DCMTK (dcmj2pnm) not installed")
	}
	files, _ := filepath.Glob(filepath.Join(corpus, "dicom", "*", "*.dcm"))
	type row struct {
		name, mode string
		dist       int
		verified   bool
	}
	var rows []row
	dir := t.TempDir()
	for _, f := range files {
		orig, meta, err := fingerprintFile(t, f)
		if err != nil {
			continue // undecodable in this build: reported by the ingest tests
		}
		if strings.HasPrefix(meta.TransferSyntax, "1.2.840.10008.1.2.4.8") || strings.HasPrefix(meta.TransferSyntax, "1.2.840.10008.1.2.4.9") {
			continue // JPEG-LS and JPEG 2000: only some builds decode them, and dcmj2pnm never does
		}
		rel, _ := filepath.Rel(corpus, f)
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
			d, k := hash.DihedralDistance(png.PHash, orig.Dihedral)
			v := index.Compare(&orig, &png, index.Transform(k))
			rows = append(rows, row{rel, mode.name, d, d <= hash.PHashThreshold && index.VerifyOptions{}.Accept(v)})
		}
	}
	if len(rows) == 0 {
		t.Skip("no DICOM could be rendered")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# DICOM -> DCMTK PNG render vs copycat's rendering of the DICOM (first frame)\n")
	fmt.Fprintf(&b, "# go test ./scan -run TestDICOMRenderRecall -update\n")
	for _, mode := range []string{"own window", "min-max"} {
		n, within, verified, sum, maxd := 0, 0, 0, 0, 0
		for _, r := range rows {
			if r.mode != mode {
				continue
			}
			n++
			sum += r.dist
			maxd = max(maxd, r.dist)
			if r.dist <= hash.PHashThreshold {
				within++
			}
			if r.verified {
				verified++
			}
		}
		if n == 0 {
			continue
		}
		fmt.Fprintf(&b, "%-10s renders %3d  pHash<=%d recall %.3f  verified copies %.3f  distance mean %.2f max %d\n",
			mode, n, hash.PHashThreshold, float64(within)/float64(n), float64(verified)/float64(n), float64(sum)/float64(n), maxd)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].dist > rows[j].dist })
	fmt.Fprintf(&b, "# farthest renders, then every other render that is not a verified copy\n")
	for i, r := range rows {
		if i < 8 || !r.verified {
			fmt.Fprintf(&b, "%-55s %-10s distance %2d verified %v\n", r.name, r.mode, r.dist, r.verified)
		}
	}
	t.Log("\n" + b.String())
	// Whatever the build, own-window renders are copies and min-max renders
	// mostly are.
	for _, r := range []struct {
		mode string
		min  float64
	}{{"own window", 0.99}, {"min-max", 0.9}} {
		n, within := 0, 0
		for _, x := range rows {
			if x.mode == r.mode {
				n++
				if x.dist <= hash.PHashThreshold {
					within++
				}
			}
		}
		if n > 0 && float64(within)/float64(n) < r.min {
			t.Errorf("%s renders: pHash recall %.3f, want >= %.2f", r.mode, float64(within)/float64(n), r.min)
		}
	}
	if c := ingest.Codecs(); len(c) > 0 {
		// libjpeg-turbo's luma differs from the pure-Go decoder's by a level
		// here and there, which moves the synthetic colour bars' hashes.
		t.Logf("golden not compared: it is the pure-Go build's, this one has %v", c)
		return
	}
	checkGolden(t, "dicom_render.golden", b.String())
}

// TestBadCorpus scans testdata/bad (one file per kind of damage, made by
// its make.sh) and pins each file's one-line reason and the grouping.
func TestBadCorpus(t *testing.T) {
	sum := runScan(t, t.TempDir(), 2, Dataset{Name: "bad", Path: filepath.Join(moduleRoot(t), "testdata", "bad")})
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
	checkGolden(t, "bad.golden", b.String())
}

package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/copycat-dev/copycat/internal/testkit"
)

// colourPicture is picture i of a family of distinct colour pictures:
// blocks of random colour, w x h, so that no two are near-duplicates.
func colourPicture(i, w, h int) *image.RGBA {
	r := rand.New(rand.NewPCG(uint64(i), 0x5eed))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	const blocks = 8
	var grid [blocks][blocks]color.RGBA
	for y := range blocks {
		for x := range blocks {
			grid[y][x] = color.RGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
		}
	}
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, grid[y*blocks/h][x*blocks/w])
		}
	}
	return img
}

// mirrored returns img flipped left to right.
func mirrored(img *image.RGBA) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(b)
	for y := range b.Dy() {
		for x := range b.Dx() {
			out.SetRGBA(b.Dx()-1-x, y, img.RGBAAt(x, y))
		}
	}
	return out
}

// writeImage encodes img as PNG, or as JPEG at quality q when q > 0.
func writeImage(tb testing.TB, path string, img image.Image, q int) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	var err error
	if q > 0 {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: q})
	} else {
		err = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img)
	}
	if err == nil {
		err = os.WriteFile(path, buf.Bytes(), 0o644)
	}
	if err != nil {
		tb.Fatal(err)
	}
}

// reportWorld writes two datasets: orig, n colour pictures 120x80 in
// train and test splits (every fifth in test; the first three train
// pictures also in test: leaks inside orig), with long file names; and
// copy, every picture of orig mirrored and re-encoded as JPEG into its
// train split (orig's test pictures leak into copy's train).
func reportWorld(tb testing.TB, dir string, n int) (orig, cp string) {
	tb.Helper()
	orig, cp = filepath.Join(dir, "orig"), filepath.Join(dir, "copy")
	for i := range n {
		img := colourPicture(i, 120, 80)
		split := "train"
		if i%5 == 0 {
			split = "test"
		}
		name := fmt.Sprintf("patient_scan_longname_%04d.png", i)
		writeImage(tb, filepath.Join(orig, split, name), img, 0)
		if split == "train" && i < 4 {
			writeImage(tb, filepath.Join(orig, "test", "again_"+name), img, 0)
		}
		writeImage(tb, filepath.Join(cp, "train", strings.TrimSuffix(name, ".png")+".jpg"), mirrored(img), 85)
	}
	return orig, cp
}

// reportFiles returns the report's files: the main page, then the pages
// of its folder in order.
func reportFiles(tb testing.TB, main string) []string {
	tb.Helper()
	pages, err := filepath.Glob(filepath.Join(strings.TrimSuffix(main, ".html")+"_clusters", "page-*.html"))
	if err != nil {
		tb.Fatal(err)
	}
	slices.Sort(pages)
	return append([]string{main}, pages...)
}

// TestReportHTML runs `copycat scan` and `copycat report --html` on 130
// colour pictures and their mirrored JPEG copies, and checks the report:
// every cluster is on some page and every link between the pages leads to
// a file and an anchor that exist; previews are colour JPEGs with the
// images' aspect ratio; the leak pairs are marked and the leak table names
// the original. Then headless Chromium renders it: no caption breaks
// inside a word, and a screenshot (kept in $COPYCAT_REPORT_SHOTS when set).
func TestReportHTML(t *testing.T) {
	dir := t.TempDir()
	const n = 130
	orig, cp := reportWorld(t, dir, n)
	idx := filepath.Join(dir, "idx")
	if code, _, stderr := runCmd(t, nil, "scan", "--index", idx, "orig="+orig, "copy="+cp); code != exitOK {
		t.Fatalf("scan: exit %d: %s", code, stderr)
	}
	out := filepath.Join(dir, "report.html")
	code, stdout, stderr := runCmd(t, nil, "report", "--index", idx, "--html", out)
	if code != exitOK {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "1 cluster pages") && !strings.Contains(stdout, "cluster pages in") {
		t.Errorf("report output %q does not name the pages", stdout)
	}
	files := reportFiles(t, out)
	if len(files) != 2 {
		t.Fatalf("report files %v, want the report and one page of clusters", files)
	}
	pages := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		pages[f] = string(b)
	}
	main := pages[out]

	// Every cluster is on a page, once.
	m := regexp.MustCompile(`(\d+) clusters, those spanning`).FindStringSubmatch(main)
	if m == nil {
		t.Fatal("the report does not say how many clusters there are")
	}
	total, _ := strconv.Atoi(m[1])
	if total < n {
		t.Errorf("%d clusters, want at least %d (one per picture)", total, n)
	}
	seen := map[int]string{}
	anchor := regexp.MustCompile(`id="c(\d+)"`)
	for f, p := range pages {
		for _, a := range anchor.FindAllStringSubmatch(p, -1) {
			c, _ := strconv.Atoi(a[1])
			if prev, dup := seen[c]; dup {
				t.Errorf("cluster %d on %s and %s", c, prev, f)
			}
			seen[c] = f
		}
	}
	for c := 1; c <= total; c++ {
		if _, ok := seen[c]; !ok {
			t.Errorf("cluster %d is on no page", c)
		}
	}
	// Every link leads to a file of the report and an anchor in it.
	link := regexp.MustCompile(`href="([^"]*)"`)
	for f, p := range pages {
		for _, l := range link.FindAllStringSubmatch(p, -1) {
			target, frag, _ := strings.Cut(html.UnescapeString(l[1]), "#")
			file := f
			if target != "" {
				file = filepath.Clean(filepath.Join(filepath.Dir(f), target))
			}
			tp, ok := pages[file]
			switch {
			case !ok:
				t.Errorf("%s links to %q: no such page of the report", filepath.Base(f), l[1])
			case frag != "" && !strings.Contains(tp, `id="`+frag+`"`):
				t.Errorf("%s links to %q: no such anchor", filepath.Base(f), l[1])
			}
		}
	}

	// Previews: JPEGs shown at the pictures' 3:2, in colour for the PNG
	// pictures (JPEG data is decoded for its luma only, so copy's
	// previews are grey).
	all := strings.Join(slices.Collect(func(yield func(string) bool) {
		for _, f := range files {
			if !yield(pages[f]) {
				return
			}
		}
	}), "")
	imgs := regexp.MustCompile(`<img src="data:image/jpeg;base64,([^"]+)" width="(\d+)" height="(\d+)" alt="preview of ([^"]+)"`).FindAllStringSubmatch(all, -1)
	if len(imgs) < 2*n {
		t.Errorf("%d JPEG previews, want %d at least", len(imgs), 2*n)
	}
	colour := 0
	for _, im := range imgs[:min(len(imgs), 40)] {
		if im[2] != "128" || im[3] != "85" {
			t.Errorf("a 120x80 picture shown at %sx%s, want 128x85", im[2], im[3])
		}
		if strings.HasSuffix(im[4], ".png") {
			colour++
			if !colourJPEG(t, html.UnescapeString(im[1])) {
				t.Errorf("%s: a colour picture has a grey preview", im[4])
			}
		}
	}
	if colour == 0 {
		t.Error("no preview of a PNG picture")
	}

	// Leaks: the table names the original, the pairs are marked.
	if !regexp.MustCompile(`<tr><td>copy</td><td>orig</td><td>orig test / copy train</td><td class="num">\d+</td>`).MatchString(main) {
		t.Error("leak table: no row for orig's test pictures in copy's train split naming orig")
	}
	if !strings.Contains(main, "none: both images are in orig") {
		t.Error("leak table: the leaks inside orig do not say so")
	}
	if c := strings.Count(all, `<figure class="leak">`); c < 2*(n/5) {
		t.Errorf("%d images marked as in a leak pair, want at least %d", c, 2*(n/5))
	}

	// In the browser.
	run := testkit.Chromium(t)
	shots := os.Getenv("COPYCAT_REPORT_SHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		checked := f + ".check.html"
		if err := os.WriteFile(checked, []byte(strings.Replace(pages[f], "</body>", wordCheckScript+"</body>", 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		dom := string(run("--dump-dom", "file://"+checked))
		res := regexp.MustCompile(`(?s)<pre id="wordcheck">(\d+) (\d+)\n(.*?)</pre>`).FindStringSubmatch(dom)
		switch {
		case res == nil:
			t.Errorf("%s: the caption check did not run", filepath.Base(f))
		case res[1] != "0":
			t.Errorf("%s: %s of %s captions break inside a word:\n%s", filepath.Base(f), res[1], res[2], html.UnescapeString(res[3]))
		case res[2] == "0":
			t.Errorf("%s: no captions rendered", filepath.Base(f))
		}
		shot, _ := filepath.Abs(filepath.Join(shots, strings.TrimSuffix(filepath.Base(f), ".html")+".png"))
		run("--screenshot="+shot, "--window-size=1280,1600", "--hide-scrollbars", "file://"+f)
		if st, err := os.Stat(shot); err != nil || st.Size() < 10000 {
			t.Errorf("screenshot of %s: %v", filepath.Base(f), err)
		}
	}
}

// wordCheckScript, added to a copy of a page, finds the captions that the
// browser broke inside a word: two letters or digits in a row on two lines.
// It writes the count, the captions checked and the first few culprits.
const wordCheckScript = `<script>
(function () {
  const bad = [];
  const caps = document.querySelectorAll('figcaption');
  const word = /[\p{L}\p{N}]/u;
  for (const fc of caps) {
    const w = document.createTreeWalker(fc, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
    let prev = null;
    for (let n = w.nextNode(); n; n = w.nextNode()) {
      if (n.nodeType === 1) { if (n.tagName === 'BR') prev = null; continue; }
      for (let i = 0; i < n.data.length; i++) {
        const r = document.createRange(); r.setStart(n, i); r.setEnd(n, i + 1);
        const rects = r.getClientRects(); if (!rects.length) continue;
        const ch = n.data[i], top = rects[0].top;
        if (prev && word.test(prev.ch) && word.test(ch) && top > prev.top + 2) bad.push(fc.textContent + ' at ' + prev.ch + ch);
        prev = {ch, top};
      }
    }
  }
  const pre = document.createElement('pre'); pre.id = 'wordcheck';
  pre.textContent = bad.length + ' ' + caps.length + '\n' + bad.slice(0, 5).join('\n');
  document.body.appendChild(pre);
})();
</script>`

// colourJPEG reports whether a base64 JPEG decodes to a colour picture.
func colourJPEG(tb testing.TB, b64 string) bool {
	tb.Helper()
	img, err := jpeg.Decode(base64.NewDecoder(base64.StdEncoding, strings.NewReader(b64)))
	if err != nil {
		tb.Fatalf("preview: %v", err)
	}
	_, ok := img.(*image.YCbCr)
	return ok
}

// TestReport100k measures the report of 100,000 images through the CLI:
// its files' sizes, and how long headless Chromium takes to load the
// report and a page of clusters. It is opt-in, as it writes 100,000
// pictures and scans them (several minutes): set COPYCAT_REPORT_100K to a
// folder, where the pictures and index are kept for the next run. The
// world: orig, 60,000 colour pictures 120x80 in train and test splits;
// copy, 30,000 of them mirrored as JPEG plus 10,000 of its own.
func TestReport100k(t *testing.T) {
	dir := os.Getenv("COPYCAT_REPORT_100K")
	if dir == "" {
		t.Skip("set COPYCAT_REPORT_100K=DIR to run (writes 100,000 pictures into DIR)")
	}
	run := testkit.Chromium(t)
	const nOrig, nCopied, nNew = 60000, 30000, 10000
	orig, cp := filepath.Join(dir, "orig"), filepath.Join(dir, "copy")
	idx := filepath.Join(dir, "idx")
	if _, err := os.Stat(idx); err != nil {
		start := time.Now()
		for i := range nOrig {
			img := colourPicture(i, 120, 80)
			split := "train"
			if i%5 == 0 {
				split = "test"
			}
			name := fmt.Sprintf("%03d/patient_scan_%06d.png", i/1000, i)
			writeImage(t, filepath.Join(orig, split, name), img, 0)
			if i < nCopied {
				writeImage(t, filepath.Join(cp, "train", strings.TrimSuffix(name, ".png")+".jpg"), mirrored(img), 85)
			}
		}
		for i := range nNew {
			writeImage(t, filepath.Join(cp, "train", fmt.Sprintf("new/%06d.jpg", i)), colourPicture(nOrig+i, 120, 80), 85)
		}
		t.Logf("wrote %d pictures in %v", nOrig+nCopied+nNew, time.Since(start).Round(time.Second))
		start = time.Now()
		if code, _, stderr := runCmd(t, nil, "scan", "--index", idx, "orig="+orig, "copy="+cp); code != exitOK {
			os.RemoveAll(idx)
			t.Fatalf("scan: exit %d: %s", code, stderr)
		}
		t.Logf("scan: %v", time.Since(start).Round(time.Second))
	}
	out := filepath.Join(dir, "report.html")
	start := time.Now()
	code, stdout, stderr := runCmd(t, nil, "report", "--index", idx, "--html", out)
	if code != exitOK {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	t.Logf("report: %v: %s", time.Since(start).Round(100*time.Millisecond), strings.TrimSpace(stdout))
	files := reportFiles(t, out)
	var total, largest int64
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		total += st.Size()
		if f != out {
			largest = max(largest, st.Size())
		}
	}
	mainSize := fileSize(t, out)
	t.Logf("files: report %.1f MB, %d pages of clusters, largest %.1f MB, all %.1f MB", float64(mainSize)/1e6, len(files)-1, float64(largest)/1e6, float64(total)/1e6)

	// Load time: the page's own clock at its load event (parsing, layout
	// and decoding the inline previews); the wall time of a Chromium run
	// is mostly the browser's start, and too noisy on a shared machine.
	for _, f := range []string{out, files[len(files)/2]} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		timed := f + ".timed.html"
		if err := os.WriteFile(timed, bytes.Replace(b, []byte("</body>"), []byte(loadTimeScript+"</body>"), 1), 0o644); err != nil {
			t.Fatal(err)
		}
		var loads []string
		for range 3 {
			m := regexp.MustCompile(`<pre id="loadtime">([\d.]+)</pre>`).FindStringSubmatch(string(run("--dump-dom", "file://"+timed)))
			if m == nil {
				t.Fatalf("%s: the load time script did not run", filepath.Base(f))
			}
			loads = append(loads, m[1])
		}
		t.Logf("%s (%.2f MB): load event at %s ms (three runs)", filepath.Base(f), float64(fileSize(t, f))/1e6, strings.Join(loads, ", "))
	}
}

// loadTimeScript writes the time from navigation to the load event into
// the page, for --dump-dom.
const loadTimeScript = `<script>
window.addEventListener('load', function () {
  const pre = document.createElement('pre'); pre.id = 'loadtime';
  pre.textContent = performance.now().toFixed(0);
  document.body.appendChild(pre);
});
</script>`

func fileSize(tb testing.TB, path string) int64 {
	tb.Helper()
	st, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return st.Size()
}

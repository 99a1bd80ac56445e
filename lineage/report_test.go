package lineage

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"html"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/internal/testkit"
)

// demoWorld builds the demo lineage (a DICOM original, a rendered and
// relicensed copy with train/test splits, a mirrored copy of that) and
// returns its analysis and index.
func demoWorld(tb testing.TB) (*Report, *index.Store, *world) {
	tb.Helper()
	w := newWorld(tb)
	for _, line := range []string{
		"copy original demo",
		`write original README.md # Demo\nSource: https://example.org/demo\nLicense: CC-BY-4.0`,
		"derive upload demo png into=train ct_0001.dcm ct_0002.dcm",
		"derive upload demo jpeg=90 into=test ct_0003.dcm",
		"write upload README.md License: MIT",
		"derive augmented upload flop,resize=50% into=train",
	} {
		w.run(line)
	}
	ctx := context.Background()
	st := w.scanAll(ctx)
	rep, err := Analyze(ctx, st, Options{MaxDistance: -1})
	if err != nil {
		tb.Fatal(err)
	}
	return rep, st, w
}

// TestJSONInterface checks the field names the CLI's --json promises
// (tracker issue 5) on a real analysis.
func TestJSONInterface(t *testing.T) {
	rep, _, _ := demoWorld(t)
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"datasets": {"name", "images", "license", "license_source", "license_evidence", "documentation"},
		"edges":    {"original", "copy", "shared_images", "copy_fraction", "original_fraction", "transforms", "license_changed"},
		"leaks":    {"dataset", "splits", "pairs"},
	}
	for list, fields := range want {
		items, ok := got[list].([]any)
		if !ok || len(items) == 0 {
			t.Errorf("%s: missing or empty in %s", list, buf.String())
			continue
		}
		for _, f := range fields {
			if _, ok := items[0].(map[string]any)[f]; !ok {
				t.Errorf("%s[0] has no field %q", list, f)
			}
		}
	}
	// The upload is the original's rendered copy, relicensed; the
	// augmented set is the upload's mirrored copy.
	type edge struct {
		Original, Copy string
		LicenseChanged bool `json:"license_changed"`
		Transforms     []string
	}
	var r struct {
		Edges []edge
		Leaks []struct {
			Dataset string
			Splits  []string
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		orig, copy     string
		licenseChanged bool
		transform      string
	}{
		{"rendered upload", "original", "upload", true, "rendered-from-dicom"},
		{"mirrored augmentation, no licence", "upload", "augmented", true, "flip-left-right"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, e := range r.Edges {
				if e.Original == tt.orig && e.Copy == tt.copy {
					if e.LicenseChanged != tt.licenseChanged {
						t.Errorf("license_changed = %v, want %v", e.LicenseChanged, tt.licenseChanged)
					}
					if !strings.Contains(strings.Join(e.Transforms, " "), tt.transform) {
						t.Errorf("transforms = %v, want %s", e.Transforms, tt.transform)
					}
					return
				}
			}
			t.Errorf("no edge %s -> %s in %+v", tt.orig, tt.copy, r.Edges)
		})
	}
	// Issue 17's contract: the licence's evidence and the card audit.
	var docs struct {
		Datasets []struct {
			Name     string
			License  string
			Evidence *struct {
				File   string
				Line   int
				Method string
			} `json:"license_evidence"`
			Documentation *struct {
				Score float64
				Items []struct {
					Item     string
					Present  bool
					Evidence string
				}
			}
		}
		Findings []string
	}
	if err := json.Unmarshal(buf.Bytes(), &docs); err != nil {
		t.Fatal(err)
	}
	for _, d := range docs.Datasets {
		if d.Name != "original" {
			continue
		}
		if d.Evidence == nil || d.Evidence.File != "README.md" || d.Evidence.Line != 3 || d.Evidence.Method != "name" {
			t.Errorf("original's license_evidence = %+v, want README.md:3 name", d.Evidence)
		}
		if d.Documentation == nil || len(d.Documentation.Items) != len(cardItems) || d.Documentation.Items[1].Item != "source" ||
			!d.Documentation.Items[1].Present || d.Documentation.Score <= 0 {
			t.Errorf("original's documentation = %+v, want 9 items, source present", d.Documentation)
		}
	}
	conflicts := 0
	for _, f := range docs.Findings {
		if strings.HasPrefix(f, "license conflict: original -> upload: attribution missing") {
			conflicts++
		}
	}
	if conflicts != 1 {
		t.Errorf("findings %q: want the upload's missing attribution of the original", docs.Findings)
	}
	if len(r.Leaks) == 0 || r.Leaks[0].Dataset != "augmented" {
		t.Errorf("leaks = %+v, want the original's test image in augmented's train split", r.Leaks)
	}
}

// TestHTMLSelfContained writes the HTML report and checks that it needs
// no network (no external src, href or url()), has the graph and one
// decodable thumbnail per gallery member.
func TestHTMLSelfContained(t *testing.T) {
	rep, st, _ := demoWorld(t)
	var buf bytes.Buffer
	if err := rep.WriteHTML(t.Context(), &buf, st); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if m := regexp.MustCompile(`(?i)(src|href)\s*=\s*"(https?:|//)|url\((https?:|//)|<script|<link`).FindString(page); m != "" {
		t.Errorf("page fetches or runs something: %q", m)
	}
	if !strings.Contains(page, `id="lineage-graph"`) || !strings.Contains(page, "<line ") {
		t.Error("no lineage graph with edges")
	}
	// Every gallery image is a JPEG preview (the scan made them) whose
	// CSS box has the image's aspect ratio.
	imgs := regexp.MustCompile(`<img src="data:image/(\w+);base64,([^"]+)" width="(\d+)" height="(\d+)"`).FindAllStringSubmatch(page, -1)
	if len(imgs) == 0 {
		t.Fatal("no previews")
	}
	for _, m := range imgs {
		if m[1] != "jpeg" {
			t.Errorf("preview is %s, want jpeg", m[1])
			continue
		}
		data, err := base64.StdEncoding.DecodeString(html.UnescapeString(m[2]))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("preview: %v", err)
		}
		w, _ := strconv.Atoi(m[3])
		h, _ := strconv.Atoi(m[4])
		if got, want := float64(w)/float64(h), float64(cfg.Width)/float64(cfg.Height); math.Abs(got-want) > 0.05 {
			t.Errorf("preview %dx%d shown at %dx%d", cfg.Width, cfg.Height, w, h)
		}
	}
	// The leak pairs are marked in their cluster, and each leak row links
	// to its clusters.
	if !strings.Contains(page, `<figure class="leak">`) || !regexp.MustCompile(`<td><a href="#c\d+">`).MatchString(page) {
		t.Error("leak pairs not marked or not linked")
	}
}

// TestHTMLInBrowser loads the report in headless Chromium: it must render
// (the DOM holds the graph and the thumbnails) and produce a screenshot.
// Set LINEAGE_SCREENSHOT=file.png to keep the screenshot for a look.
func TestHTMLInBrowser(t *testing.T) {
	run := testkit.Chromium(t)
	rep, st, _ := demoWorld(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	f, err := os.Create(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteHTML(t.Context(), f, st); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "shot.png")
	if s := os.Getenv("LINEAGE_SCREENSHOT"); s != "" {
		shot, _ = filepath.Abs(s)
	}
	dom := string(run("--dump-dom", "file://"+page))
	for _, want := range []string{`id="lineage-graph"`, "original", "upload", "augmented", "data:image/jpeg;base64,"} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered DOM lacks %q", want)
		}
	}
	run("--screenshot="+shot, "--window-size=1280,2400", "--hide-scrollbars", "file://"+page)
	sf, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer sf.Close()
	img, err := png.Decode(sf)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 1000 || b.Dy() < 1000 {
		t.Errorf("screenshot is %v", b)
	}
}

// TestHTMLFileRemovesStalePages writes a report whose clusters fit its
// first page into a folder holding pages of an earlier, larger report:
// they go, and no page is written.
func TestHTMLFileRemovesStalePages(t *testing.T) {
	rep, st, _ := demoWorld(t)
	dir := t.TempDir()
	stale := filepath.Join(dir, "r_clusters", "page-0002.html")
	if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	pages, err := rep.WriteHTMLFile(t.Context(), filepath.Join(dir, "r.html"), st)
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 0 {
		t.Errorf("pages %v for %d clusters", pages, len(rep.groups))
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale page still there (%v)", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "r.html"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(b), `<div class="cluster`); got != len(rep.groups) {
		t.Errorf("%d clusters on the page, want %d", got, len(rep.groups))
	}
}

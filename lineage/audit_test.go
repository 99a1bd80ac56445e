package lineage

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/copycat-dev/copycat/index"
)

// TestDocumentsOutliveSource: the documentation is read from the index,
// so a dataset whose download is deleted after its scan keeps its licence
// and card, and no false licence change ("none -> CC-BY-4.0") is reported
// against its copy. Plain file copies only: no conversion tool needed.
func TestDocumentsOutliveSource(t *testing.T) {
	w := newWorld(t)
	for _, line := range []string{
		"copy orig demo ct_0001.dcm ct_0002.dcm ct_0003.dcm",
		`write orig LICENSE Creative Commons Attribution 4.0 International`,
		`write orig README.md # CT phantoms\n\nThree CT slices of a phantom, version 1.0, collected at Example Hospital.`,
		"copy upload orig ct_0001.dcm ct_0002.dcm",
		`write upload README.md ---\nlicense: cc-by-4.0\nsource_datasets:\n- orig\n---\n# CT phantoms, re-uploaded`,
	} {
		w.run(line)
	}
	ctx := context.Background()
	st := w.scanAll(ctx)
	for _, ds := range []string{"orig", "upload"} {
		if err := os.RemoveAll(filepath.Join(w.dir, ds)); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := Analyze(ctx, st, Options{MaxDistance: -1})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, d := range rep.Datasets {
		ev := ""
		if d.Evidence != nil {
			ev = d.Evidence.File + " " + d.Evidence.Method
		}
		got[d.Name] = d.License + " (" + ev + ")"
		if d.Documentation == nil {
			t.Errorf("%s: no card audit", d.Name)
		}
	}
	want := map[string]string{"orig": "CC-BY-4.0 (LICENSE name)", "upload": "CC-BY-4.0 (README.md metadata)"}
	for name, lic := range want {
		if got[name] != lic {
			t.Errorf("%s: licence %s, want %s", name, got[name], lic)
		}
	}
	if len(rep.Edges) != 1 || rep.Edges[0].LicenseChanged {
		t.Errorf("edges %+v: want one, licence unchanged", rep.Edges)
	}
	for _, f := range rep.Findings {
		if strings.Contains(f, "unavailable") || strings.Contains(f, "license changed") || strings.HasPrefix(f, "license conflict") {
			t.Errorf("finding %q after the sources were deleted", f)
		}
	}
}

// TestOldIndexUnavailable: a dataset scanned before the index kept
// documents (no documents recorded) is reported unavailable, with a
// finding saying to scan it again, and no licence change is claimed.
func TestOldIndexUnavailable(t *testing.T) {
	st, err := index.Open(t.TempDir(), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sc, err := st.BeginWrite("old", "/gone/old")
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.Put(index.File{Path: "README.md", Format: "text"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Finish(); err != nil {
		t.Fatal(err)
	}
	rep, err := Analyze(context.Background(), st, Options{MaxDistance: -1})
	if err != nil {
		t.Fatal(err)
	}
	d := rep.Datasets[0]
	if d.LicenseFinding.Source != "unavailable" || d.Documentation != nil || d.Evidence != nil {
		t.Errorf("old dataset: %+v, want unavailable with no card", d)
	}
	if len(rep.Findings) != 1 || !strings.Contains(rep.Findings[0], "scan the dataset again") {
		t.Errorf("findings %q, want one saying to scan again", rep.Findings)
	}
}

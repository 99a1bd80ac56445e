package scan

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/internal/testkit"
)

// storedDocs lists the documents the index keeps for a dataset, as
// "path=first line".
func storedDocs(tb testing.TB, dir, name string) string {
	tb.Helper()
	st, err := index.Open(dir, index.Options{ReadOnly: true})
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	docs, recorded, err := st.Documents(tb.Context(), name)
	if err != nil || !recorded {
		tb.Fatalf("Documents(%s): recorded %v, %v", name, recorded, err)
	}
	var parts []string
	for _, d := range docs {
		first, _, _ := strings.Cut(string(d.Data), "\n")
		parts = append(parts, d.Path+"="+first)
	}
	return strings.Join(parts, " ")
}

// TestScanKeepsDocuments: a scan stores the dataset's documentation in
// the index; a rescan keeps unchanged documents, stores changed ones and
// drops deleted ones; deep per-case notes are not kept.
func TestScanKeepsDocuments(t *testing.T) {
	data := t.TempDir()
	write := func(rel, text string) {
		p := filepath.Join(data, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(data, "a.png"), testkit.PNGHeader(4, 4, 8, 0), 0o644); err != nil {
		t.Fatal(err)
	}
	write("LICENSE", "MIT License\n")
	write("README.md", "---\nlicense: mit\n---\n# Set\n")
	write("dataset-metadata.json", `{"licenses": [{"name": "CC0-1.0"}]}`)
	write("notes.txt", "not documentation\n")
	write("a/b/c/README.md", "too deep\n")
	dir := filepath.Join(t.TempDir(), "idx")
	ds := Dataset{Name: "set", Path: data}
	runScan(t, dir, 2, ds)
	want := "LICENSE=MIT License README.md=--- dataset-metadata.json={\"licenses\": [{\"name\": \"CC0-1.0\"}]}"
	if got := storedDocs(t, dir, "set"); got != want {
		t.Errorf("first scan: %s\nwant %s", got, want)
	}
	// Rescan: LICENSE unchanged, README changed, metadata deleted.
	write("README.md", "# Set, version 2\n")
	if err := os.Remove(filepath.Join(data, "dataset-metadata.json")); err != nil {
		t.Fatal(err)
	}
	runScan(t, dir, 2, ds)
	want = "LICENSE=MIT License README.md=# Set, version 2"
	if got := storedDocs(t, dir, "set"); got != want {
		t.Errorf("rescan: %s\nwant %s", got, want)
	}
}

// TestDocSetBounds: past the limits, the least telling documents go
// first (deepest READMEs), and a licence file stays.
func TestDocSetBounds(t *testing.T) {
	var s docSet
	s.add(index.Document{Path: "LICENSE", Data: []byte("MIT")}, false)
	for i := range index.MaxDocuments + 5 {
		s.add(index.Document{Path: fmt.Sprintf("case%03d/README", i), Data: []byte("notes")}, false)
	}
	s.add(index.Document{Path: "README.md", Data: []byte("card")}, true)
	s.add(index.Document{Path: "big/README.txt", Data: make([]byte, index.MaxDocumentsBytes)}, false)
	if len(s.docs) != index.MaxDocuments || s.bytes > index.MaxDocumentsBytes {
		t.Fatalf("%d documents, %d bytes: over the limits", len(s.docs), s.bytes)
	}
	have := map[string]bool{}
	for _, d := range s.docs {
		have[d.doc.Path] = true
	}
	for _, p := range []string{"LICENSE", "README.md", "case000/README"} {
		if !have[p] {
			t.Errorf("%s was dropped", p)
		}
	}
	if have["big/README.txt"] || have[fmt.Sprintf("case%03d/README", index.MaxDocuments+4)] {
		t.Errorf("kept the least telling documents: %v", have)
	}
}

package lineage

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSPDX(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"long CC BY", "Creative Commons Attribution 4.0 International", "CC-BY-4.0"},
		{"lower mit", "mit", "MIT"},
		{"MIT License", "MIT License", "MIT"},
		{"SPDX id any case", "cc-by-nc-sa-4.0", "CC-BY-NC-SA-4.0"},
		{"short CC", "CC BY-NC 4.0", "CC-BY-NC-4.0"},
		{"CC URL", "https://creativecommons.org/licenses/by-sa/3.0/", "CC-BY-SA-3.0"},
		{"CC0 Kaggle", "CC0: Public Domain", "CC0-1.0"},
		{"ODbL Kaggle", "Database: Open Database, Contents: Database Contents", "ODbL-1.0"},
		{"Apache", "Apache License 2.0", "Apache-2.0"},
		{"ND", "Attribution-NonCommercial-NoDerivatives 4.0 International (CC BY-NC-ND 4.0)", "CC-BY-NC-ND-4.0"},
		{"CC without version stays raw", "CC BY", "CC BY"},
		{"unknown stays raw", "Research use only", "Research use only"},
		{"blank", "  ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := toSPDX(tt.in); got != tt.want {
				t.Errorf("toSPDX(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// docFixture reads testdata/docs/<case>.<document name> as a document.
func docFixture(tb testing.TB, file string) document {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "docs", file))
	if err != nil {
		tb.Fatal(err)
	}
	_, name, _ := strings.Cut(file, ".")
	return document{path: name, kind: classifyDoc(name), data: data}
}

func TestAuditDocs(t *testing.T) {
	tests := []struct {
		file                         string
		license, source, method, src string
	}{
		{"mit.LICENSE", "MIT", "LICENSE", "license-file", ""},
		{"kaggle.dataset-metadata.json", "CC0-1.0", "dataset-metadata.json", "kaggle-metadata", ""},
		{"kaggle-odbl.dataset-metadata.json", "ODbL-1.0", "dataset-metadata.json", "kaggle-metadata", ""},
		{"hf.README.md", "CC-BY-NC-4.0", "README.md", "huggingface-card", "nih/chestxray14"},
		{"hf-list.README.md", "Apache-2.0", "README.md", "huggingface-card", ""},
		{"croissant.metadata.json", "CC-BY-4.0", "metadata.json", "json-ld", "https://example.org/x"},
		{"readme-line.README.md", "CC-BY-SA-4.0", "README.md", "readme-line", "https://example.org/archive."},
		{"custom.README.md", "some custom terms, ask the authors", "README.md", "readme-line", ""},
		{"none.README.md", "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got := auditDocs([]document{docFixture(t, tt.file)})
			if got.License != tt.license || got.Source != tt.source || got.Method != tt.method || got.StatedSource != tt.src {
				t.Errorf("got %+v, want license %q from %q by %q, source %q", got, tt.license, tt.source, tt.method, tt.src)
			}
		})
	}
	// A LICENSE file outranks a README line.
	got := auditDocs([]document{docFixture(t, "readme-line.README.md"), docFixture(t, "mit.LICENSE")})
	if got.License != "MIT" || got.StatedSource == "" {
		t.Errorf("LICENSE and README: got %+v, want MIT with the README's source", got)
	}
}

// FuzzParseDoc feeds every kind of document parser arbitrary bytes,
// seeded with testdata/docs: it must not panic, and what it reports must
// be valid UTF-8 of bounded length.
func FuzzParseDoc(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "docs", "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		d := docFixture(f, filepath.Base(file))
		f.Add(uint8(d.kind), d.data)
	}
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		lic, _, _ := parseDoc(docKind(kind%6), data)
		id := toSPDX(lic)
		if utf8.ValidString(lic) && !utf8.ValidString(id) {
			t.Errorf("toSPDX(%q) = %q: invalid UTF-8", lic, id)
		}
		if len(id) > 120 && id != strings.TrimSpace(lic) {
			t.Errorf("SPDX returned %d bytes", len(id))
		}
	})
}

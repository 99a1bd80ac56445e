package lineage

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/internal/testkit"
)

func TestSPDX(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"long CC BY", "Creative Commons Attribution 4.0 International", "CC-BY-4.0"},
		{"lower mit", "mit", "MIT"},
		{"MIT License", "MIT License", "MIT"},
		{"SPDX id any case", "cc-by-nc-sa-4.0", "CC-BY-NC-SA-4.0"},
		{"short CC", "CC BY-NC 4.0", "CC-BY-NC-4.0"},
		{"CC URL", "https://creativecommons.org/licenses/by-sa/3.0/", "CC-BY-SA-3.0"},
		{"CC deed URL", "https://creativecommons.org/licenses/by-nc-nd/4.0/deed.en", "CC-BY-NC-ND-4.0"},
		{"CC 2.5", "CC BY 2.5", "CC-BY-2.5"},
		{"CC IGO", "CC BY-NC-SA 3.0 IGO", "CC-BY-NC-SA-3.0-IGO"},
		{"CC0 Kaggle", "CC0: Public Domain", "CC0-1.0"},
		{"Kaggle attribution", "Attribution 4.0 International (CC BY 4.0)", "CC-BY-4.0"},
		{"Kaggle NC-SA", "Attribution-NonCommercial-ShareAlike 4.0 International (CC BY-NC-SA 4.0)", "CC-BY-NC-SA-4.0"},
		{"ODbL Kaggle", "Database: Open Database, Contents: Database Contents", "ODbL-1.0"},
		{"ODbL Kaggle authors", "Database: Open Database, Contents: © Original Authors", "ODbL-1.0"},
		{"Kaggle authors", "Data files © Original Authors", licenseReserved},
		{"Kaggle other", "other", licenseOther},
		{"Kaggle unknown", "unknown", licenseUnknown},
		{"Kaggle CDLA", "Community Data License Agreement - Permissive - Version 1.0", "CDLA-Permissive-1.0"},
		{"HF odc-by", "odc-by", "ODC-By-1.0"},
		{"HF pddl", "pddl", "PDDL-1.0"},
		{"SPDX name PDDL", "Open Data Commons Public Domain Dedication & License 1.0", "PDDL-1.0"},
		{"Apache", "Apache License 2.0", "Apache-2.0"},
		{"ND", "Attribution-NonCommercial-NoDerivatives 4.0 International (CC BY-NC-ND 4.0)", "CC-BY-NC-ND-4.0"},
		{"GPL long", "GNU General Public License version 2", "GPL-2.0-only"},
		{"GPL or later", "GNU General Public License v3.0 or later", "GPL-3.0-or-later"},
		{"GPL deprecated id", "GPL-2.0", "GPL-2.0-only"},
		{"GPL plus", "GPL-3.0+", "GPL-3.0-or-later"},
		{"gplv3", "GPLv3", "GPL-3.0-only"},
		{"LGPL 2.1", "LGPL-2.1", "LGPL-2.1-only"},
		{"LGPL long", "GNU Lesser General Public License v3.0", "LGPL-3.0-only"},
		{"library GPL", "GNU Library General Public License v2 or later", "LGPL-2.0-or-later"},
		{"AGPL", "AGPL-3.0", "AGPL-3.0-only"},
		{"Kaggle GPL 2", "GPL 2", "GPL-2.0-only"},
		{"BSD 3", "BSD 3-Clause License", "BSD-3-Clause"},
		{"new BSD", "New BSD License", "BSD-3-Clause"},
		{"BSD 2", "Simplified BSD", "BSD-2-Clause"},
		{"all rights reserved", "All rights reserved", licenseReserved},
		{"CC without version stays raw", "CC BY", "CC BY"},
		{"GPL without version stays raw", "GPL", "GPL"},
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

// TestSentences: a licence in prose is read only from what follows
// "released under" and its kin, never from a name in passing.
func TestSentences(t *testing.T) {
	tests := []struct{ in, want string }{
		{"This dataset is released under the Creative Commons Attribution 4.0 International License.", "CC-BY-4.0"},
		{"The data are licensed under a CC BY-NC-SA 4.0 licence, see below.", "CC-BY-NC-SA-4.0"},
		{"It is distributed under the terms of the MIT license.", "MIT"},
		{"Made available under https://creativecommons.org/licenses/by/4.0/ for all.", "CC-BY-4.0"},
		{"Images were acquired at MIT and Apache Junior College.", ""},
		{"See https://github.com/mit-han-lab/gpl-tools for code.", ""},
		{"Released under a licence to be decided.", ""},
		{"Copyright 2021 Example Hospital. All rights reserved.", licenseReserved},
	}
	for _, tt := range tests {
		if got, _ := sentenceLicense([]string{tt.in}); got != tt.want {
			t.Errorf("sentenceLicense(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// cardCase reads testdata/cards/<name>/ as a dataset's documents, sorted
// as auditDataset sorts them.
func cardCase(tb testing.TB, name string) []document {
	tb.Helper()
	dir := filepath.Join("testdata", "cards", name)
	var docs []document
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if k := index.KindOfDocument(rel); k != index.NotDocument {
			docs = append(docs, document{rel, k, data})
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	sortDocs(docs)
	return docs
}

// TestCards checks every fixture's licence and its evidence; the card
// audit of all of them is the golden file testdata/cards.golden.
func TestCards(t *testing.T) {
	tests := []struct {
		name, license, evidence string // evidence: "file:line method"
	}{
		{"gpl2-header", "GPL-2.0-only", "LICENSE:1 header"},
		{"gpl3-full", "GPL-3.0-only", "COPYING:1 full-text"},
		{"lgpl21-header", "LGPL-2.1-only", "LICENSE.txt:1 header"},
		{"agpl-later", "AGPL-3.0-or-later", "LICENSE.md:1 header"},
		{"apache-full", "Apache-2.0", "LICENSE:2 full-text"},
		{"mit-full", "MIT", "LICENSE:1 full-text"},
		{"bsd3-full", "BSD-3-Clause", "LICENSE:1 full-text"},
		{"bsd2-body", "BSD-2-Clause", "LICENSE:6 full-text"},
		{"cc-by-nc-sa-4-legalcode", "CC-BY-NC-SA-4.0", "LICENSE:1 full-text"},
		{"cc-by-3-legalcode", "CC-BY-3.0", "LICENSE:1 full-text"},
		{"cc0-legalcode", "CC0-1.0", "LICENSE:1 full-text"},
		{"cc-by-nd-name", "CC-BY-ND-4.0", "LICENSE:1 name"},
		{"odbl-header", "ODbL-1.0", "LICENSE:1 full-text"},
		{"pddl-header", "PDDL-1.0", "LICENSE.txt:1 header"},
		{"odc-by-header", "ODC-By-1.0", "LICENSE:1 header"},
		{"cdla-permissive", "CDLA-Permissive-1.0", "LICENSE:1 header"},
		{"cdla-sharing", "CDLA-Sharing-1.0", "LICENSE:1 name"},
		{"kaggle-cc0", "CC0-1.0", "dataset-metadata.json:4 metadata"},
		{"kaggle-cc-by-nc-sa", "CC-BY-NC-SA-4.0", "dataset-metadata.json:7 metadata"},
		{"kaggle-attribution", "CC-BY-4.0", "dataset-metadata.json:1 metadata"},
		{"kaggle-other-described", "CC-BY-SA-4.0", "dataset-metadata.json:5 sentence"},
		{"kaggle-unknown", licenseUnknown, "dataset-metadata.json:1 metadata"},
		{"kaggle-authors", licenseReserved, "dataset-metadata.json:1 metadata"},
		{"kaggle-odbl", "ODbL-1.0", "dataset-metadata.json:1 metadata"},
		{"kaggle-gpl2", "GPL-2.0-only", "dataset-metadata.json:1 metadata"},
		{"hf-other", "LicenseRef-rsna-challenge-terms", "README.md:3 metadata"},
		{"hf-list", "Apache-2.0", "README.md:2 metadata"},
		{"hf-unknown", licenseUnknown, "README.md:2 metadata"},
		{"hf-template", "CC-BY-4.0", "README.md:2 metadata"},
		{"hf-full", "CC-BY-NC-4.0", "README.md:2 metadata"},
		{"readme-sentence", "CC-BY-4.0", "README.md:3 sentence"},
		{"readme-line", "CC-BY-SA-4.0", "README.md:5 name"},
		{"readme-custom", "some custom terms, ask the authors", "README.md:3 name"},
		{"readme-passing", "", ""},
		{"readme-reserved", licenseReserved, "README.txt:2 sentence"},
		{"croissant", "CC-BY-4.0", "croissant.json:6 metadata"},
		{"licence-and-readme", "MIT", "LICENSE:1 full-text"},
		{"none", "", ""},
	}
	entries, err := os.ReadDir(filepath.Join("testdata", "cards"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(tests) {
		t.Errorf("%d fixtures in testdata/cards, %d cases here: every fixture needs its case", len(entries), len(tests))
	}
	var golden strings.Builder
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs := cardCase(t, tt.name)
			got := auditDocs(docs)
			ev := ""
			if got.Evidence != nil {
				ev = fmt.Sprintf("%s:%d %s", got.Evidence.File, got.Evidence.Line, got.Evidence.Method)
			}
			if got.License != tt.license || ev != tt.evidence {
				t.Errorf("licence %q (%s), want %q (%s)", got.License, ev, tt.license, tt.evidence)
			}
			card := auditCard(docs)
			fmt.Fprintf(&golden, "%s: licence %s (%s) score %.2f\n", tt.name, orNone(got.License), ev, card.Score)
			for _, it := range card.Items {
				if it.Present || strings.HasSuffix(it.Evidence, "(empty)") {
					fmt.Fprintf(&golden, "  %s: %s\n", it.Item, it.Evidence)
				}
			}
			if m := card.Missing(); len(m) > 0 {
				fmt.Fprintf(&golden, "  missing: %s\n", strings.Join(m, ", "))
			}
		})
	}
	testkit.Check(t, filepath.Join("testdata", "cards.golden"), golden.String())
}

// TestCardScores: a card with every item scores full, the Hugging Face
// template (headings, no content) names every item it leaves empty.
func TestCardScores(t *testing.T) {
	full := auditCard(cardCase(t, "hf-full"))
	if full.Score != 1 || len(full.Missing()) != 0 {
		t.Errorf("hf-full: score %v, missing %v; want 1 and none", full.Score, full.Missing())
	}
	tmpl := auditCard(cardCase(t, "hf-template"))
	want := cardItems
	if got := tmpl.Missing(); !slices.Equal(got, want) {
		t.Errorf("hf-template missing %v, want %v", got, want)
	}
	none := auditCard(nil)
	if none.Score != 0 || len(none.Missing()) != len(cardItems) {
		t.Errorf("no documents: %+v", none)
	}
}

// FuzzCard feeds every document parser (licence, Kaggle metadata, card
// front matter and sections, JSON-LD, README) arbitrary bytes, seeded
// with testdata/cards: it must not panic, and what it reports must be
// valid UTF-8 of bounded length with in-range line numbers.
func FuzzCard(f *testing.F) {
	dirs, err := os.ReadDir(filepath.Join("testdata", "cards"))
	if err != nil {
		f.Fatal(err)
	}
	for _, d := range dirs {
		for _, doc := range cardCase(f, d.Name()) {
			f.Add(uint8(doc.kind), doc.data)
		}
	}
	names := map[index.DocumentKind]string{index.LicenseFile: "LICENSE", index.KaggleMetadata: "dataset-metadata.json",
		index.DatasetCard: "README.md", index.JSONLD: "croissant.json", index.Readme: "README"}
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		k := index.DocumentKind(1 + int(kind)%5)
		docs := []document{{names[k], k, data}}
		got := auditDocs(docs)
		if utf8.Valid(data) && (!utf8.ValidString(got.License) || !utf8.ValidString(got.Raw)) {
			t.Errorf("invalid UTF-8: %+v", got)
		}
		if len(got.Raw) > 200 {
			t.Errorf("raw licence of %d bytes", len(got.Raw))
		}
		if ev := got.Evidence; ev != nil && (ev.Line < 1 || ev.Line > strings.Count(string(data), "\n")+1) {
			t.Errorf("evidence line %d of a %d-line document", ev.Line, strings.Count(string(data), "\n")+1)
		}
		card := auditCard(docs)
		if card.Score < 0 || card.Score > 1 || len(card.Items) != len(cardItems) {
			t.Errorf("card %+v", card)
		}
		fm, rest, ok := frontMatter(data)
		if ok && len(fm)+len(rest) > len(data) {
			t.Errorf("front matter %d + rest %d bytes of %d", len(fm), len(rest), len(data))
		}
		for key, fld := range parseYAML(fm, 1) {
			if fld.line < 1 || strings.ContainsAny(key, "\n") {
				t.Errorf("yaml key %q at line %d", key, fld.line)
			}
		}
	})
}

// BenchmarkAudit measures the documentation audit of one dataset: the
// Hugging Face card with every item and a licence's full text.
func BenchmarkAudit(b *testing.B) {
	docs := append(cardCase(b, "hf-full"), cardCase(b, "gpl3-full")...)
	sortDocs(docs)
	b.ReportAllocs()
	for b.Loop() {
		auditDocs(docs)
		auditCard(docs)
	}
}

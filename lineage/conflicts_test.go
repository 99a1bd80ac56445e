package lineage

import (
	"slices"
	"strings"
	"testing"

	"github.com/copycat-dev/copycat/index"
)

// TestConflicts checks each kind of licence conflict on one derivation,
// with documentation written as an uploader would.
func TestConflicts(t *testing.T) {
	ds := func(name, license, readme string) Dataset {
		d := Dataset{Name: name, LicenseFinding: LicenseFinding{License: license, Source: "README.md"}}
		if readme != "" {
			d.docs = []document{{"README.md", index.DatasetCard, []byte(readme)}}
		}
		return d
	}
	credit := "Derived from the chest-ct-archive dataset (https://example.org/chest-ct)."
	orig := func(license string) Dataset {
		return ds("chest-ct-archive", license, "# Chest CT\nSource: https://example.org/chest-ct")
	}
	tests := []struct {
		name       string
		orig, copy Dataset
		decided    bool
		want       []string // the findings' texts after "licence conflict: chest-ct-archive -> copy: "
	}{
		{"NC relicensed commercial", orig("CC-BY-NC-4.0"), ds("copy", "CC-BY-4.0", credit), true,
			[]string{"the original's CC-BY-NC-4.0 forbids commercial use; the copy's CC-BY-4.0 allows it"}},
		{"ND relicensed", orig("CC-BY-ND-4.0"), ds("copy", "CC-BY-4.0", credit), true,
			[]string{"the original's CC-BY-ND-4.0 forbids derivatives; the copy's CC-BY-4.0 allows them"}},
		{"SA dropped", orig("CC-BY-SA-4.0"), ds("copy", "CC0-1.0", credit), true,
			[]string{"ShareAlike dropped: the original's CC-BY-SA-4.0 requires the copy to keep it, the copy is offered under CC0-1.0"}},
		{"SA kept", orig("CC-BY-SA-3.0"), ds("copy", "CC-BY-SA-4.0", credit), true, nil},
		{"NC-SA to MIT", orig("CC-BY-NC-SA-4.0"), ds("copy", "MIT", credit), true, []string{
			"the original's CC-BY-NC-SA-4.0 forbids commercial use; the copy's MIT allows it",
			"ShareAlike dropped: the original's CC-BY-NC-SA-4.0 requires the copy to keep it, the copy is offered under MIT"}},
		{"attribution missing", orig("CC-BY-4.0"), ds("copy", "CC-BY-4.0", "# My CT set\nLicense: CC BY 4.0"), true,
			[]string{"attribution missing: the original's CC-BY-4.0 requires credit, and the copy's documentation neither names nor cites it"}},
		{"attribution by URL", orig("CC-BY-4.0"), ds("copy", "CC-BY-4.0", "Re-upload of https://example.org/chest-ct"), true, nil},
		{"public domain needs no credit", orig("CC0-1.0"), ds("copy", "MIT", ""), true, nil},
		{"claims where none", orig(""), ds("copy", "CC-BY-4.0", credit), true,
			[]string{"the copy claims CC-BY-4.0 where the original states no license"}},
		{"claims where unknown", orig(licenseUnknown), ds("copy", "MIT", credit), false,
			[]string{"the copy claims MIT where the original states no license"}},
		{"all rights reserved", orig(licenseReserved), ds("copy", "CC-BY-4.0", credit), true,
			[]string{"the original reserves all rights; the copy is offered under CC-BY-4.0"}},
		{"unavailable original is not judged", Dataset{Name: "chest-ct-archive", LicenseFinding: LicenseFinding{Source: "unavailable"}},
			ds("copy", "CC-BY-4.0", ""), true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := &Report{Datasets: []Dataset{tt.orig, tt.copy},
				Edges: []Edge{{Original: tt.orig.Name, Copy: tt.copy.Name, Decided: tt.decided}}}
			var got []string
			for _, f := range conflicts(rep) {
				rest, ok := strings.CutPrefix(f, "license conflict: chest-ct-archive -> copy: ")
				if !ok {
					t.Fatalf("finding %q lacks the prefix", f)
				}
				got = append(got, rest[:strings.Index(rest, " (original:")])
				if !tt.decided && !strings.HasSuffix(f, "(direction undetermined)") {
					t.Errorf("%q: an undecided edge must say so", f)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestVagueLicenceFindings: Kaggle's "unknown" and "other" are findings
// of their own, not licences.
func TestVagueLicenceFindings(t *testing.T) {
	tests := []struct{ license, raw, want string }{
		{licenseUnknown, "unknown", `set: license stated as "unknown", which names no terms`},
		{licenseOther, "Other (specified in description)", `set: license stated as "Other (specified in description)", which names no terms`},
		{"", "", "set: no license found"},
	}
	for _, tt := range tests {
		rep := &Report{Datasets: []Dataset{{Name: "set", LicenseFinding: LicenseFinding{License: tt.license, Raw: tt.raw, StatedSource: "x"}}}}
		findings(rep)
		if len(rep.Findings) != 1 || rep.Findings[0] != tt.want {
			t.Errorf("%s: findings %q, want %q", tt.license, rep.Findings, tt.want)
		}
	}
}

// TestUnavailableFinding: documentation missing from the index is a
// finding that says to scan again; an audit skipped on request is not.
func TestUnavailableFinding(t *testing.T) {
	tests := []struct {
		name        string
		noDocuments bool
		want        []string
	}{
		{"not in the index", false, []string{"set: documentation unavailable (not in the index: scan the dataset again to keep it)"}},
		{"audit skipped", true, nil},
	}
	for _, tt := range tests {
		rep := &Report{Datasets: []Dataset{{Name: "set", LicenseFinding: LicenseFinding{Source: "unavailable", StatedSource: "x"}}}, noDocuments: tt.noDocuments}
		findings(rep)
		if !slices.Equal(rep.Findings, tt.want) {
			t.Errorf("%s: findings %q, want %q", tt.name, rep.Findings, tt.want)
		}
	}
}

package lineage

import (
	"fmt"
	"regexp"
	"strings"
)

// terms is what a licence requires and forbids, as far as the conflicts
// below need.
type terms struct {
	known       bool   // a licence whose terms are known
	attribution bool   // requires crediting the original (or keeping its notice)
	nc, nd      bool   // forbids commercial use, derivatives
	sa          string // share-alike family ("" when none): a copy must stay in it
	reserved    bool   // all rights reserved: nothing is granted
}

// termsOf returns the terms of a licence identifier (LicenseFinding.License).
func termsOf(id string) terms {
	switch {
	case id == licenseReserved:
		return terms{known: true, attribution: true, nc: true, nd: true, reserved: true}
	case strings.HasPrefix(id, "CC-BY"):
		t := terms{known: true, attribution: true, nc: strings.Contains(id, "-NC"), nd: strings.Contains(id, "-ND")}
		if strings.Contains(id, "-SA") {
			t.sa = "CC-BY-SA"
			if t.nc {
				t.sa = "CC-BY-NC-SA"
			}
		}
		return t
	case id == "CC0-1.0" || id == "PDDL-1.0" || id == "CC-PDDC" || id == "CC-PDM-1.0" || id == "Unlicense" ||
		id == "MIT-0" || id == "0BSD" || id == "LicenseRef-US-Government-Works" || id == "WTFPL":
		return terms{known: true}
	case id == "ODbL-1.0":
		return terms{known: true, attribution: true, sa: "ODbL"}
	case id == "CDLA-Sharing-1.0":
		return terms{known: true, attribution: true, sa: "CDLA-Sharing"}
	case strings.HasPrefix(id, "GPL-") || strings.HasPrefix(id, "AGPL-"):
		return terms{known: true, attribution: true, sa: "GPL"}
	case strings.HasPrefix(id, "LGPL-"):
		return terms{known: true, attribution: true, sa: "LGPL"}
	case strings.HasPrefix(id, "MPL-"):
		return terms{known: true, attribution: true, sa: "MPL"}
	case id == "ODC-By-1.0" || strings.HasPrefix(id, "CDLA-Permissive") || id == "MIT" || strings.HasPrefix(id, "BSD-") ||
		strings.HasPrefix(id, "Apache-") || id == "ISC" || id == "Zlib" || id == "Artistic-2.0":
		return terms{known: true, attribution: true}
	}
	return terms{}
}

// noLicense reports whether a finding states no licence at all.
func noLicense(id string) bool { return id == "" || id == licenseUnknown }

// conflicts lists the licence conflicts along the derivations, each a
// finding starting "license conflict:": a copy of a NonCommercial or
// NoDerivatives (or all-rights-reserved) original offered under a
// licence that allows what the original forbids; ShareAlike dropped;
// the original neither named nor cited in the copy's documentation when
// its licence asks for attribution; a copy claiming a licence where the
// original states none. Datasets whose documentation is unavailable are
// not judged.
func conflicts(rep *Report) []string {
	byName := map[string]*Dataset{}
	for i := range rep.Datasets {
		byName[rep.Datasets[i].Name] = &rep.Datasets[i]
	}
	var out []string
	for _, e := range rep.Edges {
		o, c := byName[e.Original], byName[e.Copy]
		if o == nil || c == nil || o.LicenseFinding.Source == "unavailable" || c.LicenseFinding.Source == "unavailable" {
			continue
		}
		head := fmt.Sprintf("license conflict: %s -> %s: ", e.Original, e.Copy)
		tail := fmt.Sprintf(" (original: %s; copy: %s)", licenseWhere(o), licenseWhere(c))
		if !e.Decided {
			tail += " (direction undetermined)"
		}
		ot, ct := termsOf(o.License), termsOf(c.License)
		switch {
		case noLicense(o.License) && !noLicense(c.License):
			out = append(out, head+fmt.Sprintf("the copy claims %s where the original states no license", c.License)+tail)
		case ot.reserved && ct.known && !ct.reserved:
			out = append(out, head+fmt.Sprintf("the original reserves all rights; the copy is offered under %s", c.License)+tail)
		case ot.known && ct.known:
			if ot.nc && !ct.nc {
				out = append(out, head+fmt.Sprintf("the original's %s forbids commercial use; the copy's %s allows it", o.License, c.License)+tail)
			}
			if ot.nd && !ct.nd {
				out = append(out, head+fmt.Sprintf("the original's %s forbids derivatives; the copy's %s allows them", o.License, c.License)+tail)
			}
			if ot.sa != "" && ct.sa != ot.sa && !(ot.sa == "LGPL" && ct.sa == "GPL") {
				out = append(out, head+fmt.Sprintf("ShareAlike dropped: the original's %s requires the copy to keep it, the copy is offered under %s", o.License, c.License)+tail)
			}
		}
		if ot.attribution && !mentions(c.docs, originMarkers(o)) {
			out = append(out, head+fmt.Sprintf("attribution missing: the original's %s requires credit, and the copy's documentation neither names nor cites it", o.License)+tail)
		}
	}
	return out
}

// licenseWhere is a licence with its evidence, for a finding.
func licenseWhere(d *Dataset) string {
	if d.License == "" {
		return "none"
	}
	if d.Evidence == nil {
		return d.License
	}
	return fmt.Sprintf("%s, %s:%d %s", d.License, d.Evidence.File, d.Evidence.Line, d.Evidence.Method)
}

var doiPattern = regexp.MustCompile(`\b10\.\d{4,9}/[^\s"<>)\]]+`)

// originMarkers are the strings by which a copy's documentation would
// name or cite the original: its dataset name, stated source, titles and
// identifiers in its metadata, its URLs and DOIs.
func originMarkers(d *Dataset) []string {
	marks := []string{d.Name, d.StatedSource}
	for _, doc := range d.docs {
		text := string(doc.data[:min(len(doc.data), 64<<10)])
		marks = append(marks, urlPattern.FindAllString(text, 8)...)
		marks = append(marks, doiPattern.FindAllString(text, 4)...)
		for _, key := range []string{`"title"`, `"id"`, `"name"`, "pretty_name:"} {
			if i := strings.Index(text, key); i >= 0 {
				rest := text[i+len(key):]
				rest = strings.TrimLeft(rest, ": \t\"'")
				if j := strings.IndexAny(rest, "\"'\n,}"); j > 0 {
					marks = append(marks, rest[:j])
				}
			}
		}
	}
	var out []string
	for _, m := range marks {
		m = strings.TrimRight(strings.TrimSpace(m), "./")
		// A licence's name or URL names no dataset: both sides may
		// state the same licence.
		if len(m) >= 4 && nameToSPDX(m) == "" && urlToSPDX(m) == "" {
			out = append(out, strings.ToLower(m))
		}
	}
	return out
}

// mentions reports whether any document holds one of the markers (case
// folded; "-" and "_" and spaces taken alike).
func mentions(docs []document, marks []string) bool {
	fold := strings.NewReplacer("-", " ", "_", " ")
	for _, d := range docs {
		text := fold.Replace(strings.ToLower(string(d.data)))
		for _, m := range marks {
			if strings.Contains(text, fold.Replace(m)) {
				return true
			}
		}
	}
	return false
}

package lineage

import (
	"regexp"
	"strings"
	"sync"
	"unicode"
)

//go:generate go run ../internal/spdxgen

// LicenseFinding is what the documentation of a dataset says about its
// licence and its origin.
type LicenseFinding struct {
	// License is the SPDX identifier when the text is recognised (a
	// LicenseRef-... for terms SPDX does not list: All-Rights-Reserved,
	// Other, a Hugging Face license_name; NOASSERTION for Kaggle's and
	// Hugging Face's "unknown"), the raw text (trimmed, at most 120
	// bytes) otherwise, empty when none is found.
	License string `json:"license"`
	// Raw is the text the licence was read from.
	Raw string `json:"license_raw,omitempty"`
	// Source is the file the licence came from (path inside the dataset),
	// "unavailable" when the dataset's documentation is not in the index
	// (scanned before documents were kept, or analysed with NoDocuments),
	// empty when no licence was found.
	Source string `json:"license_source"`
	// Method names the convention it was found by: "license-file",
	// "kaggle-metadata", "huggingface-card", "json-ld", "readme-line".
	Method string `json:"license_method,omitempty"`
	// StatedSource is where the documentation says the data came from (a
	// URL or a "Source:" line), empty when it says nothing.
	StatedSource string `json:"stated_source,omitempty"`
	// Evidence is where the licence was read and how sure that is; null
	// when no licence was found.
	Evidence *LicenseEvidence `json:"license_evidence"`
}

// LicenseEvidence locates the statement a licence was read from.
type LicenseEvidence struct {
	File string `json:"file"`
	Line int    `json:"line"` // 1-based line in File
	// Method is how it was recognised, most certain first: "full-text"
	// (the licence's text), "header" (its title lines), "metadata" (a
	// licence field of Kaggle's metadata, a card's YAML or JSON-LD),
	// "name" (a "License: ..." line, or a file holding only a name),
	// "sentence" (prose such as "released under CC BY 4.0").
	Method string `json:"method"`
}

// License identifiers for terms SPDX does not list.
const (
	licenseReserved = "LicenseRef-All-Rights-Reserved"
	licenseOther    = "LicenseRef-Other"
	licenseUnknown  = "NOASSERTION"
)

// spdxLicense is one row of the generated table (spdx_table.go).
type spdxLicense struct {
	ID         string
	Name       string
	URLs       []string
	Deprecated bool
}

// licenseIndex is spdxTable keyed for lookups: identifiers (upper case),
// names (normWords) and reference URLs (normURL).
type licenseIndex struct {
	ids, names, urls map[string]string
}

var licenseTable = sync.OnceValue(func() *licenseIndex {
	ix := &licenseIndex{ids: map[string]string{}, names: map[string]string{}, urls: map[string]string{}}
	for _, l := range spdxTable {
		id := l.ID
		if l.Deprecated {
			id = modernID(l.ID)
		}
		ix.ids[strings.ToUpper(l.ID)] = id
		ix.names[normWords(l.Name)] = id
		ix.names[normWords(strings.TrimSuffix(strings.TrimSuffix(l.Name, " License"), " Licence"))] = id
		if l.Deprecated {
			continue
		}
		for _, u := range l.URLs {
			if k := normURL(u); k != "" {
				if _, dup := ix.urls[k]; !dup {
					ix.urls[k] = id
				}
			}
		}
	}
	return ix
})

// modernID maps a deprecated GNU identifier to the one SPDX now uses:
// "GPL-2.0" -> "GPL-2.0-only", "GPL-2.0+" -> "GPL-2.0-or-later".
func modernID(id string) string {
	if strings.HasSuffix(id, "+") {
		return strings.TrimSuffix(id, "+") + "-or-later"
	}
	if strings.Contains(id, "GPL-") && !strings.Contains(id, "-with-") && strings.Count(id, "-") == 1 {
		return id + "-only"
	}
	return id
}

// knownID reports whether id is a current identifier of the table.
func knownID(id string) bool {
	got, ok := licenseTable().ids[strings.ToUpper(id)]
	return ok && got == id
}

// normURL reduces a licence URL to host and path without scheme, "www.",
// trailing "legalcode", "deed...", index pages or slashes.
func normURL(u string) string {
	u = strings.ToLower(strings.TrimSpace(u))
	u = strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	u = strings.TrimPrefix(u, "www.")
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	u = strings.TrimRight(u, "/")
	for _, suf := range []string{"/legalcode", "/legalcode.txt", ".txt", ".html", "-standalone", "/index"} {
		u = strings.TrimSuffix(u, suf)
	}
	if i := strings.Index(u, "/deed"); i >= 0 {
		u = u[:i]
	}
	return strings.TrimRight(u, "/")
}

// aliases maps names in common use that the SPDX names do not cover
// (normWords form) to identifiers: short forms, Kaggle's and Hugging
// Face's names.
var aliases = map[string]string{
	"mit": "MIT", "mit license": "MIT", "the mit license": "MIT", "expat": "MIT", "mit licence": "MIT",
	"apache 2": "Apache-2.0", "apache 2 0": "Apache-2.0", "apache license 2 0": "Apache-2.0",
	"apache license version 2 0": "Apache-2.0", "apache software license 2 0": "Apache-2.0", "apache v2": "Apache-2.0",
	"bsd 3 clause": "BSD-3-Clause", "3 clause bsd": "BSD-3-Clause", "new bsd": "BSD-3-Clause", "modified bsd": "BSD-3-Clause",
	"revised bsd": "BSD-3-Clause", "bsd 3 clause license": "BSD-3-Clause", "bsd 3": "BSD-3-Clause",
	"bsd 2 clause": "BSD-2-Clause", "2 clause bsd": "BSD-2-Clause", "simplified bsd": "BSD-2-Clause", "freebsd": "BSD-2-Clause",
	"bsd 2 clause license": "BSD-2-Clause", "bsd 2": "BSD-2-Clause",
	"bsd 4 clause": "BSD-4-Clause", "4 clause bsd": "BSD-4-Clause", "original bsd": "BSD-4-Clause",
	"mpl 2 0": "MPL-2.0", "unlicense": "Unlicense", "the unlicense": "Unlicense", "isc": "ISC",
	"odbl": "ODbL-1.0", "odbl 1 0": "ODbL-1.0", "open database license": "ODbL-1.0", "open database license odbl": "ODbL-1.0",
	"odc odbl": "ODbL-1.0", "odc open database license odbl": "ODbL-1.0", "odc open database license": "ODbL-1.0",
	"open data commons open database license v1 0": "ODbL-1.0", "open data commons open database license odbl": "ODbL-1.0",
	"database open database contents database contents": "ODbL-1.0", // Kaggle
	"database open database contents original authors":  "ODbL-1.0", // Kaggle: the database under ODbL
	"pddl": "PDDL-1.0", "pddl 1 0": "PDDL-1.0", "odc pddl": "PDDL-1.0",
	"open data commons public domain dedication and license":      "PDDL-1.0",
	"open data commons public domain dedication and license pddl": "PDDL-1.0",
	"odc by": "ODC-By-1.0", "odc by 1 0": "ODC-By-1.0", "odc attribution license": "ODC-By-1.0",
	"open data commons attribution license": "ODC-By-1.0", "open data commons attribution license odc by": "ODC-By-1.0",
	"cdla permissive 1 0": "CDLA-Permissive-1.0", "cdla permissive 2 0": "CDLA-Permissive-2.0", "cdla sharing 1 0": "CDLA-Sharing-1.0",
	"community data license agreement permissive 1 0":         "CDLA-Permissive-1.0",
	"community data license agreement permissive version 1 0": "CDLA-Permissive-1.0",
	"community data license agreement permissive version 2 0": "CDLA-Permissive-2.0",
	"community data license agreement permissive 2 0":         "CDLA-Permissive-2.0",
	"community data license agreement sharing 1 0":            "CDLA-Sharing-1.0",
	"community data license agreement sharing version 1 0":    "CDLA-Sharing-1.0",
	"cc0": "CC0-1.0", "cc0 public domain": "CC0-1.0", "public domain cc0": "CC0-1.0",
	"openrail": "LicenseRef-OpenRAIL", "bigscience openrail m": "LicenseRef-OpenRAIL-M",
	"copyright authors":           licenseReserved, // Kaggle's "Data files © Original Authors"
	"data files original authors": licenseReserved,
	"all rights reserved":         licenseReserved,
	"proprietary":                 licenseReserved,
	"other":                       licenseOther, "other specified in description": licenseOther, "other see description": licenseOther,
	"unknown": licenseUnknown, "not specified": licenseUnknown, "noassertion": licenseUnknown,
	"us government works": "LicenseRef-US-Government-Works", "u s government works": "LicenseRef-US-Government-Works",
	"dbcl v1 0": "LicenseRef-DbCL-1.0", "dbcl 1 0": "LicenseRef-DbCL-1.0", "database contents license dbcl v1 0": "LicenseRef-DbCL-1.0",
	"world bank dataset terms of use": "LicenseRef-World-Bank", "reddit api terms": "LicenseRef-Reddit-API",
}

// toSPDX returns the SPDX identifier of a licence named in free text
// ("Creative Commons Attribution 4.0 International" -> "CC-BY-4.0", "mit"
// -> "MIT", a creativecommons.org URL -> its licence), or the trimmed text
// (at most 120 bytes) when it is not recognised; "" for blank input.
func toSPDX(text string) string {
	t := strings.TrimSpace(text)
	if t == "" {
		return ""
	}
	if id := nameToSPDX(t); id != "" {
		return id
	}
	if len(t) > 120 {
		t = strings.ToValidUTF8(t[:120], "")
	}
	return t
}

// nameToSPDX recognises a licence's name, identifier or URL standing on
// its own (a metadata field, the rest of a "License:" line, the object of
// "released under"): "" when it names none it knows.
func nameToSPDX(t string) string {
	t = strings.TrimSpace(strings.Trim(strings.TrimSpace(t), "*_`\"'.,;:()[]"))
	if t == "" || len(t) > 400 {
		return ""
	}
	ix := licenseTable()
	if id, ok := ix.ids[strings.ToUpper(t)]; ok {
		return id
	}
	if u := urlPattern.FindString(t); u != "" {
		if id := urlToSPDX(u); id != "" {
			return id
		}
	}
	words := normWords(t)
	for _, w := range []string{words, strings.TrimSuffix(strings.TrimSuffix(words, " license"), " licence"),
		strings.TrimPrefix(words, "the ")} {
		if id, ok := aliases[w]; ok {
			return id
		}
		if id, ok := ix.names[w]; ok {
			return id
		}
	}
	if id := creativeCommons(words); id != "" {
		return id
	}
	if id := gnuLicense(words); id != "" {
		return id
	}
	// "Database: Open Database, Contents: ..." with other contents terms,
	// and names followed by a parenthesised short form.
	if strings.HasPrefix(words, "database open database") {
		return "ODbL-1.0"
	}
	if i := strings.IndexByte(t, '('); i > 0 {
		if id := nameToSPDX(t[:i]); id != "" {
			return id
		}
		if j := strings.IndexByte(t[i:], ')'); j > 0 {
			return nameToSPDX(t[i+1 : i+j])
		}
	}
	return ""
}

// urlToSPDX recognises a licence by its URL (creativecommons.org,
// opendatacommons.org, gnu.org, opensource.org, cdla.io ...).
func urlToSPDX(u string) string {
	k := normURL(u)
	if id, ok := licenseTable().urls[k]; ok {
		return id
	}
	if strings.HasPrefix(k, "creativecommons.org/") {
		return creativeCommons(normWords(strings.ReplaceAll(k, "creativecommons.org", "creative commons")))
	}
	if strings.HasPrefix(k, "opensource.org/licenses/") || strings.HasPrefix(k, "opensource.org/license/") {
		id := k[strings.LastIndexByte(k, '/')+1:]
		if v, ok := licenseTable().ids[strings.ToUpper(id)]; ok {
			return v
		}
	}
	return ""
}

// normWords lower-cases s and turns every run of non-alphanumerics into
// one space, so that "CC BY-NC 4.0" and "cc-by-nc-4.0" meet.
func normWords(s string) string {
	f := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	return strings.Join(f, " ")
}

var ccVersion = regexp.MustCompile(`(?:^| )(2 5|2 1|1|2|3|4)(?: 0)?(?: |$)`)

// creativeCommons recognises the Creative Commons licences in their long
// ("Creative Commons Attribution-NonCommercial 4.0 International"), short
// ("CC BY-NC 4.0"), Kaggle ("Attribution 4.0 International (CC BY 4.0)")
// and URL (creativecommons.org/licenses/by-nc/4.0/) forms. A licence
// without a version is not recognised: which one is meant is unknown.
func creativeCommons(words string) string {
	w := " " + words + " "
	has := func(ws ...string) bool {
		for _, x := range ws {
			if strings.Contains(w, " "+x+" ") {
				return true
			}
		}
		return false
	}
	isCC := has("creative commons", "creativecommons", "cc", "cc0") ||
		strings.HasPrefix(words, "attribution ") && has("international", "unported", "generic")
	if !isCC {
		return ""
	}
	if has("cc0", "zero", "publicdomain zero") {
		return "CC0-1.0"
	}
	if !has("by", "attribution") {
		return ""
	}
	id := "CC-BY"
	if has("nc", "noncommercial", "non commercial") {
		id += "-NC"
	}
	switch {
	case has("nd", "noderivatives", "noderivs", "no derivatives", "no derivative works"):
		id += "-ND"
	case has("sa", "sharealike", "share alike"):
		id += "-SA"
	}
	m := ccVersion.FindStringSubmatch(words)
	if m == nil {
		return ""
	}
	v := strings.ReplaceAll(m[1], " ", ".")
	if !strings.Contains(v, ".") {
		v += ".0"
	}
	if has("igo") && knownID(id+"-"+v+"-IGO") {
		return id + "-" + v + "-IGO"
	}
	if knownID(id + "-" + v) {
		return id + "-" + v
	}
	return ""
}

// gnuPattern matches the GNU licences' names in normWords form: "gnu
// general public license version 2", "gplv3", "lgpl 2 1", "gnu affero
// general public license v3 or later".
var gnuPattern = regexp.MustCompile(`(?:^| )(?:gnu )?(?:(affero|lesser|library) )?(?:general public licen[cs]e|(a|l)?gpl)(?: version| ver| v)? ?v?([123])(?: ([01]))?( only)?( or later| or any later version| or at your option any later version| or newer| later)?(?: |$)`)

// gnuLicense recognises a GNU licence's name; "" unless its version is
// stated.
func gnuLicense(words string) string {
	m := gnuPattern.FindStringSubmatch(words)
	if m == nil {
		return ""
	}
	fam := "GPL"
	switch {
	case m[1] == "affero" || m[2] == "a":
		fam = "AGPL"
	case m[1] == "lesser" || m[1] == "library" || m[2] == "l":
		fam = "LGPL"
	}
	minor := m[4]
	if minor == "" {
		minor = "0"
	}
	id := fam + "-" + m[3] + "." + minor
	if m[6] != "" {
		id += "-or-later"
	} else {
		id += "-only"
	}
	if knownID(id) {
		return id
	}
	return ""
}

// bsdClauses names the BSD licence whose clauses a text holds, "" when it
// is not one.
func bsdClauses(lower string) string {
	if !strings.Contains(lower, "redistributions of source code must retain") {
		return ""
	}
	switch {
	case strings.Contains(lower, "all advertising materials mentioning"):
		return "BSD-4-Clause"
	case strings.Contains(lower, "neither the name of") || strings.Contains(lower, "may not be used to endorse or promote"):
		return "BSD-3-Clause"
	}
	return "BSD-2-Clause"
}

// fullText lists, per licence family, phrases only its full text has:
// with the title in a file's head they make a "full-text" match, alone a
// recognised body.
var fullText = []struct {
	prefix string // identifiers it confirms (prefix match)
	phrase string // lower case
}{
	{"GPL-", "terms and conditions for copying, distribution and modification"},
	{"GPL-3", "the gnu general public license is a free, copyleft license"},
	{"LGPL-", "this version of the gnu lesser general public license incorporates"},
	{"LGPL-2", "terms and conditions for copying, distribution and modification"},
	{"AGPL-", "the gnu affero general public license is a free, copyleft license"},
	{"Apache-2.0", "terms and conditions for use, reproduction, and distribution"},
	{"CC-BY", "by exercising the licensed rights"},
	{"CC-BY", "the work (as defined below) is provided under the terms of this creative commons public license"},
	{"CC0", "statement of purpose"},
	{"ODbL", "the open database license (odbl) is a license agreement"},
	{"ODC-By", "the open data commons attribution license is a license agreement"},
	{"PDDL", "the open data commons public domain dedication and license is a document"},
	{"CDLA", "this is a community data license agreement"},
	{"MIT", "permission is hereby granted, free of charge"},
	{"MPL-2.0", "mozilla public license version 2.0"},
}

// textLicense recognises a licence file's text. The head (first lines,
// each alone and joined with the next, as "GNU GENERAL PUBLIC LICENSE"
// over "Version 2, June 1991" is) names the licence; a phrase of its body
// makes it "full-text", the title alone "header". Without a title, a
// body phrase (MIT, ISC, the BSD clauses) names it. It returns the
// identifier, the 1-based line and the method; "" when nothing matched.
func textLicense(data []byte) (id string, line int, method string) {
	s := strings.ToValidUTF8(string(data), " ")
	lower := strings.ToLower(s)
	flat := strings.Join(strings.Fields(lower), " ") // phrases wrap across lines
	lines := strings.Split(s, "\n")
	type head struct {
		text string
		line int
	}
	var heads []head
	for i, l := range lines {
		if t := strings.TrimSpace(strings.Trim(l, "#*=-_ \t\r")); t != "" && len(t) < 200 {
			heads = append(heads, head{t, i + 1})
		}
		if len(heads) == 8 {
			break
		}
	}
	for i, h := range heads {
		cands := []string{h.text}
		if i+1 < len(heads) {
			cands = append(cands, h.text+" "+heads[i+1].text)
		}
		for _, c := range cands[:] {
			if j := strings.IndexByte(c, ','); j > 0 {
				cands = append(cands, c[:j]) // "Version 2.0, January 2004"
			}
		}
		for _, c := range cands {
			id := nameToSPDX(c)
			if id == "" || strings.HasPrefix(id, "LicenseRef-") || id == licenseUnknown {
				continue
			}
			// A plain "Copyright ..." line is no title.
			if strings.HasPrefix(strings.ToLower(h.text), "copyright") {
				continue
			}
			if id == "GPL-2.0-only" || id == "GPL-3.0-only" || id == "LGPL-2.1-only" || id == "LGPL-3.0-only" || id == "AGPL-3.0-only" {
				// The GPLs' "How to apply" appendix says "or (at your option)
				// any later version"; only the head decides "or later".
				if strings.Contains(normWords(strings.Join(lines[:min(len(lines), h.line+3)], " ")), "or later") {
					id = strings.TrimSuffix(id, "-only") + "-or-later"
				}
			}
			for _, f := range fullText {
				if strings.HasPrefix(id, f.prefix) && strings.Contains(flat, f.phrase) {
					return id, h.line, "full-text"
				}
			}
			if strings.HasPrefix(id, "BSD-") && bsdClauses(lower) == id {
				return id, h.line, "full-text"
			}
			if len(heads) == 1 {
				return id, h.line, "name" // a file holding only a name
			}
			return id, h.line, "header"
		}
	}
	lineOf := func(phrase string) int {
		i := strings.Index(lower, phrase)
		return strings.Count(lower[:max(i, 0)], "\n") + 1
	}
	switch {
	case strings.Contains(lower, "permission is hereby granted, free of charge"):
		return "MIT", lineOf("permission is hereby granted, free of charge"), "full-text"
	case strings.Contains(lower, "permission to use, copy, modify, and/or distribute this software for any purpose"):
		return "ISC", lineOf("permission to use, copy, modify"), "full-text"
	case bsdClauses(lower) != "":
		return bsdClauses(lower), lineOf("redistributions of source code must retain"), "full-text"
	}
	if id, ln := sentenceLicense(lines); id != "" {
		return id, ln, "sentence"
	}
	if i := strings.Index(lower, "all rights reserved"); i >= 0 {
		return licenseReserved, lineOf("all rights reserved"), "sentence"
	}
	return "", 0, ""
}

// underPattern finds a licence stated in prose: "released under the CC BY
// 4.0 licence", "is licensed under a Creative Commons ... License",
// "distributed under the terms of the MIT license". Only what follows such
// a verb is read, so a licence's name in passing (an "MIT" in a URL or an
// affiliation) is never taken for the dataset's.
var underPattern = regexp.MustCompile(`(?i)\b(?:licen[cs]ed|released|distributed|published|made available|available|provided|shared|offered|dedicated)\s+(?:(?:publicly|freely|openly)\s+)?(?:under|via|with)\s+(?:the\s+)?(?:terms\s+of\s+(?:the\s+)?)?(?:an?\s+)?(.{2,160})`)

// sentenceLicense finds the first licence stated in prose in lines; the
// phrase is cut at the sentence's end and at " licen[cs]e" when the name
// runs on.
func sentenceLicense(lines []string) (string, int) {
	for i, l := range lines {
		for _, m := range underPattern.FindAllStringSubmatch(l, -1) {
			obj := m[1]
			if j := strings.Index(obj, ". "); j > 0 {
				obj = obj[:j]
			}
			cands := []string{obj}
			lo := strings.ToLower(obj)
			for _, w := range []string{" licence", " license", " public license", ", ", " and ", " which", " that", " for "} {
				if j := strings.Index(lo, w); j > 0 {
					cands = append(cands, obj[:j], obj[:j+len(w)])
				}
			}
			if u := urlPattern.FindString(obj); u != "" {
				cands = append(cands, u)
			}
			for _, c := range cands {
				if id := nameToSPDX(strings.TrimSpace(c)); id != "" && id != licenseOther && id != licenseUnknown {
					return id, i + 1
				}
			}
		}
		if strings.Contains(strings.ToLower(l), "all rights reserved") {
			return licenseReserved, i + 1
		}
	}
	return "", 0
}

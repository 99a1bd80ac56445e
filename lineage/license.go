package lineage

import (
	"bufio"
	"bytes"
	"encoding/json"
	"path"
	"regexp"
	"strings"
	"unicode"
)

// LicenseFinding is what the documentation of a dataset says about its
// licence and its origin.
type LicenseFinding struct {
	// License is the SPDX identifier when the text is recognised, the raw
	// text (trimmed, at most 120 bytes) otherwise, empty when none is found.
	License string `json:"license"`
	// Raw is the text the licence was read from.
	Raw string `json:"license_raw,omitempty"`
	// Source is the file the licence came from (path inside the dataset),
	// "unavailable" when the dataset's source could not be read, empty when
	// no licence was found.
	Source string `json:"license_source"`
	// Method names the convention it was found by: "license-file",
	// "kaggle-metadata", "huggingface-card", "json-ld", "readme-line".
	Method string `json:"license_method,omitempty"`
	// StatedSource is where the documentation says the data came from (a
	// URL or a "Source:" line), empty when it says nothing.
	StatedSource string `json:"stated_source,omitempty"`
}

// docKind classifies a documentation file by name; 0 means "not a
// document we read". Lower values win when several documents state a
// licence: a LICENSE file is the most deliberate statement.
type docKind int

const (
	docNone docKind = iota
	docLicenseFile
	docKaggle
	docHFCard // a README.md; also searched for "License:" lines
	docJSONLD
	docReadme // other READMEs
)

// classifyDoc says which convention a file in a dataset might follow.
func classifyDoc(p string) docKind {
	base := strings.ToLower(path.Base(p))
	stem := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(base, ".txt"), ".md"), ".rst")
	switch {
	case stem == "license" || stem == "licence" || stem == "copying" ||
		strings.HasPrefix(base, "license.") || strings.HasPrefix(base, "licence."):
		return docLicenseFile
	case base == "dataset-metadata.json":
		return docKaggle
	case base == "readme.md":
		return docHFCard
	case base == "croissant.json" || base == "metadata.json" || strings.HasSuffix(base, ".jsonld") ||
		base == "datapackage.json":
		return docJSONLD
	case strings.HasPrefix(base, "readme"):
		return docReadme
	}
	return docNone
}

// maxDocBytes bounds what is read of one documentation file (its head:
// Entry.ReadHead) and parsed: licences and cards are small, and a 1 GB
// "README" must not be loaded.
const maxDocBytes = 1 << 20

// parseDoc extracts the licence text and any stated source from one
// document of the given kind. It never fails: unreadable documents say
// nothing.
func parseDoc(kind docKind, data []byte) (license, method, source string) {
	if len(data) > maxDocBytes {
		data = data[:maxDocBytes]
	}
	switch kind {
	case docLicenseFile:
		return licenseFileText(data), "license-file", ""
	case docKaggle:
		var m struct {
			Licenses []struct {
				Name string `json:"name"`
			} `json:"licenses"`
			Source   any `json:"source"`
			URL      any `json:"url"`
			Homepage any `json:"homepage"`
		}
		if json.Unmarshal(data, &m) != nil {
			return "", "", ""
		}
		for _, l := range m.Licenses {
			if strings.TrimSpace(l.Name) != "" {
				license = strings.TrimSpace(l.Name)
				break
			}
		}
		source = firstString(m.Source, m.URL, m.Homepage)
		return license, "kaggle-metadata", source
	case docJSONLD:
		var m map[string]any
		if json.Unmarshal(data, &m) != nil {
			return "", "", ""
		}
		if _, ok := m["@context"]; !ok && m["license"] == nil {
			return "", "", ""
		}
		license = firstString(m["license"])
		source = firstString(m["isBasedOn"], m["url"], m["sameAs"], m["citeAs"])
		return license, "json-ld", source
	case docHFCard, docReadme:
		body := data
		if kind == docHFCard {
			if fm, rest, ok := frontMatter(data); ok {
				body = rest
				if l := yamlScalar(fm, "license"); l != "" {
					license, method = l, "huggingface-card"
				}
				if s := yamlScalar(fm, "source_datasets"); s != "" {
					source = s
				}
			}
		}
		l, s := readmeLines(body)
		if license == "" && l != "" {
			license, method = l, "readme-line"
		}
		if source == "" {
			source = s
		}
		return license, method, source
	}
	return "", "", ""
}

// firstString returns the first non-empty string among vs, looking into
// lists and into objects' "name", "@id" or "url" fields (JSON-LD writes a
// licence as a string, a URL, an object or a list of them).
func firstString(vs ...any) string {
	for _, v := range vs {
		switch x := v.(type) {
		case string:
			if s := strings.TrimSpace(x); s != "" {
				return s
			}
		case []any:
			if s := firstString(x...); s != "" {
				return s
			}
		case map[string]any:
			if s := firstString(x["name"], x["@id"], x["url"], x["identifier"]); s != "" {
				return s
			}
		}
	}
	return ""
}

// frontMatter splits a "---"-delimited YAML block off the start of a
// Markdown file, as Hugging Face dataset cards have.
func frontMatter(data []byte) (fm, rest []byte, ok bool) {
	d := bytes.TrimPrefix(data, []byte("\ufeff"))
	if !bytes.HasPrefix(d, []byte("---\n")) && !bytes.HasPrefix(d, []byte("---\r\n")) {
		return nil, data, false
	}
	d = d[bytes.IndexByte(d, '\n')+1:]
	for off := 0; off < len(d); {
		nl := bytes.IndexByte(d[off:], '\n')
		line := d[off:]
		next := len(d)
		if nl >= 0 {
			line = d[off : off+nl]
			next = off + nl + 1
		}
		if string(bytes.TrimRight(line, " \r")) == "---" {
			return d[:off], d[next:], true
		}
		off = next
	}
	return nil, data, false
}

// yamlScalar reads a top-level key of a small YAML document: "key: value"
// or "key:" followed by "- value" items (the first is returned). It is not
// a YAML parser; it reads the two shapes dataset cards use.
func yamlScalar(doc []byte, key string) string {
	lines := strings.Split(string(doc), "\n")
	for i, line := range lines {
		line = strings.TrimRight(line, " \r")
		if !strings.HasPrefix(line, key+":") {
			continue
		}
		v := strings.TrimSpace(line[len(key)+1:])
		if v != "" {
			return unquote(strings.Trim(v, "[] "))
		}
		for _, next := range lines[i+1:] {
			t := strings.TrimSpace(next)
			if t == "" {
				continue
			}
			if strings.HasPrefix(t, "- ") {
				return unquote(strings.TrimSpace(t[2:]))
			}
			break
		}
		return ""
	}
	return ""
}

func unquote(s string) string {
	if i := strings.IndexByte(s, ','); i >= 0 && !strings.ContainsAny(s[:1], `"'`) {
		s = s[:i] // a flow list: keep the first item
	}
	return strings.TrimSpace(strings.Trim(s, `"'`))
}

var (
	licenseLine = regexp.MustCompile(`(?i)^[\s>*#_-]*(?:licen[cs]e[ds]?|licen[cs]ing|data licen[cs]e)\s*(?:\*\*)?\s*[:=]\s*(?:\*\*)?\s*(.+)$`)
	sourceLine  = regexp.MustCompile(`(?i)^[\s>*#_-]*(?:source|sources|origin|original dataset|derived from|based on|data source|homepage|citation)\s*(?:\*\*)?\s*[:=]\s*(?:\*\*)?\s*(.+)$`)
	urlPattern  = regexp.MustCompile(`https?://[^\s)>\]"']+`)
)

// readmeLines finds a "License: ..." line and a stated source ("Source:
// ..." line, else the first URL) in free text.
func readmeLines(body []byte) (license, source string) {
	var firstURL string
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 4096), maxDocBytes)
	for sc.Scan() {
		line := sc.Text()
		if m := licenseLine.FindStringSubmatch(line); m != nil && license == "" {
			license = strings.TrimSpace(strings.Trim(m[1], "*_` "))
		}
		if m := sourceLine.FindStringSubmatch(line); m != nil && source == "" {
			source = strings.TrimSpace(strings.Trim(m[1], "*_` "))
		}
		if firstURL == "" {
			firstURL = urlPattern.FindString(line)
		}
	}
	if source == "" {
		source = firstURL
	}
	return license, source
}

// licenseFileText names the licence a LICENSE file holds: the text of the
// well-known licences is recognised by its opening, anything else by its
// first non-empty line.
func licenseFileText(data []byte) string {
	s := string(data)
	lower := strings.ToLower(s)
	switch {
	case strings.Contains(lower, "permission is hereby granted, free of charge"):
		return "MIT"
	case strings.Contains(lower, "apache license") && strings.Contains(lower, "version 2.0"):
		return "Apache-2.0"
	case strings.Contains(lower, "creative commons") || strings.Contains(lower, "cc0"):
		// Legal code starts with the licence's name; keep the line that says it.
		for _, line := range strings.Split(s, "\n") {
			if id := toSPDX(line); isSPDX(id) {
				return id
			}
		}
	}
	for _, line := range strings.Split(s, "\n") {
		if t := strings.TrimSpace(strings.Trim(line, "#*= \t\r")); t != "" {
			return t
		}
	}
	return ""
}

// spdxIDs are the identifiers SPDX recognises that datasets use; an
// input equal to one of them (case-insensitively) is that licence.
var spdxIDs = []string{
	"CC0-1.0", "CC-BY-1.0", "CC-BY-2.0", "CC-BY-2.5", "CC-BY-3.0", "CC-BY-4.0",
	"CC-BY-SA-2.0", "CC-BY-SA-3.0", "CC-BY-SA-4.0", "CC-BY-NC-2.0", "CC-BY-NC-3.0", "CC-BY-NC-4.0",
	"CC-BY-NC-SA-2.0", "CC-BY-NC-SA-3.0", "CC-BY-NC-SA-4.0", "CC-BY-ND-3.0", "CC-BY-ND-4.0",
	"CC-BY-NC-ND-3.0", "CC-BY-NC-ND-4.0", "CC-PDDC", "PDDL-1.0", "ODbL-1.0", "ODC-By-1.0",
	"MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "GPL-2.0-only", "GPL-3.0-only",
	"LGPL-3.0-only", "AGPL-3.0-only", "MPL-2.0", "Unlicense", "CDLA-Permissive-1.0",
	"CDLA-Permissive-2.0", "CDLA-Sharing-1.0", "OpenRAIL", "Artistic-2.0", "ISC", "Zlib",
}

func isSPDX(id string) bool {
	for _, s := range spdxIDs {
		if s == id {
			return true
		}
	}
	return false
}

// aliases maps normalised names (lower case, words separated by single
// spaces, see normWords) to SPDX identifiers.
var aliases = map[string]string{
	"mit":                         "MIT",
	"mit license":                 "MIT",
	"the mit license":             "MIT",
	"expat":                       "MIT",
	"apache 2":                    "Apache-2.0",
	"apache 2 0":                  "Apache-2.0",
	"apache license 2 0":          "Apache-2.0",
	"apache license version 2 0":  "Apache-2.0",
	"apache software license 2 0": "Apache-2.0",
	"bsd 3 clause":                "BSD-3-Clause",
	"bsd 3 clause license":        "BSD-3-Clause",
	"new bsd":                     "BSD-3-Clause",
	"bsd 2 clause":                "BSD-2-Clause",
	"simplified bsd":              "BSD-2-Clause",
	"gpl 3":                       "GPL-3.0-only",
	"gpl 3 0":                     "GPL-3.0-only",
	"gplv3":                       "GPL-3.0-only",
	"gpl 2":                       "GPL-2.0-only",
	"gpl 2 0":                     "GPL-2.0-only",
	"gplv2":                       "GPL-2.0-only",
	"mpl 2 0":                     "MPL-2.0",
	"unlicense":                   "Unlicense",
	"the unlicense":               "Unlicense",
	"odbl":                        "ODbL-1.0",
	"odbl 1 0":                    "ODbL-1.0",
	"open database license":       "ODbL-1.0",
	"open database license odbl":  "ODbL-1.0",
	"open data commons open database license v1 0":      "ODbL-1.0",
	"database open database contents database contents": "ODbL-1.0", // Kaggle's wording
	"pddl": "PDDL-1.0",
	"open data commons public domain dedication and license": "PDDL-1.0",
	"odc by":              "ODC-By-1.0",
	"odc by 1 0":          "ODC-By-1.0",
	"cdla permissive 1 0": "CDLA-Permissive-1.0",
	"cdla permissive 2 0": "CDLA-Permissive-2.0",
	"cdla sharing 1 0":    "CDLA-Sharing-1.0",
	"community data license agreement permissive 1 0": "CDLA-Permissive-1.0",
	"community data license agreement sharing 1 0":    "CDLA-Sharing-1.0",
	"openrail": "OpenRAIL",
	"isc":      "ISC",
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
	for _, id := range spdxIDs {
		if strings.EqualFold(t, id) {
			return id
		}
	}
	words := normWords(t)
	if id, ok := aliases[words]; ok {
		return id
	}
	if id := creativeCommons(words); id != "" {
		return id
	}
	if len(t) > 120 {
		t = strings.ToValidUTF8(t[:120], "")
	}
	return t
}

// normWords lower-cases s, turns every run of non-alphanumerics into one
// space, and drops "license"/"licence" suffix noise so that "MIT License"
// and "mit" meet.
func normWords(s string) string {
	f := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	return strings.Join(f, " ")
}

var ccVersion = regexp.MustCompile(`(?:^| )(1|2|2 5|3|4)(?: 0)?(?: |$)`)

// creativeCommons recognises the Creative Commons licences in their long
// ("Creative Commons Attribution-NonCommercial 4.0 International"), short
// ("CC BY-NC 4.0") and URL (creativecommons.org/licenses/by-nc/4.0/) forms.
func creativeCommons(words string) string {
	w := " " + words + " "
	isCC := strings.Contains(w, " creative commons ") || strings.Contains(w, " creativecommons ") ||
		strings.Contains(w, " cc ") || strings.Contains(w, " cc0 ")
	if !isCC {
		return ""
	}
	if strings.Contains(w, " cc0 ") || strings.Contains(w, " zero ") || strings.Contains(w, " publicdomain ") {
		return "CC0-1.0"
	}
	has := func(ws ...string) bool {
		for _, x := range ws {
			if strings.Contains(w, " "+x+" ") {
				return true
			}
		}
		return false
	}
	if !has("by", "attribution") {
		return ""
	}
	id := "CC-BY"
	if has("nc", "noncommercial", "non commercial") {
		id += "-NC"
	}
	switch {
	case has("nd", "noderivatives", "noderivs", "no derivatives"):
		id += "-ND"
	case has("sa", "sharealike", "share alike"):
		id += "-SA"
	}
	// The version: the first "N" or "N 0" (2.5 is "2 5") after the terms.
	m := ccVersion.FindStringSubmatch(words)
	if m == nil {
		return "" // no version stated: which licence is meant is unknown
	}
	v := strings.ReplaceAll(m[1], " ", ".")
	if !strings.Contains(v, ".") {
		v += ".0"
	}
	if isSPDX(id + "-" + v) {
		return id + "-" + v
	}
	return ""
}

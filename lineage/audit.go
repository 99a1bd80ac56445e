package lineage

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/copycat-dev/copycat/index"
)

// auditDataset reads the documentation the scan kept in the index for one
// dataset and returns what it says about the licence and the origin, and
// the card audit. The source is never read again: a download moved or
// deleted after its scan is audited as it was. A dataset scanned before
// the index kept documents gives "unavailable" (scan it again).
func auditDataset(ctx context.Context, st *index.Store, name string) (LicenseFinding, *Documentation, []document, error) {
	stored, recorded, err := st.Documents(ctx, name)
	if err != nil {
		return LicenseFinding{}, nil, nil, fmt.Errorf("lineage: %w", err)
	}
	if !recorded {
		return LicenseFinding{Source: "unavailable"}, nil, nil, nil
	}
	docs := make([]document, 0, len(stored))
	for _, d := range stored {
		if k := index.KindOfDocument(d.Path); k != index.NotDocument {
			docs = append(docs, document{d.Path, k, d.Data})
		}
	}
	sortDocs(docs)
	return auditDocs(docs), auditCard(docs), docs, nil
}

// document is one documentation file of a dataset.
type document struct {
	path string
	kind index.DocumentKind
	data []byte
}

// sortDocs puts the most deliberate convention first (a LICENSE file over
// Kaggle metadata over a dataset card over JSON-LD over a README), then
// the shallowest path.
func sortDocs(docs []document) {
	slices.SortFunc(docs, func(a, b document) int {
		return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(strings.Count(a.path, "/"), strings.Count(b.path, "/")),
			cmp.Compare(a.path, b.path))
	})
}

// docLicense is the licence one document states.
type docLicense struct {
	text   string // as written (or the identifier when written as one)
	id     string // SPDX identifier or LicenseRef; "" when not recognised
	line   int
	method string // LicenseEvidence.Method
	conv   string // LicenseFinding.Method
}

// vague reports whether a licence says nothing definite: none, unknown,
// "other" without a name, or unrecognised text.
func (l docLicense) vague() bool {
	return l.id == "" || l.id == licenseUnknown || l.id == licenseOther
}

// auditDocs picks the licence and the stated source from a dataset's
// documents, sorted by sortDocs: the first document stating a licence
// wins, unless it is vague ("unknown", "other", unrecognised text) and a
// later one names a licence.
func auditDocs(docs []document) LicenseFinding {
	var f LicenseFinding
	var pick *docLicense
	var pickPath string
	for _, d := range docs {
		lic, src := parseDoc(d)
		if lic.text != "" && (pick == nil || pick.vague() && !lic.vague()) {
			pick, pickPath = &lic, d.path
		}
		if f.StatedSource == "" && src != "" {
			f.StatedSource = src
		}
	}
	if pick == nil {
		return f
	}
	f.License, f.Raw, f.Source, f.Method = pick.id, pick.text, pickPath, pick.conv
	if f.License == "" {
		f.License = toSPDX(pick.text)
	}
	if f.Raw == f.License {
		f.Raw = ""
	}
	if len(f.Raw) > 200 {
		f.Raw = strings.ToValidUTF8(f.Raw[:200], "")
	}
	f.Evidence = &LicenseEvidence{File: pickPath, Line: pick.line, Method: pick.method}
	return f
}

// parseDoc extracts the licence and any stated source from one document.
// It never fails: unreadable documents say nothing.
func parseDoc(d document) (lic docLicense, source string) {
	data := d.data
	if len(data) > index.MaxDocumentBytes {
		data = data[:index.MaxDocumentBytes]
	}
	switch d.kind {
	case index.LicenseFile:
		id, line, method := textLicense(data)
		if id != "" {
			return docLicense{text: id, id: id, line: line, method: method, conv: "license-file"}, ""
		}
		for i, l := range strings.Split(string(data), "\n") {
			if t := strings.TrimSpace(strings.Trim(l, "#*= \t\r")); t != "" {
				return docLicense{text: t, line: i + 1, method: "name", conv: "license-file"}, ""
			}
		}
	case index.KaggleMetadata:
		return kaggleLicense(data)
	case index.JSONLD:
		var m map[string]any
		if json.Unmarshal(data, &m) != nil {
			return docLicense{}, ""
		}
		if _, ok := m["@context"]; !ok && m["license"] == nil {
			return docLicense{}, ""
		}
		source = firstString(m["isBasedOn"], m["url"], m["sameAs"], m["citeAs"])
		if t := firstString(m["license"]); t != "" {
			return docLicense{text: t, id: nameToSPDX(t), line: lineOf(data, "license"), method: "metadata", conv: "json-ld"}, source
		}
		return docLicense{}, source
	case index.DatasetCard, index.Readme:
		body, offset := data, 0
		if d.kind == index.DatasetCard {
			if fm, rest, ok := frontMatter(data); ok {
				body, offset = rest, bytes.Count(data[:len(data)-len(rest)], []byte("\n"))
				y := parseYAML(fm, 1)
				if s := y["source_datasets"].first(); s != "" {
					source = s
				}
				if l := cardLicense(y); l.text != "" {
					l.conv = "huggingface-card"
					return l, source
				}
			}
		}
		l, s := readmeLicense(body, offset)
		if source == "" {
			source = s
		}
		return l, source
	}
	return docLicense{}, ""
}

// kaggleLicense reads Kaggle's dataset-metadata.json: the first licence's
// name; for "other", the licence its description states, if any.
func kaggleLicense(data []byte) (docLicense, string) {
	var m struct {
		Licenses []struct {
			Name string `json:"name"`
		} `json:"licenses"`
		Description string `json:"description"`
		Source      any    `json:"source"`
		URL         any    `json:"url"`
		Homepage    any    `json:"homepage"`
		Sources     any    `json:"userSpecifiedSources"`
	}
	if json.Unmarshal(data, &m) != nil {
		return docLicense{}, ""
	}
	source := firstString(m.Source, m.Sources, m.URL, m.Homepage)
	for _, l := range m.Licenses {
		name := strings.TrimSpace(l.Name)
		if name == "" {
			continue
		}
		lic := docLicense{text: name, id: nameToSPDX(name), line: lineOf(data, name), method: "metadata", conv: "kaggle-metadata"}
		if lic.vague() && m.Description != "" {
			if d, _ := readmeLicense([]byte(m.Description), 0); !d.vague() {
				lic.id, lic.method = d.id, d.method
				lic.text = name + "; description: " + d.text
				lic.line = lineOf(data, "description")
			}
		}
		return lic, source
	}
	return docLicense{}, source
}

// cardLicense reads a Hugging Face card's license, with license_name and
// license_link for "other".
func cardLicense(y yamlDoc) docLicense {
	f := y["license"]
	v := f.first()
	if v == "" {
		return docLicense{}
	}
	l := docLicense{text: v, id: nameToSPDX(v), line: f.line, method: "metadata"}
	if strings.EqualFold(v, "other") {
		name, link := y["license_name"].first(), y["license_link"].first()
		if name != "" {
			if id := nameToSPDX(name); id != "" && id != licenseOther {
				l.id = id
			} else {
				l.id = "LicenseRef-" + refID(name)
			}
			l.text = "other: " + name
			l.line = y["license_name"].line
		}
		if link != "" {
			l.text += " (" + link + ")"
		}
	}
	return l
}

// refID makes an SPDX LicenseRef idstring: letters, digits, "." and "-".
func refID(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-'):
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
		if b.Len() >= 64 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

// lineOf is the 1-based line of the first occurrence of s in data (of its
// JSON spelling first), 1 when it does not occur.
func lineOf(data []byte, s string) int {
	i := -1
	if q, err := json.Marshal(s); err == nil {
		i = bytes.Index(data, q)
	}
	if i < 0 {
		i = bytes.Index(data, []byte(s))
	}
	if i < 0 {
		return 1
	}
	return bytes.Count(data[:i], []byte("\n")) + 1
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

// yamlField is a top-level key of a card's YAML: its scalar or list
// values, its line, and the text of its nested block.
type yamlField struct {
	values []string
	line   int
	block  string
}

func (f yamlField) first() string {
	if len(f.values) == 0 {
		return ""
	}
	return f.values[0]
}

// yamlDoc maps top-level keys to their fields.
type yamlDoc map[string]yamlField

// parseYAML reads the top-level keys of a small YAML document, the shapes
// dataset cards use: "key: value", "key: [a, b]", "key:" followed by "-
// item" lines, and nested blocks kept as text. It is not a YAML parser.
// firstLine is the line number of doc's first line in its file (the
// front matter starts on line 2).
func parseYAML(doc []byte, firstLine int) yamlDoc {
	out := yamlDoc{}
	var cur string
	for i, line := range strings.Split(string(doc), "\n") {
		line = strings.TrimRight(line, " \r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if line[0] != ' ' && line[0] != '\t' && line[0] != '-' {
			key, v, ok := strings.Cut(line, ":")
			if !ok {
				cur = ""
				continue
			}
			cur = strings.TrimSpace(key)
			f := yamlField{line: firstLine + i + 1}
			v = strings.TrimSpace(v)
			if strings.HasPrefix(v, "[") {
				for _, item := range strings.Split(strings.Trim(v, "[] "), ",") {
					if s := unquote(item); s != "" {
						f.values = append(f.values, s)
					}
				}
			} else if s := unquote(v); s != "" {
				f.values = append(f.values, s)
			}
			out[cur] = f
			continue
		}
		if cur == "" {
			continue
		}
		f := out[cur]
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "- ") && !strings.Contains(t, ": ") && len(f.block) == 0 {
			f.values = append(f.values, unquote(t[2:]))
		} else if len(f.block) < 64<<10 {
			f.block += t + "\n"
		}
		out[cur] = f
	}
	return out
}

func unquote(s string) string {
	return strings.TrimSpace(strings.Trim(strings.TrimSpace(s), `"'`))
}

var (
	licenseLine = regexp.MustCompile(`(?i)^[\s>*#_-]*(?:licen[cs]e[ds]?|licen[cs]ing|data licen[cs]e|dataset licen[cs]e)\s*(?:\*\*)?\s*[:=]\s*(?:\*\*)?\s*(.+)$`)
	sourceLine  = regexp.MustCompile(`(?i)^[\s>*#_-]*(?:source|sources|origin|original dataset|derived from|based on|data source|homepage|citation)\s*(?:\*\*)?\s*[:=]\s*(?:\*\*)?\s*(.+)$`)
	urlPattern  = regexp.MustCompile(`https?://[^\s)>\]"']+`)
	headingLine = regexp.MustCompile(`^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$`)
)

// readmeLicense finds the licence in free text: a "License: ..." line
// (method "name"), the line under a "License" heading (name or sentence),
// else a sentence such as "released under CC BY 4.0"; and a stated source
// ("Source: ..." line, else the first URL). offset is the number of lines
// before body in its file.
func readmeLicense(body []byte, offset int) (docLicense, string) {
	var lic docLicense
	var source, firstURL string
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 4096), index.MaxDocumentBytes)
	underHeading := false
	for sc.Scan() {
		line := sc.Text()
		lines = append(lines, line)
		n := offset + len(lines)
		if m := headingLine.FindStringSubmatch(line); m != nil {
			w := normWords(m[1])
			underHeading = w == "license" || w == "licence" || w == "licensing" || w == "licensing information" || w == "license information" || w == "terms of use"
			continue
		}
		if lic.text == "" {
			if m := licenseLine.FindStringSubmatch(line); m != nil {
				t := strings.TrimSpace(strings.Trim(m[1], "*_` "))
				if id, ln := sentenceLicense([]string{t}); id != "" && nameToSPDX(t) == "" {
					lic = docLicense{text: t, id: id, line: n + ln - 1, method: "sentence"}
				} else {
					lic = docLicense{text: t, id: nameToSPDX(t), line: n, method: "name"}
				}
			} else if t := strings.TrimSpace(strings.Trim(line, "*_`>- ")); underHeading && t != "" {
				underHeading = false
				if id := nameToSPDX(t); id != "" {
					lic = docLicense{text: t, id: id, line: n, method: "name"}
				} else if id, _ := sentenceLicense([]string{t}); id != "" {
					lic = docLicense{text: t, id: id, line: n, method: "sentence"}
				}
			}
		}
		if m := sourceLine.FindStringSubmatch(line); m != nil && source == "" {
			source = strings.TrimSpace(strings.Trim(m[1], "*_` "))
		}
		if firstURL == "" {
			firstURL = urlPattern.FindString(line)
		}
	}
	if lic.text == "" {
		if id, ln := sentenceLicense(lines); id != "" {
			t := strings.TrimSpace(lines[ln-1])
			if len(t) > 200 {
				t = t[:200]
			}
			lic = docLicense{text: t, id: id, line: offset + ln, method: "sentence"}
		}
	}
	if lic.text != "" {
		lic.conv = "readme-line"
	}
	if source == "" {
		source = firstURL
	}
	return lic, source
}

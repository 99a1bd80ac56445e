package lineage

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"

	"github.com/copycat-dev/copycat/index"
)

// Documentation is the card audit of a dataset: which of the items that
// the Copycats study and "Datasheets for Datasets" ask of a dataset's
// documentation it states, with where.
type Documentation struct {
	// Score is the share of items present, 0 to 1.
	Score float64 `json:"score"`
	// Items lists every item of cardItems, present or not.
	Items []CardItem `json:"items"`
}

// CardItem is one item of the card audit.
type CardItem struct {
	// Item is one of description, source, collection, annotations,
	// splits, uses, patient-data, maintainer, version.
	Item    string `json:"item"`
	Present bool   `json:"present"`
	// Evidence says where the item is stated ("README.md:12 heading
	// \"Data Splits\""), or, when missing, what was looked at.
	Evidence string `json:"evidence"`
}

// cardItems are the items audited, in report order.
var cardItems = []string{"description", "source", "collection", "annotations", "splits", "uses", "patient-data", "maintainer", "version"}

// Missing names the items the documentation lacks.
func (d *Documentation) Missing() []string {
	var out []string
	for _, it := range d.Items {
		if !it.Present {
			out = append(out, it.Item)
		}
	}
	return out
}

// headingItems maps words of a Markdown heading (normWords, matched as
// whole words or phrases) to the item a section under it documents: the
// sections of the Hugging Face card template, Kaggle's "Context",
// "Content", "Acknowledgements", and common README headings.
var headingItems = []struct {
	item  string
	words []string
}{
	{"patient-data", []string{"personal and sensitive information", "privacy", "ethics", "ethical considerations", "de identification", "deidentification", "anonymization", "anonymisation", "consent", "patient data", "phi"}},
	{"uses", []string{"uses", "intended use", "intended uses", "direct use", "out of scope use", "use cases", "limitations", "considerations for using the data", "bias risks and limitations", "recommendations"}},
	{"splits", []string{"data splits", "splits", "split", "train test split", "partitions"}},
	{"annotations", []string{"annotations", "annotation", "annotation process", "labels", "labeling", "labelling", "ground truth", "who are the annotators"}},
	{"collection", []string{"data collection", "data collection and processing", "collection process", "collection", "acquisition", "image acquisition", "data acquisition", "methodology", "methods", "how the data was collected"}},
	{"source", []string{"source data", "source", "sources", "provenance", "origin", "original dataset", "citation", "citations", "acknowledgements", "acknowledgments", "acknowledgement", "references", "how to cite", "bibtex"}},
	{"maintainer", []string{"dataset curators", "curators", "contact", "contacts", "maintainer", "maintainers", "point of contact", "dataset card contact", "dataset card authors", "authors", "creators", "team"}},
	{"version", []string{"version", "versions", "changelog", "change log", "version history", "release notes", "updates"}},
	{"description", []string{"dataset description", "dataset summary", "description", "summary", "overview", "about", "about dataset", "context", "content", "introduction", "dataset details", "dataset card"}},
}

// proseItems are sentences that state an item without a heading.
var proseItems = []struct {
	item string
	re   *regexp.Regexp
}{
	{"source", regexp.MustCompile(`(?i)\b10\.\d{4,9}/[^\s"<>]+|@(?:article|inproceedings|misc|dataset|data|techreport|book)\s*\{|\b(?:derived from|taken from|obtained from|sourced from|originally (?:published|released)|re-?uploaded from|a copy of|a subset of|based on the)\b`)},
	{"collection", regexp.MustCompile(`(?i)\b(?:were|was) (?:collected|acquired|gathered|recorded|scanned|retrieved|imaged)\b|\bacquired (?:on|with|using|at|between)\b|\bcollected (?:from|at|between|during)\b`)},
	{"annotations", regexp.MustCompile(`(?i)\b(?:annotated|labell?ed|segmented|delineated|graded|contoured|marked) by\b|\bannotations? (?:were|was) (?:made|performed|done|created|provided|drawn)\b|\bannotators?\b`)},
	{"splits", regexp.MustCompile(`(?i)\b(?:train(?:ing)?|validation|test(?:ing)?)\s+(?:split|set|subset|partition)s?\b|\bsplit (?:into|in) (?:train|training)`)},
	{"uses", regexp.MustCompile(`(?i)\bintended (?:for|to be used|use)\b|\b(?:should|must) not be used\b|\bnot (?:intended|suitable|meant|approved) for\b|\bfor (?:non-commercial )?research (?:purposes|use) only\b|\bout-of-scope\b|\bnot for (?:clinical|diagnostic) use\b`)},
	{"patient-data", regexp.MustCompile(`(?i)\bde-?identifi|\banonymi[sz]|\bpseudonymi[sz]|\binformed consent\b|\bconsent (?:was|were) (?:waived|obtained)\b|\binstitutional review board\b|\bIRB\b|\bethics committee\b|\bethical approval\b|\bHIPAA\b|\bprotected health information\b|\bpatient privacy\b`)},
	{"maintainer", regexp.MustCompile(`(?i)^\W*(?:maintainer|maintained by|contact|point of contact|curated by|curator|authors?|created by|uploaded by)\s*\**\s*[:=]|\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b`)},
	{"version", regexp.MustCompile(`(?i)^\W*version\s*\**\s*[:=]|\bversion\s+v?\d+(?:\.\d+)+\b|\bv\d+\.\d+(?:\.\d+)?\b`)},
}

// placeholder is the Hugging Face template's text for an empty section.
var placeholder = regexp.MustCompile(`(?i)\[more information needed\]|\[needs more information\]|\btodo\b|\btbd\b|\[optional\]`)

// cardSignal is one item found in one document.
type cardSignal struct {
	item, evidence string
	empty          bool // a heading with no content: named, not stated
}

// auditCard audits a dataset's documents (sorted by sortDocs): the first
// evidence of each item is kept.
func auditCard(docs []document) *Documentation {
	found := map[string]cardSignal{}
	var looked []string
	add := func(s cardSignal) {
		if prev, ok := found[s.item]; !ok || prev.empty && !s.empty {
			found[s.item] = s
		}
	}
	for _, d := range docs {
		looked = append(looked, d.path)
		for _, s := range cardSignals(d) {
			add(s)
		}
	}
	doc := &Documentation{}
	n := 0
	for _, item := range cardItems {
		s, ok := found[item]
		it := CardItem{Item: item, Present: ok && !s.empty, Evidence: s.evidence}
		switch {
		case it.Present:
			n++
		case ok:
			it.Evidence = s.evidence + " (empty)"
		case len(looked) == 0:
			it.Evidence = "no documentation"
		default:
			it.Evidence = "not stated in " + strings.Join(firstN(looked, 4), ", ")
		}
		doc.Items = append(doc.Items, it)
	}
	doc.Score = math.Round(100*float64(n)/float64(len(cardItems))) / 100
	return doc
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("%d more", len(s)-n))
	}
	return s
}

// cardSignals lists the items one document states.
func cardSignals(d document) []cardSignal {
	data := d.data
	if len(data) > index.MaxDocumentBytes {
		data = data[:index.MaxDocumentBytes]
	}
	switch d.kind {
	case index.KaggleMetadata:
		return kaggleSignals(d.path, data)
	case index.JSONLD:
		return jsonldSignals(d.path, data)
	case index.DatasetCard, index.Readme:
		var out []cardSignal
		body, offset := data, 0
		if fm, rest, ok := frontMatter(data); ok {
			body, offset = rest, strings.Count(string(data[:len(data)-len(rest)]), "\n")
			out = yamlSignals(d.path, parseYAML(fm, 1))
		}
		return append(out, markdownSignals(d.path, string(body), offset)...)
	}
	return nil
}

// yamlSignals reads a Hugging Face card's front matter.
func yamlSignals(file string, y yamlDoc) []cardSignal {
	var out []cardSignal
	ev := func(key string) string { return fmt.Sprintf("%s:%d yaml %s", file, y[key].line, key) }
	for _, k := range []struct{ key, item string }{
		{"source_datasets", "source"}, {"annotations_creators", "annotations"}, {"version", "version"},
	} {
		if f, ok := y[k.key]; ok && (len(f.values) > 0 || f.block != "") {
			out = append(out, cardSignal{item: k.item, evidence: ev(k.key)})
		}
	}
	for _, key := range []string{"configs", "dataset_info"} {
		if f, ok := y[key]; ok && (strings.Contains(f.block, "split:") || strings.Contains(f.block, "splits:")) {
			out = append(out, cardSignal{item: "splits", evidence: ev(key) + " splits"})
		}
	}
	return out
}

// kaggleSignals reads Kaggle's dataset-metadata.json, its description
// read as Markdown (Kaggle's "About Dataset" text).
func kaggleSignals(file string, data []byte) []cardSignal {
	var m map[string]any
	if json.Unmarshal(data, &m) != nil {
		return nil
	}
	var out []cardSignal
	field := func(key, item string) {
		if s := firstString(m[key]); s != "" {
			out = append(out, cardSignal{item: item, evidence: fmt.Sprintf("%s:%d %s", file, lineOf(data, key), key)})
		}
	}
	field("subtitle", "description")
	field("id", "maintainer")
	field("collaborators", "maintainer")
	field("userSpecifiedSources", "source")
	field("source", "source")
	field("citation", "source")
	field("version", "version")
	if desc, _ := m["description"].(string); strings.TrimSpace(desc) != "" {
		line := lineOf(data, "description")
		if len(strings.Fields(desc)) >= 5 {
			out = append(out, cardSignal{item: "description", evidence: fmt.Sprintf("%s:%d description", file, line)})
		}
		out = append(out, markdownSignals(file+" description", desc, 0)...)
	}
	return out
}

// jsonldSignals reads schema.org / Croissant JSON-LD.
func jsonldSignals(file string, data []byte) []cardSignal {
	var m map[string]any
	if json.Unmarshal(data, &m) != nil {
		return nil
	}
	var out []cardSignal
	for _, k := range []struct{ key, item string }{
		{"description", "description"}, {"isBasedOn", "source"}, {"citeAs", "source"}, {"citation", "source"},
		{"creator", "maintainer"}, {"publisher", "maintainer"}, {"maintainer", "maintainer"}, {"author", "maintainer"},
		{"version", "version"}, {"measurementTechnique", "collection"},
	} {
		if v, ok := m[k.key]; ok && v != nil && firstString(v) != "" {
			out = append(out, cardSignal{item: k.item, evidence: fmt.Sprintf("%s:%d %s", file, lineOf(data, k.key), k.key)})
		}
	}
	return out
}

// markdownSignals reads headings with their sections and sentences.
// offset is the number of lines before text in its file.
func markdownSignals(file, text string, offset int) []cardSignal {
	var out []cardSignal
	lines := strings.Split(text, "\n")
	type section struct {
		item, heading string
		line          int
		content       bool
	}
	var open *section
	closeSection := func() {
		if open != nil {
			out = append(out, cardSignal{item: open.item, empty: !open.content,
				evidence: fmt.Sprintf("%s:%d heading %q", file, open.line, open.heading)})
			open = nil
		}
	}
	prose := 0 // bytes of prose outside headings: a sentence is a description
	for i, line := range lines {
		n := offset + i + 1
		if m := headingLine.FindStringSubmatch(line); m != nil {
			closeSection()
			if item := headingItem(m[1]); item != "" {
				open = &section{item: item, heading: strings.TrimSpace(m[1]), line: n}
			}
			continue
		}
		t := strings.TrimSpace(line)
		if t == "" {
			continue
		}
		if open != nil && !placeholder.MatchString(t) && strings.IndexFunc(t, isLetter) >= 0 {
			open.content = true
		}
		if placeholder.MatchString(t) {
			continue
		}
		if m := sourceLine.FindStringSubmatch(t); m != nil {
			out = append(out, cardSignal{item: "source", evidence: fmt.Sprintf("%s:%d %q", file, n, strings.TrimSpace(m[0]))})
		}
		if prose < 40 {
			prose += len(t)
			if prose >= 40 {
				out = append(out, cardSignal{item: "description", evidence: fmt.Sprintf("%s:%d text", file, n)})
			}
		}
		for _, p := range proseItems {
			if m := p.re.FindString(t); m != "" {
				out = append(out, cardSignal{item: p.item, evidence: fmt.Sprintf("%s:%d %q", file, n, strings.TrimSpace(m))})
			}
		}
	}
	closeSection()
	// Headings first: a section is the more deliberate statement.
	var heads, rest []cardSignal
	for _, s := range out {
		if strings.Contains(s.evidence, " heading ") {
			heads = append(heads, s)
		} else {
			rest = append(rest, s)
		}
	}
	return append(heads, rest...)
}

func isLetter(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 127 }

// headingItem names the item a heading introduces, "" for none.
func headingItem(h string) string {
	w := " " + normWords(h) + " "
	for _, hi := range headingItems {
		for _, x := range hi.words {
			if strings.Contains(w, " "+x+" ") {
				return hi.item
			}
		}
	}
	return ""
}

// CardItems names the audited items, for the HTML report's columns.
func (htmlPage) CardItems() []string { return cardItems }

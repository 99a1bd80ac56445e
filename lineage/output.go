package lineage

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// WriteJSON writes the report as indented JSON (the --json output).
func (r *Report) WriteJSON(w io.Writer) error {
	out := *r
	// Empty lists print as [] so that consumers need not test for null.
	if out.Overlaps == nil {
		out.Overlaps = []Overlap{}
	}
	if out.Edges == nil {
		out.Edges = []Edge{}
	}
	if out.Indirect == nil {
		out.Indirect = []Edge{}
	}
	if out.Leaks == nil {
		out.Leaks = []Leak{}
	}
	if out.Findings == nil {
		out.Findings = []string{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&out); err != nil {
		return fmt.Errorf("lineage: write json: %w", err)
	}
	return nil
}

// IncompleteWarning is the sentence that says which datasets were only
// partly scanned, or "" when none was.
func (r *Report) IncompleteWarning() string {
	return incompleteWarning(r.Incomplete)
}

// incompleteWarning says that the named datasets were only partly scanned
// and what to do; "" for none.
func incompleteWarning(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf("the last scan of dataset %s did not finish: only what it committed is analysed; scan it again to complete it", names[0])
	}
	return fmt.Sprintf("the last scans of datasets %s did not finish: only what they committed is analysed; scan them again to complete them", strings.Join(names, ", "))
}

// WriteText writes a readable summary for a terminal. It is deterministic
// (no times, no absolute paths beyond the sources), so the scenario tests
// compare it with golden files.
func (r *Report) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }
	p("%d %s, %d %s, %d source %s with copies\n", len(r.Datasets), plural(len(r.Datasets), "dataset", "datasets"),
		r.Images, plural(r.Images, "image", "images"), r.Groups, plural(r.Groups, "image", "images"))
	if len(r.Incomplete) > 0 {
		p("WARNING: %s\n", r.IncompleteWarning())
	}
	p("\nDatasets\n")
	for _, d := range r.Datasets {
		lic := d.License
		if lic == "" {
			lic = "none"
		}
		where := d.LicenseFinding.Source
		if ev := d.Evidence; ev != nil {
			where = fmt.Sprintf("%s:%d", ev.File, ev.Line)
		}
		if d.Method != "" {
			where += ", " + d.Method
		}
		if ev := d.Evidence; ev != nil {
			where += ", " + ev.Method
		}
		if where != "" {
			where = " (" + where + ")"
		}
		p("  %s: %d %s, license %s%s", d.Name, d.Images, plural(d.Images, "image", "images"), lic, where)
		if len(d.Splits) > 0 {
			var parts []string
			for _, s := range slices.Sorted(maps.Keys(d.Splits)) {
				parts = append(parts, fmt.Sprintf("%s %d", s, d.Splits[s]))
			}
			p(", splits: %s", strings.Join(parts, ", "))
		}
		p("\n")
		if doc := d.Documentation; doc != nil && len(d.docs) == 0 {
			p("    documentation: none\n")
		} else if doc != nil {
			p("    documentation %.2f", doc.Score)
			if m := doc.Missing(); len(m) > 0 {
				p(", missing: %s", strings.Join(m, ", "))
			}
			p("\n")
		}
	}
	p("\nOverlaps\n")
	if len(r.Overlaps) == 0 {
		p("  none\n")
	}
	for _, o := range r.Overlaps {
		p("  %s ~ %s: %d shared, %.0f%% of %s, %.0f%% of %s; %s\n", o.A, o.B, o.SharedImages,
			100*o.AFraction, o.A, 100*o.BFraction, o.B, kinds(o.Kinds))
	}
	p("\nDerivations\n")
	if len(r.Edges) == 0 {
		p("  none\n")
	}
	for _, e := range r.Edges {
		r.writeEdge(p, e)
	}
	if len(r.Indirect) > 0 {
		p("\nIndirect\n")
		for _, e := range r.Indirect {
			p("  %s -> %s: %s\n", e.Original, e.Copy, e.Via)
		}
	}
	p("\nLeaks\n")
	if len(r.Leaks) == 0 {
		p("  none\n")
	}
	for _, l := range r.Leaks {
		if l.Original != "" {
			p("  %s %s -> %s %s: %d %s, e.g. %s = %s\n", l.Original, l.Splits[0], l.Dataset, l.Splits[1], l.Pairs, plural(l.Pairs, "pair", "pairs"), l.Examples[0][0], l.Examples[0][1])
		} else {
			p("  %s: %s/%s: %d %s, e.g. %s = %s\n", l.Dataset, l.Splits[0], l.Splits[1], l.Pairs, plural(l.Pairs, "pair", "pairs"), l.Examples[0][0], l.Examples[0][1])
		}
	}
	p("\nFindings\n")
	if len(r.Findings) == 0 {
		p("  none\n")
	}
	for _, f := range r.Findings {
		p("  %s\n", f)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("lineage: write text: %w", err)
	}
	return nil
}

func (r *Report) writeEdge(p func(string, ...any), e Edge) {
	arrow := "->"
	if !e.Decided {
		arrow = "-?-"
	}
	p("  %s %s %s: %d shared, %.0f%% of the copy, %.0f%% of the original; %s\n", e.Original, arrow, e.Copy,
		e.SharedImages, 100*e.CopyFraction, 100*e.OriginalFraction, kinds(e.Kinds))
	for _, ev := range e.Evidence {
		p("    evidence: %s\n", ev)
	}
	for _, d := range e.Details {
		p("    transform: %s\n", d)
	}
	switch {
	case e.LicenseChanged && e.CopyLicense == "":
		p("    license: MISSING in the copy (original %s)\n", e.OriginalLicense)
	case e.LicenseChanged:
		p("    license: CHANGED %s -> %s\n", e.OriginalLicense, e.CopyLicense)
	default:
		p("    license: %s -> %s\n", orNone(e.OriginalLicense), orNone(e.CopyLicense))
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func kinds(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// plural picks the word for n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

package lineage

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"html/template"
	goimage "image"
	"image/png"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/copycat-dev/copycat/hash"
	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/match"
)

// The HTML report shows every cluster, clustersPerPage to a page: the
// first page is part of the report's file, the others are files of their
// own in a folder beside it (WriteHTMLFile), each self-contained (its
// previews inline), so that the report of an index of 100,000 images
// opens as fast as that of a small one (see BenchmarkHTML100k). A cluster
// shows at most maxGalleryMembers images, those spanning most datasets
// first; the caption says how many more there are.
const (
	clustersPerPage   = 100
	maxGalleryMembers = 12
	// previewBox is the CSS size of the box a preview is fitted in, with
	// its aspect ratio kept.
	previewBox = 128
	// maxLeakLinks bounds the clusters linked from a row of the leak table.
	maxLeakLinks = 40
)

// WriteHTML writes the report as one self-contained HTML page: no scripts,
// fonts or images are fetched, previews are inline data URIs read from st
// (the index the report was made from). It holds every cluster on the one
// page, which suits small indexes; WriteHTMLFile pages them.
func (r *Report) WriteHTML(ctx context.Context, w io.Writer, st *index.Store) error {
	pg := pager{perPage: max(1, len(r.groups)), pages: 1}
	return r.writePage(ctx, w, st, pg, 1)
}

// WriteHTMLFile writes the report to the file path. When the clusters
// need more than one page (clustersPerPage), pages 2 and on go to the
// folder named after the file (report.html: report_clusters/page-0002.html
// and on), created if needed, and the report links to them; page files of
// an earlier report there are removed first, so the folder always matches
// the report. It returns the page files written beside path.
func (r *Report) WriteHTMLFile(ctx context.Context, path string, st *index.Store) ([]string, error) {
	base := filepath.Base(path)
	pg := pager{perPage: clustersPerPage, main: base,
		dir: strings.TrimSuffix(base, filepath.Ext(base)) + "_clusters"}
	pg.pages = max(1, (len(r.groups)+pg.perPage-1)/pg.perPage)
	var written []string
	dir := filepath.Join(filepath.Dir(path), pg.dir)
	// Pages of an earlier report would be stale: no link leads to them,
	// but someone browsing the folder would find them.
	old, _ := filepath.Glob(filepath.Join(dir, "page-*.html"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return nil, fmt.Errorf("lineage: html pages: %w", err)
		}
	}
	if pg.pages > 1 {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("lineage: html pages: %w", err)
		}
	}
	for page := 1; page <= pg.pages; page++ {
		name := path
		if page > 1 {
			name = filepath.Join(filepath.Dir(path), pg.dir, pg.pageName(page))
			written = append(written, name)
		}
		if err := writeFile(name, func(w io.Writer) error { return r.writePage(ctx, w, st, pg, page) }); err != nil {
			return written, err
		}
	}
	return written, nil
}

// writeFile creates name and writes it with write.
func writeFile(name string, write func(io.Writer) error) error {
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("lineage: %w", err)
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("lineage: %w", err)
	}
	return nil
}

// pager says where each page of clusters is: page 1 is the report's own
// file (main), the others are files in dir, a folder beside it.
type pager struct {
	perPage, pages int
	main, dir      string
}

func (pg pager) pageName(page int) string { return fmt.Sprintf("page-%04d.html", page) }

// href is the link from page from to cluster number n (1-based), or to
// page to's top when n is 0.
func (pg pager) href(from, to, n int) string {
	if n > 0 {
		to = (n-1)/pg.perPage + 1
	}
	var h string
	switch {
	case to == from:
	case to == 1:
		h = "../" + pg.main
	case from == 1:
		h = pg.dir + "/" + pg.pageName(to)
	default:
		h = pg.pageName(to)
	}
	if n > 0 {
		return h + fmt.Sprintf("#c%d", n)
	}
	if h == "" {
		return "#clusters"
	}
	return h
}

// writePage writes page number page of the report: page 1 has the summary,
// the graph, derivations, leaks and findings before its clusters.
func (r *Report) writePage(ctx context.Context, w io.Writer, st *index.Store, pg pager, page int) error {
	p := htmlPage{Report: r, Main: page == 1, Page: page, Pages: pg.pages, TotalGroups: len(r.groups)}
	if p.Main {
		p.Graph = r.graph()
		p.LeakRows = r.leakRows(pg)
		if pg.pages > 1 {
			for i := 1; i <= pg.pages; i++ {
				first, last := (i-1)*pg.perPage+1, min(i*pg.perPage, len(r.groups))
				p.Nav = append(p.Nav, pageLink{Href: pg.href(1, i, 0), Label: fmt.Sprintf("%d-%d", first, last), Current: i == 1})
			}
		}
	} else {
		p.Home = pg.href(page, 1, 0)
	}
	if page > 1 {
		p.Prev = pg.href(page, page-1, 0)
	}
	if page < pg.pages {
		p.Next = pg.href(page, page+1, 0)
	}
	first := (page - 1) * pg.perPage
	last := min(first+pg.perPage, len(r.groups))
	p.First, p.Last = first+1, last
	// One encoder for all fallback thumbnails: its buffer pool keeps the
	// zlib state, which is most of the cost of encoding a 32x32 PNG.
	enc := &png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: &onePool{}}
	for gi := first; gi < last; gi++ {
		g := r.groups[gi]
		gv := galleryGroup{Number: gi + 1, Size: len(g.members), Datasets: g.datasets}
		for _, m := range g.members[:min(len(g.members), maxGalleryMembers)] {
			mv, err := r.galleryMember(ctx, st, enc, m)
			if err != nil {
				return err
			}
			gv.Leak = gv.Leak || mv.Leak != ""
			gv.Members = append(gv.Members, mv)
		}
		gv.More = len(g.members) - len(gv.Members)
		p.Groups = append(p.Groups, gv)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := pageTemplate.Execute(bw, &p); err != nil {
		return fmt.Errorf("lineage: html: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("lineage: write html: %w", err)
	}
	return nil
}

// galleryMember reads what the gallery shows of one member: its preview
// (the 32x32 grey fingerprint thumbnail for images indexed before
// previews), and its caption.
func (r *Report) galleryMember(ctx context.Context, st *index.Store, enc *png.Encoder, m member) (galleryMember, error) {
	im := &r.images[m.img]
	mv := galleryMember{
		Dataset: r.Datasets[im.ds].Name, Path: im.path, Frame: im.frame,
		Size: fmt.Sprintf("%dx%d %s", im.w, im.h, im.format), Distance: m.dist,
		Transform: transformLabel(m.transform, m.cropped),
	}
	mv.Width, mv.Height = fitBox(im.w, im.h)
	if li, ok := r.leakOf[m.img]; ok {
		l := &r.Leaks[li]
		if l.Original != "" {
			mv.Leak = fmt.Sprintf("leak: %s %s / %s %s", l.Original, l.Splits[0], l.Dataset, l.Splits[1])
		} else {
			mv.Leak = fmt.Sprintf("leak: %s / %s", l.Splits[0], l.Splits[1])
		}
	}
	pv, err := st.Preview(ctx, im.id)
	if err != nil {
		return mv, fmt.Errorf("lineage: html preview: %w", err)
	}
	if pv != nil {
		mv.Thumb = template.URL("data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(pv))
		return mv, nil
	}
	rec, err := st.Image(ctx, im.id)
	if err != nil {
		return mv, fmt.Errorf("lineage: html thumbnail: %w", err)
	}
	mv.Thumb, err = thumbURI(enc, &rec.Fingerprint.Thumb)
	return mv, err
}

// fitBox is the CSS size of a w x h image fitted in previewBox squared.
func fitBox(w, h int) (int, int) {
	if w <= 0 || h <= 0 {
		return previewBox, previewBox
	}
	if w >= h {
		return previewBox, max(1, (h*previewBox+w/2)/w)
	}
	return max(1, (w*previewBox+h/2)/h), previewBox
}

// leakRows are the rows of the leak table, with links to the clusters
// holding the pairs.
func (r *Report) leakRows(pg pager) []leakRow {
	var rows []leakRow
	for _, l := range r.Leaks {
		row := leakRow{Leak: l}
		for _, gi := range l.groups[:min(len(l.groups), maxLeakLinks)] {
			row.Clusters = append(row.Clusters, pageLink{Href: pg.href(1, 0, gi+1), Label: fmt.Sprint(gi + 1)})
		}
		row.MoreClusters = len(l.groups) - len(row.Clusters)
		rows = append(rows, row)
	}
	return rows
}

// transformLabel names what was done to the group's first image to make
// this one, as clusters do ("" when nothing).
func transformLabel(t match.Transform, cropped bool) string {
	switch {
	case cropped && t == 0:
		return "crop"
	case cropped:
		return t.String() + "+crop"
	case t == 0:
		return ""
	}
	return t.String()
}

// thumbURI encodes a fingerprint thumbnail as a PNG data URI.
func thumbURI(enc *png.Encoder, t *[hash.ThumbSize * hash.ThumbSize]uint8) (template.URL, error) {
	img := goimage.NewGray(goimage.Rect(0, 0, hash.ThumbSize, hash.ThumbSize))
	copy(img.Pix, t[:])
	var buf bytes.Buffer
	if err := enc.Encode(&buf, img); err != nil {
		return "", fmt.Errorf("lineage: encode thumbnail: %w", err)
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())), nil
}

// breakable escapes s for HTML and lets the browser break the line only
// after a path separator or punctuation (/ _ - . ! ,), never inside a
// word: captions are paths, and "train/ct_00" + "01.png" misleads.
func breakable(s string) template.HTML {
	var b strings.Builder
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '/', '_', '-', '.', '!', ',':
			b.WriteString(template.HTMLEscapeString(s[start : i+1]))
			b.WriteString("<wbr>")
			start = i + 1
		}
	}
	b.WriteString(template.HTMLEscapeString(s[start:]))
	return template.HTML(b.String())
}

// onePool is a png.EncoderBufferPool holding one buffer: WriteHTML
// encodes thumbnails one at a time.
type onePool struct{ b *png.EncoderBuffer }

func (p *onePool) Get() *png.EncoderBuffer  { b := p.b; p.b = nil; return b }
func (p *onePool) Put(b *png.EncoderBuffer) { p.b = b }

type htmlPage struct {
	*Report
	Main        bool // the report's first page: summary, graph, tables
	Graph       svgGraph
	LeakRows    []leakRow
	Groups      []galleryGroup
	First, Last int // the cluster numbers on this page
	TotalGroups int
	Page, Pages int
	Nav         []pageLink // every page, on the first
	Home        string     // the first page, from the others
	Prev, Next  string
}

type pageLink struct {
	Href, Label string
	Current     bool
}

type leakRow struct {
	Leak
	Clusters     []pageLink
	MoreClusters int
}

type galleryGroup struct {
	Number, Size, Datasets, More int
	Leak                         bool // a member is in a leak pair
	Members                      []galleryMember
}

type galleryMember struct {
	Thumb               template.URL
	Width, Height       int // CSS size, the image's aspect ratio
	Dataset, Path, Size string
	Frame, Distance     int
	Transform           string
	Leak                string // the leak the image is in, or ""
}

// svgGraph is the lineage graph laid out in columns: originals on the
// left, each copy one column right of its furthest parent.
type svgGraph struct {
	Width, Height int
	Nodes         []svgNode
	Edges         []svgEdge
}

type svgNode struct {
	X, Y          int
	Name, License string
	Images        int
}

type svgEdge struct {
	X1, Y1, X2, Y2 float64
	LX, LY         float64
	Label          string
	Dashed, Alert  bool
}

const (
	nodeW, nodeH = 170, 46
	colGap       = 150 // room for an edge's label ("30000 shared, 100%")
	rowGap       = 30
	margin       = 20
)

func (r *Report) graph() svgGraph {
	idx := map[string]int{}
	for i, d := range r.Datasets {
		idx[d.Name] = i
	}
	depth := make([]int, len(r.Datasets))
	// Longest path from a root; edges form a DAG when directions are
	// decided by consistent evidence, and the loop is bounded in any case.
	for range len(r.Datasets) {
		changed := false
		for _, e := range r.Edges {
			o, c := idx[e.Original], idx[e.Copy]
			if depth[c] < depth[o]+1 && depth[o]+1 < len(r.Datasets) {
				depth[c] = depth[o] + 1
				changed = true
			}
		}
		if !changed {
			break
		}
	}
	rows := map[int]int{}
	pos := make([][2]int, len(r.Datasets))
	g := svgGraph{}
	for i, d := range r.Datasets {
		col := depth[i]
		row := rows[col]
		rows[col]++
		x := margin + col*(nodeW+colGap)
		y := margin + row*(nodeH+rowGap)
		pos[i] = [2]int{x, y}
		g.Nodes = append(g.Nodes, svgNode{X: x, Y: y, Name: d.Name, License: orNone(d.License), Images: d.Images})
		g.Width = max(g.Width, x+nodeW+margin)
		g.Height = max(g.Height, y+nodeH+margin)
	}
	for _, e := range r.Edges {
		a, b := pos[idx[e.Original]], pos[idx[e.Copy]]
		x1, y1 := float64(a[0]+nodeW), float64(a[1]+nodeH/2)
		x2, y2 := float64(b[0]), float64(b[1]+nodeH/2)
		if b[0] <= a[0] { // same column (undetermined): link the bottoms
			x1, y1 = float64(a[0]+nodeW/2), float64(a[1]+nodeH)
			x2, y2 = float64(b[0]+nodeW/2), float64(b[1])
		}
		// Stop the arrow at the node's border.
		dx, dy := x2-x1, y2-y1
		if l := math.Hypot(dx, dy); l > 8 {
			x2 -= dx / l * 4
			y2 -= dy / l * 4
		}
		label := fmt.Sprintf("%d shared, %.0f%%", e.SharedImages, 100*e.CopyFraction)
		g.Edges = append(g.Edges, svgEdge{X1: x1, Y1: y1, X2: x2, Y2: y2, LX: (x1 + x2) / 2, LY: (y1+y2)/2 - 6,
			Label: label, Dashed: !e.Decided, Alert: e.LicenseChanged})
	}
	if len(g.Nodes) == 0 {
		g.Width, g.Height = 200, 60
	}
	return g
}

var pageTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct":        func(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) },
	"count":      func(n int, one, many string) string { return fmt.Sprintf("%d %s", n, plural(n, one, many)) },
	"kinds":      kinds,
	"breakable":  breakable,
	"previewBox": func() int { return previewBox },
	"maxMembers": func() int { return maxGalleryMembers },
	"splits": func(m map[string]int) string {
		var s string
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if s != "" {
				s += ", "
			}
			s += fmt.Sprintf("%s %d", k, m[k])
		}
		return s
	},
}).Parse(pageHTML))

const pageHTML = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>copycat lineage report{{if not .Main}}: clusters {{.First}}-{{.Last}}{{end}}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:1200px;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{margin-top:1.8em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}.num{text-align:right}.alert{color:#b00020;font-weight:600}.muted{color:#777}
.edge{border:1px solid #ddd;border-radius:6px;padding:.4em 1em;margin:.6em 0}
nav{margin:.5em 0;line-height:1.9}nav a{margin-right:.6em;white-space:nowrap}nav b{margin-right:.6em}
.gallery{display:flex;flex-wrap:wrap;gap:10px;margin:.3em 0 1em;align-items:flex-start}
.cluster{border-top:1px solid #eee;padding-top:.4em}.cluster.leak{border-top:2px solid #b00020}
.badge{background:#b00020;color:#fff;border-radius:3px;padding:0 5px;font-size:11px;font-weight:600}
figure{margin:0;width:{{previewBox}}px;font-size:11px;line-height:1.3}
figure .box{width:{{previewBox}}px;height:{{previewBox}}px;display:flex;align-items:center;justify-content:center;background:#f4f4f4;border:1px solid #aaa}
figure.leak .box{outline:3px solid #b00020;outline-offset:-1px}
figure img{display:block}
figcaption{word-break:normal;overflow-wrap:normal;hyphens:none;overflow:hidden;margin-top:2px}
figcaption .leak{color:#b00020;font-weight:600}
svg text{font:12px system-ui,sans-serif}
</style></head><body>
{{if .Main}}<h1>copycat lineage report</h1>
<p>{{count (len .Datasets) "dataset" "datasets"}}, {{count .Images "image" "images"}}, {{count .TotalGroups "source image" "source images"}} with copies,
{{count (len .Edges) "derivation" "derivations"}}, {{count (len .Leaks) "leak" "leaks"}}, {{count (len .Findings) "finding" "findings"}}.</p>
{{with .IncompleteWarning}}<p class="alert">Warning: {{.}}.</p>{{end}}
<p><a href="#datasets">Datasets</a> · <a href="#graph">Lineage graph</a> · <a href="#edges">Derivations</a> · <a href="#leaks">Split leakage</a> · <a href="#findings">Findings</a> · <a href="#clusters">Clusters</a></p>

<h2 id="datasets">Datasets</h2>
<table><tr><th>Dataset</th><th>Images</th><th>Files</th><th>Failures</th><th>Splits</th><th>License</th><th>Found in</th><th>Stated source</th><th>Scanned from</th></tr>
{{range .Datasets}}<tr><td>{{.Name}}</td><td class="num">{{.Images}}</td><td class="num">{{.Files}}</td><td class="num">{{.Failures}}</td>
<td>{{splits .Splits}}</td><td>{{if .License}}{{.License}}{{else}}<span class="alert">none</span>{{end}}</td>
<td>{{.LicenseFinding.Source}}{{if .Method}} ({{.Method}}){{end}}</td><td>{{if .StatedSource}}{{.StatedSource}}{{else}}<span class="alert">none</span>{{end}}</td><td class="muted">{{.Source}}</td></tr>
{{end}}</table>

<h2 id="documentation">Documentation</h2>
<p class="muted">The license's evidence (file:line, how it was recognised) and the dataset card's items: present items show where they are stated.</p>
<table><tr><th>Dataset</th><th>License evidence</th><th>Score</th>{{range .CardItems}}<th>{{.}}</th>{{end}}</tr>
{{range .Datasets}}<tr><td>{{.Name}}</td><td>{{with .Evidence}}{{.File}}:{{.Line}} ({{.Method}}){{else}}<span class="alert">{{if eq .LicenseFinding.Source "unavailable"}}unavailable{{else}}none{{end}}</span>{{end}}</td>
{{with .Documentation}}<td class="num">{{printf "%.2f" .Score}}</td>{{range .Items}}<td title="{{.Evidence}}">{{if .Present}}&#10003;{{else}}<span class="alert">missing</span>{{end}}</td>{{end}}{{else}}<td colspan="10" class="muted">unavailable</td>{{end}}</tr>
{{end}}</table>

<h2 id="graph">Lineage graph</h2>
<p class="muted">Arrows go from original to copy; dashed: direction undetermined; red: license changed or missing in the copy.</p>
<svg id="lineage-graph" xmlns="http://www.w3.org/2000/svg" width="{{.Graph.Width}}" height="{{.Graph.Height}}" viewBox="0 0 {{.Graph.Width}} {{.Graph.Height}}">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#444"/></marker>
<marker id="arrow-alert" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#b00020"/></marker></defs>
{{range .Graph.Edges}}<line x1="{{.X1}}" y1="{{.Y1}}" x2="{{.X2}}" y2="{{.Y2}}" stroke="{{if .Alert}}#b00020{{else}}#444{{end}}" stroke-width="2"{{if .Dashed}} stroke-dasharray="6 4"{{end}} marker-end="url(#{{if .Alert}}arrow-alert{{else}}arrow{{end}})"/>
<text x="{{.LX}}" y="{{.LY}}" text-anchor="middle" fill="#333">{{.Label}}</text>
{{end}}{{range .Graph.Nodes}}<g><rect x="{{.X}}" y="{{.Y}}" width="170" height="46" rx="6" fill="#eef4fb" stroke="#4a74a8"/>
<text x="{{.X}}" y="{{.Y}}" dx="8" dy="18" font-weight="600">{{.Name}}</text>
<text x="{{.X}}" y="{{.Y}}" dx="8" dy="36" fill="#555">{{.Images}} images · {{.License}}</text></g>
{{end}}</svg>

<h2 id="edges">Derivations and their evidence</h2>
{{if not .Edges}}<p>None: no two datasets share images.</p>{{end}}
{{range .Edges}}<div class="edge"><h3>{{.Original}} {{if .Decided}}&rarr;{{else}}&harr; (undetermined){{end}} {{.Copy}}</h3>
<p>{{.SharedImages}} shared source images; {{pct .CopyFraction}} of {{.Copy}} is found in {{.Original}}, {{pct .OriginalFraction}} of {{.Original}} in {{.Copy}}; closest pairs: {{kinds .Kinds}}; mean pHash distance {{.MeanDistance}}.</p>
<ul>{{range .Evidence}}<li>{{.}}</li>{{end}}</ul>
{{if .Details}}<p>Transformations:</p><ul>{{range .Details}}<li>{{.}}</li>{{end}}</ul>{{end}}
<p>License: {{if .OriginalLicense}}{{.OriginalLicense}}{{else}}none{{end}} &rarr; {{if .CopyLicense}}{{.CopyLicense}}{{else}}none{{end}}{{if .LicenseChanged}} <span class="alert">changed</span>{{end}}</p></div>
{{end}}
{{if .Indirect}}<h3>Indirect derivations</h3><ul>{{range .Indirect}}<li>{{.Original}} &rarr; {{.Copy}}: {{.Via}}</li>{{end}}</ul>{{end}}
{{if .Overlaps}}<h3>All overlaps</h3><table><tr><th>A</th><th>B</th><th>Shared</th><th>of A</th><th>of B</th><th>Closest pairs</th></tr>
{{range .Overlaps}}<tr><td>{{.A}}</td><td>{{.B}}</td><td class="num">{{.SharedImages}}</td><td class="num">{{pct .AFraction}}</td><td class="num">{{pct .BFraction}}</td><td>{{kinds .Kinds}}</td></tr>{{end}}</table>{{end}}

<h2 id="leaks">Split leakage</h2>
{{if not .LeakRows}}<p>None found.</p>{{else}}<p class="muted">A leak is a picture in two splits: inside one dataset, or in an original's test split and its copy's train split. The images of leak pairs are framed in red in the clusters.</p>
<table><tr><th>Dataset</th><th>From original</th><th>Splits</th><th>Pairs</th><th>Examples</th><th>Clusters</th></tr>
{{range .LeakRows}}<tr><td>{{.Dataset}}</td><td>{{if .Original}}{{.Original}}{{else}}<span class="muted">none: both images are in {{.Dataset}}</span>{{end}}</td><td>{{if .Original}}{{.Original}} {{index .Splits 0}} / {{.Dataset}} {{index .Splits 1}}{{else}}{{index .Splits 0}} / {{index .Splits 1}}{{end}}</td><td class="num">{{.Pairs}}</td><td>{{range .Examples}}{{index . 0}} = {{index . 1}}<br>{{end}}</td>
<td>{{range .Clusters}}<a href="{{.Href}}">{{.Label}}</a> {{end}}{{if .MoreClusters}}and {{.MoreClusters}} more{{end}}</td></tr>{{end}}</table>{{end}}

<h2 id="findings">License and documentation findings</h2>
{{if not .Findings}}<p>None.</p>{{else}}<ul>{{range .Findings}}<li class="alert">{{.}}</li>{{end}}</ul>{{end}}

<h2 id="clusters">Clusters</h2>
<p>{{.TotalGroups}} clusters, those spanning the most datasets first{{if gt .Pages 1}}, {{.Last}} on this page and the others on {{.Pages}} pages in all{{end}}; at most {{maxMembers}} images of each are shown. Distance is the pHash distance to the first image; a transform names how the image is turned relative to it.</p>
{{if .Nav}}<nav id="pages">Pages (cluster numbers): {{range .Nav}}{{if .Current}}<b>{{.Label}}</b>{{else}}<a href="{{.Href}}">{{.Label}}</a>{{end}} {{end}}</nav>{{end}}
{{else}}<h1 id="clusters">copycat lineage report: clusters {{.First}} to {{.Last}} of {{.TotalGroups}}</h1>
<nav><a href="{{.Home}}">report</a> <a href="{{.Home}}#pages">all pages</a>{{if .Prev}} <a href="{{.Prev}}">&larr; previous page</a>{{end}}{{if .Next}} <a href="{{.Next}}">next page &rarr;</a>{{end}} <span class="muted">page {{.Page}} of {{.Pages}}</span></nav>
{{end}}
{{range .Groups}}<div class="cluster{{if .Leak}} leak{{end}}" id="c{{.Number}}"><b>Cluster {{.Number}}</b> <span class="muted">{{.Size}} images in {{.Datasets}} datasets{{if .More}}, {{.More}} more not shown{{end}}</span>{{if .Leak}} <span class="badge">leak</span>{{end}}
<div class="gallery">{{range .Members}}<figure{{if .Leak}} class="leak"{{end}}><div class="box"><img src="{{.Thumb}}" width="{{.Width}}" height="{{.Height}}" alt="preview of {{.Path}}"></div><figcaption title="{{.Dataset}}: {{.Path}}"><b>{{breakable .Dataset}}</b><br>{{breakable .Path}}{{if .Frame}} [frame&nbsp;{{.Frame}}]{{end}}<br>{{.Size}}<br>distance&nbsp;{{.Distance}}{{if .Transform}}, {{.Transform}}{{end}}{{with .Leak}}<br><span class="leak">{{.}}</span>{{end}}</figcaption></figure>{{end}}</div></div>
{{end}}
{{if gt .Pages 1}}<nav>{{if .Prev}}<a href="{{.Prev}}">&larr; previous page</a>{{end}}{{if .Next}} <a href="{{.Next}}">next page &rarr;</a>{{end}}{{if not .Main}} <a href="{{.Home}}#pages">all pages</a>{{end}}</nav>{{end}}
</body></html>
`

package lineage

import (
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
	"slices"

	"github.com/copycat-dev/copycat/hash"
	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/match"
)

// The HTML report caps its galleries so that it stays a few megabytes at
// 100,000 images: each thumbnail is about 1 KB of PNG, so 200 clusters of at
// most 12 thumbnails are at most 2.4 MB. Clusters spanning most datasets
// come first; the report says how many were left out.
const (
	maxGalleryGroups  = 200
	maxGalleryMembers = 12
)

// WriteHTML writes the report as one self-contained HTML page: no scripts,
// fonts or images are fetched, thumbnails are inline PNG data URIs read
// from st (the index the report was made from).
func (r *Report) WriteHTML(ctx context.Context, w io.Writer, st *index.Store) error {
	page := htmlPage{Report: r, Graph: r.graph()}
	page.TotalGroups = len(r.groups)
	// One encoder for all thumbnails: its buffer pool keeps the zlib state,
	// which is most of the cost of encoding a 32x32 PNG.
	enc := &png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: &onePool{}}
	for gi, g := range r.groups[:min(len(r.groups), maxGalleryGroups)] {
		gv := galleryGroup{Number: gi + 1, Size: len(g.members), Datasets: g.datasets}
		for _, m := range g.members[:min(len(g.members), maxGalleryMembers)] {
			im, err := st.Image(ctx, r.imageID(m.img))
			if err != nil {
				return fmt.Errorf("lineage: html thumbnail: %w", err)
			}
			uri, err := thumbURI(enc, &im.Fingerprint.Thumb)
			if err != nil {
				return err
			}
			gv.Members = append(gv.Members, galleryMember{
				Thumb: uri, Dataset: im.Dataset, Path: im.Path, Frame: im.Frame,
				Size: fmt.Sprintf("%dx%d %s", im.Width, im.Height, im.Format), Distance: m.dist,
				Transform: transformLabel(m.transform, m.cropped),
			})
		}
		gv.More = len(g.members) - len(gv.Members)
		page.Groups = append(page.Groups, gv)
	}
	page.Shown = len(page.Groups)
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, &page); err != nil {
		return fmt.Errorf("lineage: html: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("lineage: write html: %w", err)
	}
	return nil
}

// imageID maps an image index of the analysis to its ID in the index,
// where the gallery reads its thumbnail.
func (r *Report) imageID(i int) uint64 { return r.ids[i] }

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

// onePool is a png.EncoderBufferPool holding one buffer: WriteHTML
// encodes thumbnails one at a time.
type onePool struct{ b *png.EncoderBuffer }

func (p *onePool) Get() *png.EncoderBuffer  { b := p.b; p.b = nil; return b }
func (p *onePool) Put(b *png.EncoderBuffer) { p.b = b }

type htmlPage struct {
	*Report
	Graph       svgGraph
	Groups      []galleryGroup
	Shown       int
	TotalGroups int
}

type galleryGroup struct {
	Number, Size, Datasets, More int
	Members                      []galleryMember
}

type galleryMember struct {
	Thumb               template.URL
	Dataset, Path, Size string
	Frame, Distance     int
	Transform           string
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
	colGap       = 110
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
	"pct":   func(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) },
	"kinds": kinds,
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
<title>copycat lineage report</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:1200px;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{margin-top:1.8em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}.num{text-align:right}.alert{color:#b00020;font-weight:600}.muted{color:#777}
.edge{border:1px solid #ddd;border-radius:6px;padding:.4em 1em;margin:.6em 0}
.gallery{display:flex;flex-wrap:wrap;gap:8px;margin:.3em 0 1em}
.cluster{border-top:1px solid #eee;padding-top:.4em}
figure{margin:0;width:120px;font-size:11px;word-break:break-all}
figure img{width:96px;height:96px;image-rendering:pixelated;border:1px solid #aaa;display:block}
svg text{font:12px system-ui,sans-serif}
</style></head><body>
<h1>copycat lineage report</h1>
<p>{{len .Datasets}} datasets, {{.Images}} images, {{.TotalGroups}} source images with copies,
{{len .Edges}} derivations, {{len .Leaks}} leaks, {{len .Findings}} findings.</p>
{{with .IncompleteWarning}}<p class="alert">Warning: {{.}}.</p>{{end}}

<h2 id="datasets">Datasets</h2>
<table><tr><th>Dataset</th><th>Images</th><th>Files</th><th>Failures</th><th>Splits</th><th>Licence</th><th>Found in</th><th>Stated source</th><th>Scanned from</th></tr>
{{range .Datasets}}<tr><td>{{.Name}}</td><td class="num">{{.Images}}</td><td class="num">{{.Files}}</td><td class="num">{{.Failures}}</td>
<td>{{splits .Splits}}</td><td>{{if .License}}{{.License}}{{else}}<span class="alert">none</span>{{end}}</td>
<td>{{.LicenseFinding.Source}}{{if .Method}} ({{.Method}}){{end}}</td><td>{{if .StatedSource}}{{.StatedSource}}{{else}}<span class="alert">none</span>{{end}}</td><td class="muted">{{.Source}}</td></tr>
{{end}}</table>

<h2 id="documentation">Documentation</h2>
<p class="muted">The licence's evidence (file:line, how it was recognised) and the dataset card's items: present items show where they are stated.</p>
<table><tr><th>Dataset</th><th>Licence evidence</th><th>Score</th>{{range .CardItems}}<th>{{.}}</th>{{end}}</tr>
{{range .Datasets}}<tr><td>{{.Name}}</td><td>{{with .Evidence}}{{.File}}:{{.Line}} ({{.Method}}){{else}}<span class="alert">{{if eq .LicenseFinding.Source "unavailable"}}unavailable{{else}}none{{end}}</span>{{end}}</td>
{{with .Documentation}}<td class="num">{{printf "%.2f" .Score}}</td>{{range .Items}}<td title="{{.Evidence}}">{{if .Present}}&#10003;{{else}}<span class="alert">missing</span>{{end}}</td>{{end}}{{else}}<td colspan="10" class="muted">unavailable</td>{{end}}</tr>
{{end}}</table>

<h2 id="graph">Lineage graph</h2>
<p class="muted">Arrows go from original to copy; dashed: direction undetermined; red: licence changed or missing in the copy.</p>
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
<p>Licence: {{if .OriginalLicense}}{{.OriginalLicense}}{{else}}none{{end}} &rarr; {{if .CopyLicense}}{{.CopyLicense}}{{else}}none{{end}}{{if .LicenseChanged}} <span class="alert">changed</span>{{end}}</p></div>
{{end}}
{{if .Indirect}}<h3>Indirect derivations</h3><ul>{{range .Indirect}}<li>{{.Original}} &rarr; {{.Copy}}: {{.Via}}</li>{{end}}</ul>{{end}}
{{if .Overlaps}}<h3>All overlaps</h3><table><tr><th>A</th><th>B</th><th>Shared</th><th>of A</th><th>of B</th><th>Closest pairs</th></tr>
{{range .Overlaps}}<tr><td>{{.A}}</td><td>{{.B}}</td><td class="num">{{.SharedImages}}</td><td class="num">{{pct .AFraction}}</td><td class="num">{{pct .BFraction}}</td><td>{{kinds .Kinds}}</td></tr>{{end}}</table>{{end}}

<h2 id="leaks">Split leakage</h2>
{{if not .Leaks}}<p>None found.</p>{{else}}<table><tr><th>Dataset</th><th>From original</th><th>Splits</th><th>Pairs</th><th>Examples</th></tr>
{{range .Leaks}}<tr><td>{{.Dataset}}</td><td>{{.Original}}</td><td>{{index .Splits 0}} / {{index .Splits 1}}</td><td class="num">{{.Pairs}}</td><td>{{range .Examples}}{{index . 0}} = {{index . 1}}<br>{{end}}</td></tr>{{end}}</table>{{end}}

<h2 id="findings">Licence and documentation findings</h2>
{{if not .Findings}}<p>None.</p>{{else}}<ul>{{range .Findings}}<li class="alert">{{.}}</li>{{end}}</ul>{{end}}

<h2 id="clusters">Clusters</h2>
<p>Showing {{.Shown}} of {{.TotalGroups}} clusters (those spanning the most datasets first), at most 12 images each. Distance is the pHash distance to the first image; a transform names how the image is turned relative to it.</p>
{{range .Groups}}<div class="cluster"><b>Cluster {{.Number}}</b> <span class="muted">{{.Size}} images in {{.Datasets}} datasets{{if .More}}, {{.More}} more not shown{{end}}</span>
<div class="gallery">{{range .Members}}<figure><img src="{{.Thumb}}" alt="thumbnail of {{.Path}}"><figcaption><b>{{.Dataset}}</b><br>{{.Path}}{{if .Frame}} [frame {{.Frame}}]{{end}}<br>{{.Size}}<br>distance {{.Distance}}{{if .Transform}}, {{.Transform}}{{end}}</figcaption></figure>{{end}}</div></div>
{{end}}
</body></html>
`

package lineage

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/copycat-dev/copycat/match"
)

// overlaps fills rep.Overlaps and a.pairs from the groups.
func (a *analysis) overlaps(rep *Report) {
	a.pairs = map[[2]int]map[int]closest{}
	for gi, g := range a.groups {
		if g.datasets < 2 {
			continue
		}
		byDS := map[int][]int{}
		for _, m := range g.members {
			ds := a.images[m.img].ds
			if len(byDS[ds]) < maxPerDataset {
				byDS[ds] = append(byDS[ds], m.img)
			}
		}
		dss := slices.Sorted(maps.Keys(byDS))
		for i, da := range dss {
			for _, db := range dss[i+1:] {
				best := closest{dist: math.MaxInt}
				for _, x := range byDS[da] {
					for _, y := range byDS[db] {
						k, t, d := a.relation(x, y)
						// Counted as min-max-window when a min-max
						// rendering is the closer picture.
						mm := false
						if k == match.NearDuplicate && t == match.Identity {
							if dm, ok := a.minMaxDistance(x, y); ok && dm < d {
								t, d, mm = 0, dm, true
							}
						}
						if k < best.kind || best.kind == 0 || k == best.kind && d < best.dist {
							best = closest{a: x, b: y, kind: k, transform: t, dist: d, minMax: mm,
								cropped: k == match.NearDuplicate && a.images[x].cropped != a.images[y].cropped}
						}
					}
				}
				key := [2]int{da, db}
				if a.pairs[key] == nil {
					a.pairs[key] = map[int]closest{}
				}
				a.pairs[key][gi] = best
			}
		}
	}
	// Images of each dataset that have a copy in the other.
	for _, key := range slices.SortedFunc(maps.Keys(a.pairs), cmpKey) {
		ov := Overlap{A: rep.Datasets[key[0]].Name, B: rep.Datasets[key[1]].Name, Kinds: map[string]int{}}
		var sum int
		for _, c := range a.pairs[key] {
			ov.SharedImages++
			ov.Kinds[kindName(c.kind, c.transform, c.minMax)]++
			sum += c.dist
		}
		na, nb := a.covered(key)
		ov.AFraction = frac(na, rep.Datasets[key[0]].Images)
		ov.BFraction = frac(nb, rep.Datasets[key[1]].Images)
		ov.MeanDistance = round3(float64(sum) / float64(max(1, ov.SharedImages)))
		rep.Overlaps = append(rep.Overlaps, ov)
	}
}

func cmpKey(x, y [2]int) int { return cmp.Or(cmp.Compare(x[0], y[0]), cmp.Compare(x[1], y[1])) }

// covered counts the images of each dataset of key that sit in a group
// shared with the other.
func (a *analysis) covered(key [2]int) (na, nb int) {
	for gi := range a.pairs[key] {
		for _, m := range a.groups[gi].members {
			switch a.images[m.img].ds {
			case key[0]:
				na++
			case key[1]:
				nb++
			}
		}
	}
	return na, nb
}

func frac(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return round3(float64(n) / float64(d))
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// largerDimensions names the pixel-count criterion of fidelity. It is weak
// evidence (an upscaled copy has more pixels and no more information),
// and so is "lossless" (a JPEG re-saved as PNG claims it): when they
// disagree in a pair they cancel, and containment decides.
const largerDimensions = "larger dimensions"

// fidelity compares two images of one source: +1 when x has the higher
// fidelity on a criterion, -1 when y has, for each criterion by name.
func fidelity(x, y *image) map[string]int {
	out := map[string]int{}
	if px, py := x.w*x.h, y.w*y.h; px != py {
		out[largerDimensions] = sign(px - py)
	}
	if x.bits != y.bits {
		out["more bits per sample"] = sign(x.bits - y.bits)
	}
	if x.lossy != y.lossy {
		out["lossless rather than lossy"] = map[bool]int{true: -1, false: 1}[x.lossy]
	}
	// Two JPEG generations: re-saving cannot raise the quality that the
	// first save lost, so the higher estimate is the elder (5 points of
	// slack absorb encoders whose tables differ from libjpeg's).
	if x.quality > 0 && y.quality > 0 && (x.quality-y.quality > 5 || y.quality-x.quality > 5) {
		out["higher JPEG quality"] = sign(x.quality - y.quality)
	}
	if (x.format == "dicom") != (y.format == "dicom") {
		out["DICOM rather than a raster rendering"] = map[bool]int{true: 1, false: -1}[x.format == "dicom"]
	}
	if (x.format == "nifti") != (y.format == "nifti") {
		out["NIfTI volume rather than a slice rendering"] = map[bool]int{true: 1, false: -1}[x.format == "nifti"]
	}
	return out
}

func sign(n int) int {
	switch {
	case n > 0:
		return 1
	case n < 0:
		return -1
	}
	return 0
}

// closenessNoise is the difference of mean pHash distances under which
// two parents are equally close to a copy: the quality scenario's window
// renders are 0.05 bits from their DICOMs, and rotated copies were 2.97
// and 3.03 bits from the DICOM and from the render they were made from.
const closenessNoise = 0.5

// minDerivationShare and minDerivationImages are what an overlap needs to
// be a derivation: at least this share of one of the two datasets, and at
// least this many shared images. One file shared by datasets of hundreds
// is an overlap, not a copy of one dataset by the other.
const (
	minDerivationShare  = 0.05
	minDerivationImages = 2
)

// containmentMargin is how much more of one dataset must lie inside the
// other than the reverse for containment to say which is the copy.
const containmentMargin = 0.1

// edges decides the direction of each overlap, finds the transforms and
// prunes the indirect edges of chains.
func (a *analysis) edges(rep *Report) {
	type cand struct {
		edge       Edge
		orig, copy int
	}
	var cands []cand
	for _, key := range slices.SortedFunc(maps.Keys(a.pairs), cmpKey) {
		da, db := key[0], key[1]
		cs := a.pairs[key]
		na, nb := a.covered(key)
		fa := frac(na, rep.Datasets[da].Images)
		fb := frac(nb, rep.Datasets[db].Images)
		if len(cs) < minDerivationImages || max(fa, fb) < minDerivationShare {
			continue // an overlap only
		}
		// Fidelity votes, per closest pair and per criterion.
		votesA, votesB := 0, 0
		crit := map[string][2]int{}
		for _, c := range cs {
			f := fidelity(&a.images[c.a], &a.images[c.b])
			s := 0
			for name, v := range f {
				n := crit[name]
				if v > 0 {
					n[0]++
				} else {
					n[1]++
				}
				crit[name] = n
				s += v
			}
			switch {
			case s > 0:
				votesA++
			case s < 0:
				votesB++
			}
		}
		A, B := rep.Datasets[da].Name, rep.Datasets[db].Name
		var ev []string
		for _, name := range slices.Sorted(maps.Keys(crit)) {
			n := crit[name]
			ev = append(ev, fmt.Sprintf("fidelity, %s: %s in %d pairs, %s in %d", name, A, n[0], B, n[1]))
		}
		ev = append(ev, fmt.Sprintf("containment: %.0f%% of %s is in %s, %.0f%% of %s is in %s",
			100*fa, A, B, 100*fb, B, A))
		orig, copy, decided := da, db, true
		switch {
		case votesA+votesB > 0 && votesA >= 2*votesB:
			ev = append(ev, fmt.Sprintf("decided by fidelity: %s is the better image in %d of %d pairs, %s in %d", A, votesA, len(cs), B, votesB))
		case votesA+votesB > 0 && votesB >= 2*votesA:
			orig, copy = db, da
			ev = append(ev, fmt.Sprintf("decided by fidelity: %s is the better image in %d of %d pairs, %s in %d", B, votesB, len(cs), A, votesA))
		case fb-fa >= containmentMargin:
			ev = append(ev, fmt.Sprintf("decided by containment: %s lies mostly inside %s, not the reverse", B, A))
		case fa-fb >= containmentMargin:
			orig, copy = db, da
			ev = append(ev, fmt.Sprintf("decided by containment: %s lies mostly inside %s, not the reverse", A, B))
		default:
			decided = false
			ev = append(ev, "undetermined: no fidelity or containment evidence either way (the direction shown is name order)")
		}
		e := Edge{
			Original: rep.Datasets[orig].Name, Copy: rep.Datasets[copy].Name,
			SharedImages: len(cs), Decided: decided, Evidence: ev, Kinds: map[string]int{},
		}
		if orig == da {
			e.OriginalFraction, e.CopyFraction = fa, fb
		} else {
			e.OriginalFraction, e.CopyFraction = fb, fa
		}
		e.NewMaterial = round3(1 - e.CopyFraction)
		a.transforms(&e, cs, orig == da)
		e.OriginalLicense = rep.Datasets[orig].License
		e.CopyLicense = rep.Datasets[copy].License
		// Only documentation both sides have can be compared: an
		// unavailable one is no evidence of a change.
		e.LicenseChanged = e.OriginalLicense != e.CopyLicense && e.OriginalLicense != "" &&
			rep.Datasets[orig].LicenseFinding.Source != "unavailable" && rep.Datasets[copy].LicenseFinding.Source != "unavailable"
		cands = append(cands, cand{e, orig, copy})
	}

	// Nearest parent: a copy C with parents P and Q where P -> Q keeps the
	// parent its images are closest to.
	parentOf := map[[2]int]bool{}
	for _, c := range cands {
		if c.edge.Decided {
			parentOf[[2]int{c.orig, c.copy}] = true
		}
	}
	drop := map[[2]int]string{}
	for _, c := range cands {
		if !c.edge.Decided {
			continue
		}
		C, P := c.copy, c.orig
		for _, d := range cands {
			Q := d.orig
			if d.copy != C || Q == P || !d.edge.Decided || !parentOf[[2]int{P, Q}] {
				continue
			}
			// P -> Q and both are parents of C.
			dP, mP := a.closeness(P, C, Q)
			dQ, mQ := a.closeness(Q, C, P)
			// Within closenessNoise the distances tie (a lossless render
			// of P is as far from C as P is) and metadata likeness
			// decides: C has Q's format and depth when it was made from
			// Q.
			if dQ < dP-closenessNoise || math.Abs(dQ-dP) <= closenessNoise && mQ < mP {
				drop[[2]int{P, C}] = fmt.Sprintf("via %s: %s is closer to %s (mean pHash distance %.2f, %.2f metadata differences) than to %s (%.2f, %.2f)",
					rep.Datasets[Q].Name, rep.Datasets[C].Name, rep.Datasets[Q].Name, dQ, mQ, rep.Datasets[P].Name, dP, mP)
			} else {
				drop[[2]int{Q, C}] = fmt.Sprintf("sibling of %s: both derive from %s, and %s is closer to %s (mean pHash distance %.2f, %.2f metadata differences) than to %s (%.2f, %.2f)",
					rep.Datasets[Q].Name, rep.Datasets[P].Name, rep.Datasets[C].Name, rep.Datasets[P].Name, dP, mP, rep.Datasets[Q].Name, dQ, mQ)
			}
		}
	}
	for _, c := range cands {
		if why, ok := drop[[2]int{c.orig, c.copy}]; ok {
			c.edge.Via = why
			rep.Indirect = append(rep.Indirect, c.edge)
			continue
		}
		rep.Edges = append(rep.Edges, c.edge)
	}
}

// closeness measures how close copy C is to parent P over the groups that
// C, P and other share: the mean pHash distance of the closest pairs, and
// the mean number of metadata differences (format, dimensions, bits) as a
// tie-breaker.
func (a *analysis) closeness(P, C, other int) (dist, meta float64) {
	pc := a.pairs[ordered(P, C)]
	oc := a.pairs[ordered(other, C)]
	n := 0
	for gi, c := range pc {
		if _, ok := oc[gi]; !ok {
			continue
		}
		n++
		dist += float64(c.dist)
		x, y := &a.images[c.a], &a.images[c.b]
		if x.format != y.format {
			meta++
		}
		if x.w != y.w || x.h != y.h {
			meta++
		}
		if x.bits != y.bits {
			meta++
		}
	}
	if n == 0 {
		return math.Inf(1), math.Inf(1)
	}
	return round3(dist / float64(n)), meta / float64(n)
}

func ordered(x, y int) [2]int {
	if x > y {
		x, y = y, x
	}
	return [2]int{x, y}
}

// transforms lists what was done to the copies of e, from its closest
// pairs; origFirst says whether the original is the pair's first image.
func (a *analysis) transforms(e *Edge, cs map[int]closest, origFirst bool) {
	count := map[string]int{}
	detail := map[string]map[string]int{}
	note := func(name, d string) {
		count[name]++
		if detail[name] == nil {
			detail[name] = map[string]int{}
		}
		if d != "" {
			detail[name][d]++
		}
	}
	var sum int
	windows := map[string]int{}                // the windows of NIfTI slice dumps, per pair
	firstSlice, lastSlice, slices := -1, -1, 0 // of the NIfTI slices rendered
	plane := ""                                // their plane, when the volume's orientation says
	for _, c := range cs {
		o, p := &a.images[c.a], &a.images[c.b]
		if !origFirst {
			o, p = p, o
		}
		t := c.transform
		if !origFirst {
			t = t.Inverse()
		}
		e.Kinds[kindName(c.kind, t, c.minMax)]++
		sum += c.dist
		if c.kind == match.IdenticalFile {
			continue
		}
		ow, oh := o.w, o.h
		if t.SwapsAxes() {
			ow, oh = oh, ow
		}
		if ow != p.w || oh != p.h {
			sizes := fmt.Sprintf("%dx%d -> %dx%d", o.w, o.h, p.w, p.h)
			switch {
			case (p.w == ow) != (p.h == oh) && p.w <= ow && p.h <= oh:
				note("cropped", sizes) // one side kept, the other shorter
			default:
				note("resized", sizes)
			}
			if ow > 0 && oh > 0 && p.h > 0 {
				ro, rp := float64(ow)/float64(oh), float64(p.w)/float64(p.h)
				if math.Abs(ro-rp)/ro > 0.01 {
					note("aspect-changed", fmt.Sprintf("%.2f -> %.2f", ro, rp))
				}
			}
		}
		if o.format != p.format || o.lossy != p.lossy || c.kind == match.SameDICOMInstance ||
			c.kind == match.NearDuplicate && o.format == p.format {
			note("re-encoded", o.format+" -> "+p.format)
		}
		if p.lossy && !o.lossy {
			note("lossy", p.format)
		}
		if p.bits > 0 && p.bits < o.bits {
			note("bit-depth-reduced", fmt.Sprintf("%d -> %d bits", o.bits, p.bits))
		}
		if o.format == "dicom" && p.format != "dicom" {
			note("rendered-from-dicom", "to "+p.format)
		}
		if o.format == "nifti" && p.format != "nifti" {
			note("rendered-from-nifti", "to "+p.format)
			if firstSlice < 0 || int(o.slice) < firstSlice {
				firstSlice = int(o.slice)
			}
			lastSlice, slices = max(lastSlice, int(o.slice)), max(slices, int(o.slices))
			if o.plane != "" {
				plane = o.plane + " "
			}
			for _, w := range c.windows {
				windows[w]++
			}
		}
		if t != 0 {
			note(t.String(), "")
		}
		if c.cropped {
			note("cropped", "")
		}
	}
	e.MeanDistance = round3(float64(sum) / float64(max(1, len(cs))))
	if firstSlice >= 0 {
		// The range says which part of the volume was cut.
		detail["rendered-from-nifti"][fmt.Sprintf("%sslices %d..%d of %d", plane, firstSlice, lastSlice, slices)] = count["rendered-from-nifti"]
	}
	// The edge's window is its pairs' majority; the detail lists the
	// others its pairs named, tied with it or instead.
	windowName := ""
	if w := majorityWindow(windows); w != "" {
		e.Window, e.Windows = w, windows
		windowName = "window: " + w
		count[windowName] = windows[w]
		for o, n := range windows {
			if o != w {
				if detail[windowName] == nil {
					detail[windowName] = map[string]int{}
				}
				detail[windowName][o] = n
			}
		}
	}
	order := []string{"rendered-from-dicom", "rendered-from-nifti", windowName, "re-encoded", "lossy", "bit-depth-reduced", "resized", "cropped",
		"aspect-changed"}
	for t := match.Transform(1); t < 8; t++ {
		order = append(order, t.String())
	}
	for _, name := range order {
		if count[name] == 0 {
			continue
		}
		e.Transforms = append(e.Transforms, name)
		if name == windowName && len(detail[name]) > 0 {
			// A pair whose slice two windows map alike names both.
			e.Details = append(e.Details, fmt.Sprintf("%s in %d of %d pairs; other windows named (both where two map a slice alike)%s", name, count[name], len(cs), top(detail[name], 3)))
			continue
		}
		e.Details = append(e.Details, fmt.Sprintf("%s in %d of %d pairs%s", name, count[name], len(cs), top(detail[name], 3)))
	}
	if e.NewMaterial > 0 {
		e.Transforms = append(e.Transforms, "new-material")
		e.Details = append(e.Details, fmt.Sprintf("new-material: %.0f%% of %s has no match in %s", 100*e.NewMaterial, e.Copy, e.Original))
	}
	if e.Transforms == nil {
		e.Transforms = []string{}
	}
}

// top formats the n most common details with their counts.
func top(m map[string]int, n int) string {
	if len(m) == 0 {
		return ""
	}
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(x, y string) int { return cmp.Or(cmp.Compare(m[y], m[x]), cmp.Compare(x, y)) })
	var parts []string
	for _, k := range keys[:min(n, len(keys))] {
		parts = append(parts, fmt.Sprintf("%s (%d)", k, m[k]))
	}
	more := ""
	if len(keys) > n {
		more = fmt.Sprintf(", %d more", len(keys)-n)
	}
	return ": " + strings.Join(parts, ", ") + more
}

// maxExamples bounds the example pairs a leak lists.
const maxExamples = 5

// leaks finds copies across splits: inside a dataset, and from an
// original's test split into a copy's train split.
func (a *analysis) leaks(rep *Report) {
	type key struct {
		ds, orig int
		s1, s2   string
	}
	found := map[key]*Leak{}
	// marked holds, for each image of a leak pair, its (first) leak until
	// the leaks are numbered: one entry per image, however many pairs.
	marked := map[int]key{}
	add := func(k key, gi int, x, y *image, xs, ys string) {
		l := found[k]
		if l == nil {
			l = &Leak{Dataset: rep.Datasets[k.ds].Name, Splits: []string{k.s1, k.s2}}
			if k.orig >= 0 {
				l.Original = rep.Datasets[k.orig].Name
			}
			found[k] = l
		}
		l.Pairs++
		if len(l.Examples) < maxExamples {
			l.Examples = append(l.Examples, [2]string{xs, ys})
		}
		if n := len(l.groups); n == 0 || l.groups[n-1] != gi {
			l.groups = append(l.groups, gi) // groups are visited in order
		}
		for _, p := range []*image{x, y} {
			if _, ok := marked[a.imageIndex(p)]; !ok {
				marked[a.imageIndex(p)] = k
			}
		}
	}
	copies := map[int][]int{} // original -> copies, direct and indirect
	for _, es := range [][]Edge{rep.Edges, rep.Indirect} {
		for _, e := range es {
			if e.Decided {
				o, c := a.dsIndex(rep, e.Original), a.dsIndex(rep, e.Copy)
				copies[o] = append(copies[o], c)
			}
		}
	}
	for gi, g := range a.groups {
		ms := g.members
		for i, mi := range ms {
			x := &a.images[mi.img]
			if x.split == "" {
				continue
			}
			for _, mj := range ms[i+1:] {
				y := &a.images[mj.img]
				if y.split == "" {
					continue
				}
				if x.ds == y.ds && x.split != y.split && x.path != y.path {
					p, q := x, y
					if p.split > q.split {
						p, q = q, p
					}
					add(key{x.ds, -1, p.split, q.split}, gi, p, q, p.path, q.path)
				}
				for _, pair := range [][2]*image{{x, y}, {y, x}} {
					o, c := pair[0], pair[1]
					if o.split == "test" && c.split == "train" && slices.Contains(copies[o.ds], c.ds) {
						add(key{c.ds, o.ds, "test", "train"}, gi, o, c, rep.Datasets[o.ds].Name+":"+o.path, rep.Datasets[c.ds].Name+":"+c.path)
					}
				}
			}
		}
	}
	number := map[key]int{}
	for _, k := range slices.SortedFunc(maps.Keys(found), func(x, y key) int {
		return cmp.Or(cmp.Compare(x.ds, y.ds), cmp.Compare(x.orig, y.orig), cmp.Compare(x.s1, y.s1), cmp.Compare(x.s2, y.s2))
	}) {
		number[k] = len(rep.Leaks)
		rep.Leaks = append(rep.Leaks, *found[k])
	}
	rep.leakOf = make(map[int]int, len(marked))
	for i, k := range marked {
		rep.leakOf[i] = number[k]
	}
}

// imageIndex returns the index in a.images of an image of it.
func (a *analysis) imageIndex(p *image) int { return a.byID[p.id] }

func (a *analysis) dsIndex(rep *Report, name string) int {
	return slices.IndexFunc(rep.Datasets, func(d Dataset) bool { return d.Name == name })
}

// findings lists the licence and documentation problems.
func findings(rep *Report) {
	for _, d := range rep.Datasets {
		switch {
		case d.LicenseFinding.Source == "unavailable" && rep.noDocuments:
			continue // the caller asked for no audit
		case d.LicenseFinding.Source == "unavailable":
			rep.Findings = append(rep.Findings, fmt.Sprintf("%s: documentation unavailable (not in the index: scan the dataset again to keep it)", d.Name))
			continue
		case d.License == "":
			rep.Findings = append(rep.Findings, fmt.Sprintf("%s: no license found", d.Name))
		case d.License == licenseUnknown || d.License == licenseOther:
			rep.Findings = append(rep.Findings, fmt.Sprintf("%s: license stated as %q, which names no terms", d.Name, d.Raw))
		}
		if d.StatedSource == "" && d.LicenseFinding.Source != "unavailable" {
			rep.Findings = append(rep.Findings, fmt.Sprintf("%s: no stated source", d.Name))
		}
	}
	for _, e := range rep.Edges {
		switch {
		case !e.LicenseChanged:
		case e.OriginalLicense != "" && e.CopyLicense == "":
			rep.Findings = append(rep.Findings, fmt.Sprintf("%s -> %s: the copy states no license (original: %s)", e.Original, e.Copy, e.OriginalLicense))
		case e.LicenseChanged:
			rep.Findings = append(rep.Findings, fmt.Sprintf("%s -> %s: license changed from %s to %s", e.Original, e.Copy, e.OriginalLicense, e.CopyLicense))
		}
	}
	rep.Findings = append(rep.Findings, conflicts(rep)...)
}

package match

import (
	"cmp"
	"slices"
	"strconv"
)

// Pair is a candidate pair for Groups: two images (indices into the slice
// given to Groups) and how B relates to A (Compare(A, B)).
type Pair struct {
	A, B   int
	Result Result
}

// Member is an image of a group and how it relates to the group's
// representative, the first member (Kind Representative there).
type Member struct {
	Image  int // index into the images given to Groups
	Result Result
}

// Group is a set of images that are copies of one another.
type Group struct {
	Members []Member
}

// tieSlack and tieFactor say which candidates tie with an image's best
// match in a dataset: those whose distance from a perfect score (1 -
// Score) is at most tieFactor times the best one's plus tieSlack. Two
// copies of one slice in a dataset (a leak at two JPEG qualities) differ
// by about 1e-5; the next slice is at least 5 times further than the
// slice itself on the T1 volume of the quality scenario.
const (
	tieFactor = 2
	tieSlack  = 0.0002
)

// Ties reports whether a candidate scoring score ties with the best match
// of its dataset, which scored best: the rule Groups links by, and Query
// verifies by.
func Ties(score, best float64) bool { return 1-score <= tieFactor*(1-best)+tieSlack }

// Groups decides which images are copies of one another from the
// candidate pairs and returns the groups of two or more, largest first.
//
// A pair links only if it is verified, and, within one dataset, only if
// the images are near-identical (Result.NearIdentical) or the pair is not
// a step along a slice stack (withinDataset). Across datasets
// a pair links only if each image is the other's best match in its
// dataset, or ties with it (so a DICOM slice takes its own render, not the
// render of the next slice, and a subset upload with no copy of a slice
// offers nothing in its place). Links are then taken strongest first
// (exact kinds, then by score), and one that would put two images of one
// dataset that are not near-identical, or two instances of one DICOM
// series, into one group is refused: these cannot-links keep each render
// with the instance it matches best, and keep neighbouring slices apart
// even when a chain of loose links joins them.
func Groups(images []*Image, pairs []Pair, o Options) []Group {
	links := make([]Pair, 0, len(pairs))
	for _, p := range pairs {
		if p.A == p.B || !p.Result.Verified {
			continue
		}
		links = append(links, p)
	}
	links = withinDataset(images, links)
	links = ranked(images, links)
	slices.SortFunc(links, func(x, y Pair) int {
		return cmp.Or(
			cmp.Compare(exactRank(x.Result.Kind), exactRank(y.Result.Kind)),
			cmp.Compare(y.Result.Score, x.Result.Score),
			cmp.Compare(x.Result.Distance, y.Result.Distance),
			cmp.Compare(x.A, y.A), cmp.Compare(x.B, y.B))
	})

	// same joins the images that may share a group within one dataset:
	// exact copies and near-identical pairs.
	same := newUnionFind(len(images))
	for _, l := range links {
		if l.Result.Kind.Exact() || images[l.A].Dataset == images[l.B].Dataset {
			same.Union(uint32(l.A), uint32(l.B))
		}
	}
	comp := newUnionFind(len(images))
	state := map[uint32]*groupState{}
	stateOf := func(i int) *groupState {
		r := comp.Find(uint32(i))
		s := state[r]
		if s == nil {
			im := images[i]
			s = &groupState{datasets: map[string]int{im.Dataset: i}}
			if im.Series != "" {
				s.series = map[string]string{im.Series: instanceKey(im)}
			}
			state[r] = s
		}
		return s
	}
	var tree []Pair
	for _, l := range links {
		ra, rb := comp.Find(uint32(l.A)), comp.Find(uint32(l.B))
		if ra == rb {
			continue
		}
		sa, sb := stateOf(l.A), stateOf(l.B)
		if !l.Result.Kind.Exact() && conflict(sa, sb, same) {
			continue
		}
		r := comp.Union(uint32(l.A), uint32(l.B))
		delete(state, ra)
		delete(state, rb)
		state[r] = merge(sa, sb)
		tree = append(tree, l)
	}

	byRoot := map[uint32][]int{}
	for i := range images {
		if comp.Size(uint32(i)) > 1 {
			r := comp.Find(uint32(i))
			byRoot[r] = append(byRoot[r], i)
		}
	}
	adj := map[int][]Pair{}
	for _, l := range tree {
		adj[l.A] = append(adj[l.A], l)
		adj[l.B] = append(adj[l.B], l)
	}
	out := make([]Group, 0, len(byRoot))
	for _, ms := range byRoot {
		out = append(out, describe(images, ms, adj, o))
	}
	slices.SortFunc(out, func(x, y Group) int {
		return cmp.Or(cmp.Compare(len(y.Members), len(x.Members)), imageOrder(images, x.Members[0].Image, y.Members[0].Image))
	})
	return out
}

// withinDataset drops the links between two images of one dataset that
// may be neighbouring slices of one stack rather than copies, and keeps
// the others. It reads the verified links only, so that clusters made from
// a given set of verified pairs (index.Store.ClustersOf, the Beam
// pipeline's) equal those of the search.
//
// Neighbouring slices rendered alike are as close as a re-encoded copy
// (0.5 mm apart on a real T1 volume: correlation up to 0.9989), so a
// score alone cannot tell them from the same photo saved twice at another
// quality, which users want called a duplicate. The shape of the pairs
// can: slices form a chain, where the slice before k and the slice after
// are both about as close to k as each other's copy would be, yet two
// slices apart from each other (measured: 1 - correlation six times that
// of one step), while copies of one picture are all close to one another.
// A link A-B that is not near-identical is a step of a chain if some image
// C as close to A as B is (Ties) is not that close to B, or is far closer
// to both (then A and B are two steps apart, C between them); the same
// from B's side. A part of a dataset where at least stackShare of such
// links are chain steps holds a stack: there, as a step whose neighbour
// was not verified looks like a lone pair, only near-identical links
// stay. That is decided for the whole dataset (a slice dump) and for each
// component of its verified links (a stack beside photos, whose copies
// still link).
func withinDataset(images []*Image, links []Pair) []Pair {
	type key struct{ a, b int }
	score := map[key]float64{}
	near := map[int][]int{}
	for _, p := range links {
		if p.A == p.B || images[p.A].Dataset != images[p.B].Dataset {
			continue
		}
		k := key{min(p.A, p.B), max(p.A, p.B)}
		if old, ok := score[k]; !ok {
			near[p.A] = append(near[p.A], p.B)
			near[p.B] = append(near[p.B], p.A)
		} else if old >= p.Result.Score {
			continue
		}
		score[k] = p.Result.Score
	}
	scoreOf := func(i, j int) (float64, bool) {
		s, ok := score[key{min(i, j), max(i, j)}]
		return s, ok
	}
	chainStep := func(x, y int, s float64) bool {
		for _, c := range near[x] {
			if c == y {
				continue
			}
			sxc, _ := scoreOf(x, c)
			if !Ties(sxc, s) {
				continue
			}
			syc, ok := scoreOf(y, c)
			if !ok || !Ties(syc, s) {
				return true // c is x's other neighbour
			}
			if !Ties(s, sxc) && !Ties(s, syc) {
				return true // x and y are two steps apart, c the step between
			}
		}
		return false
	}
	// The links within a dataset fall into components: a stack is one (or
	// a few), each photo and its copies another.
	comp := newUnionFind(len(images))
	for k := range score {
		comp.Union(uint32(k.a), uint32(k.b))
	}
	type tally struct{ links, steps int }
	stack := func(t *tally) bool { return float64(t.steps) >= stackShare*float64(t.links) }
	byComp := map[uint32]*tally{}
	byDataset := map[string]*tally{}
	count := func(m map[uint32]*tally, k uint32) *tally {
		if m[k] == nil {
			m[k] = &tally{}
		}
		return m[k]
	}
	step := make([]bool, len(links))
	for i, l := range links {
		ds := images[l.A].Dataset
		if ds != images[l.B].Dataset || l.Result.NearIdentical() {
			continue
		}
		tc := count(byComp, comp.Find(uint32(l.A)))
		td := byDataset[ds]
		if td == nil {
			td = &tally{}
			byDataset[ds] = td
		}
		tc.links++
		td.links++
		if chainStep(l.A, l.B, l.Result.Score) || chainStep(l.B, l.A, l.Result.Score) {
			step[i] = true
			tc.steps++
			td.steps++
		}
	}
	out := links[:0]
	for i, l := range links {
		ds := images[l.A].Dataset
		if ds == images[l.B].Dataset && !l.Result.NearIdentical() &&
			(step[i] || stack(byComp[comp.Find(uint32(l.A))]) || stack(byDataset[ds])) {
			continue
		}
		out = append(out, l)
	}
	return out
}

// stackShare is the share of chain steps among the links of a component
// of a dataset's verified links from which withinDataset takes it for a
// slice stack.
const stackShare = 0.25

// exactRank orders the exact kinds before near-duplicates.
func exactRank(k Kind) int {
	if k.Exact() {
		return int(k)
	}
	return 100
}

// ranked keeps the links across datasets that are, for one of their
// images, the best match (or a tie) in the other's dataset, and every
// link within a dataset.
func ranked(images []*Image, links []Pair) []Pair {
	type key struct {
		img     int
		dataset string
	}
	best := map[key]float64{}
	note := func(i int, ds string, s float64) {
		k := key{i, ds}
		if b, ok := best[k]; !ok || s > b {
			best[k] = s
		}
	}
	for _, l := range links {
		da, db := images[l.A].Dataset, images[l.B].Dataset
		if da != db {
			note(l.A, db, l.Result.Score)
			note(l.B, da, l.Result.Score)
		}
	}
	out := links[:0]
	for _, l := range links {
		da, db := images[l.A].Dataset, images[l.B].Dataset
		if da == db || Ties(l.Result.Score, best[key{l.A, db}]) || Ties(l.Result.Score, best[key{l.B, da}]) {
			out = append(out, l)
		}
	}
	return out
}

// groupState is what the cannot-links read of a group being built: one
// image per dataset standing for the near-identical images the group
// holds there, and the instance it holds of each DICOM series.
type groupState struct {
	datasets map[string]int
	series   map[string]string
}

func instanceKey(im *Image) string { return im.SOP + "\x00" + strconv.Itoa(im.Frame) }

// conflict reports whether joining the groups would put two images of one
// dataset that are not near-identical, or two instances of one series,
// together.
func conflict(a, b *groupState, same *unionFind) bool {
	if len(a.datasets) > len(b.datasets) {
		a, b = b, a
	}
	for ds, i := range a.datasets {
		if j, ok := b.datasets[ds]; ok && same.Find(uint32(i)) != same.Find(uint32(j)) {
			return true
		}
	}
	for s, k := range a.series {
		if o, ok := b.series[s]; ok && o != k {
			return true
		}
	}
	return false
}

func merge(a, b *groupState) *groupState {
	if len(a.datasets)+len(a.series) < len(b.datasets)+len(b.series) {
		a, b = b, a
	}
	for ds, i := range b.datasets {
		if _, ok := a.datasets[ds]; !ok {
			a.datasets[ds] = i
		}
	}
	for s, k := range b.series {
		if a.series == nil {
			a.series = map[string]string{}
		}
		if _, ok := a.series[s]; !ok {
			a.series[s] = k
		}
	}
	return a
}

// imageOrder orders images by dataset, path and frame.
func imageOrder(images []*Image, x, y int) int {
	p, q := images[x], images[y]
	return cmp.Or(cmp.Compare(p.Dataset, q.Dataset), cmp.Compare(p.Path, q.Path), cmp.Compare(p.Frame, q.Frame))
}

// fidelityOrder puts the image most likely to be the original first:
// DICOM before renderings, lossless before lossy, more bits first; then
// dataset, path and frame. Pixel count does not count: an upscaled copy
// has more pixels and no more information.
func fidelityOrder(images []*Image, x, y int) int {
	p, q := images[x], images[y]
	return cmp.Or(
		cmp.Compare(boolRank(p.Format != "dicom"), boolRank(q.Format != "dicom")),
		cmp.Compare(boolRank(p.Lossy), boolRank(q.Lossy)),
		cmp.Compare(q.Bits, p.Bits),
		imageOrder(images, x, y))
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// describe makes the group of members ms: the representative first, each
// other member with its relation to it, strongest first. A member the
// representative does not verify directly (it joined through another
// member) gets the transform composed along the links that joined it.
func describe(images []*Image, ms []int, adj map[int][]Pair, o Options) Group {
	slices.SortFunc(ms, func(x, y int) int { return fidelityOrder(images, x, y) })
	rep := ms[0]
	// The transform from the representative to each member along the
	// joining links (a tree).
	via := map[int]Result{rep: {Kind: Representative, Crop: Whole, Score: 1, Verified: true}}
	queue := []int{rep}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		for _, l := range adj[i] {
			j, t, c := l.B, l.Result.Transform, l.Result.Crop
			if j == i {
				j, t, c = l.A, t.Inverse(), Whole
				if l.Result.Cropped() {
					c = l.Result.Crop.invert()
				}
			}
			if _, ok := via[j]; ok {
				continue
			}
			prev := via[i]
			r := l.Result
			r.Transform = prev.Transform.Then(t)
			r.Crop = c
			if prev.Cropped() {
				r.Crop = prev.Crop
			}
			via[j] = r
			queue = append(queue, j)
		}
	}
	g := Group{Members: []Member{{Image: rep, Result: via[rep]}}}
	for _, m := range ms[1:] {
		r := Compare(images[rep], images[m], o)
		if !r.Verified {
			r = via[m]
			if r.Kind == NearDuplicate {
				r.Distance = distanceUnder(images[rep], images[m], r.Transform)
			}
		}
		g.Members = append(g.Members, Member{Image: m, Result: r})
	}
	slices.SortStableFunc(g.Members[1:], func(x, y Member) int {
		return cmp.Or(cmp.Compare(exactRank(x.Result.Kind), exactRank(y.Result.Kind)),
			cmp.Compare(x.Result.Distance, y.Result.Distance),
			imageOrder(images, x.Image, y.Image))
	})
	return g
}

// distanceUnder is the pHash distance of b from a under transform t.
func distanceUnder(a, b *Image, t Transform) int {
	return popcount(dihedral(a.Fingerprint, t) ^ b.Fingerprint.PHash)
}

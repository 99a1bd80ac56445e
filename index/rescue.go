package index

import (
	"cmp"
	"context"
	"slices"

	"github.com/copycat-dev/copycat/match"
)

// The rescue pass finds copies that the pHash search cannot offer as
// candidates: a crop of 3-5% per side, resized back, moves a brain MR
// slice's pHash 10-16 bits, past the radius. Between two datasets that
// already share many verified copies (one is an upload of the other), the
// images of one that matched nothing in the other are compared with
// every image of the other on 8x8 thumbnails (match.CoarseSimilarity),
// and match.RescueBest decides among the rescueTop most alike: an aligned
// crop or the same picture, or a crop that ranking singles out. Only the side that
// looks like the copy is rescued: a dataset with at least rescueMinLinks
// of its images, and rescueMinShare of them, linked into the other. The
// rest of a subset's original has no copy to find. The coarse work is
// bounded by rescueBudget comparisons in all, the largest overlaps first.
const (
	rescueMinLinks = 3
	rescueMinShare = 0.25
	rescueTop      = 8
	rescueBudget   = 4_000_000
)

// rescue adds the pairs match.Rescue verifies to c (loading the images it
// compares) and returns how many it added.
func (s *Store) rescue(ctx context.Context, c *candidateSet, mo match.Options) (int, error) {
	hi := c.hi
	byDS := map[uint32][]uint32{} // dataset -> its entries
	for e := range hi.refs {
		byDS[hi.refs[e].ds] = append(byDS[hi.refs[e].ds], uint32(e))
	}
	dsOf := func(i int) uint32 { return hi.refs[c.entries[i]].ds }
	// Which images have a verified link into which dataset.
	type dsPair [2]uint32 // from, to
	linkedImages := map[dsPair]int{}
	linked := map[uint32]map[uint32]bool{} // entry -> datasets it has a link into
	for _, p := range c.pairs {
		if !p.Result.Verified {
			continue
		}
		da, db := dsOf(p.A), dsOf(p.B)
		if da == db {
			continue
		}
		for _, x := range [2][2]int{{p.A, p.B}, {p.B, p.A}} {
			e, to := c.entries[x[0]], dsOf(x[1])
			if linked[e] == nil {
				linked[e] = map[uint32]bool{}
			}
			if !linked[e][to] {
				linked[e][to] = true
				linkedImages[dsPair{hi.refs[e].ds, to}]++
			}
		}
	}
	type job struct {
		from, to uint32 // datasets: unmatched images of from against all of to
		linked   int
	}
	var jobs []job
	for k, n := range linkedImages {
		if n >= rescueMinLinks && float64(n) >= rescueMinShare*float64(len(byDS[k[0]])) && n < len(byDS[k[0]]) {
			jobs = append(jobs, job{k[0], k[1], n})
		}
	}
	slices.SortFunc(jobs, func(x, y job) int {
		return cmp.Or(cmp.Compare(y.linked, x.linked), cmp.Compare(x.from, y.from), cmp.Compare(x.to, y.to))
	})

	index := make(map[uint32]int, len(c.entries))
	for i, e := range c.entries {
		index[e] = i
	}
	budget := rescueBudget
	type todo struct{ from, to []uint32 }
	var work []todo
	var need []uint32
	for _, j := range jobs {
		var alone []uint32
		for _, e := range byDS[j.from] {
			if !linked[e][j.to] {
				alone = append(alone, e)
			}
		}
		cost := len(alone) * len(byDS[j.to])
		if len(alone) == 0 || cost > budget {
			continue
		}
		budget -= cost
		work = append(work, todo{alone, byDS[j.to]})
		for _, es := range [2][]uint32{alone, byDS[j.to]} {
			for _, e := range es {
				if _, ok := index[e]; !ok {
					need = append(need, e)
				}
			}
		}
	}
	if len(work) == 0 {
		return 0, nil
	}
	slices.Sort(need)
	need = slices.Compact(need)
	more, err := s.loadImages(ctx, hi, need)
	if err != nil {
		return 0, err
	}
	c.merge(need, more)
	for i, e := range c.entries {
		index[e] = i
	}
	coarse := make([]match.CoarseThumb, len(c.images))
	for i, im := range c.images {
		coarse[i] = match.Coarse(im.Fingerprint)
	}
	added := 0
	type scored struct {
		i int
		s float64
	}
	var top []scored
	for _, w := range work {
		for _, x := range w.from {
			if err := ctx.Err(); err != nil {
				return added, err
			}
			b := index[x] // the copy
			top = top[:0]
			for _, y := range w.to {
				a := index[y]
				top = append(top, scored{a, match.CoarseSimilarity(&coarse[a], &coarse[b], mo.NoTransforms)})
			}
			slices.SortFunc(top, func(p, q scored) int { return cmp.Or(cmp.Compare(q.s, p.s), cmp.Compare(p.i, q.i)) })
			originals := make([]*match.Image, 0, rescueTop)
			for _, t := range top[:min(rescueTop, len(top))] {
				originals = append(originals, c.images[t.i])
			}
			if k, r := match.RescueBest(originals, c.images[b], mo); k >= 0 {
				c.pairs = append(c.pairs, match.Pair{A: top[k].i, B: b, Result: r})
				added++
			}
		}
	}
	return added, nil
}

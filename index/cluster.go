package index

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/copycat-dev/copycat/match"
)

// ClusterOptions configure Clusters.
type ClusterOptions struct {
	// MaxDistance is the pHash distance up to which two images are
	// candidates; negative means DefaultMaxDistance.
	MaxDistance int
	// Verify holds the thresholds a candidate pair must pass.
	Verify match.Thresholds
	// NoTransforms leaves rotated and mirrored copies out: only pairs in
	// the same orientation are candidates.
	NoTransforms bool
	// NoRescue skips the rescue pass (rescue.go).
	NoRescue bool
	// Workers bounds the goroutines of the pair search (GOMAXPROCS if <= 0).
	Workers int
}

func (o ClusterOptions) maxDist() int {
	if o.MaxDistance < 0 {
		return DefaultMaxDistance
	}
	return min(o.MaxDistance, 64)
}

func (o ClusterOptions) matchOptions() match.Options {
	return match.Options{MaxDistance: o.maxDist(), Verify: o.Verify, NoTransforms: o.NoTransforms}
}

// Pair is a near-duplicate candidate: two images within the pHash distance
// asked for (under some rotation or mirror), and how B relates to A.
type Pair struct {
	A, B   uint64 // image IDs, A < B
	Result match.Result
}

// candidateSet is what Clusters decides on: the loaded images of every
// candidate pair, and the pairs as indices into images, each once.
type candidateSet struct {
	hi      *hashIndex // the search structure the candidates come from
	images  []*match.Image
	entries []uint32     // entries[i] is the hash-index entry of images[i]
	pairs   []match.Pair // Result not filled
	stats   ClusterStats
}

// candidates finds the candidate pairs: pHashes (own and min-max
// renderings) within the distance, canonical-orientation pHashes within
// it (rotated and mirrored copies), and shared pixel or instance digests;
// then it loads their records.
func (s *Store) candidates(ctx context.Context, opts ClusterOptions) (*candidateSet, error) {
	var st ClusterStats
	start := time.Now()
	hi, err := s.hashIndex(false)
	if err != nil {
		return nil, err
	}
	st.Load = time.Since(start)
	st.Images = len(hi.refs)
	start = time.Now()
	r := opts.maxDist()
	hps, err := AllPairs(ctx, hi.hashes, r, opts.Workers)
	if err != nil {
		return nil, fmt.Errorf("clusters: %w", err)
	}
	eps := imagePairs(hi, hps)
	if !opts.NoTransforms {
		tps, err := canonicalPairs(ctx, hi, r, opts.Workers)
		if err != nil {
			return nil, fmt.Errorf("clusters: %w", err)
		}
		eps = append(eps, tps...)
	}
	xps, groups := exactPairs(hi)
	st.ExactGroups = groups
	eps = append(eps, xps...)
	return s.loadCandidates(ctx, hi, eps, st, start)
}

// loadCandidates makes the candidate set of the entry pairs eps, found
// since start: each pair once, lower entry first, with the records of its
// images loaded in entry order. It fills st's CandidatePairs, Join (until
// now) and Verify (the loading).
func (s *Store) loadCandidates(ctx context.Context, hi *hashIndex, eps []HashPair, st ClusterStats, start time.Time) (*candidateSet, error) {
	for i := range eps {
		if eps[i].I > eps[i].J {
			eps[i].I, eps[i].J = eps[i].J, eps[i].I
		}
	}
	slices.SortFunc(eps, func(x, y HashPair) int { return cmp.Or(cmp.Compare(x.I, y.I), cmp.Compare(x.J, y.J)) })
	eps = slices.CompactFunc(eps, func(x, y HashPair) bool { return x.I == y.I && x.J == y.J })
	st.CandidatePairs = len(eps)
	st.Join = time.Since(start)
	start = time.Now()
	entries := make([]uint32, 0, 2*len(eps))
	for _, p := range eps {
		entries = append(entries, p.I, p.J)
	}
	slices.Sort(entries)
	entries = slices.Compact(entries)
	images, err := s.loadImages(ctx, hi, entries)
	if err != nil {
		return nil, err
	}
	c := &candidateSet{hi: hi, images: images, entries: entries, pairs: make([]match.Pair, len(eps))}
	for i, p := range eps {
		a, _ := slices.BinarySearch(entries, p.I)
		b, _ := slices.BinarySearch(entries, p.J)
		c.pairs[i] = match.Pair{A: a, B: b}
	}
	st.Verify = time.Since(start)
	c.stats = st
	return c, nil
}

// imagePairs maps hash pairs to pairs of image entries: an image with a
// min-max rendering has two hashes, and two such images can meet through
// up to four pairs of them. A pair of an image with its own min-max
// rendering is left out; repeats are removed by the caller.
func imagePairs(hi *hashIndex, hps []HashPair) []HashPair {
	out := make([]HashPair, 0, len(hps))
	for _, hp := range hps {
		i, _ := hi.imageOf(hp.I)
		j, _ := hi.imageOf(hp.J)
		if i != j {
			out = append(out, HashPair{I: i, J: j, Distance: hp.Distance})
		}
	}
	return out
}

// canonicalPairs joins the images' canonical-orientation pHashes (see
// match.Canonical): a copy rotated or mirrored has the same
// canonical pHash as its original, within a few bits, though its own
// pHash is 25-30 bits away. Images indexed before canonical pHashes were
// kept (image keys without one) take no part.
func canonicalPairs(ctx context.Context, hi *hashIndex, r, workers int) ([]HashPair, error) {
	var hashes []uint64
	var owner []uint32
	for e := range hi.refs {
		for _, c := range hi.refs[e].canon {
			if c != 0 {
				hashes = append(hashes, c)
				owner = append(owner, uint32(e))
			}
		}
	}
	if len(hashes) < 2 {
		return nil, nil
	}
	hps, err := AllPairs(ctx, hashes, r, workers)
	if err != nil {
		return nil, err
	}
	out := hps[:0]
	for _, hp := range hps {
		if i, j := owner[hp.I], owner[hp.J]; i != j {
			out = append(out, HashPair{I: i, J: j, Distance: hp.Distance})
		}
	}
	return out, nil
}

// exactPairs links the images that share a pixel digest, or a SOP
// Instance UID and frame, by the 8-byte prefixes in their keys (each to
// the next in digest order: match.Compare confirms on the full digests),
// and returns the number of groups of two or more.
func exactPairs(hi *hashIndex) ([]HashPair, int) {
	var out []HashPair
	groups := 0
	for _, field := range []func(*imageRef) uint64{refPix, refSOP} {
		sorted := sortedBy(hi.refs, field)
		for i := 0; i < len(sorted); {
			j := i + 1
			for j < len(sorted) && field(&hi.refs[sorted[j]]) == field(&hi.refs[sorted[i]]) {
				out = append(out, HashPair{I: sorted[j-1], J: sorted[j]})
				j++
			}
			if j-i > 1 {
				groups++
			}
			i = j
		}
	}
	return out, groups
}

// Cluster is a group of images that are copies of one another.
type Cluster struct {
	// ID is stable while the representative stays in the index: a digest
	// of its dataset, path and frame.
	ID      string          `json:"id"`
	Members []ClusterMember `json:"members"`
}

// ClusterMember is one image of a cluster and how it relates to the
// cluster's representative, the first member: the member most likely to
// be the original (DICOM before renderings, lossless before lossy, more
// bits first). The others follow strongest relation first (exact kinds,
// then by pHash distance).
type ClusterMember struct {
	ImageID uint64 `json:"image_id"`
	Dataset string `json:"dataset"`
	Path    string `json:"path"` // inside the dataset (inside the archive for archive members)
	Frame   int    `json:"frame"`
	// Kind is "representative" for the first member; for the others, the
	// strongest relation to it.
	Kind match.Kind `json:"kind"`
	// Transform is what was done to the representative to make this
	// member: "none", a rotation or mirror (match.Transform names),
	// "crop", or a rotation or mirror and "+crop".
	Transform string `json:"transform"`
	Distance  int    `json:"distance"` // pHash distance to the representative, under the transform
	// Rendering is "min-max" when the member matched the representative
	// through a DICOM frame's min-max rendering.
	Rendering string `json:"rendering,omitempty"`
	// Relation is the full decision (transform, crop, score).
	Relation match.Result `json:"-"`
}

// ClusterStats reports what Clusters did, for the benchmarks and the CLI.
type ClusterStats struct {
	Images         int           // images considered
	CandidatePairs int           // image pairs within the distance (any orientation) or sharing a digest
	VerifiedPairs  int           // of which passed verification
	ExactGroups    int           // groups of images sharing a pixel or instance digest
	RescuedPairs   int           // pairs the rescue pass verified (crops beyond the pHash radius)
	ImportedPairs  int           // imported pairs used instead of the pair search (pairs.go); 0 when it ran
	Load           time.Duration // loading the hashes
	Join           time.Duration // finding the pairs
	Verify         time.Duration // loading records, verifying and grouping
}

// Clusters groups the indexed images that are copies of one another, as
// match.Groups decides from the candidate pairs; images with no copy are
// left out. Largest clusters first.
func (s *Store) Clusters(ctx context.Context, opts ClusterOptions) ([]Cluster, ClusterStats, error) {
	if err := s.checkOpen(false); err != nil {
		return nil, ClusterStats{}, err
	}
	c, err := s.clusterCandidates(ctx, opts)
	if err != nil {
		return nil, ClusterStats{}, err
	}
	return s.clustersFrom(ctx, c, opts)
}

// clustersFrom verifies the candidate pairs of c, rescues, and groups.
func (s *Store) clustersFrom(ctx context.Context, c *candidateSet, opts ClusterOptions) ([]Cluster, ClusterStats, error) {
	st := c.stats
	start := time.Now()
	mo := opts.matchOptions()
	for i := range c.pairs {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, st, err
			}
		}
		p := &c.pairs[i]
		p.Result = match.Compare(c.images[p.A], c.images[p.B], mo)
		if p.Result.Verified {
			st.VerifiedPairs++
		}
	}
	if !opts.NoRescue {
		n, err := s.rescue(ctx, c, mo)
		if err != nil {
			return nil, st, err
		}
		st.RescuedPairs = n
	}
	groups := match.Groups(c.images, c.pairs, mo)
	out := make([]Cluster, 0, len(groups))
	for _, g := range groups {
		out = append(out, clusterOf(c.images, g))
	}
	st.Verify += time.Since(start)
	slices.SortFunc(out, func(a, b Cluster) int {
		return cmp.Or(cmp.Compare(len(b.Members), len(a.Members)), cmp.Compare(a.ID, b.ID))
	})
	return out, st, nil
}

// clusterOf turns a match.Group into a Cluster.
func clusterOf(images []*match.Image, g match.Group) Cluster {
	rep := images[g.Members[0].Image]
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%d", rep.Dataset, rep.Path, rep.Frame))
	c := Cluster{ID: hex.EncodeToString(sum[:6])}
	for _, m := range g.Members {
		im := images[m.Image]
		cm := ClusterMember{ImageID: im.ID, Dataset: im.Dataset, Path: im.Path, Frame: im.Frame,
			Kind: m.Result.Kind, Transform: m.Result.TransformName(), Distance: m.Result.Distance, Relation: m.Result}
		if m.Result.MinMaxA || m.Result.MinMaxB {
			cm.Rendering = "min-max"
		}
		c.Members = append(c.Members, cm)
	}
	return c
}

// loadImages reads the image records of the given entries (sorted, each
// once) in ID order, which is key order.
func (s *Store) loadImages(ctx context.Context, hi *hashIndex, entries []uint32) ([]*match.Image, error) {
	out := make([]*match.Image, 0, len(entries))
	err := s.db.View(func(txn *badger.Txn) error {
		for k, e := range entries {
			if k%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			ref := hi.refs[e]
			im, err := getImage(txn, ref)
			if err != nil {
				return err
			}
			im.Dataset = hi.names[ref.ds]
			out = append(out, matchImage(&im))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load fingerprints: %w", err)
	}
	return out, nil
}

// matchImage is what match reads of im.
func matchImage(im *Image) *match.Image {
	return &match.Image{
		ID: im.ID, Dataset: im.Dataset, Path: im.Path, Frame: im.Frame, Format: im.Format,
		Width: im.Width, Height: im.Height, Bits: im.Bits, Lossy: im.Lossy,
		FileSHA256: im.FileSHA256, PixelSHA256: im.PixelSHA256,
		SOP: im.SOPInstanceUID, Series: im.SeriesInstanceUID,
		Fingerprint: &im.Fingerprint, MinMax: im.MinMax,
	}
}

package index

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/copycat-dev/copycat/hash"
	"github.com/copycat-dev/copycat/match"
)

// DefaultMaxDistance is the pHash distance (of 64 bits) up to which two
// images are near-duplicate candidates unless the caller says otherwise.
const DefaultMaxDistance = match.DefaultMaxDistance

// Query describes one image to look up.
type Query struct {
	Fingerprint hash.Fingerprint
	FileSHA256  [32]byte // zero: unknown
	PixelSHA256 [32]byte // zero: unknown
	// SOPInstanceUID and Frame find other copies of the same DICOM instance
	// frame; Frame also qualifies FileSHA256 (identical file, same frame).
	// Identical files are found through their pixels: give PixelSHA256 too.
	SOPInstanceUID string
	Frame          int
	// SeriesInstanceUID marks near-duplicates that are other instances of
	// the query's own series (adjacent slices) as unverified: see
	// Match.Verified.
	SeriesInstanceUID string
	// MaxDistance is the largest pHash distance reported (0-64); negative
	// means DefaultMaxDistance.
	MaxDistance int
	// MinMax is the fingerprint of the query frame's min-max rendering,
	// when it has one (see Image.MinMax): it is looked up too.
	MinMax *hash.Fingerprint
	// NoTransforms skips looking up the query's rotations and mirrors
	// (Fingerprint.Dihedral[1:]): only copies in the same orientation match.
	NoTransforms bool
	// Verify is applied to near-duplicates; the zero value means the
	// defaults of match.Thresholds.
	Verify match.Thresholds
}

// Match is one indexed image that matches a query.
type Match struct {
	Image Image
	Kind  match.Kind
	// Distance is the pHash distance under the transform; 0 for identical
	// files and pixels.
	Distance int
	// Transform is what was done to the query to make the match (the
	// match looks like the query after it); near-duplicates only.
	Transform match.Transform
	// Verification compares the two images beyond the pHash; Verified says
	// whether it passes the thresholds that clustering uses, is not
	// another instance of the query's series, and ties with the best
	// match of its dataset (match.Ties: the neighbouring slice of the
	// query's own slice is not verified). Exact kinds are always verified.
	// Unverified near-duplicates are still returned: they are what a
	// person should look at.
	Verification match.Verification
	Verified     bool
	// MinMax is set when the near-duplicate was found through a min-max
	// rendering (Image.MinMax, Query.MinMax) of the query or of the match:
	// a DICOM frame whose stored window makes another picture than the one
	// a min-max export shows.
	MinMax bool
	// Result is match.Compare's whole decision (crop, score).
	Result match.Result
}

// AsQuery returns the query that looks im up: its fingerprints, digests,
// DICOM identity and frame, at the default distance. A caller with a
// decoded image (scan.Worker.Frames) sets only the options it wants.
func (im *Image) AsQuery() Query {
	return Query{
		Fingerprint:       im.Fingerprint,
		MinMax:            im.MinMax,
		FileSHA256:        im.FileSHA256,
		PixelSHA256:       im.PixelSHA256,
		SOPInstanceUID:    im.SOPInstanceUID,
		SeriesInstanceUID: im.SeriesInstanceUID,
		Frame:             im.Frame,
		MaxDistance:       -1,
	}
}

// hashIndex is the in-memory search structure over all indexed images,
// loaded by a key-only scan of the image keys (37 bytes each, values
// untouched) when the index has changed since it was built. Entry i is the
// i-th image in ID order.
//
// The hash search runs over more entries than there are images: after the
// images' pHashes come the pHashes of their min-max renderings (W keys),
// so that one search finds either picture; imageOf maps a hash entry back to
// its image.
type hashIndex struct {
	gen    uint64
	refs   []imageRef
	hashes []uint64 // refs[i].phash, then the min-max pHashes: contiguous for the pair search
	mmOf   []uint32 // hashes[len(refs)+k] is the min-max pHash of image entry mmOf[k]
	set    *HashSet // over hashes, built on first search
	byPix  []uint32 // entries with a pixel digest, sorted by it (built on demand)
	bySOP  []uint32 // entries with a SOP digest, sorted by it (built on demand)
	names  map[uint32]string
	loaded time.Duration
}

// LoadStats reports what building the search structure cost; the
// benchmarks print it.
type LoadStats struct {
	Images   int
	Duration time.Duration
	Bytes    int64 // memory held by the structure
}

// PrepareSearch loads the search structure now instead of at the first
// Query, and reports what it cost.
func (s *Store) PrepareSearch() (LoadStats, error) {
	if err := s.checkOpen(false); err != nil {
		return LoadStats{}, err
	}
	hi, err := s.hashIndex(true)
	if err != nil {
		return LoadStats{}, err
	}
	n := int64(len(hi.refs))
	// Per image its key's fields, pHash and two exact-lookup entries; per
	// min-max rendering a pHash and its owner.
	mm := int64(len(hi.mmOf))
	return LoadStats{Images: len(hi.refs), Duration: hi.loaded, Bytes: hi.set.Bytes() + n*(36+8+8) + mm*(8+4)}, nil
}

// hashIndex returns the current search structure, loading it if the index
// changed since it was built; withSet also builds the HashSet and the
// exact-digest tables.
func (s *Store) hashIndex(withSet bool) (*hashIndex, error) {
	s.searchMu.Lock()
	defer s.searchMu.Unlock()
	s.mu.Lock()
	gen, cur := s.writeGen, s.search
	s.mu.Unlock()
	start := time.Now()
	if cur == nil || cur.gen != gen {
		var err error
		if cur, err = s.loadRefs(gen); err != nil {
			return nil, err
		}
	}
	if withSet && cur.set == nil {
		set, err := NewHashSet(cur.hashes)
		if err != nil {
			return nil, err
		}
		cur.set = set
		cur.byPix = sortedBy(cur.refs, func(r *imageRef) uint64 { return r.pix })
		cur.bySOP = sortedBy(cur.refs, func(r *imageRef) uint64 { return r.sop })
	}
	cur.loaded += time.Since(start)
	s.mu.Lock()
	if s.writeGen == gen {
		s.search = cur
	}
	s.mu.Unlock()
	return cur, nil
}

// sortedBy lists the entries whose field is non-zero, sorted by it.
func sortedBy(refs []imageRef, field func(*imageRef) uint64) []uint32 {
	var out []uint32
	for i := range refs {
		if field(&refs[i]) != 0 {
			out = append(out, uint32(i))
		}
	}
	slices.SortFunc(out, func(a, b uint32) int { return cmp.Compare(field(&refs[a]), field(&refs[b])) })
	return out
}

// lookup returns the entries of sorted (from sortedBy) whose field is v.
func lookup(refs []imageRef, sorted []uint32, field func(*imageRef) uint64, v uint64) []uint32 {
	if v == 0 {
		return nil
	}
	i, _ := slices.BinarySearchFunc(sorted, v, func(e uint32, v uint64) int { return cmp.Compare(field(&refs[e]), v) })
	j := i
	for j < len(sorted) && field(&refs[sorted[j]]) == v {
		j++
	}
	return sorted[i:j]
}

func refPix(r *imageRef) uint64 { return r.pix }
func refSOP(r *imageRef) uint64 { return r.sop }

// loadRefs reads every image key: no values.
func (s *Store) loadRefs(gen uint64) (*hashIndex, error) {
	names, err := s.datasetNames()
	if err != nil {
		return nil, err
	}
	hi := &hashIndex{gen: gen, names: names}
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{tagImage}, PrefetchValues: false})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			ref, err := parseImageKey(it.Item().Key())
			if err != nil {
				return err
			}
			if _, ok := names[ref.ds]; !ok {
				continue // a dataset being forgotten
			}
			hi.refs = append(hi.refs, ref)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load search structure: %w", err)
	}
	hi.hashes = make([]uint64, len(hi.refs), len(hi.refs)+len(hi.refs)/8)
	for i := range hi.refs {
		hi.hashes[i] = hi.refs[i].phash
	}
	if err := s.loadMinMax(hi); err != nil {
		return nil, fmt.Errorf("load search structure: %w", err)
	}
	if len(hi.hashes) > MaxHashes {
		return nil, fmt.Errorf("index: %d images and min-max renderings exceed the limit of %d", len(hi.hashes), MaxHashes)
	}
	return hi, nil
}

// loadMinMax appends the min-max pHashes (W keys, in image ID order like
// the image keys) of the loaded images to hi.hashes.
func (s *Store) loadMinMax(hi *hashIndex) error {
	return s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{tagMinMax}, PrefetchValues: false})
		defer it.Close()
		e := 0
		for it.Rewind(); it.Valid(); it.Next() {
			id, ds, mm, err := parseMinMaxKey(it.Item().Key())
			if err != nil {
				return err
			}
			for e < len(hi.refs) && hi.refs[e].id < id {
				e++
			}
			if e == len(hi.refs) {
				break
			}
			if hi.refs[e].id != id || hi.refs[e].ds != ds {
				continue // its image is gone, or being forgotten
			}
			hi.hashes = append(hi.hashes, mm)
			hi.mmOf = append(hi.mmOf, uint32(e))
		}
		return nil
	})
}

// imageOf returns the image entry of hash entry e, and whether e is that
// image's min-max pHash.
func (hi *hashIndex) imageOf(e uint32) (uint32, bool) {
	if int(e) < len(hi.refs) {
		return e, false
	}
	return hi.mmOf[int(e)-len(hi.refs)], true
}

// Query finds the indexed images that match q, nearest first: exact kinds
// (identical file, identical pixels, same DICOM instance) at distance 0,
// then near-duplicates by pHash distance under any of the query's eight
// orientations. Each image appears once, with its strongest kind. Ties are
// ordered by dataset, path and frame.
func (s *Store) Query(ctx context.Context, q Query) ([]Match, error) {
	if err := s.checkOpen(false); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	maxDist := q.MaxDistance
	if maxDist < 0 {
		maxDist = DefaultMaxDistance
	}
	maxDist = min(maxDist, 64)
	hi, err := s.hashIndex(true)
	if err != nil {
		return nil, err
	}
	hits := map[uint32]bool{}
	search := func(fp *hash.Fingerprint) {
		variants := fp.Dihedral
		variants[0] = fp.PHash
		nv := len(variants)
		if q.NoTransforms {
			nv = 1
		}
		for t := 0; t < nv; t++ {
			if t > 0 && (variants[t] == 0 || slices.Contains(variants[:t], variants[t])) {
				continue // not computed, or a symmetric image
			}
			hi.set.Search(variants[t], maxDist, func(e uint32, d int) {
				i, _ := hi.imageOf(e)
				hits[i] = true
			})
		}
	}
	search(&q.Fingerprint)
	if q.MinMax != nil {
		search(q.MinMax)
	}
	// Exact candidates, found by digest prefix in memory and confirmed
	// against the full digests by match.Compare.
	var zero [32]byte
	if q.PixelSHA256 != zero {
		for _, e := range lookup(hi.refs, hi.byPix, refPix, digest8(q.PixelSHA256)) {
			hits[e] = true
		}
	}
	for _, e := range lookup(hi.refs, hi.bySOP, refSOP, sopDigest(q.SOPInstanceUID, q.Frame)) {
		hits[e] = true
	}
	qi := &match.Image{
		Dataset: "\x00query", FileSHA256: q.FileSHA256, PixelSHA256: q.PixelSHA256,
		SOP: q.SOPInstanceUID, Series: q.SeriesInstanceUID, Frame: q.Frame,
		Fingerprint: &q.Fingerprint, MinMax: q.MinMax,
	}
	mo := match.Options{MaxDistance: maxDist, Verify: q.Verify, NoTransforms: q.NoTransforms}
	out := make([]Match, 0, len(hits))
	err = s.db.View(func(txn *badger.Txn) error {
		for e := range hits {
			ref := hi.refs[e]
			im, err := getImage(txn, ref)
			if errors.Is(err, ErrNotFound) {
				continue // deleted since the structure was loaded
			}
			if err != nil {
				return err
			}
			name, ok := hi.names[ref.ds]
			if !ok {
				continue
			}
			im.Dataset = name
			r := match.Compare(qi, matchImage(&im), mo)
			if !r.Kind.Exact() && r.Distance > maxDist {
				continue // a digest-prefix collision
			}
			out = append(out, Match{Image: im, Kind: r.Kind, Distance: r.Distance, Transform: r.Transform,
				Verification: r.Verification, Verified: r.Verified, MinMax: r.MinMaxA || r.MinMaxB, Result: r})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	rankPerDataset(out)
	if err := s.rankBack(hi, out, mo); err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	slices.SortFunc(out, func(a, b Match) int {
		return cmp.Or(
			cmp.Compare(a.Distance, b.Distance),
			cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.Image.Dataset, b.Image.Dataset),
			cmp.Compare(a.Image.Path, b.Image.Path),
			cmp.Compare(a.Image.Frame, b.Image.Frame),
		)
	})
	return out, nil
}

// rankPerDataset applies match.Groups' ranking to a query's answer: in
// each dataset, a verified near-duplicate stays verified only if it ties
// with the dataset's best match (match.Ties), so that the next slice of a
// series is not called a copy beside the slice itself. The query is one
// image of no dataset: the rule within a dataset (near-identical only)
// and the cannot-links do not apply to it. Among the frames of one file
// (the slices of a NIfTI volume, the frames of a multi-frame DICOM) only
// the best stays verified: a picture is one frame of a file, and 1 mm
// slices of a volume tie with one another under a JPEG dump's noise
// (issue 16: half the verified matches of JPEG slice dumps were
// neighbouring slices). Clusters reach the same answer through their
// cannot-link between images of one dataset that are not near-identical.
func rankPerDataset(ms []Match) {
	type file struct{ dataset, path string }
	best := map[string]float64{}
	bestInFile := map[file]float64{}
	for _, m := range ms {
		f := file{m.Image.Dataset, m.Image.Path}
		if m.Verified && m.Kind == match.NearDuplicate {
			best[m.Image.Dataset] = max(best[m.Image.Dataset], m.Result.Score)
			bestInFile[f] = max(bestInFile[f], m.Result.Score)
		}
		if m.Kind.Exact() {
			best[m.Image.Dataset] = 1
			bestInFile[f] = 1
		}
	}
	for i := range ms {
		m := &ms[i]
		if !m.Verified || m.Kind != match.NearDuplicate {
			continue
		}
		if !match.Ties(m.Result.Score, best[m.Image.Dataset]) || m.Result.Score < bestInFile[file{m.Image.Dataset, m.Image.Path}] {
			m.Verified = false
		}
	}
}

// rankBack applies the other half of the ranking when the query is an
// indexed image (it has an identical-file or identical-pixels match): a
// verified near-duplicate in another dataset stays verified only if the
// query also ties with that image's best match in the query's dataset.
// Without it, a slice whose own copy is missing from an upload would be
// told that the copy of the next slice is its copy; Clusters refuses that
// link, and Query now agrees.
func (s *Store) rankBack(hi *hashIndex, ms []Match, mo match.Options) error {
	self := ""
	for _, m := range ms {
		if m.Kind == match.IdenticalFile || m.Kind == match.IdenticalPixels {
			self = m.Image.Dataset
			break
		}
	}
	if self == "" {
		return nil
	}
	var selfID uint32
	found := false
	for id, name := range hi.names {
		if name == self {
			selfID, found = id, true
		}
	}
	if !found {
		return nil
	}
	maxDist := mo.MaxDistance
	if maxDist < 0 {
		maxDist = DefaultMaxDistance
	}
	return s.db.View(func(txn *badger.Txn) error {
		for i := range ms {
			m := &ms[i]
			if !m.Verified || m.Kind != match.NearDuplicate || m.Image.Dataset == self {
				continue
			}
			mi := matchImage(&m.Image)
			cands := map[uint32]bool{}
			for _, fp := range [2]*hash.Fingerprint{&m.Image.Fingerprint, m.Image.MinMax} {
				if fp == nil {
					continue
				}
				variants := fp.Dihedral
				variants[0] = fp.PHash
				for t, v := range variants {
					if mo.NoTransforms && t > 0 || t > 0 && v == 0 {
						continue
					}
					hi.set.Search(v, maxDist, func(e uint32, _ int) {
						if o, _ := hi.imageOf(e); hi.refs[o].ds == selfID {
							cands[o] = true
						}
					})
				}
			}
			best := 0.0
			for e := range cands {
				im, err := getImage(txn, hi.refs[e])
				if errors.Is(err, ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				im.Dataset = self
				if r := match.Compare(matchImage(&im), mi, mo); r.Verified {
					best = max(best, r.Score)
				}
			}
			if !match.Ties(m.Result.Score, best) {
				m.Verified = false
			}
		}
		return nil
	})
}

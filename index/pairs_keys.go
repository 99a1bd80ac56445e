package index

import (
	"math/bits"
)

// What a pair search run elsewhere needs to find the pairs Clusters
// finds: the hashes an image is searched by (SearchHashesOf), and the
// multi-index-hashing keys of a hash as a join key (ChunkPlan), for a
// distributed join (a Beam GroupByKey) instead of AllPairs' in-memory
// tables.

// SearchHashes are the values the pair search of Clusters keys an image
// on: exactly what its image key (and W key) hold.
type SearchHashes struct {
	// PHashes are the image's pHash and, for a DICOM frame with a
	// min-max rendering, that rendering's: one set for the search.
	PHashes []uint64
	// Canonical are the pHashes in canonical orientation
	// (match.Canonical), a second set searched apart; zeros take no part.
	Canonical [2]uint64
	// Pixel and SOP are the 8-byte digests exact copies are linked by
	// (pixel SHA-256; SOP Instance UID and frame); 0 is none.
	Pixel, SOP uint64
}

// SearchHashesOf returns the search hashes of im.
func SearchHashesOf(im *Image) SearchHashes {
	f := fileImageOf(im, 0)
	s := SearchHashes{PHashes: []uint64{f.phash}, Canonical: f.canon, Pixel: f.pix, SOP: f.sop}
	if f.hasMM {
		s.PHashes = append(s.PHashes, f.mm)
	}
	return s
}

// ChunkPlan cuts 64-bit hashes into the chunks of AllPairs' multi-index
// hashing (hamming.go), for a join on chunk keys. Two hashes within
// MaxDistance have, in some chunk c, a chunk distance of at most the
// chunk's radius t (pigeonhole, as in AllPairs). Instead of probing every
// value within t of a hash's chunk (232 keys for t = 2 on 21 bits), each
// hash is emitted under every value within ceil(t/2) of its chunk (22
// keys), and two hashes within t meet under at least one key: the middle
// of the bits they differ in. Owns then picks, among the keys two hashes
// share, the one that reports the pair: the first chunk within its radius,
// and there the smallest meeting value. Every pair within MaxDistance is
// thus reported exactly once, whatever the permutation.
//
// A ChunkPlan is immutable and safe for concurrent use.
type ChunkPlan struct {
	perm    *bitPerm
	radii   [mihChunks]int
	half    [mihChunks]int
	masks   [mihChunks][]uint32 // masks of popcount <= half[c] over a chunk
	maxDist int
}

// ChunkBits is the width of a chunk value.
const ChunkBits = mihChunkBits

// ChunkKey is a join key: chunk C (0-2) holding value V.
type ChunkKey struct {
	C int
	V uint32
}

// NewChunkPlan returns the plan for pairs within maxDist (0-64), with the
// bit permutation chosen from sample (a few thousand of the hashes, any;
// the choice only balances the chunks: every permutation is exact).
func NewChunkPlan(sample []uint64, maxDist int) *ChunkPlan {
	maxDist = max(0, min(maxDist, 64))
	p := &ChunkPlan{perm: newBitPerm(planBits(sample)), radii: chunkRadii(maxDist), maxDist: maxDist}
	for c, t := range p.radii {
		if t < 0 {
			p.half[c] = -1
			continue
		}
		p.half[c] = (t + 1) / 2
		p.masks[c] = masksUpTo(p.half[c], mihChunkBits)
	}
	return p
}

// MaxDistance is the distance the plan finds pairs within.
func (p *ChunkPlan) MaxDistance() int { return p.maxDist }

// Permute applies the plan's bit permutation: Keys and Owns take
// permuted hashes.
func (p *ChunkPlan) Permute(h uint64) uint64 { return p.perm.apply(h) }

func chunkOf(ph uint64, c int) uint32 {
	return uint32(ph>>(uint(c)*mihChunkBits)) & (1<<mihChunkBits - 1)
}

// Keys calls fn with every join key of permuted hash ph.
func (p *ChunkPlan) Keys(ph uint64, fn func(ChunkKey)) {
	for c := range mihChunks {
		v := chunkOf(ph, c)
		for _, m := range p.masks[c] {
			fn(ChunkKey{C: c, V: v ^ m})
		}
	}
}

// KeysPerHash is how many keys Keys gives each hash.
func (p *ChunkPlan) KeysPerHash() int {
	n := 0
	for c := range mihChunks {
		n += len(p.masks[c])
	}
	return n
}

// Owns reports whether key k is where the pair of permuted hashes a and
// b is reported: they are within MaxDistance, chunk k.C is the first
// chunk within its radius, and k.V is the smallest value within
// ceil(radius/2) of both chunks. Both must have been emitted under k.
func (p *ChunkPlan) Owns(k ChunkKey, a, b uint64) bool {
	if bits.OnesCount64(a^b) > p.maxDist {
		return false
	}
	first := -1
	for c := range mihChunks {
		if p.radii[c] >= 0 && bits.OnesCount32(chunkOf(a, c)^chunkOf(b, c)) <= p.radii[c] {
			first = c
			break
		}
	}
	if first != k.C {
		return false
	}
	va, vb := chunkOf(a, first), chunkOf(b, first)
	h := p.half[first]
	// The smallest meeting value: masks are lightest first, not in value
	// order, so look at them all (22 for a radius of 2).
	best, found := uint32(0), false
	for _, m := range p.masks[first] {
		x := va ^ m
		if bits.OnesCount32(x^vb) <= h && (!found || x < best) {
			best, found = x, true
		}
	}
	return found && best == k.V
}

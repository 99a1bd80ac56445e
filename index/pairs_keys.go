package index

import (
	"math/bits"
	"slices"
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

// Owner returns the key under which the pair of permuted hashes a and b
// is reported, and false when they are not within MaxDistance: the first
// chunk within its radius, and there the smallest value within
// ceil(radius/2) of both chunks. Both hashes are emitted under it.
func (p *ChunkPlan) Owner(a, b uint64) (ChunkKey, bool) {
	if bits.OnesCount64(a^b) > p.maxDist {
		return ChunkKey{}, false
	}
	for c := range mihChunks {
		if p.radii[c] < 0 || bits.OnesCount32(chunkOf(a, c)^chunkOf(b, c)) > p.radii[c] {
			continue
		}
		va, vb := chunkOf(a, c), chunkOf(b, c)
		h := p.half[c]
		// Masks are lightest first, not in value order: look at them all
		// (22 for a radius of 2).
		best, found := uint32(0), false
		for _, m := range p.masks[c] {
			x := va ^ m
			if bits.OnesCount32(x^vb) <= h && (!found || x < best) {
				best, found = x, true
			}
		}
		return ChunkKey{C: c, V: best}, found
	}
	return ChunkKey{}, false // not reached: pigeonhole
}

// Owns reports whether k is the key that reports the pair of permuted
// hashes a and b (Owner).
func (p *ChunkPlan) Owns(k ChunkKey, a, b uint64) bool {
	o, ok := p.Owner(a, b)
	return ok && o == k
}

// Groups calls fn once with every distinct prefix of prefixBits bits
// (0-21) of the keys of permuted hash ph, as ChunkKeys whose V is the
// prefix. Grouping hashes by these instead of by keys moves fewer
// records (1 + prefixBits per chunk instead of 22, for a radius of 2),
// and a group then finds its pairs itself (AllPairs) and keeps those
// whose Owner's value has the group's prefix: every pair once again.
func (p *ChunkPlan) Groups(ph uint64, prefixBits int, fn func(ChunkKey)) {
	prefixBits = max(0, min(prefixBits, mihChunkBits))
	shift := uint(mihChunkBits - prefixBits)
	var seen []uint32
	for c := range mihChunks {
		v := chunkOf(ph, c)
		seen = seen[:0]
		for _, m := range p.masks[c] {
			x := (v ^ m) >> shift
			if !slices.Contains(seen, x) {
				seen = append(seen, x)
				fn(ChunkKey{C: c, V: x})
			}
		}
	}
}

// Prefix is the prefix of prefixBits bits of key k's value, as Groups
// gives it.
func Prefix(k ChunkKey, prefixBits int) ChunkKey {
	prefixBits = max(0, min(prefixBits, mihChunkBits))
	return ChunkKey{C: k.C, V: k.V >> uint(mihChunkBits-prefixBits)}
}

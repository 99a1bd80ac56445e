package index

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
)

// Multi-index hashing (Norouzi, Punjani and Fleet, "Fast search in Hamming
// space with multi-index hashing", CVPR 2012), specialised for 64-bit hashes.
//
// The 64 bits are permuted, then cut into three chunks of 21 bits; the last
// permuted bit belongs to no chunk. If two hashes are within distance r, their
// chunk distances d0+d1+d2 are at most r, so for any radii t0, t1, t2 with
// (t0+1)+(t1+1)+(t2+1) = r+1 at least one chunk i has di <= ti (otherwise the
// sum would be at least r+1). For r = 8 that is ti = 2 for every chunk. Leaving
// a bit out of every chunk keeps this true, because the chunk distances then sum
// to at most the full distance.
//
// Three chunks of 21 bits is the sweet spot for 10^5 to 10^7 hashes: a chunk
// table has 2^21 buckets (8 MB of offsets), about as many as there are
// hashes, so probing a bucket costs one or two comparisons. Two chunks would
// need radius 4 on 32 bits (41,449 neighbours per chunk); four chunks of 16 bits
// hold 15 to 150 hashes per bucket at these sizes.
const (
	mihChunks    = 3
	mihChunkBits = 21
)

// keyBits is how many bits of each chunk key the tables: all 21 from a
// million hashes up, fewer below (about two per hash), so that small sets
// do not pay for 2^21-bucket tables. Keying on part of a chunk keeps the
// search exact: a chunk within radius t is within t on any part of it.
type keyBits uint

func keyBitsFor(n int) keyBits {
	return keyBits(max(10, min(mihChunkBits, bits.Len(uint(n))+1)))
}

func (b keyBits) buckets() int { return 1 << b }

// key is the table key of permuted hash h in chunk c: the top b bits of the
// chunk.
func (b keyBits) key(h uint64, c int) uint32 {
	return uint32(h>>(uint(c)*mihChunkBits+mihChunkBits-uint(b))) & (1<<b - 1)
}

// chunkRadii splits maxDist over the chunks: radii with sum(t+1) == maxDist+1,
// as even as possible. A radius of -1 means the chunk is not probed at all
// (for maxDist 0 only the first chunk needs an exact match).
func chunkRadii(maxDist int) [mihChunks]int {
	s := maxDist + 1
	var t [mihChunks]int
	for i := range t {
		t[i] = s/mihChunks - 1
		if i < s%mihChunks {
			t[i]++
		}
	}
	return t
}

// masksUpTo lists every nb-bit mask of popcount <= t, lightest first (the
// zero mask first).
func masksUpTo(t int, nb keyBits) []uint32 {
	if t < 0 {
		return nil
	}
	var out []uint32
	for w := 0; w <= t && w <= int(nb); w++ {
		out = appendMasks(out, 0, 0, w, int(nb))
	}
	return out
}

// appendMasks appends the masks of exactly w more bits chosen at positions
// from..nb-1.
func appendMasks(out []uint32, m uint32, from, w, nb int) []uint32 {
	if w == 0 {
		return append(out, m)
	}
	for b := from; b <= nb-w; b++ {
		out = appendMasks(out, m|1<<b, b+1, w-1, nb)
	}
	return out
}

// maskCount is the number of masks masksUpTo(t, nb) returns, without
// building them.
func maskCount(t int, nb keyBits) int {
	n, c := 0, 1
	for w := 0; w <= t && w <= int(nb); w++ {
		n += c
		c = c * (int(nb) - w) / (w + 1)
	}
	return n
}

// bitPerm is a permutation of the 64 hash bits, applied with eight byte
// lookups.
type bitPerm struct {
	tab [8][256]uint64
}

// newBitPerm returns the permutation that moves bit src to bit dest[src].
func newBitPerm(dest [64]uint8) *bitPerm {
	p := &bitPerm{}
	for byteIdx := range 8 {
		for v := range 256 {
			var out uint64
			for b := range 8 {
				if v&(1<<b) != 0 {
					out |= 1 << dest[byteIdx*8+b]
				}
			}
			p.tab[byteIdx][v] = out
		}
	}
	return p
}

func (p *bitPerm) apply(h uint64) uint64 {
	t := &p.tab
	return t[0][byte(h)] | t[1][byte(h>>8)] | t[2][byte(h>>16)] | t[3][byte(h>>24)] |
		t[4][byte(h>>32)] | t[5][byte(h>>40)] | t[6][byte(h>>48)] | t[7][byte(h>>56)]
}

// planBits chooses where each hash bit goes so that the chunks are balanced.
// Real pHash bits are far from uniform: the DC coefficient's bit is always 1
// and every hash has exactly 32 ones. A constant bit in a chunk halves its
// number of usable buckets, so the least informative bit is the one left out
// of every chunk, and the others are dealt to the chunks in order of entropy,
// snake fashion (0,1,2,2,1,0,...), so that each chunk gets a fair share of the
// informative bits. Any plan is correct (see the package comment on the
// pigeonhole argument); the plan only affects speed.
func planBits(hashes []uint64) [64]uint8 {
	var ones [64]int
	n := len(hashes)
	step := 1
	const sample = 1 << 16
	if n > sample {
		step = n / sample
	}
	cnt := 0
	for i := 0; i < n; i += step {
		h := hashes[i]
		for h != 0 {
			b := bits.TrailingZeros64(h)
			ones[b]++
			h &= h - 1
		}
		cnt++
	}
	var ent [64]float64
	for b := range 64 {
		if cnt == 0 {
			ent[b] = 1
			continue
		}
		p := float64(ones[b]) / float64(cnt)
		if p > 0 && p < 1 {
			ent[b] = -p*math.Log2(p) - (1-p)*math.Log2(1-p)
		}
	}
	order := make([]int, 64)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return ent[order[i]] > ent[order[j]] })
	var dest [64]uint8
	var fill [mihChunks]int
	for k, b := range order[:63] {
		round, pos := k/mihChunks, k%mihChunks
		c := pos
		if round%2 == 1 {
			c = mihChunks - 1 - pos
		}
		dest[b] = uint8(c*mihChunkBits + fill[c])
		fill[c]++
	}
	dest[order[63]] = 63
	return dest
}

// chunkTable holds the hashes sorted by one chunk's value: bucket v is
// hs[off[v]:off[v+1]], and pos gives each entry's index in the hash set.
type chunkTable struct {
	nb   keyBits
	off  []uint32 // nb.buckets()+1 offsets
	hs   []uint64 // permuted hashes, bucket order
	pos  []uint32 // index of each entry in the original slice
	used []uint64 // bitmap of the non-empty buckets (256 KB: stays in cache)
}

// buildChunk sorts permuted hashes ph by their key in chunk c with a
// counting sort.
func buildChunk(ph []uint64, c int, nb keyBits) *chunkTable {
	nbuckets := nb.buckets()
	off := make([]uint32, nbuckets+1)
	for _, h := range ph {
		off[nb.key(h, c)+1]++
	}
	t := &chunkTable{
		nb:   nb,
		off:  off,
		hs:   make([]uint64, len(ph), len(ph)+chunkPad),
		pos:  make([]uint32, len(ph)),
		used: make([]uint64, max(1, nbuckets/64)),
	}
	for v := 1; v <= nbuckets; v++ {
		if off[v] != 0 {
			t.used[(v-1)>>6] |= 1 << ((v - 1) & 63)
		}
		off[v] += off[v-1]
	}
	// Scatter, using off[v] as the cursor of bucket v, then shift the
	// cursors back into start offsets.
	for i, h := range ph {
		v := nb.key(h, c)
		k := off[v]
		t.hs[k] = h
		t.pos[k] = uint32(i)
		off[v]++
	}
	copy(off[1:], off[:nbuckets])
	off[0] = 0
	t.hs = t.hs[:len(ph)+chunkPad] // zero slack for joinMask's 4-wide steps
	return t
}

// chunkPad is the slack after a chunk table's hashes: joinMask reads
// four at a time.
const chunkPad = 4

// bytes is the memory the table holds.
func (t *chunkTable) bytes() int64 {
	return int64(len(t.off))*4 + int64(len(t.hs))*8 + int64(len(t.pos))*4 + int64(len(t.used))*8
}

// HashPair is one pair of hashes within the distance asked for: I < J index
// the slice given to AllPairs.
type HashPair struct {
	I, J     uint32
	Distance uint8
}

// MaxHashes is the largest number of hashes a HashSet or AllPairs accepts
// (entries are indexed with uint32).
const MaxHashes = math.MaxUint32 - 1

// AllPairs returns every pair of hashes within Hamming distance maxDist
// (0 <= maxDist <= 64), each once, in no particular order. It uses workers
// goroutines (GOMAXPROCS when workers <= 0), about 16 bytes per hash plus 8 MB
// of working memory besides the result, and checks ctx between units of work.
// The result is exact: it equals what comparing every pair would give.
func AllPairs(ctx context.Context, hashes []uint64, maxDist, workers int) ([]HashPair, error) {
	if len(hashes) > MaxHashes {
		return nil, fmt.Errorf("index: %d hashes exceed the limit of %d", len(hashes), MaxHashes)
	}
	if maxDist < 0 {
		return nil, nil
	}
	if maxDist > 64 {
		maxDist = 64
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	radii := chunkRadii(maxDist)
	nb := keyBitsFor(len(hashes))
	// With tens of thousands of neighbours per bucket, probing costs more
	// than comparing everything: fall back to the quadratic loop (only
	// reachable with loose thresholds or tiny inputs).
	if len(hashes) < 64 || maskCount(radii[0], nb) > 1<<16 {
		return allPairsBrute(ctx, hashes, maxDist, workers)
	}
	perm := newBitPerm(planBits(hashes))
	ph := make([]uint64, len(hashes))
	for i, h := range hashes {
		ph[i] = perm.apply(h)
	}
	var out []HashPair
	for c := range mihChunks {
		if radii[c] < 0 {
			continue
		}
		t := buildChunk(ph, c, nb)
		ps, err := joinChunk(ctx, t, c, radii, maxDist, workers)
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
	}
	return out, nil
}

// joinChunk finds the pairs whose chunk c is within radii[c] and that no
// earlier chunk already reported: for each flip mask p it walks the
// non-empty buckets v in order and joins bucket v with bucket v^p, so memory
// is read almost sequentially. Masks are the units of parallel work.
func joinChunk(ctx context.Context, t *chunkTable, c int, radii [mihChunks]int, r, workers int) ([]HashPair, error) {
	masks := masksUpTo(radii[c], t.nb)
	var next atomic.Int64
	results := make([][]HashPair, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local []HashPair
			for {
				k := int(next.Add(1) - 1)
				if k >= len(masks) {
					break
				}
				if err := ctx.Err(); err != nil {
					errs[w] = err
					return
				}
				local = joinMask(t, c, masks[k], radii, r, local)
			}
			results[w] = local
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	n := 0
	for _, r := range results {
		n += len(r)
	}
	out := make([]HashPair, 0, n)
	for _, r := range results {
		out = append(out, r...)
	}
	return out, nil
}

// joinMask joins every bucket v with bucket v^p (v < v^p, or within v when
// p == 0) and appends the pairs within r whose canonical chunk is c.
//
// It visits only the bucket pairs where both buckets are non-empty: the
// bitmap of non-empty buckets is ANDed with itself permuted by v -> v^p, one
// 64-bit word at a time (the high bits of p pick the partner word, the low
// six bits shuffle bits inside it). At a million hashes most buckets are
// empty, so this skips most of the work and all of its unpredictable
// branches.
func joinMask(t *chunkTable, c int, p uint32, radii [mihChunks]int, r int, out []HashPair) []HashPair {
	off, hs, used := t.off, t.hs, t.used
	// The loops below are the hot path of AllPairs: keep them free of
	// anything but the comparison so that the compiler holds every loop
	// variable in a register; hits are rare and go through joinHit.
	if p == 0 {
		for wi, word := range used {
			for word != 0 {
				v := uint32(wi)<<6 | uint32(bits.TrailingZeros64(word))
				word &= word - 1
				a0, a1 := off[v], off[v+1]
				bucket := hs[a0:a1]
				for x, hx := range bucket {
					for y, hy := range bucket[x+1:] {
						if bits.OnesCount64(hx^hy) <= r {
							out = joinHit(t, c, radii, r, a0+uint32(x), a0+uint32(x+1+y), out)
						}
					}
				}
			}
		}
		return out
	}
	hiP, loP := int(p>>6), uint(p&63)
	top := 31 - bits.LeadingZeros32(p) // v < v^p exactly when bit top of v is 0
	keep := ^uint64(0)                 // bits of a word whose bit top is 0
	if top < 6 {
		keep = lowHalves(uint(top))
	}
	for wi := range used {
		if top >= 6 && wi&(1<<(top-6)) != 0 {
			continue
		}
		word := used[wi] & xorBits(used[wi^hiP], loP) & keep
		for word != 0 {
			v := uint32(wi)<<6 | uint32(bits.TrailingZeros64(word))
			word &= word - 1
			w := v ^ p
			a0, a1, b0, b1 := off[v], off[v+1], off[w], off[w+1]
			for x := a0; x < a1; x++ {
				hx := hs[x]
				// Four comparisons per step and one branch on their minimum;
				// hs has chunkPad entries of slack after its end, and lanes
				// past b1 are weeded out on the rare hit.
				for y := b0; y < b1; y += chunkPad {
					q := hs[y : y+chunkPad : y+chunkPad]
					d := min(bits.OnesCount64(hx^q[0]), bits.OnesCount64(hx^q[1]),
						bits.OnesCount64(hx^q[2]), bits.OnesCount64(hx^q[3]))
					if d <= r {
						for k := y; k < min(y+chunkPad, b1); k++ {
							if bits.OnesCount64(hx^hs[k]) <= r {
								out = joinHit(t, c, radii, r, x, k, out)
							}
						}
					}
				}
			}
		}
	}
	return out
}

// joinHit records entries x and y of table t if chunk c is the pair's
// canonical chunk.
//
//go:noinline
func joinHit(t *chunkTable, c int, radii [mihChunks]int, r int, x, y uint32, out []HashPair) []HashPair {
	d := t.hs[x] ^ t.hs[y]
	if !canonical(d, c, radii, t.nb) {
		return out
	}
	return appendPair(out, t.pos[x], t.pos[y], bits.OnesCount64(d))
}

// The masks with a 1 at every bit position whose index has bit j clear.
const (
	halves0 = 0x5555555555555555
	halves1 = 0x3333333333333333
	halves2 = 0x0f0f0f0f0f0f0f0f
	halves3 = 0x00ff00ff00ff00ff
	halves4 = 0x0000ffff0000ffff
	halves5 = 0x00000000ffffffff
)

// lowHalves returns the mask of bit positions whose index has bit j clear,
// for j < 6.
func lowHalves(j uint) uint64 {
	switch j {
	case 0:
		return halves0
	case 1:
		return halves1
	case 2:
		return halves2
	case 3:
		return halves3
	case 4:
		return halves4
	default:
		return halves5
	}
}

// xorBits returns x with bit b moved to bit b^q, for q < 64: for every bit j
// of q, swap the neighbouring blocks of 2^j bits.
func xorBits(x uint64, q uint) uint64 {
	if q&1 != 0 {
		x = (x>>1)&halves0 | (x&halves0)<<1
	}
	if q&2 != 0 {
		x = (x>>2)&halves1 | (x&halves1)<<2
	}
	if q&4 != 0 {
		x = (x>>4)&halves2 | (x&halves2)<<4
	}
	if q&8 != 0 {
		x = (x>>8)&halves3 | (x&halves3)<<8
	}
	if q&16 != 0 {
		x = (x>>16)&halves4 | (x&halves4)<<16
	}
	if q&32 != 0 {
		x = x>>32 | x<<32
	}
	return x
}

// canonical reports whether chunk c is the first chunk whose key is within
// its radius for a pair whose permuted hashes differ by x: a pair close in
// several chunks is reported by the first only.
func canonical(x uint64, c int, radii [mihChunks]int, nb keyBits) bool {
	for j := range c {
		if radii[j] >= 0 && bits.OnesCount32(nb.key(x, j)) <= radii[j] {
			return false
		}
	}
	return true
}

func appendPair(out []HashPair, a, b uint32, d int) []HashPair {
	if a > b {
		a, b = b, a
	}
	return append(out, HashPair{I: a, J: b, Distance: uint8(d)})
}

// allPairsBrute compares every pair; the reference AllPairs is tested
// against, and the fallback for tiny inputs or huge radii.
func allPairsBrute(ctx context.Context, hashes []uint64, maxDist, workers int) ([]HashPair, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var next atomic.Int64
	results := make([][]HashPair, workers)
	var wg sync.WaitGroup
	const rows = 256
	var failed atomic.Bool
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				start := int(next.Add(rows) - rows)
				if start >= len(hashes) || failed.Load() {
					return
				}
				if ctx.Err() != nil {
					failed.Store(true)
					return
				}
				for i := start; i < min(start+rows, len(hashes)); i++ {
					hi := hashes[i]
					for j := i + 1; j < len(hashes); j++ {
						if d := bits.OnesCount64(hi ^ hashes[j]); d <= maxDist {
							results[w] = append(results[w], HashPair{I: uint32(i), J: uint32(j), Distance: uint8(d)})
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []HashPair
	for _, r := range results {
		out = append(out, r...)
	}
	return out, nil
}

// HashSet answers "which of these hashes are within distance r of q" without
// comparing q with all of them. It is immutable once built and safe for
// concurrent use. Its memory is about 36 bytes per hash plus 24 MB.
type HashSet struct {
	nb     keyBits
	perm   *bitPerm
	hashes []uint64 // original order, for the linear fallback
	tables [mihChunks]*chunkTable
	masks  [maxCachedRadius + 1][]uint32 // masksUpTo(t), built once
}

// maxCachedRadius is the largest chunk radius whose masks a HashSet keeps
// (7,547 masks; maxDist up to 14).
const maxCachedRadius = 4

// NewHashSet indexes hashes; entry i of the set is hashes[i]. The slice is
// kept, not copied: the caller must not modify it afterwards.
func NewHashSet(hashes []uint64) (*HashSet, error) {
	if len(hashes) > MaxHashes {
		return nil, fmt.Errorf("index: %d hashes exceed the limit of %d", len(hashes), MaxHashes)
	}
	s := &HashSet{nb: keyBitsFor(len(hashes)), perm: newBitPerm(planBits(hashes)), hashes: hashes}
	ph := make([]uint64, len(hashes))
	for i, h := range hashes {
		ph[i] = s.perm.apply(h)
	}
	for c := range mihChunks {
		s.tables[c] = buildChunk(ph, c, s.nb)
	}
	for t := range s.masks {
		s.masks[t] = masksUpTo(t, s.nb)
	}
	return s, nil
}

// Len is the number of hashes in the set.
func (s *HashSet) Len() int { return len(s.hashes) }

// Bytes is an estimate of the memory the set holds.
func (s *HashSet) Bytes() int64 {
	n := int64(len(s.hashes)) * 8
	for _, t := range s.tables {
		n += t.bytes()
	}
	return n
}

// Search calls fn(i, d) for every entry i within distance maxDist of q, each
// once, in no particular order.
func (s *HashSet) Search(q uint64, maxDist int, fn func(i uint32, d int)) {
	if maxDist < 0 || len(s.hashes) == 0 {
		return
	}
	radii := chunkRadii(min(maxDist, 64))
	// Probing costs one bucket lookup per mask; past the point where that
	// exceeds the set's size, a scan is cheaper.
	probes := 0
	for _, t := range radii {
		probes += maskCount(t, s.nb)
	}
	if probes >= len(s.hashes) {
		for i, h := range s.hashes {
			if d := bits.OnesCount64(q ^ h); d <= maxDist {
				fn(uint32(i), d)
			}
		}
		return
	}
	pq := s.perm.apply(q)
	for c, t := range s.tables {
		if radii[c] < 0 {
			continue
		}
		v := s.nb.key(pq, c)
		var masks []uint32
		if radii[c] <= maxCachedRadius {
			masks = s.masks[radii[c]]
		} else {
			masks = masksUpTo(radii[c], s.nb)
		}
		for _, p := range masks {
			w := v ^ p
			for k := t.off[w]; k < t.off[w+1]; k++ {
				x := pq ^ t.hs[k]
				if d := bits.OnesCount64(x); d <= maxDist && canonical(x, c, radii, s.nb) {
					fn(t.pos[k], d)
				}
			}
		}
	}
}

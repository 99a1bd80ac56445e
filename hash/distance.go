package hash

import (
	"encoding/binary"
	"math/bits"
)

// Distance64 returns the Hamming distance between two 64-bit hashes (pHash,
// dHash or aHash): the number of differing bits, 0..64.
func Distance64(a, b uint64) int {
	return bits.OnesCount64(a ^ b)
}

// DistancePDQ returns the Hamming distance between two PDQ hashes, 0..256.
func DistancePDQ(a, b [32]byte) int {
	n := 0
	for i := 0; i < 32; i += 8 {
		n += bits.OnesCount64(binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:]))
	}
	return n
}

// DihedralDistance returns the smallest Hamming distance between the pHash
// q of a query image and the 8 dihedral pHashes d of a stored image, and
// the transformation k (Identity ... Transverse) that achieves it: q is
// closest to what the stored image looks like after transformation k. Ties
// go to the lower k, so an untransformed match reports Identity.
func DihedralDistance(q uint64, d [8]uint64) (dist, k int) {
	dist = 65
	for i, v := range d {
		if n := Distance64(q, v); n < dist {
			dist, k = n, i
		}
	}
	return dist, k
}

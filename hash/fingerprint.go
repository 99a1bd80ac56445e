package hash

// ThumbSize is the side of the grey thumbnail kept with every fingerprint.
const ThumbSize = 32

// Fingerprint is everything copycat remembers about the look of one image
// (one frame): compact hashes for search and a thumbnail for verification
// and for showing matches to people. The zero Fingerprint is what an empty
// image gets.
type Fingerprint struct {
	// PHash is the 64-bit DCT hash, the index hash: goimagehash's
	// PerceptionHash definition and bit order (bit 63-i for coefficient i
	// of the 8x8 block, vertical frequency major), within a few bits of its
	// value. Compare with Distance64 and PHashThreshold.
	PHash uint64
	// DHash is the 64-bit gradient hash (goimagehash's DifferenceHash).
	DHash uint64
	// AHash is the 64-bit mean hash (goimagehash's AverageHash). It
	// captures coarse layout only; never decide on it alone.
	AHash uint64
	// PDQ is the 256-bit PDQ hash, bit-exact with Meta's reference, stored
	// so that hex.EncodeToString(PDQ[:]) is the reference's 64-digit text.
	PDQ [32]byte
	// PDQQuality is the reference's 0-100 quality of the PDQ hash; below
	// PDQMinQuality the hash is too featureless to trust.
	PDQQuality int
	// Dihedral holds the PHash the image would have after each of the 8
	// rotations and mirrors, indexed by Identity, Rot90, Rot180, Rot270,
	// FlipH, FlipV, Transpose, Transverse; Dihedral[Identity] == PHash.
	// DihedralDistance matches a query against all of them.
	Dihedral [8]uint64
	// Thumb is the grey thumbnail, row-major: the exact-area average luma
	// of 32x32 equal cells, so a non-square image is squashed to a square.
	Thumb [ThumbSize * ThumbSize]uint8
}

// MinSide is the smallest image side, in pixels, at which every hash of a
// Fingerprint is as good as from the full-size image, so decoders may hand
// Compute an image reduced down to it (ingest.Options.MinSide). The 64-bit
// hashes and the thumbnail would do with 64; PDQ would not: below about 256
// pixels its box filter stops blurring before decimating, and on the corpus
// JPEGs decoded at a reduced scale its hash moved by up to 50 bits at 64,
// 48 at 128 and 16 at 256 (pHash: at most 4, 2 and 2 bits).
const MinSide = 256

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
	// PDQZeros counts the 256 DCT coefficients PDQ thresholds that are
	// zero but for float32 rounding. On an image with structure along one
	// axis only (bars, a gradient) all of them are: the hash's bits are
	// then rounding noise, which two decoders of the same picture set
	// differently, whatever PDQQuality says. Above PDQMaxZeros, do not
	// compare PDQ hashes.
	PDQZeros int
	// Dihedral holds the PHash the image would have after each of the 8
	// rotations and mirrors, indexed by Identity, Rot90, Rot180, Rot270,
	// FlipH, FlipV, Transpose, Transverse; Dihedral[Identity] == PHash.
	// DihedralDistance matches a query against all of them.
	Dihedral [8]uint64
	// Thumb is the grey thumbnail, row-major: the exact-area average luma
	// of 32x32 equal cells, so a non-square image is squashed to a square.
	Thumb [ThumbSize * ThumbSize]uint8
}

// MinSide is the smallest image side, in pixels, that decoders may reduce
// an image to before Compute (ingest.Options.MinSide; JPEG data is decoded
// at 1/2, 1/4 or 1/8 of its size, most of a scan's time saved). The 64-bit
// hashes and the thumbnail come out as from the full image: on the corpus
// JPEGs (scan's TestReducedDecodeFingerprints) pHash moved by 0.40 bits on
// average, at most 4, within what goimagehash and copycat disagree by.
// PDQ is computed by ComputeReduced with its filter mapped onto the reduced
// pixels, and moved by 7.1 bits on average (p95 16, max 26, quality >= 50)
// against the full decode: well inside PDQThreshold, but outside the 10
// bits PDQ's reference allows between decoders, so `copycat hash`, which
// prints reference PDQ, decodes in full. MinSide 128 would give PDQ mean
// 2.8, max 16, and 256 mean 0.8, max 8, at 1.3x and 2.3x the time per JPEG
// photo (BenchmarkWorkerProcess in scan).
const MinSide = 64

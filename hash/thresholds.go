package hash

// PHashThreshold, DHashThreshold and AHashThreshold are the default match
// thresholds: two images are reported as the same picture when the Hamming
// distance between their hashes is at most the threshold.
// They come from testdata/robustness.golden (see the package
// documentation): each is the smallest value that keeps every benign copy
// (resize, squash, JPEG q50-95, PNG re-encode, 256-colour palette, gamma
// 0.8/1.2) of the sampled corpus images, while calling as few distinct
// corpus images copies as possible.
const (
	// PHashThreshold is for PHash, and for the minimum over Dihedral when
	// rotations and mirrors count as copies. Benign copies: at most 6 bits;
	// distinct images: never under 16 (12 over the dihedral variants).
	PHashThreshold = 10
	// DHashThreshold is for DHash. Benign copies: at most 5 bits; distinct
	// images: 3 of 16566 pairs at 8, none below.
	DHashThreshold = 8
	// AHashThreshold is for AHash. Benign copies: at most 5 bits; but
	// distinct images with the same coarse layout (two brain slices, two
	// landscapes) come as close as 0, so AHash alone decides nothing.
	AHashThreshold = 5
)

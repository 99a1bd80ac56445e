// Package match is the one place that decides whether two indexed images
// are copies of each other, and how: the kind of the relation (identical
// file, identical pixels, same DICOM instance, near-duplicate), the
// transform that makes one from the other (the eight rotations and
// mirrors, and a crop), which rendering of a DICOM frame matched, and a
// distance and a score. It sits between hash (which computes the
// fingerprints it reads) and index (which stores them and finds the
// candidate pairs): index.Query, index.Clusters, lineage and scan's
// min-max check all decide through Compare and Group, so that query,
// clusters and the report cannot disagree about a pair.
//
// # Why a pair test is not enough
//
// The 64-bit pHash and the 32x32 thumbnail cannot tell a copy from the
// next slice of a CT or MR series by thresholds: on a real T1 volume with
// 0.5 mm slices, 32x32 thumbnails of neighbouring slices correlate up to
// 0.999, above what a JPEG copy at 224x224 keeps of most images. What does
// separate them is rank: a 224x224 JPEG of a slice correlates more with
// its own slice (0.9998 and up) than with any other (0.9989 at most).
// Group therefore decides by ranking and constraints, not by thresholds
// alone:
//
//   - within one dataset, near-identical images link (NearIdentical: a
//     leak re-encoded at another JPEG quality correlates 0.99999, the next
//     slice at most 0.999), and verified copies that are no step along a
//     chain of slices or shots (withinDataset in group.go): a resized or
//     recompressed photo kept beside its original is a duplicate too;
//   - across datasets, an image links to its best match in each other
//     dataset (plus ties within noise), not to every candidate over the
//     thresholds;
//   - links are taken strongest first, and a link that would put two
//     different images of one dataset, or two instances of one DICOM
//     series, into one group is refused (cannot-links). So each render
//     goes with the instance it matches best, and a chain of neighbouring
//     slices cannot glue a stack together.
//
// # Transforms
//
// A Transform names what was done to the first image to make the second:
// Compare(a, b) with b a copy of a rotated 90 degrees clockwise says
// Rotate90CW. Rotated and mirrored copies are found through the dihedral
// pHashes the hash package computes; cropped copies (up to MaxCrop of a
// side, then resized) through an alignment of the thumbnails over small
// offsets and scales (crop.go).
package match

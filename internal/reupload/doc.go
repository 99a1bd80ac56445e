// Package reupload builds the ground truth for copy-detection quality: a
// re-upload scenario made from real MRI volumes, the way people re-upload
// medical data on Kaggle and Hugging Face. From a T1 brain volume it writes
// a DICOM MR series, then the datasets derived from it (window renders
// under shuffled names, a 224x224 JPEG train/test split with leaked
// slices, min-max renders upscaled to 512, flipped, rotated and cropped
// augmentations), and from a second subject's volume a second series and
// its renders: positives in another anatomy, and distinct-but-similar
// negatives. Beside the datasets it writes the truth: for every image
// file its volume, slice and transform (two images are copies iff they
// show the same slice of the same volume), and the lineage edges and leak
// pairs a correct analysis finds.
//
// The volumes come from Debian's mricron-data package (FindVolumes); a cut
// of ch2better ships with the package (CutVolume) so the scenario can be
// built without it. bench.RunQuality scans the scenario with copycat and
// scores it against the truth. This package is a test-data generator, not
// part of the scan pipeline.
package reupload

//go:generate go run ./cutgen -o testdata/ch2better-cut.nii.gz -n 32 /usr/share/mricron/templates/ch2better.nii.gz

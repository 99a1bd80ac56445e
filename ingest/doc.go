// Package ingest is the first stage of the copycat pipeline: it walks a
// dataset (a folder, a zip, a tar or a gzip'd tar, with archives nested one
// level inside), detects each file's format from its content, and decodes
// DICOM, NIfTI, PNG and JPEG files into normalised pixels plus metadata.
// DICOM parsing and its pixel pipeline live in ingest/internal/dicom, NIfTI
// volumes in ingest/internal/nifti; this package sniffs, calls them, and
// turns their results into Frame, Meta and the errors below.
//
// Everything downstream (hashing, the index, lineage) sees only what this
// package emits: one Frame per image (one per frame of a multi-frame DICOM,
// one per slice of a NIfTI volume), rendered the way a radiologist's viewer
// or an export script would show it, so that a DICOM or a volume and the
// PNG someone exported from it land on the same pixels.
//
// Files that cannot be read are never fatal: decoders return a *CorruptError,
// an *UnsupportedError or a *TooLargeError (matchable with errors.As, and with
// errors.Is against ErrCorrupt, ErrUnsupported and ErrTooLarge), and a panic
// inside a third-party decoder is recovered and reported as corrupt input.
//
// The package does not know the index exists; it imports neither hash nor
// index.
package ingest

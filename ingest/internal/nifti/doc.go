// Package nifti decodes NIfTI-1 and NIfTI-2 single-file volumes (.nii, and
// .nii.gz recognised by content) into one 8-bit picture per slice, the way
// the nibabel + numpy + PIL scripts that turn BraTS, the Medical
// Segmentation Decathlon or OASIS into PNG/JPEG slice dumps render them.
//
// Every limit is checked from the header before a voxel is read: the
// dimensions (none negative or zero, none contradicting the bytes the file
// holds), the vox_offset, the data type, and the pixel budget per slice and
// per file. A gzip'd volume is inflated no further than its header says it
// holds, and no further than a compression ratio limit, so a gzip bomb
// costs nothing.
//
// Slices are taken along the third voxel axis: slice k of time point t is
// the array vol[:, :, k, t] that nibabel's get_fdata returns, with the
// scl_slope/scl_inter scaling applied, shown as PIL's Image.fromarray
// shows it (rows along the first voxel axis, columns along the second).
// Each slice is rendered under one or two windows (see Window); ingest
// decides which. Every slice also carries the range of every window in it
// (Frame.Ranges), which the scan records so that lineage can name the
// window a slice dump was made under; the volume's statistics are
// therefore computed whichever windows are rendered.
//
// Bad input is reported with the error types of package decodeerr, which
// ingest maps onto its own.
package nifti

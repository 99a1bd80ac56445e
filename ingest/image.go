package ingest

import (
	"image"
)

// Format is an image container format detected from file content.
type Format string

// The formats ingest decodes.
const (
	FormatDICOM Format = "dicom"
	FormatPNG   Format = "png"
	FormatJPEG  Format = "jpeg"
	FormatNIfTI Format = "nifti" // NIfTI-1 or NIfTI-2 volume, .nii or .nii.gz
)

// DefaultPixelBudget is the largest image, in pixels (rows x columns x
// samples of one frame for DICOM, whose frames are decoded one at a time),
// that Decode accepts unless Options say otherwise: 100 megapixels keeps one
// decoded image within a few hundred MB.
const DefaultPixelBudget = 100_000_000

// Options control decoding. The zero value is usable.
type Options struct {
	// PixelBudget is the largest total pixel count accepted, checked from the
	// header before any pixel is decoded. Zero means DefaultPixelBudget.
	PixelBudget int64
	// Salt keys the digest of patient identifiers. With no salt the digest
	// is still one-way but comparable across indexes.
	Salt []byte
	// MinSide, when positive, lets decoders return frames reduced in size
	// as long as both sides stay at least MinSide pixels: JPEG data (files
	// and DICOM frames) is then decoded at 1/2, 1/4 or 1/8 scale, luma only.
	// Fingerprints need no more, and full-size decoding is most of a scan's
	// time. Frame.Scale says what was done; Meta keeps the full size.
	MinSide int
	// NIfTIWindows are the renderings of each NIfTI slice: the first is
	// Frame.Image, the second (if any) Frame.MinMax. Nil means
	// DefaultNIfTIWindows.
	NIfTIWindows []NIfTIWindow

	fast *fastJPEG // per-goroutine decoders, set by Decoder
}

func (o Options) pixelBudget() int64 {
	if o.PixelBudget > 0 {
		return o.PixelBudget
	}
	return DefaultPixelBudget
}

// Meta is what a file says about itself, shared by all its frames.
type Meta struct {
	Format      Format
	Width       int
	Height      int
	Frames      int    // 1 for PNG and JPEG
	Bits        int    // bits stored per sample in the source (DICOM Bits Stored, PNG bit depth, JPEG precision)
	Photometric string // DICOM Photometric Interpretation, or for rasters: MONOCHROME2, RGB, PALETTE COLOR, YBR_FULL (JPEG colour), CMYK, with "+ALPHA" where an alpha channel is present
	Lossy       bool   // the stored pixels went through lossy compression
	// Quality is the libjpeg quality (1-100) estimated from the quantisation
	// tables of JPEG-coded data (files, and the first frame of JPEG DICOMs);
	// 0 for everything else. Lineage weighs it as fidelity.
	Quality int

	// DICOM only.
	TransferSyntax    string // UID
	SOPInstanceUID    string
	SeriesInstanceUID string
	StudyInstanceUID  string
	Modality          string
	PatientIDDigest   string // hex of a salted SHA-256 of PatientID; never the ID itself; empty when absent

	// Volume describes a NIfTI volume; nil for every other format.
	Volume *Volume
}

// Volume is what a NIfTI header says about its volume. Width and Height
// of Meta are a slice's (the second and first voxel axes), Frames the
// slices of all volumes.
type Volume struct {
	Dims      [4]int     // voxels along x, y, z, and the number of volumes (time points, channels)
	PixelSize [3]float64 // pixdim[1..3], usually mm
	Datatype  string     // "int16", "float32", "RGB24", ...
	// QformCode and SformCode say what the orientation refers to (0
	// unknown, 1 scanner, 2 aligned, 3 Talairach, 4 MNI), for lineage's
	// "axial slices 40-120 of 155".
	QformCode, SformCode int
	// Plane is the anatomical plane of the slices ("axial", "coronal",
	// "sagittal"), from the orientation the sform or qform gives the
	// third voxel axis; "" when the header gives none.
	Plane string
	// Windows are the renderings in Frame.Image and Frame.MinMax.
	Windows []NIfTIWindow
}

// Frame is one decoded image, normalised for comparison.
//
// Image is one of *image.Gray, *image.Gray16, *image.RGBA (opaque colour),
// *image.NRGBA (colour with real transparency), *image.NRGBA64, or
// *image.YCbCr (colour JPEG, kept as decoded so that hashing can work from
// the luma plane). DICOM frames are rendered through the Modality LUT, VOI
// LUT and photometric conversion into *image.Gray or *image.RGBA.
type Frame struct {
	Index int // 0-based frame number; for NIfTI, T*slices + the slice index
	// T is a NIfTI slice's volume (time point or channel) in a 4-D file;
	// 0 otherwise.
	T     int
	Image image.Image
	// Scale is how much the image was reduced (1, 2, 4 or 8) under
	// Options.MinSide; 0 or 1 means full size.
	Scale int
	// Width and Height are the frame's full size, in Image's orientation,
	// when Scale > 1: the hashes that depend on it (PDQ) are computed for
	// the full-size image from the reduced one.
	Width, Height int
	// MinMax is the frame rendered under a min-max window (each frame's
	// least modality value black, its greatest white, padding left out)
	// when Image used the window or VOI LUT of the DICOM header: a second
	// picture of the same data, the one scripts that export DICOM to PNG
	// mostly make. For a NIfTI slice it is the second of
	// Options.NIfTIWindows. Nil for every other frame.
	MinMax *image.Gray
	// Ranges, for a slice of a scalar NIfTI volume, are what each NIfTI
	// window maps to black and to white in it: first the window of
	// Image, then that of MinMax when it is set, then every other window
	// that applies (NIfTICal only with cal_min/cal_max), so that lineage
	// can tell afterwards which window a slice dump used. Nil for every
	// other frame.
	Ranges []NIfTIRange
	// Digest, when not zero, is the frame's pixel digest as the decoder
	// computed it (for JPEG data, see the README: a digest of the coded
	// stream); when zero, PixelDigest(Image) is the frame's digest. Use
	// FrameDigest to get the right one.
	Digest [32]byte
}

// FrameDigest returns the frame's pixel digest: the decoder's, or a digest
// of the normalised pixels.
func FrameDigest(f Frame) [32]byte {
	if f.Digest != ([32]byte{}) {
		return f.Digest
	}
	return PixelDigest(f.Image)
}

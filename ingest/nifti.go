package ingest

import (
	"bytes"
	"compress/gzip"
	"image"
	"io"
	"slices"

	"github.com/copycat-dev/copycat/ingest/internal/nifti"
)

// NIfTIWindow is a way of mapping a NIfTI slice's values to 8 bits, one of
// those that slice-dump scripts (nibabel + numpy + PIL) use.
type NIfTIWindow = nifti.Window

// NIfTIRange is what a NIfTI window maps to black and to white in one
// slice, in the volume's values.
type NIfTIRange = nifti.Range

// The NIfTI windows; see ingest/internal/nifti for their exact definition.
const (
	NIfTICal            = nifti.WindowCal          // cal_min..cal_max, when the header sets them
	NIfTISliceMinMax    = nifti.WindowSliceMinMax  // each slice's min to max
	NIfTIVolumeMinMax   = nifti.WindowVolumeMinMax // the volume's min to max
	NIfTIPercentile05   = nifti.WindowPercentile05 // the volume's 0.5th to 99.5th percentile
	NIfTIPercentile1    = nifti.WindowPercentile1  // the volume's 1st to 99th percentile
	maxNIfTIRenderSlots = 2                        // Frame.Image and Frame.MinMax
)

// DefaultNIfTIWindows are the renderings of a NIfTI slice that a scan
// fingerprints when Options say nothing: the first is Frame.Image, a
// second would be Frame.MinMax. One is enough: TestNIfTIWindowStudy
// (internal/reupload) compared each dump of three volumes (ch2, inia19,
// ch2 with a hot spot) with its own slice under every window; the 0.5-99.5
// percentile found 0.984 of 3387 dumps, every pair of windows and all five
// together found the same 0.984, and min-max per volume alone 0.704 (a hot
// spot leaves the brain black under it). A second rendering would double
// the fingerprints and the search for nothing.
var DefaultNIfTIWindows = []NIfTIWindow{NIfTIPercentile05}

// niftiHead returns the first bytes of a NIfTI file's header, inflating
// them when the file is gzip'd; nil when that fails.
func niftiHead(data []byte) []byte {
	if !nifti.IsGzip(data) {
		return data[:min(len(data), nifti.SizeNIfTI2)]
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil
	}
	head := make([]byte, nifti.SizeNIfTI2)
	n, _ := io.ReadFull(zr, head)
	return head[:n]
}

// sniffNIfTI reports whether head starts a single-file NIfTI volume, plain
// or gzip'd (its decompressed head then says so), or the header of a
// .hdr/.img pair.
func sniffNIfTI(head []byte) (single, pair bool) {
	return nifti.Sniff(niftiHead(head))
}

// decodeNIfTI decodes a NIfTI volume with package ingest/internal/nifti:
// one Frame per slice along the third voxel axis, rendered under
// opts.NIfTIWindows (the first in Image, the second in MinMax), and Meta
// describing the volume. Errors are mapped onto ingest's types.
func decodeNIfTI(data []byte, opts Options, emit func(Frame) error) (Meta, error) {
	windows := opts.NIfTIWindows
	if len(windows) == 0 {
		windows = DefaultNIfTIWindows
	}
	windows = windows[:min(len(windows), maxNIfTIRenderSlots)]
	meta := Meta{Format: FormatNIfTI}
	h, err := nifti.Decode(data, nifti.Options{PixelBudget: opts.pixelBudget(), Windows: windows}, func(f nifti.Frame) error {
		fr := Frame{Index: f.Index, T: f.T}
		rendered := windows // the windows of Image and MinMax, in that order
		if len(f.Images) > 0 {
			fr.Image = f.Images[0]
		}
		if len(f.Images) > 1 {
			fr.MinMax, _ = f.Images[1].(*image.Gray)
		}
		if fr.Image == nil {
			// No cal_min/cal_max for a first window that needs them: the
			// second rendering stands in.
			if fr.MinMax == nil {
				return nil
			}
			fr.Image, fr.MinMax = fr.MinMax, nil
			rendered = windows[1:]
		}
		if fr.MinMax == nil {
			rendered = rendered[:1]
		}
		fr.Ranges = renderedFirst(f.Ranges, rendered)
		fr.Image = normalize(fr.Image)
		return emit(fr)
	})
	if h != nil {
		meta.Width, meta.Height = int(h.Width()), int(h.Height())
		meta.Frames = int(h.Slices() * h.Volumes())
		meta.Bits = 8 * h.VoxelBytes() / h.Samples()
		meta.Photometric = "MONOCHROME2"
		if h.Samples() > 1 {
			meta.Photometric = "RGB"
		}
		meta.Volume = &Volume{
			Dims:      [4]int{int(h.Dim[1]), int(h.Dim[2]), int(h.Dim[3]), int(h.Volumes())},
			PixelSize: [3]float64{h.Pixdim[1], h.Pixdim[2], h.Pixdim[3]},
			Datatype:  h.TypeName(),
			QformCode: h.QformCode,
			SformCode: h.SformCode,
			Plane:     nifti.Plane(h.SliceAxis),
			Windows:   windows,
		}
	}
	return meta, fromDecoderError(err, FormatNIfTI)
}

// renderedFirst orders a slice's window ranges as Frame.Ranges does: the
// windows of the renderings first, in their order, then the others.
func renderedFirst(ranges []NIfTIRange, rendered []NIfTIWindow) []NIfTIRange {
	if len(ranges) == 0 {
		return nil
	}
	out := make([]NIfTIRange, 0, len(ranges))
	for _, w := range rendered {
		for _, r := range ranges {
			if r.Window == w {
				out = append(out, r)
			}
		}
	}
	for _, r := range ranges {
		if !slices.Contains(rendered, r.Window) {
			out = append(out, r)
		}
	}
	return out
}

// niftiCost is the memory a NIfTI decode holds beyond data: the inflated
// volume of a .nii.gz (a .nii is read in place), from the header alone.
func niftiCost(data []byte) int64 {
	if !nifti.IsGzip(data) {
		return 0
	}
	h, err := nifti.ParseHeader(niftiHead(data))
	if err != nil || h.Check(DefaultPixelBudget, -1) != nil {
		return 0
	}
	return h.End()
}

// NIfTIVolume is the voxel values of the first 3-D volume of a NIfTI file,
// for the generators and studies that make slice dumps from volumes as
// scripts do.
type NIfTIVolume struct {
	Dims      [3]int     // voxels along x, y and z
	PixelSize [3]float64 // pixdim[1..3], usually mm
	// Values holds the voxel (x, y, z) at x + Dims[0]*(y + Dims[1]*z),
	// after the scl_slope/scl_inter scaling; NaN where the file has NaN.
	Values []float32
}

// ReadNIfTI reads the first 3-D volume of a .nii or .nii.gz held in data,
// within opts' pixel budget. A volume of RGB voxels is unsupported. Errors
// are those of Decode.
func ReadNIfTI(data []byte, opts Options) (*NIfTIVolume, error) {
	if single, _ := sniffNIfTI(data[:min(len(data), SniffLen)]); !single {
		return nil, corruptf(FormatNIfTI, "not a single-file NIfTI-1 or NIfTI-2 volume")
	}
	h, vox, err := nifti.Load(data, nifti.Options{PixelBudget: opts.pixelBudget()})
	if err != nil {
		return nil, fromDecoderError(err, FormatNIfTI)
	}
	if h.Samples() > 1 {
		return nil, unsupportedf("NIfTI %s voxels are not scalar values", h.TypeName())
	}
	v := &NIfTIVolume{
		Dims:      [3]int{int(h.Dim[1]), int(h.Dim[2]), int(h.Dim[3])},
		PixelSize: [3]float64{h.Pixdim[1], h.Pixdim[2], h.Pixdim[3]},
	}
	slice := v.Dims[0] * v.Dims[1]
	v.Values = make([]float32, slice*v.Dims[2])
	buf := make([]float64, slice)
	sliceBytes := slice * h.VoxelBytes()
	for k := range v.Dims[2] {
		h.Values(buf, vox[k*sliceBytes:(k+1)*sliceBytes])
		for i, x := range buf {
			v.Values[k*slice+i] = float32(x)
		}
	}
	return v, nil
}

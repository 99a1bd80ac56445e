package nifti

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/copycat-dev/copycat/ingest/internal/decodeerr"
)

// Header sizes: sizeof_hdr of each version, and where the voxels may start
// at the earliest (the header plus the 4-byte extension flag).
const (
	SizeNIfTI1 = 348
	SizeNIfTI2 = 540
)

// Data type codes (NIfTI's DT_* values) this package reads.
const (
	TypeUint8   = 2
	TypeInt16   = 4
	TypeInt32   = 8
	TypeFloat32 = 16
	TypeFloat64 = 64
	TypeRGB24   = 128
	TypeInt8    = 256
	TypeUint16  = 512
	TypeUint32  = 768
	TypeRGBA32  = 2304
)

// typeInfo is what the decoder needs to know of a data type: bytes per
// voxel, samples per voxel, and its name as nibabel prints it.
type typeInfo struct {
	size, samples int
	name          string
}

var types = map[int]typeInfo{
	TypeUint8:   {1, 1, "uint8"},
	TypeInt8:    {1, 1, "int8"},
	TypeInt16:   {2, 1, "int16"},
	TypeUint16:  {2, 1, "uint16"},
	TypeInt32:   {4, 1, "int32"},
	TypeUint32:  {4, 1, "uint32"},
	TypeFloat32: {4, 1, "float32"},
	TypeFloat64: {8, 1, "float64"},
	TypeRGB24:   {3, 3, "RGB24"},
	TypeRGBA32:  {4, 4, "RGBA32"},
}

// unsupportedTypes names the valid data types that are not read, for a
// clear refusal.
var unsupportedTypes = map[int]string{
	1:    "binary",
	32:   "complex64",
	1024: "int64",
	1280: "uint64",
	1536: "float128",
	1792: "complex128",
	2048: "complex256",
}

// Header is what a NIfTI header says about its volume, in either version.
type Header struct {
	Version   int              // 1 or 2
	ByteOrder binary.ByteOrder // of the header and the voxels
	// Dim is the header's dim[]: Dim[0] is the number of dimensions used,
	// Dim[1..Dim[0]] their sizes; entries past Dim[0] are 1.
	Dim      [8]int64
	Datatype int
	// Pixdim is the header's pixdim[]: Pixdim[1..3] the voxel size (in
	// XYZTUnits, usually mm), Pixdim[0] the qfac.
	Pixdim    [8]float64
	VoxOffset int64
	SclSlope  float64 // 0 when the voxels are not scaled (the spec's rule)
	SclInter  float64
	CalMin    float64
	CalMax    float64
	QformCode int
	SformCode int
	// SliceAxis is the direction in world space (x: left-right, y:
	// posterior-anterior, z: inferior-superior) of the third voxel axis,
	// the one slices are cut along: from the sform when its code is set,
	// else from the qform's quaternion, else zero (unknown).
	SliceAxis  [3]float64
	XYZTUnits  int
	headerSize int
}

// Sniff reports whether head (at least the first 348 bytes of a file,
// inflated if need be) starts a single-file NIfTI-1 or NIfTI-2 volume
// (sizeof_hdr 348 or 540 in either byte order, and the magic "n+1" or
// "n+2"), or the header of a .hdr/.img pair ("ni1", "ni2").
func Sniff(head []byte) (single, pair bool) {
	v, _, ok := version(head)
	return ok && v > 0, ok && v == 0
}

// version reads sizeof_hdr and the magic: the version (0 for a .hdr of a
// .hdr/.img pair), the byte order, and whether head is a NIfTI header.
func version(head []byte) (int, binary.ByteOrder, bool) {
	if len(head) < SizeNIfTI1 {
		return 0, nil, false
	}
	var bo binary.ByteOrder
	switch binary.LittleEndian.Uint32(head) {
	case SizeNIfTI1, SizeNIfTI2:
		bo = binary.LittleEndian
	default:
		switch binary.BigEndian.Uint32(head) {
		case SizeNIfTI1, SizeNIfTI2:
			bo = binary.BigEndian
		default:
			return 0, nil, false
		}
	}
	if bo.Uint32(head) == SizeNIfTI1 {
		switch string(head[344:348]) {
		case "n+1\x00":
			return 1, bo, true
		case "ni1\x00":
			return 0, bo, true
		}
		return 0, nil, false
	}
	switch string(head[4:8]) {
	case "n+2\x00":
		return 2, bo, true
	case "ni2\x00":
		return 0, bo, true
	}
	return 0, nil, false
}

// ParseHeader reads and checks a NIfTI header from the file's first bytes
// (348 for NIfTI-1, 540 for NIfTI-2). It checks what can be checked
// without knowing the file's length: the magic, the dimensions, the data
// type and the vox_offset; Check adds the limits.
func ParseHeader(head []byte) (*Header, error) {
	v, bo, ok := version(head)
	switch {
	case !ok:
		return nil, corruptf("no NIfTI-1 or NIfTI-2 header (sizeof_hdr and magic)")
	case v == 0:
		return nil, unsupportedf("unsupported NIfTI .hdr/.img pair (the header names a separate image file)")
	case v == 2 && len(head) < SizeNIfTI2:
		return nil, corruptf("NIfTI-2 header cut at %d bytes", len(head))
	}
	h := &Header{Version: v, ByteOrder: bo}
	f32 := func(off int) float64 { return float64(math.Float32frombits(bo.Uint32(head[off:]))) }
	f64 := func(off int) float64 { return math.Float64frombits(bo.Uint64(head[off:])) }
	if v == 1 {
		h.headerSize = SizeNIfTI1
		for i := range h.Dim {
			h.Dim[i] = int64(int16(bo.Uint16(head[40+2*i:])))
		}
		h.Datatype = int(int16(bo.Uint16(head[70:])))
		for i := range h.Pixdim {
			h.Pixdim[i] = f32(76 + 4*i)
		}
		off := f32(108)
		if math.IsNaN(off) || off < 0 || off > math.MaxInt32 || off != math.Trunc(off) {
			return nil, corruptf("vox_offset %v is not a byte offset", off)
		}
		h.VoxOffset = int64(off)
		h.SclSlope, h.SclInter = f32(112), f32(116)
		h.CalMax, h.CalMin = f32(124), f32(128)
		h.XYZTUnits = int(head[123])
		h.QformCode, h.SformCode = int(int16(bo.Uint16(head[252:]))), int(int16(bo.Uint16(head[254:])))
		h.SliceAxis = sliceAxis(h.QformCode, h.SformCode, [3]float64{f32(256), f32(260), f32(264)},
			[3]float64{f32(288), f32(304), f32(320)})
	} else {
		h.headerSize = SizeNIfTI2
		if !bytes.Equal(head[8:12], []byte("\r\n\x1a\n")) {
			return nil, corruptf("NIfTI-2 magic without its \\r\\n\\x1a\\n signature (a file mangled by a text transfer?)")
		}
		h.Datatype = int(int16(bo.Uint16(head[12:])))
		for i := range h.Dim {
			h.Dim[i] = int64(bo.Uint64(head[16+8*i:]))
		}
		for i := range h.Pixdim {
			h.Pixdim[i] = f64(104 + 8*i)
		}
		h.VoxOffset = int64(bo.Uint64(head[168:]))
		h.SclSlope, h.SclInter = f64(176), f64(184)
		h.CalMax, h.CalMin = f64(192), f64(200)
		h.QformCode, h.SformCode = int(int32(bo.Uint32(head[344:]))), int(int32(bo.Uint32(head[348:])))
		h.XYZTUnits = int(int32(bo.Uint32(head[500:])))
		h.SliceAxis = sliceAxis(h.QformCode, h.SformCode, [3]float64{f64(352), f64(360), f64(368)},
			[3]float64{f64(416), f64(448), f64(480)})
	}
	if !finite(h.SclSlope) || !finite(h.SclInter) || h.SclSlope == 0 {
		h.SclSlope, h.SclInter = 0, 0 // the spec: a zero slope means unscaled
	}
	if !finite(h.CalMin) || !finite(h.CalMax) {
		h.CalMin, h.CalMax = 0, 0
	}
	n := h.Dim[0]
	if n < 1 || n > 7 {
		return nil, corruptf("dim[0] = %d, want 1 to 7", n)
	}
	for i := int64(1); i <= n; i++ {
		if h.Dim[i] < 1 {
			return nil, corruptf("dim[%d] = %d, want a positive size", i, h.Dim[i])
		}
	}
	for i := n + 1; i < 8; i++ {
		h.Dim[i] = 1
	}
	if _, ok := types[h.Datatype]; !ok {
		if name, known := unsupportedTypes[h.Datatype]; known {
			return nil, unsupportedf("unsupported NIfTI data type %s (%d)", name, h.Datatype)
		}
		return nil, corruptf("unknown data type code %d", h.Datatype)
	}
	if h.VoxOffset < int64(h.headerSize) {
		return nil, corruptf("vox_offset %d inside the %d-byte header", h.VoxOffset, h.headerSize)
	}
	return h, nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// Width is a slice's width: the size of the second voxel axis, whose
// index is a column (as PIL shows a numpy array vol[:, :, k]).
func (h *Header) Width() int64 { return h.Dim[2] }

// Height is a slice's height: the size of the first voxel axis, whose
// index is a row.
func (h *Header) Height() int64 { return h.Dim[1] }

// Slices is the number of slices along the third voxel axis per volume.
func (h *Header) Slices() int64 { return h.Dim[3] }

// Volumes is the number of 3-D volumes: the product of dims 4 to 7 (time
// points, channels).
func (h *Header) Volumes() int64 {
	v := int64(1)
	for i := 4; i < 8; i++ {
		v = mulSat(v, h.Dim[i])
	}
	return v
}

// TypeName names the data type as nibabel does ("int16", "RGB24").
func (h *Header) TypeName() string { return types[h.Datatype].name }

// Samples is the number of samples per voxel: 3 for RGB24, 4 for RGBA32,
// else 1.
func (h *Header) Samples() int { return types[h.Datatype].samples }

// VoxelBytes is the size of one voxel in the file.
func (h *Header) VoxelBytes() int { return types[h.Datatype].size }

// DataBytes is the size of all the voxels (saturating, never
// overflowing).
func (h *Header) DataBytes() int64 {
	return mulSat(mulSat(mulSat(h.Height(), h.Width()), mulSat(h.Slices(), h.Volumes())), int64(h.VoxelBytes()))
}

// End is the offset just past the voxels.
func (h *Header) End() int64 { return addSat(h.VoxOffset, h.DataBytes()) }

// Check applies the limits to a parsed header: a slice and the whole file
// within budget pixels (samples counted), and, when size >= 0, voxels that
// fit in a file of size bytes.
func (h *Header) Check(budget, size int64) error {
	spp := int64(h.Samples())
	slice := mulSat(mulSat(h.Height(), h.Width()), spp)
	all := mulSat(slice, mulSat(h.Slices(), h.Volumes()))
	if slice > budget {
		return &decodeerr.TooLargeError{
			What:  fmt.Sprintf("slice %dx%d with %d samples per voxel (%.1f megapixels)", h.Width(), h.Height(), spp, float64(slice)/1e6),
			Limit: fmt.Sprintf("pixel budget of %g megapixels", float64(budget)/1e6),
		}
	}
	if all > budget {
		return &decodeerr.TooLargeError{
			What:  fmt.Sprintf("volume %s with %d samples per voxel (%.1f megavoxels)", h.DimString(), spp, float64(all)/1e6),
			Limit: fmt.Sprintf("pixel budget of %g megapixels", float64(budget)/1e6),
		}
	}
	if size >= 0 && h.End() > size {
		return corruptf("dims %s of %s need %d bytes from vox_offset %d, the file holds %d", h.DimString(), h.TypeName(), h.DataBytes(), h.VoxOffset, size)
	}
	return nil
}

// DimString writes the used dimensions as "181x217x181" (nibabel's shape).
func (h *Header) DimString() string {
	s := ""
	for i := int64(1); i <= h.Dim[0]; i++ {
		if i > 1 {
			s += "x"
		}
		s += fmt.Sprint(h.Dim[i])
	}
	return s
}

// mulSat multiplies non-negative a and b, saturating at MaxInt64.
func mulSat(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	if a > math.MaxInt64/b {
		return math.MaxInt64
	}
	return a * b
}

func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// sliceAxis is the world direction of the third voxel axis: the third
// column of the sform's matrix (srow_x[2], srow_y[2], srow_z[2]) when the
// sform is set, else of the rotation the qform's quaternion (b, c, d)
// describes, else zero.
func sliceAxis(qcode, scode int, quat, srowCol [3]float64) [3]float64 {
	finite3 := func(v [3]float64) bool { return finite(v[0]) && finite(v[1]) && finite(v[2]) }
	switch {
	case scode > 0 && finite3(srowCol):
		return srowCol
	case qcode > 0 && finite3(quat):
		b, c, d := quat[0], quat[1], quat[2]
		a := math.Sqrt(max(0, 1-b*b-c*c-d*d))
		return [3]float64{2*b*d + 2*a*c, 2*c*d - 2*a*b, a*a + d*d - c*c - b*b}
	}
	return [3]float64{}
}

// Plane names the anatomical plane of slices cut along axis (a
// SliceAxis): "sagittal" when it runs mostly left-right, "coronal"
// posterior-anterior, "axial" inferior-superior; "" when unknown.
func Plane(axis [3]float64) string {
	x, y, z := math.Abs(axis[0]), math.Abs(axis[1]), math.Abs(axis[2])
	switch {
	case x == 0 && y == 0 && z == 0:
		return ""
	case x >= y && x >= z:
		return "sagittal"
	case y >= z:
		return "coronal"
	}
	return "axial"
}

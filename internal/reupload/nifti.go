package reupload

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// This is a minimal NIfTI-1 reader for the scenario generator only: 3-D
// volumes, the common voxel types, scl_slope/scl_inter. ingest will get
// the real NIfTI decoder (tracker issue 16); this one should then be
// replaced by it.

// Volume is a 3-D scalar volume, X fastest: the voxel (x, y, z) is
// Data[x + NX*(y + NY*z)], after the NIfTI scaling.
type Volume struct {
	NX, NY, NZ int
	// Spacing is the voxel size in millimetres along x, y and z.
	Spacing [3]float64
	Data    []float32
}

// At returns the voxel (x, y, z).
func (v *Volume) At(x, y, z int) float32 { return v.Data[x+v.NX*(y+v.NY*z)] }

// Errors of the NIfTI reader.
var (
	// ErrNotNIfTI is returned for data that is not a NIfTI-1 file.
	ErrNotNIfTI = errors.New("reupload: not a NIfTI-1 file")
	// ErrUnsupportedNIfTI is returned for a valid NIfTI-1 file this reader
	// does not handle (4-D, complex or RGB voxels...).
	ErrUnsupportedNIfTI = errors.New("reupload: unsupported NIfTI-1 file")
)

// maxVoxels bounds what ReadNIfTI allocates: 512 MiB of float32.
const maxVoxels = 1 << 27

// ReadNIfTIFile reads a .nii or .nii.gz file.
func ReadNIfTIFile(path string) (*Volume, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	v, err := ReadNIfTI(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return v, nil
}

// ReadNIfTI reads a single-file NIfTI-1 volume, gzip'd or not.
func ReadNIfTI(r io.Reader) (*Volume, error) {
	br := bufio.NewReader(r)
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
	}
	var hdr [348]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrNotNIfTI, err)
	}
	var bo binary.ByteOrder = binary.LittleEndian
	switch {
	case binary.LittleEndian.Uint32(hdr[0:]) == 348:
	case binary.BigEndian.Uint32(hdr[0:]) == 348:
		bo = binary.BigEndian
	default:
		return nil, fmt.Errorf("%w: sizeof_hdr is not 348", ErrNotNIfTI)
	}
	if m := string(hdr[344:347]); m != "n+1" {
		return nil, fmt.Errorf("%w: magic %q (only single-file n+1 is read)", ErrUnsupportedNIfTI, m)
	}
	var dim [8]int
	for i := range dim {
		dim[i] = int(int16(bo.Uint16(hdr[40+2*i:])))
	}
	if dim[0] < 3 || dim[0] > 7 {
		return nil, fmt.Errorf("%w: dim[0] = %d", ErrNotNIfTI, dim[0])
	}
	for i := 4; i <= dim[0]; i++ {
		if dim[i] > 1 {
			return nil, fmt.Errorf("%w: %d-D volume (only 3-D is read)", ErrUnsupportedNIfTI, dim[0])
		}
	}
	nx, ny, nz := dim[1], dim[2], dim[3]
	if nx < 1 || ny < 1 || nz < 1 || int64(nx)*int64(ny)*int64(nz) > maxVoxels {
		return nil, fmt.Errorf("%w: dimensions %dx%dx%d", ErrUnsupportedNIfTI, nx, ny, nz)
	}
	f32 := func(off int) float64 { return float64(math.Float32frombits(bo.Uint32(hdr[off:]))) }
	datatype := int16(bo.Uint16(hdr[70:]))
	voxOffset := int(f32(108))
	slope, inter := f32(112), f32(116)
	if slope == 0 || math.IsNaN(slope) || math.IsInf(slope, 0) {
		slope, inter = 1, 0
	}
	var size int
	switch datatype {
	case 2: // uint8
		size = 1
	case 4, 512: // int16, uint16
		size = 2
	case 8, 16: // int32, float32
		size = 4
	case 64: // float64
		size = 8
	default:
		return nil, fmt.Errorf("%w: datatype %d", ErrUnsupportedNIfTI, datatype)
	}
	if voxOffset < 348 {
		return nil, fmt.Errorf("%w: vox_offset %d", ErrNotNIfTI, voxOffset)
	}
	if _, err := io.CopyN(io.Discard, br, int64(voxOffset-348)); err != nil {
		return nil, fmt.Errorf("%w: extensions: %v", ErrNotNIfTI, err)
	}
	n := nx * ny * nz
	raw := make([]byte, n*size)
	if _, err := io.ReadFull(br, raw); err != nil {
		return nil, fmt.Errorf("%w: voxels: %v", ErrNotNIfTI, err)
	}
	v := &Volume{NX: nx, NY: ny, NZ: nz, Data: make([]float32, n)}
	for i := range v.Spacing {
		v.Spacing[i] = math.Abs(f32(80 + 4*i))
		if v.Spacing[i] == 0 {
			v.Spacing[i] = 1
		}
	}
	for i := range n {
		var x float64
		switch datatype {
		case 2:
			x = float64(raw[i])
		case 4:
			x = float64(int16(bo.Uint16(raw[2*i:])))
		case 512:
			x = float64(bo.Uint16(raw[2*i:]))
		case 8:
			x = float64(int32(bo.Uint32(raw[4*i:])))
		case 16:
			x = float64(math.Float32frombits(bo.Uint32(raw[4*i:])))
		case 64:
			x = math.Float64frombits(bo.Uint64(raw[8*i:]))
		}
		if math.IsNaN(x) {
			x = 0
		}
		v.Data[i] = float32(x*slope + inter)
	}
	return v, nil
}

// WriteNIfTIUint8 writes v as a gzip'd single-file NIfTI-1 volume of
// uint8 voxels (values are rounded and clamped to 0..255), little endian,
// with no orientation: what the shipped cut of ch2better needs.
func WriteNIfTIUint8(w io.Writer, v *Volume) error {
	var hdr [352]byte // header and an empty extension block
	le := binary.LittleEndian
	le.PutUint32(hdr[0:], 348)
	dims := [8]int16{3, int16(v.NX), int16(v.NY), int16(v.NZ), 1, 1, 1, 1}
	for i, d := range dims {
		le.PutUint16(hdr[40+2*i:], uint16(d))
	}
	le.PutUint16(hdr[70:], 2) // DT_UINT8
	le.PutUint16(hdr[72:], 8) // bitpix
	pixdim := [8]float64{1, v.Spacing[0], v.Spacing[1], v.Spacing[2], 0, 0, 0, 0}
	for i, p := range pixdim {
		le.PutUint32(hdr[76+4*i:], math.Float32bits(float32(p)))
	}
	le.PutUint32(hdr[108:], math.Float32bits(352)) // vox_offset
	le.PutUint32(hdr[112:], math.Float32bits(1))   // scl_slope
	hdr[123] = 10                                  // xyzt_units: mm, s
	copy(hdr[344:], "n+1\x00")
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	var body bytes.Buffer
	body.Grow(len(v.Data))
	for _, x := range v.Data {
		body.WriteByte(uint8(math.Round(min(max(float64(x), 0), 255))))
	}
	_, err = zw.Write(hdr[:])
	if err == nil {
		_, err = zw.Write(body.Bytes())
	}
	return errors.Join(err, zw.Close())
}

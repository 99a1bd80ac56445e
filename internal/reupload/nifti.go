package reupload

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/copycat-dev/copycat/ingest"
)

// The volumes are read with ingest's NIfTI decoder (ingest.ReadNIfTI),
// the one a scan uses.

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
	// ErrNotNIfTI is returned for data that is not a NIfTI file, or a
	// corrupt one.
	ErrNotNIfTI = errors.New("reupload: not a NIfTI-1 file")
	// ErrUnsupportedNIfTI is returned for a valid NIfTI file that the
	// generator cannot use (complex or RGB voxels, over the size limit).
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

// ReadNIfTI reads the first 3-D volume of a single-file NIfTI-1 or NIfTI-2
// volume, gzip'd or not. NaN voxels read as 0, and a voxel size of 0 as 1.
func ReadNIfTI(r io.Reader) (*Volume, error) {
	data, err := io.ReadAll(io.LimitReader(r, 8*maxVoxels+1<<20))
	if err != nil {
		return nil, err
	}
	iv, err := ingest.ReadNIfTI(data, ingest.Options{PixelBudget: maxVoxels})
	switch {
	case errors.Is(err, ingest.ErrCorrupt):
		return nil, fmt.Errorf("%w: %v", ErrNotNIfTI, err)
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedNIfTI, err)
	}
	v := &Volume{NX: iv.Dims[0], NY: iv.Dims[1], NZ: iv.Dims[2], Data: iv.Values}
	for i, s := range iv.PixelSize {
		v.Spacing[i] = math.Abs(s)
		if v.Spacing[i] == 0 || math.IsNaN(s) {
			v.Spacing[i] = 1
		}
	}
	for i, x := range v.Data {
		if x != x {
			v.Data[i] = 0
		}
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

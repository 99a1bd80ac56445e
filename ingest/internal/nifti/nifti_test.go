package nifti

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"image"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/copycat-dev/copycat/ingest/internal/decodeerr"
)

// spec describes a NIfTI file for build.
type spec struct {
	version  int // 1 or 2
	bo       binary.ByteOrder
	datatype int
	dim      [8]int64
	voxOff   int64
	slope    float64
	inter    float64
	calMin   float64
	calMax   float64
	gz       bool
	magic    string // overrides the magic when set
	// value gives voxel n's value (before scaling); the file stores it in
	// the data type.
	value func(n int) float64
	cut   int  // bytes dropped from the end
	empty bool // no voxels at all (for headers claiming huge volumes)
}

// build writes a NIfTI file as spec says.
func build(tb testing.TB, s spec) []byte {
	tb.Helper()
	if s.bo == nil {
		s.bo = binary.LittleEndian
	}
	if s.version == 0 {
		s.version = 1
	}
	hsize := SizeNIfTI1
	if s.version == 2 {
		hsize = SizeNIfTI2
	}
	if s.voxOff == 0 {
		s.voxOff = int64(hsize + 4)
	}
	for i := s.dim[0] + 1; i < 8; i++ {
		if i > 0 && s.dim[i] == 0 {
			s.dim[i] = 1
		}
	}
	hdrLen := s.voxOff
	if hdrLen < int64(hsize)+4 || hdrLen > 1<<20 {
		hdrLen = int64(hsize) + 4 // a lying vox_offset
	}
	hdr := make([]byte, hdrLen)
	bo := s.bo
	pix := [8]float64{1, 1, 1.5, 2, 1, 1, 1, 1}
	if s.version == 1 {
		bo.PutUint32(hdr[0:], SizeNIfTI1)
		for i, d := range s.dim {
			bo.PutUint16(hdr[40+2*i:], uint16(int16(d)))
		}
		bo.PutUint16(hdr[70:], uint16(s.datatype))
		for i, p := range pix {
			bo.PutUint32(hdr[76+4*i:], math.Float32bits(float32(p)))
		}
		bo.PutUint32(hdr[108:], math.Float32bits(float32(s.voxOff)))
		bo.PutUint32(hdr[112:], math.Float32bits(float32(s.slope)))
		bo.PutUint32(hdr[116:], math.Float32bits(float32(s.inter)))
		bo.PutUint32(hdr[124:], math.Float32bits(float32(s.calMax)))
		bo.PutUint32(hdr[128:], math.Float32bits(float32(s.calMin)))
		bo.PutUint16(hdr[252:], 1)
		bo.PutUint16(hdr[254:], 4)
		copy(hdr[344:], "n+1\x00")
		if s.magic != "" {
			copy(hdr[344:], s.magic)
		}
	} else {
		bo.PutUint32(hdr[0:], SizeNIfTI2)
		copy(hdr[4:], "n+2\x00\r\n\x1a\n")
		if s.magic != "" {
			copy(hdr[4:], s.magic)
		}
		bo.PutUint16(hdr[12:], uint16(s.datatype))
		for i, d := range s.dim {
			bo.PutUint64(hdr[16+8*i:], uint64(d))
		}
		for i, p := range pix {
			bo.PutUint64(hdr[104+8*i:], math.Float64bits(p))
		}
		bo.PutUint64(hdr[168:], uint64(s.voxOff))
		bo.PutUint64(hdr[176:], math.Float64bits(s.slope))
		bo.PutUint64(hdr[184:], math.Float64bits(s.inter))
		bo.PutUint64(hdr[192:], math.Float64bits(s.calMax))
		bo.PutUint64(hdr[200:], math.Float64bits(s.calMin))
		bo.PutUint32(hdr[344:], 1)
		bo.PutUint32(hdr[348:], 4)
	}
	out := bytes.NewBuffer(hdr)
	n := 1
	for i := int64(1); i <= min(s.dim[0], 7); i++ {
		n *= int(max(s.dim[i], 0))
	}
	ti, known := types[s.datatype]
	if !known {
		ti = typeInfo{size: 2, samples: 1}
	}
	b := make([]byte, 8)
	if s.empty {
		n = 0
	}
	for i := range n * ti.samples {
		v := float64(i % 251)
		if s.value != nil {
			v = s.value(i)
		}
		switch s.datatype {
		case TypeUint8, TypeRGB24, TypeRGBA32:
			b[0] = uint8(v)
		case TypeInt8:
			b[0] = uint8(int8(v))
		case TypeInt16, TypeUint16:
			bo.PutUint16(b, uint16(int64(v)))
		case TypeInt32, TypeUint32:
			bo.PutUint32(b, uint32(int64(v)))
		case TypeFloat32:
			bo.PutUint32(b, math.Float32bits(float32(v)))
		case TypeFloat64:
			bo.PutUint64(b, math.Float64bits(v))
		}
		out.Write(b[:ti.size/ti.samples])
	}
	data := out.Bytes()
	data = data[:len(data)-min(s.cut, len(data))]
	if !s.gz {
		return data
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(data)
	zw.Close()
	return z.Bytes()
}

// decodeAll decodes data under every window and returns the frames.
func decodeAll(tb testing.TB, data []byte) (*Header, []Frame, error) {
	tb.Helper()
	var frames []Frame
	h, err := Decode(data, Options{Windows: Windows}, func(f Frame) error {
		frames = append(frames, f)
		return nil
	})
	return h, frames, err
}

func TestDecodeTypes(t *testing.T) {
	dim := [8]int64{3, 4, 3, 2}
	// ramp gives voxel n the value n*step+base: slice min-max then maps
	// voxel (i, j) of slice k to a known grey.
	for _, tt := range []struct {
		name     string
		version  int
		bo       binary.ByteOrder
		datatype int
		base     float64
		slope    float64
		gz       bool
	}{
		{"uint8", 1, binary.LittleEndian, TypeUint8, 0, 0, false},
		{"int8", 1, binary.LittleEndian, TypeInt8, -12, 0, false},
		{"int16 big-endian", 1, binary.BigEndian, TypeInt16, -1000, 0, false},
		{"int16 gzip", 1, binary.LittleEndian, TypeInt16, 300, 0, true},
		{"uint16", 1, binary.LittleEndian, TypeUint16, 60000, 0, false},
		{"int32", 2, binary.LittleEndian, TypeInt32, -100000, 0, false},
		{"uint32", 1, binary.BigEndian, TypeUint32, 4e9, 0, false},
		{"float32 scaled", 1, binary.LittleEndian, TypeFloat32, 0.25, 2.5, false},
		{"float64 nifti-2 big-endian gzip", 2, binary.BigEndian, TypeFloat64, -3.5, 0, true},
		{"int16 negative slope", 2, binary.LittleEndian, TypeInt16, 7, -1, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := build(t, spec{version: tt.version, bo: tt.bo, datatype: tt.datatype, dim: dim, slope: tt.slope,
				value: func(n int) float64 { return tt.base + float64(n) }, gz: tt.gz})
			h, frames, err := decodeAll(t, data)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := h.DimString(), "4x3x2"; got != want {
				t.Errorf("dims %s, want %s", got, want)
			}
			if got, want := len(frames), 2; got != want {
				t.Fatalf("%d frames, want %d", got, want)
			}
			for k, f := range frames {
				if f.Index != k || f.Slice != k || f.T != 0 {
					t.Errorf("frame %d: index %d slice %d t %d", k, f.Index, f.Slice, f.T)
				}
				img := f.Images[1].(*image.Gray) // min-max per slice
				if got, want := img.Bounds(), image.Rect(0, 0, 3, 4); got != want {
					t.Fatalf("bounds %v, want %v", got, want)
				}
				// Voxel (i, j) of a slice is value base + i + 4j (+12k):
				// row i, column j; the ramp spans 11 steps.
				for i := range 4 {
					for j := range 3 {
						want := uint8(math.Round(float64(i+4*j) / 11 * 255))
						if tt.slope < 0 {
							want = 255 - want
						}
						if got := img.GrayAt(j, i).Y; got != want && got+1 != want && got != want+1 {
							t.Errorf("slice %d voxel (%d,%d): %d, want %d", k, i, j, got, want)
						}
					}
				}
			}
			// Volume min-max: the first slice's first voxel is black, the
			// last slice's last white (mirrored under a negative slope).
			first, last := frames[0].Images[2].(*image.Gray), frames[1].Images[2].(*image.Gray)
			lo, hi := first.GrayAt(0, 0).Y, last.GrayAt(2, 3).Y
			if tt.slope < 0 {
				lo, hi = hi, lo
			}
			if lo != 0 || hi != 255 {
				t.Errorf("volume min-max: first voxel %d, last %d; want 0 and 255", lo, hi)
			}
		})
	}
}

func TestDecode4D(t *testing.T) {
	data := build(t, spec{datatype: TypeInt16, dim: [8]int64{4, 5, 6, 3, 2}})
	h, frames, err := decodeAll(t, data)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.Volumes(), int64(2); got != want {
		t.Errorf("volumes %d, want %d", got, want)
	}
	if got, want := len(frames), 6; got != want {
		t.Fatalf("%d frames, want %d", got, want)
	}
	for n, f := range frames {
		if f.Index != n || f.T != n/3 || f.Slice != n%3 {
			t.Errorf("frame %d: index %d t %d slice %d", n, f.Index, f.T, f.Slice)
		}
	}
}

func TestDecodeRGB(t *testing.T) {
	for _, dt := range []int{TypeRGB24, TypeRGBA32} {
		spp := types[dt].samples
		data := build(t, spec{datatype: dt, dim: [8]int64{3, 2, 3, 1}, value: func(n int) float64 {
			return float64(10*(n/spp) + n%spp) // voxel v: (10v, 10v+1, 10v+2)
		}})
		_, frames, err := decodeAll(t, data)
		if err != nil {
			t.Fatal(err)
		}
		img := frames[0].Images[0].(*image.RGBA)
		// Voxel (i=1, j=2) is number 1+2*2 = 5: row 1, column 2.
		if got, want := img.RGBAAt(2, 1), [4]uint8{50, 51, 52, 255}; [4]uint8{got.R, got.G, got.B, got.A} != want {
			t.Errorf("%s voxel (1,2): %v, want %v", types[dt].name, got, want)
		}
	}
}

func TestPercentileWindow(t *testing.T) {
	// 1000 voxels 0..999 in random-ish order: np.percentile gives 4.995
	// and 994.005 for 0.5/99.5, 9.99 and 989.01 for 1/99.
	data := build(t, spec{datatype: TypeInt16, dim: [8]int64{3, 10, 10, 10}, value: func(n int) float64 { return float64(n * 7919 % 1000) }})
	h, vox, err := Load(data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := &decoder{h: h, vox: vox, opts: Options{Windows: Windows}, buf: make([]float64, 100)}
	r := d.volumeRanges(vox, 10, 200)
	for _, tt := range []struct {
		w      Window
		lo, hi float64
	}{
		{WindowVolumeMinMax, 0, 999},
		{WindowPercentile05, 4.995, 994.005},
		{WindowPercentile1, 9.99, 989.01},
	} {
		if got := r[tt.w]; math.Abs(got[0]-tt.lo) > 1e-9 || math.Abs(got[1]-tt.hi) > 1e-9 {
			t.Errorf("%v: %v, want [%v %v]", tt.w, got, tt.lo, tt.hi)
		}
	}
}

// TestHostileHeaders feeds headers that lie and checks that each is
// refused with the right kind of error and a reason, before any voxel is
// read.
func TestHostileHeaders(t *testing.T) {
	dim := [8]int64{3, 8, 8, 4}
	var corrupt *decodeerr.CorruptError
	var unsupported *decodeerr.UnsupportedError
	var tooLarge *decodeerr.TooLargeError
	for _, tt := range []struct {
		name string
		data []byte
		want any // the error type
		why  string
	}{
		{"negative dim", build(t, spec{datatype: TypeInt16, dim: [8]int64{3, 8, -8, 4}}), &corrupt, "dim[2] = -8"},
		{"zero dim", build(t, spec{datatype: TypeInt16, dim: [8]int64{3, 8, 0, 4}}), &corrupt, "dim[2] = 0"},
		{"dim[0] out of range", build(t, spec{datatype: TypeInt16, dim: [8]int64{9, 8, 8, 4}}), &corrupt, "dim[0] = 9"},
		{"dims over the file size", build(t, spec{datatype: TypeInt16, dim: dim, cut: 10}), &corrupt, "need 512 bytes"},
		{"dims over the gzip stream", build(t, spec{datatype: TypeInt16, dim: dim, cut: 10, gz: true}), &corrupt, "gzip stream holds fewer"},
		{"truncated gzip", func() []byte { d := build(t, spec{datatype: TypeInt16, dim: dim, gz: true}); return d[:len(d)-30] }(), &corrupt, "need 512 bytes"},
		{"vox_offset inside the header", build(t, spec{datatype: TypeInt16, dim: dim, voxOff: 100}), &corrupt, "vox_offset 100"},
		{"vox_offset past the end", build(t, spec{datatype: TypeInt16, dim: dim, voxOff: 1 << 30}), &corrupt, "vox_offset 1073741824"},
		{"vox_offset not integral", func() []byte {
			d := build(t, spec{datatype: TypeInt16, dim: dim})
			binary.LittleEndian.PutUint32(d[108:], math.Float32bits(352.5))
			return d
		}(), &corrupt, "vox_offset 352.5"},
		{"nifti-2 negative vox_offset", build(t, spec{version: 2, datatype: TypeInt16, dim: dim, voxOff: -5}), &corrupt, "vox_offset -5"},
		{"complex data type", build(t, spec{datatype: 32, dim: dim}), &unsupported, "complex64"},
		{"unknown data type", build(t, spec{datatype: 3, dim: dim}), &corrupt, "data type code 3"},
		{"hdr/img pair", build(t, spec{datatype: TypeInt16, dim: dim, magic: "ni1\x00"}), &unsupported, ".hdr/.img"},
		{"slice over budget", build(t, spec{version: 2, datatype: TypeUint8, dim: [8]int64{3, 1 << 20, 1 << 20, 1}, empty: true}), &tooLarge, "slice 1048576x1048576"},
		{"file over budget", build(t, spec{version: 2, datatype: TypeUint8, dim: [8]int64{4, 1000, 1000, 1000, 1000}, empty: true}), &tooLarge, "volume 1000x1000x1000x1000"},
		{"overflowing dims", build(t, spec{version: 2, datatype: TypeFloat64, dim: [8]int64{7, 1 << 40, 1 << 40, 1 << 40, 1 << 40, 1 << 40, 1 << 40, 1 << 40}, empty: true}), &tooLarge, "slice"},
		{"nifti-2 magic mangled", build(t, spec{version: 2, datatype: TypeInt16, dim: dim, magic: "n+2\x00\n\x1a\n\x00"}), &corrupt, "signature"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := decodeAll(t, tt.data)
			if err == nil {
				t.Fatal("decoded; want an error")
			}
			if !errors.As(err, tt.want) {
				t.Errorf("error %T %q, want %T", err, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.why) {
				t.Errorf("error %q, want it to say %q", err, tt.why)
			}
		})
	}
}

// TestGzipBomb checks that a small gzip stream whose header claims a
// volume over the ratio limit is refused before it is inflated.
func TestGzipBomb(t *testing.T) {
	data := build(t, spec{datatype: TypeUint8, dim: [8]int64{3, 128, 128, 128}, value: func(int) float64 { return 0 }, gz: true})
	_, _, err := Load(data, Options{MaxRatio: 100})
	var tl *decodeerr.TooLargeError
	if !errors.As(err, &tl) || !strings.Contains(err.Error(), "compression ratio limit of 100:1") {
		t.Fatalf("2 MB of zeros in %d bytes: got %v, want a compression ratio refusal", len(data), err)
	}
	if _, _, err := Load(data, Options{MaxInflated: 1 << 20}); !errors.As(err, &tl) || !strings.Contains(err.Error(), "file size limit") {
		t.Errorf("over the inflated size limit: got %v, want a size refusal", err)
	}
	if _, _, err := Load(data, Options{}); err != nil {
		t.Errorf("within the default limits: %v", err)
	}
}

func FuzzParseHeader(f *testing.F) {
	for _, s := range []spec{
		{datatype: TypeInt16, dim: [8]int64{3, 4, 3, 2}},
		{version: 2, bo: binary.BigEndian, datatype: TypeFloat32, dim: [8]int64{4, 2, 2, 2, 2}, slope: 2},
		{datatype: TypeRGB24, dim: [8]int64{3, 2, 2, 1}},
	} {
		f.Add(build(f, s))
	}
	if files, _ := filepath.Glob(filepath.Join("testdata", "*.nii*")); len(files) > 0 {
		for _, p := range files {
			if d, err := os.ReadFile(p); err == nil {
				f.Add(d)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseHeader(data)
		if err == nil {
			if h.Version != 1 && h.Version != 2 || h.Dim[0] < 1 || h.VoxOffset < SizeNIfTI1 {
				t.Fatalf("accepted header %+v", h)
			}
			_ = h.Check(DefaultPixelBudget, int64(len(data)))
		}
		// The whole decoder, within a small budget so the fuzzer stays fast.
		_, _ = Decode(data, Options{PixelBudget: 1 << 16, Windows: Windows}, func(Frame) error { return nil })
	})
}

// TestCodedAgreesWithFloat renders volumes of small integer types both
// through the code histogram and lookup tables, and as the same values
// stored as float64 (the generic path): every window must give the same
// pixels.
func TestCodedAgreesWithFloat(t *testing.T) {
	dim := [8]int64{3, 9, 7, 5}
	for _, tt := range []struct {
		name         string
		datatype     int
		bo           binary.ByteOrder
		slope, inter float64
		value        func(n int) float64
	}{
		{"uint8", TypeUint8, binary.LittleEndian, 0, 0, func(n int) float64 { return float64(n * 37 % 256) }},
		{"int8 scaled", TypeInt8, binary.LittleEndian, 0.5, 3, func(n int) float64 { return float64(n*37%256 - 128) }},
		{"int16 negative slope", TypeInt16, binary.LittleEndian, -2, 100, func(n int) float64 { return float64(n*7919%4000 - 1000) }},
		{"uint16 big-endian", TypeUint16, binary.BigEndian, 0, 0, func(n int) float64 { return float64(n * 7919 % 60000) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := spec{datatype: tt.datatype, bo: tt.bo, dim: dim, slope: tt.slope, inter: tt.inter, value: tt.value, calMin: 10, calMax: 90}
			_, coded, err := decodeAll(t, build(t, s))
			if err != nil {
				t.Fatal(err)
			}
			s.datatype, s.slope, s.inter = TypeFloat64, 0, 0
			sl, ic := tt.slope, tt.inter
			if sl == 0 {
				sl = 1
			}
			s.value = func(n int) float64 { return tt.value(n)*sl + ic }
			_, float, err := decodeAll(t, build(t, s))
			if err != nil {
				t.Fatal(err)
			}
			for k := range coded {
				for i, w := range Windows {
					a, b := coded[k].Images[i].(*image.Gray), float[k].Images[i].(*image.Gray)
					for p := range a.Pix {
						if d := int(a.Pix[p]) - int(b.Pix[p]); d > 1 || d < -1 {
							t.Fatalf("slice %d %v pixel %d: coded %d, float %d", k, w, p, a.Pix[p], b.Pix[p])
						}
					}
				}
			}
		})
	}
}

// TestPlane names the plane of slices from the third voxel axis's world
// direction, as the sform or qform gives it.
func TestPlane(t *testing.T) {
	half := math.Sqrt(0.5)
	tests := []struct {
		name         string
		qcode, scode int
		quat, srow   [3]float64
		want         string
	}{
		{"sform, MNI-style axial", 0, 4, [3]float64{}, [3]float64{0, 0, 2}, "axial"},
		{"sform, coronal", 0, 2, [3]float64{}, [3]float64{0.1, -1, 0.2}, "coronal"},
		{"sform, sagittal", 0, 1, [3]float64{}, [3]float64{-1.5, 0, 0}, "sagittal"},
		{"qform identity", 1, 0, [3]float64{0, 0, 0}, [3]float64{}, "axial"},
		{"qform 90 degrees about x", 1, 0, [3]float64{half, 0, 0}, [3]float64{}, "coronal"},
		{"qform 90 degrees about y", 1, 0, [3]float64{0, half, 0}, [3]float64{}, "sagittal"},
		{"sform wins over qform", 1, 1, [3]float64{0, 0, 0}, [3]float64{1, 0, 0}, "sagittal"},
		{"no orientation", 0, 0, [3]float64{0, 0, 0}, [3]float64{0, 0, 1}, ""},
		{"NaN sform, qform used", 1, 1, [3]float64{0, 0, 0}, [3]float64{math.NaN(), 0, 1}, "axial"},
	}
	for _, tt := range tests {
		if got := Plane(sliceAxis(tt.qcode, tt.scode, tt.quat, tt.srow)); got != tt.want {
			t.Errorf("%s: plane %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestFrameRanges checks that every slice carries the range of every
// window, whichever one window is rendered, through the coded path
// (int16) and the generic one (float64), with and without cal_min/cal_max.
func TestFrameRanges(t *testing.T) {
	// 1000 voxels 0..999 in random-ish order, as TestPercentileWindow.
	value := func(n int) float64 { return float64(n * 7919 % 1000) }
	dim := [8]int64{3, 10, 10, 10}
	for _, tt := range []struct {
		name     string
		datatype int
		render   Window
		cal      bool
	}{
		{"int16 percentile with cal", TypeInt16, WindowPercentile05, true},
		{"int16 slice min-max", TypeInt16, WindowSliceMinMax, false},
		{"float64 percentile with cal", TypeFloat64, WindowPercentile05, true},
		{"float64 volume min-max", TypeFloat64, WindowVolumeMinMax, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := spec{datatype: tt.datatype, dim: dim, value: value}
			if tt.cal {
				s.calMin, s.calMax = 10, 90
			}
			var frames []Frame
			_, err := Decode(build(t, s), Options{Windows: []Window{tt.render}}, func(f Frame) error {
				frames = append(frames, f)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(frames) != 10 {
				t.Fatalf("%d frames, want 10", len(frames))
			}
			for k, f := range frames {
				lo, hi := math.Inf(1), math.Inf(-1)
				for n := k * 100; n < (k+1)*100; n++ {
					lo, hi = min(lo, value(n)), max(hi, value(n))
				}
				var want []Range
				if tt.cal {
					want = append(want, Range{WindowCal, 10, 90})
				}
				want = append(want, Range{WindowSliceMinMax, lo, hi}, Range{WindowVolumeMinMax, 0, 999},
					Range{WindowPercentile05, 4.995, 994.005}, Range{WindowPercentile1, 9.99, 989.01})
				got := f.Ranges
				if len(got) != len(want) {
					t.Fatalf("slice %d: ranges %v, want %v", k, got, want)
				}
				for i := range want {
					if got[i].Window != want[i].Window || math.Abs(got[i].Low-want[i].Low) > 1e-9 || math.Abs(got[i].High-want[i].High) > 1e-9 {
						t.Errorf("slice %d: range %d is %v, want %v", k, i, got[i], want[i])
					}
				}
			}
		})
	}
}

package reupload

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// niftiFile builds a small NIfTI-1 file: 3x2x2 voxels valued 0..11 of the
// given datatype, scaled by slope 2 and intercept 1.
func niftiFile(tb testing.TB, bo binary.ByteOrder, datatype int16, gz bool) []byte {
	tb.Helper()
	hdr := make([]byte, 352)
	bo.PutUint32(hdr[0:], 348)
	for i, d := range []int16{3, 3, 2, 2, 1, 1, 1, 1} {
		bo.PutUint16(hdr[40+2*i:], uint16(d))
	}
	bo.PutUint16(hdr[70:], uint16(datatype))
	for i, p := range []float32{1, 0.5, 0.5, 2} {
		bo.PutUint32(hdr[76+4*i:], math.Float32bits(p))
	}
	bo.PutUint32(hdr[108:], math.Float32bits(352))
	bo.PutUint32(hdr[112:], math.Float32bits(2))
	bo.PutUint32(hdr[116:], math.Float32bits(1))
	copy(hdr[344:], "n+1\x00")
	var b bytes.Buffer
	b.Write(hdr)
	for v := range 12 {
		switch datatype {
		case 2:
			b.WriteByte(byte(v))
		case 4, 512:
			_ = binary.Write(&b, bo, uint16(v))
		case 8:
			_ = binary.Write(&b, bo, int32(v))
		case 16:
			_ = binary.Write(&b, bo, float32(v))
		case 64:
			_ = binary.Write(&b, bo, float64(v))
		}
	}
	if !gz {
		return b.Bytes()
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, _ = zw.Write(b.Bytes())
	_ = zw.Close()
	return z.Bytes()
}

func TestReadNIfTI(t *testing.T) {
	tests := []struct {
		name     string
		bo       binary.ByteOrder
		datatype int16
		gz       bool
	}{
		{"uint8 little gzip", binary.LittleEndian, 2, true},
		{"int16 big", binary.BigEndian, 4, false},
		{"uint16 little", binary.LittleEndian, 512, false},
		{"int32 big gzip", binary.BigEndian, 8, true},
		{"float32 little", binary.LittleEndian, 16, false},
		{"float64 big", binary.BigEndian, 64, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := ReadNIfTI(bytes.NewReader(niftiFile(t, tt.bo, tt.datatype, tt.gz)))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := [3]int{v.NX, v.NY, v.NZ}, [3]int{3, 2, 2}; got != want {
				t.Errorf("dims %v, want %v", got, want)
			}
			if got, want := v.Spacing, [3]float64{0.5, 0.5, 2}; got != want {
				t.Errorf("spacing %v, want %v", got, want)
			}
			if got, want := v.At(2, 1, 1), float32(11*2+1); got != want {
				t.Errorf("voxel (2,1,1) = %v, want %v", got, want)
			}
		})
	}
	bad := append(niftiFile(t, binary.LittleEndian, 128, false), make([]byte, 3*12)...) // RGB24: 3 bytes a voxel
	if _, err := ReadNIfTI(bytes.NewReader(bad)); !errors.Is(err, ErrUnsupportedNIfTI) {
		t.Errorf("RGB volume: got %v, want ErrUnsupportedNIfTI", err)
	}
	if _, err := ReadNIfTI(bytes.NewReader(make([]byte, 400))); !errors.Is(err, ErrNotNIfTI) {
		t.Errorf("zeros: got %v, want ErrNotNIfTI", err)
	}
}

func FuzzReadNIfTI(f *testing.F) {
	f.Add(niftiFile(f, binary.LittleEndian, 2, false))
	f.Add(niftiFile(f, binary.BigEndian, 16, true))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ReadNIfTI(bytes.NewReader(data))
		if err == nil && len(v.Data) != v.NX*v.NY*v.NZ {
			t.Fatalf("%d voxels for %dx%dx%d", len(v.Data), v.NX, v.NY, v.NZ)
		}
	})
}

func TestFindVolumesMissing(t *testing.T) {
	_, err := FindVolumes(t.TempDir())
	if !errors.Is(err, ErrNoVolumes) {
		t.Errorf("got %v, want ErrNoVolumes", err)
	}
}

// TestGenerateCut builds the scenario from the shipped cut and checks the
// truth against the files written, and that the output depends only on
// the seed.
func TestGenerateCut(t *testing.T) {
	if raceEnabled {
		t.Skip("two scenario builds take 90 s under the race detector; make test runs this without it")
	}
	v, err := CutVolume()
	if err != nil {
		t.Fatal(err)
	}
	if v.NZ != 32 || v.Spacing[2] != 1 {
		t.Fatalf("cut: %d planes %.1f mm apart, want 32, 1 mm", v.NZ, v.Spacing[2])
	}
	gen := func(dir string) *Truth {
		tr, err := Generate(context.Background(), Config{Main: v, Seed: 7}, dir)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	a, b := t.TempDir(), t.TempDir()
	ta, tb := gen(a), gen(b)
	counts := map[string]int{}
	for i, im := range ta.Images {
		counts[im.Transform]++
		da, err := os.ReadFile(filepath.Join(a, im.Dataset, filepath.FromSlash(im.Path)))
		if err != nil {
			t.Fatal(err)
		}
		db, err := os.ReadFile(filepath.Join(b, tb.Images[i].Dataset, filepath.FromSlash(tb.Images[i].Path)))
		if err != nil || !bytes.Equal(da, db) {
			t.Errorf("%s/%s differs between two runs with one seed (%v)", im.Dataset, im.Path, err)
		}
	}
	want := map[string]int{TDICOM: 32, TWindowPNG: 32, TJPEG224: 32, TJPEG224Lk: 5, TMinMax512: 32,
		TFlipLR: 8, TFlipTB: 8, TRot90CW: 8, TCrop: 8}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("%s: %d images, want %d", k, counts[k], n)
		}
	}
	back, err := ReadTruth(a)
	if err != nil || len(back.Images) != len(ta.Images) {
		t.Errorf("ReadTruth: %v", err)
	}
	// The stored window clips: a window render and a min-max render differ.
	s, err := makeSeries(v, VolumeMain, 108, 1)
	if err != nil {
		t.Fatal(err)
	}
	w, m := windowRender(s.slices[16], s.w, s.h, s.wc, s.ww), minMaxRender(s.slices[16], s.w, s.h)
	if bytes.Equal(w.Pix, m.Pix) {
		t.Error("the window render equals the min-max render")
	}
}

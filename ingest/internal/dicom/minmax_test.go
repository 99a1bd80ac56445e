package dicom

import (
	"path/filepath"
	"slices"
	"testing"
)

// TestDICOMMinMaxRendering checks which frames get a second, min-max
// rendering (Frame.MinMax) and what it is: frames whose stored window or
// VOI LUT makes their picture, when the window clips a value of the frame;
// not colour, palette or windowless frames, which are min-max already.
// The min-max rendering spans 0 to 255 (MONOCHROME1 inverted like the
// frame itself).
func TestDICOMMinMaxRendering(t *testing.T) {
	for _, tc := range []struct {
		name   string
		minMax bool
		why    string
	}{
		{"ct12_nometa_implicit.dcm", true, "a 40/400 soft-tissue window clips a CT"},
		{"ct12_signed_rescale_implicit.dcm", true, "the same with a signed rescale"},
		{"mr16_voilut.dcm", true, "a VOI LUT"},
		{"mr16_sigmoid.dcm", true, "a sigmoid window"},
		{"cr_mono1_highbit_bigendian.dcm", true, "MONOCHROME1 with a clipping window"},
		{"mono8_minmax.dcm", false, "no window: the frame is min-max already"},
		{"rgb.dcm", false, "colour"},
		{"palette8_packed.dcm", false, "palette colour"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := dicomReadFile(t, filepath.Join("testdata", "dicom", tc.name))
			var frames []Frame
			if _, err := Decode(data, Options{}, func(f Frame) error { frames = append(frames, f); return nil }); err != nil {
				t.Fatal(err)
			}
			for _, f := range frames {
				if got := f.MinMax != nil; got != tc.minMax {
					t.Fatalf("frame %d: MinMax set = %v, want %v (%s)", f.Index, got, tc.minMax, tc.why)
				}
				if f.MinMax == nil {
					continue
				}
				if f.MinMax.Bounds() != f.Image.Bounds() {
					t.Errorf("frame %d: MinMax is %v, the frame %v", f.Index, f.MinMax.Bounds(), f.Image.Bounds())
				}
				if lo, hi := slices.Min(f.MinMax.Pix), slices.Max(f.MinMax.Pix); lo != 0 || hi != 255 {
					t.Errorf("frame %d: MinMax spans %d-%d, want 0-255", f.Index, lo, hi)
				}
			}
		})
	}
}

// TestWindowCovers checks when a window clips nothing: then the min-max
// rendering is skipped as the same picture. An 8-bit ultrasound window
// (128/256) spans 0-255 exactly.
func TestWindowCovers(t *testing.T) {
	for _, tc := range []struct {
		w      dicomWindow
		lo, hi float64
		want   bool
	}{
		{dicomWindow{128, 256, "LINEAR"}, 0, 255, true},
		{dicomWindow{127.5, 255, "LINEAR"}, 0, 255, false}, // 255 maps past the top: clipped
		{dicomWindow{40, 400, "LINEAR"}, -1000, 1200, false},
		{dicomWindow{40, 400, "LINEAR"}, -100, 200, true},
		{dicomWindow{128, 256, "LINEAR_EXACT"}, 0, 256, true},
		{dicomWindow{128, 256, "LINEAR_EXACT"}, -1, 255, false},
		{dicomWindow{128, 256, "SIGMOID"}, 100, 120, false},
	} {
		if got := tc.w.covers(tc.lo, tc.hi); got != tc.want {
			t.Errorf("%+v covers [%v, %v] = %v, want %v", tc.w, tc.lo, tc.hi, got, tc.want)
		}
	}
}

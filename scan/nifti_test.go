package scan

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/ingest"
	"github.com/copycat-dev/copycat/internal/testkit"
)

// TestNIfTIRecords checks what the records of a 4-D NIfTI volume keep:
// one image per slice and volume, numbered in file order, each with the
// volume's geometry, its slice and its volume, and the window ranges of
// the slice, the rendered window's first. The volume is the 13 KB cut
// of ch2 that ingest's tests use, repeated as a second time point.
func TestNIfTIRecords(t *testing.T) {
	gz, err := os.ReadFile(filepath.Join(testkit.ModuleRoot(t), testkit.NIfTIFixture))
	if err != nil {
		t.Fatal(err)
	}
	nii := testkit.Gunzip(t, gz)
	// Big-endian NIfTI-1: dim[0] = 4, dim[4] = 2, the voxels twice.
	binary.BigEndian.PutUint16(nii[40:], 4)
	binary.BigEndian.PutUint16(nii[48:], 2)
	nii = append(nii, nii[352:]...)
	w := NewWorker(ingest.Options{})
	defer w.Close()
	imgs, err := w.Frames("ch2-4d.nii", nii)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(imgs), 12; got != want {
		t.Fatalf("%d images, want %d", got, want)
	}
	for i, im := range imgs {
		want := index.Volume{Dims: [4]int{46, 55, 6, 2}, PixelSize: [3]float64{4, 4, 4}, Datatype: "int16", SformCode: 4, Slice: i % 6, T: i / 6}
		if im.Frame != i || im.Format != "nifti" || im.Width != 55 || im.Height != 46 || im.Volume == nil {
			t.Fatalf("image %d: frame %d format %s %dx%d volume %+v", i, im.Frame, im.Format, im.Width, im.Height, im.Volume)
		}
		got := *im.Volume
		got.Windows = nil
		if !reflect.DeepEqual(got, want) {
			t.Errorf("image %d: volume %+v, want %+v", i, got, want)
		}
		// No cal_min/cal_max in the fixture: four windows, the default
		// rendering's first.
		var names []string
		for _, w := range im.Volume.Windows {
			names = append(names, w.Name)
			if !(w.High >= w.Low) {
				t.Errorf("image %d: window %s range %v..%v", i, w.Name, w.Low, w.High)
			}
		}
		if wantNames := []string{"percentile 0.5-99.5", "min-max per slice", "min-max per volume", "percentile 1-99"}; !slices.Equal(names, wantNames) {
			t.Errorf("image %d: windows %v, want %v", i, names, wantNames)
		}
		if i >= 6 && !reflect.DeepEqual(im.Volume.Windows, imgs[i-6].Volume.Windows) {
			t.Errorf("image %d: the second time point's windows %v differ from the first's %v", i, im.Volume.Windows, imgs[i-6].Volume.Windows)
		}
		if i >= 6 && im.PixelSHA256 != imgs[i-6].PixelSHA256 {
			t.Errorf("image %d: the second time point's slice differs from the first's", i)
		}
	}
}

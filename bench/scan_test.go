package bench

import (
	"context"
	"strings"
	"testing"
)

// TestRunScan runs the whole-scan workload on the demo datasets: both
// contenders see every image, and every stage of the scan is measured.
func TestRunScan(t *testing.T) {
	var out strings.Builder
	res, err := RunScan(context.Background(), ScanConfig{Dirs: []string{"../testdata/demo/original", "../testdata/demo/broken"}, Workers: 2, Rounds: 2}, &out)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
	// 7 images in original (one per DICOM); broken holds none.
	if got, want := res.Copycat.Images, 2*7; got != want {
		t.Errorf("copycat images = %d, want %d", got, want)
	}
	// suyashkumar/dicom alone decodes fewer of the demo's DICOMs.
	if got := res.Baseline.Images; got == 0 || got > res.Copycat.Images {
		t.Errorf("baseline images = %d, want some, at most copycat's %d", got, res.Copycat.Images)
	}
	if got, want := res.Files, 7+5; got != want {
		t.Errorf("files = %d, want %d", got, want)
	}
	if len(res.Ratios) != 2 || res.Ratio <= 0 {
		t.Errorf("ratios %v, overall %v: want one per round and a positive overall ratio", res.Ratios, res.Ratio)
	}
	if len(res.Stages) != 5 {
		t.Fatalf("stages = %v, want read, decode, digests, fingerprints, index write", res.Stages)
	}
	for _, s := range res.Stages {
		if s.PerImage <= 0 {
			t.Errorf("stage %s measured %v per image, want a positive time", s.Stage, s.PerImage)
		}
	}
	for _, want := range []string{"copycat", "baseline", "ratio", "fingerprints"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

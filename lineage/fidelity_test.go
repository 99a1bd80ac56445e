package lineage

import (
	"fmt"
	"testing"
)

func TestFidelity(t *testing.T) {
	tests := []struct {
		name string
		x, y image
		want string
	}{
		{"jpeg generations", image{w: 96, h: 96, bits: 8, lossy: true, quality: 90, format: "jpeg"},
			image{w: 96, h: 96, bits: 8, lossy: true, quality: 75, format: "jpeg"}, "map[higher JPEG quality:1]"},
		{"close qualities say nothing", image{w: 96, h: 96, bits: 8, lossy: true, quality: 90, format: "jpeg"},
			image{w: 96, h: 96, bits: 8, lossy: true, quality: 87, format: "jpeg"}, "map[]"},
		{"dicom beats a smaller jpeg", image{w: 128, h: 128, bits: 16, format: "dicom"},
			image{w: 96, h: 96, bits: 8, lossy: true, quality: 75, format: "jpeg"},
			"map[DICOM rather than a raster rendering:1 larger dimensions:1 lossless rather than lossy:1 more bits per sample:1]"},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(fidelity(&tt.x, &tt.y)); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
}

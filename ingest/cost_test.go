package ingest

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"

	"github.com/copycat-dev/copycat/internal/testkit"
)

func TestDecodeCost(t *testing.T) {
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, image.NewRGBA(image.Rect(0, 0, 1024, 768)), nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		minSide int
		data    []byte
		want    int64
	}{
		{"grey PNG", 0, testkit.PNGHeader(1000, 500, 8, 0), 1000 * 500},
		{"16-bit grey PNG", 0, testkit.PNGHeader(1000, 500, 16, 0), 2 * 1000 * 500},
		{"RGB PNG: RGBA and its normalised copy", 0, testkit.PNGHeader(1000, 500, 8, 2), 8 * 1000 * 500},
		{"16-bit RGBA PNG", 0, testkit.PNGHeader(100, 100, 16, 6), 16 * 100 * 100},
		{"palette PNG: indices and expansion", 0, testkit.PNGHeader(100, 100, 8, 3), 5 * 100 * 100},
		{"JPEG at full size", 0, jpg.Bytes(), 2 * 1024 * 768 * 3},
		{"JPEG at 1/8 scale for 64-pixel fingerprints", 64, jpg.Bytes(), 2 * 128 * 96 * 3},
		{"JPEG at 1/2 scale for 300 pixels", 300, jpg.Bytes(), 2 * 512 * 384 * 3},
		{"not an image", 0, []byte("hello, world"), 0},
		{"truncated PNG header", 0, testkit.PNGHeader(100, 100, 8, 0)[:20], 0},
	}
	for _, tt := range tests {
		dec := NewDecoder(Options{MinSide: tt.minSide})
		if got := dec.DecodeCost(tt.data); got != tt.want {
			t.Errorf("%s: DecodeCost = %d, want %d", tt.name, got, tt.want)
		}
		dec.Close()
	}
}

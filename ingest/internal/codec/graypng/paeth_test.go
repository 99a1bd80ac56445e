package graypng

import (
	"testing"

	"github.com/copycat-dev/copycat/ingest/internal/codec/internal/pngtest"
)

// TestPaethPredict checks paethPredict and paethPredict2 against the
// specification's predictor on every triple of bytes.
func TestPaethPredict(t *testing.T) {
	for a := range 256 {
		for b := range 256 {
			for c := range 256 {
				want := int(pngtest.Paeth(byte(a), byte(b), byte(c)))
				t1, t2 := paethThresholds(b, c)
				if got := paethPredict(a, b, c, t1, t2); got != want {
					t.Fatalf("paethPredict(%d, %d, %d) = %d, want %d", a, b, c, got, want)
				}
				if got := paethPredict2(a, b, c); got != want {
					t.Fatalf("paethPredict2(%d, %d, %d) = %d, want %d", a, b, c, got, want)
				}
			}
		}
	}
}

package spng

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/copycat-dev/copycat/ingest/internal/codec"
	"github.com/copycat-dev/copycat/ingest/internal/codec/internal/pngtest"
)

// TestBuild checks that the package says truthfully whether it was built
// with libspng: a stub build fails with codec.ErrNotBuilt, a real one
// decodes.
func TestBuild(t *testing.T) {
	data := pngtest.Encode(t, pngtest.RandomSpec(rand.New(rand.NewPCG(1, 2)), 5, 4, 8, 0))
	img, err := Decode(data, 1<<20)
	if !Available {
		if !errors.Is(err, codec.ErrNotBuilt) {
			t.Errorf("Decode: err = %v, want codec.ErrNotBuilt", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if got := img.Bounds().Size(); got.X != 5 || got.Y != 4 {
		t.Errorf("size %v, want 5x4", got)
	}
}

package turbojpeg

import (
	"errors"
	"os"
	"testing"

	"github.com/copycat-dev/copycat/ingest/internal/codec"
)

// The tests share package jpegscale's fixtures (../jpegscale/testdata):
// the two packages decode the same streams and are compared on them.
const fixtureDir = "../jpegscale/testdata/"

func readFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestBuild checks that the package says truthfully whether it was built
// with libjpeg-turbo: a stub build fails every call with codec.ErrNotBuilt,
// a real one decodes.
func TestBuild(t *testing.T) {
	data := readFile(t, fixtureDir+"v420.jpg")
	d, err := NewDecoder()
	if !Available {
		if !errors.Is(err, codec.ErrNotBuilt) {
			t.Errorf("NewDecoder: err = %v, want codec.ErrNotBuilt", err)
		}
		if _, _, err := Luma(data, 8); !errors.Is(err, codec.ErrNotBuilt) {
			t.Errorf("Luma: err = %v, want codec.ErrNotBuilt", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("NewDecoder: %v", err)
	}
	defer d.Close()
	img, scale, err := d.Luma(data, 8)
	if err != nil {
		t.Fatalf("Luma: %v", err)
	}
	if got, want := img.Rect.Dx(), (150+scale-1)/scale; got != want || scale != 8 {
		t.Errorf("width %d at scale %d, want %d at scale 8", got, scale, want)
	}
}

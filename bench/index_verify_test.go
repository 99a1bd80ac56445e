package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/copycat-dev/copycat/internal/testkit"
)

// TestVerifyStudy runs the verification study on the shared corpus and
// checks the properties the default thresholds were chosen for.
func TestVerifyStudy(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("decodes the whole corpus: skipped with -short and -race")
	}
	corpus := testkit.Corpus(t)
	testkit.ImageMagick(t) // the study's copies are made with it
	var out bytes.Buffer
	cats, pairs, err := RunVerify(context.Background(), VerifyConfig{Corpus: corpus}, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pairs {
		copies := strings.HasPrefix(p.Category, "ImageMagick") || strings.HasPrefix(p.Category, "known")
		if !copies && p.Accepted {
			t.Logf("accepted as a copy: %s: %s ~ %s %+v", p.Category, p.A, p.B, p.V)
		}
		if copies && p.V.PHashDistance <= 8 && !p.Accepted {
			t.Logf("copy rejected: %s: %s %+v", p.Category, p.A, p.V)
		}
	}
	// What the defaults were chosen for: every candidate copy except 2%
	// crops is accepted, and no adjacent slice, clip frame, pair of
	// distinct images or similar-but-distinct pair (hard negatives) is.
	for _, c := range cats {
		switch {
		case c.Name == "ImageMagick copy: crop-2%":
		case c.Copies && c.Accepted < c.Candidates:
			t.Errorf("%s: %d of %d candidate copies rejected", c.Name, c.Candidates-c.Accepted, c.Candidates)
		case !c.Copies && c.Accepted > 0:
			t.Errorf("%s: %d accepted as copies", c.Name, c.Accepted)
		}
	}
}

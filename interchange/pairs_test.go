package interchange

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/copycat-dev/copycat/internal/testkit"
	"github.com/copycat-dev/copycat/match"
)

// pairsSeed is a pairs file of two rows, written by TestPairsRoundTrip
// with -update.
var pairsSeed = filepath.Join("testdata", "pairs", "pairs.parquet")

func seedPairs() (PairsMeta, []Pair) {
	var set ImageSet
	a := ImageName{"orig", "ct/1.dcm", 0}
	b := ImageName{"upload", "1.png", 0}
	c := ImageName{"upload", "2.png", 3}
	for _, n := range []ImageName{a, b, c} {
		set.Add(n, [32]byte{byte(n.Frame)})
	}
	return PairsMeta{MaxDistance: 8, Set: set}, []Pair{
		NewPair(b, a, match.Result{Kind: match.NearDuplicate, Distance: 3, Score: 0.99, Verified: true}),
		NewPair(a, c, match.Result{Kind: match.IdenticalPixels, Score: 1, Verified: true}),
	}
}

func TestPairsRoundTrip(t *testing.T) {
	meta, rows := seedPairs()
	SortPairs(rows)
	path := filepath.Join(t.TempDir(), "pairs.parquet")
	if testkit.Update() {
		path = pairsSeed
	}
	w, err := NewPairWriter(path, meta)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		paths []string
	}{{"written", []string{path}}, {"seed", []string{pairsSeed}}} {
		gotMeta, got, err := ReadPairs(tc.paths)
		if err != nil {
			t.Fatal(err)
		}
		if gotMeta != meta || !reflect.DeepEqual(got, rows) {
			t.Errorf("%s: read %+v %+v, want %+v %+v", tc.name, gotMeta, got, meta, rows)
		}
	}
	if got := rows[0]; got.ADataset != "orig" || got.BPath != "1.png" || got.Kind != "near-duplicate" {
		t.Errorf("NewPair put the names or kind wrong: %+v", got)
	}
	// Files of two outputs do not mix; an export's table is no pairs file.
	other := filepath.Join(t.TempDir(), "other.parquet")
	meta.MaxDistance = 4
	w, err = NewPairWriter(other, meta)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadPairs([]string{path, other}); !errors.Is(err, ErrPairsMismatch) {
		t.Errorf("two outputs: %v, want ErrPairsMismatch", err)
	}
	if _, _, err := ReadPairs([]string{filepath.Join(seed, "images.parquet")}); !errors.Is(err, ErrFormat) {
		t.Errorf("an images table: %v, want ErrFormat", err)
	}
}

func FuzzReadPairs(f *testing.F) {
	b, err := os.ReadFile(pairsSeed)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "pairs.parquet")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, rows, err := ReadPairs([]string{path})
		if err == nil && len(rows) > 0 {
			_, _ = rows[0].Names()
		}
	})
}

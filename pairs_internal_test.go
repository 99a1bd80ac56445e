package copycat

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/interchange"
)

// TestImportPairs exports the verified pairs of the demo datasets'
// index as a pairs file, imports it, and checks that clusters and
// lineage come from the imported pairs and equal the search's; that a
// second import changes nothing; and that a scan adding images makes
// clusters search again, and refuses the old pairs.
func TestImportPairs(t *testing.T) {
	ctx := t.Context()
	tmp := t.TempDir()
	ix, err := Open(filepath.Join(tmp, "index"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	demo := filepath.Join("testdata", "demo")
	if _, err := ix.Scan(ctx, []Dataset{
		{Name: "original", Path: filepath.Join(demo, "original")},
		{Name: "upload", Path: filepath.Join(demo, "upload.zip")},
		{Name: "kaggle-copy", Path: filepath.Join(demo, "kaggle-copy.tar.gz")},
	}, ScanOptions{}); err != nil {
		t.Fatal(err)
	}
	want, wst, err := ix.Clusters(ctx, ClusterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantLineage, err := ix.Lineage(ctx, LineageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pairs := filepath.Join(tmp, "pairs.parquet")
	n, err := interchange.ExportPairs(ctx, ix.st, pairs, index.ClusterOptions{MaxDistance: -1})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 || n != wst.VerifiedPairs {
		t.Fatalf("ExportPairs wrote %d pairs, Clusters verified %d", n, wst.VerifiedPairs)
	}
	for range 2 {
		sum, err := ix.ImportPairs(ctx, []string{pairs})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Pairs != n || sum.Rows != n || sum.MaxDistance != index.DefaultMaxDistance {
			t.Errorf("ImportPairs = %+v, want %d pairs at distance %d", sum, n, index.DefaultMaxDistance)
		}
		got, st, err := ix.Clusters(ctx, ClusterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if st.ImportedPairs != n {
			t.Errorf("Clusters took %d imported pairs, want %d", st.ImportedPairs, n)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Clusters from imported pairs\n got %+v\nwant %+v", got, want)
		}
		gotLineage, err := ix.Lineage(ctx, LineageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(gotLineage, wantLineage) {
			t.Errorf("Lineage from imported pairs differs:\n got %+v\nwant %+v", gotLineage, wantLineage)
		}
	}
	if _, st, err := ix.Clusters(ctx, ClusterOptions{NoTransforms: true}); err != nil || st.ImportedPairs != 0 {
		t.Errorf("Clusters without transforms took %d imported pairs (%v), want its own search", st.ImportedPairs, err)
	}

	if _, err := ix.Scan(ctx, []Dataset{{Name: "again", Path: filepath.Join(demo, "original")}}, ScanOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, st, err := ix.Clusters(ctx, ClusterOptions{}); err != nil || st.ImportedPairs != 0 {
		t.Errorf("after a scan Clusters took %d imported pairs (%v), want its own search", st.ImportedPairs, err)
	}
	if _, err := ix.ImportPairs(ctx, []string{pairs}); !errors.Is(err, ErrPairsMismatch) {
		t.Errorf("ImportPairs of pairs of other images: %v, want ErrPairsMismatch", err)
	}
	if _, err := ix.ImportPairs(ctx, []string{filepath.Join("interchange", "testdata", "upload", "images.parquet")}); !errors.Is(err, ErrBadExport) {
		t.Errorf("ImportPairs of an images table: %v, want ErrBadExport", err)
	}
}

package lineage

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/internal/reupload"
	"github.com/copycat-dev/copycat/scan"
)

// TestQueryClustersLineageAgree checks that the three ways of asking
// "which images are copies" give one answer on the quality scenario built
// from the shipped cut of a real MR volume (window and min-max renders,
// a JPEG upload with leaks, flips, rotations and crops): lineage's groups
// are the index's clusters, a query of each cluster's representative
// verifies no image outside its cluster, and it returns
// every other member, verified, with the cluster's kind and transform
// (members that only the rescue pass can find, beyond the query's pHash
// radius, are counted and must be crops).
func TestQueryClustersLineageAgree(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and scans a 165-image scenario")
	}
	ctx := context.Background()
	dir := t.TempDir()
	vol, err := reupload.CutVolume()
	if err != nil {
		t.Fatal(err)
	}
	truth, err := reupload.Generate(ctx, reupload.Config{Main: vol, Seed: 1}, dir)
	if err != nil {
		t.Fatal(err)
	}
	idx := filepath.Join(dir, "index")
	var ds []scan.Dataset
	for _, name := range truth.Datasets {
		ds = append(ds, scan.Dataset{Name: name, Path: filepath.Join(dir, name)})
	}
	st, err := index.Open(idx, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := scan.Run(ctx, st, scan.Options{}, ds); err != nil {
		t.Fatal(err)
	}
	clusters, _, err := st.Clusters(ctx, index.ClusterOptions{MaxDistance: -1})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Analyze(ctx, st, Options{MaxDistance: -1, NoDocuments: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(clusters) < 30 {
		t.Fatalf("%d clusters: the scenario has 32 slices with copies", len(clusters))
	}

	// Lineage's groups are the clusters.
	setOf := func(ids []uint64) string { slices.Sort(ids); return fmtIDs(ids) }
	want := map[string]bool{}
	for _, c := range clusters {
		var ids []uint64
		for _, m := range c.Members {
			ids = append(ids, m.ImageID)
		}
		want[setOf(ids)] = true
	}
	got := map[string]bool{}
	for _, g := range rep.groups {
		var ids []uint64
		for _, m := range g.members {
			ids = append(ids, rep.images[m.img].id)
		}
		got[setOf(ids)] = true
	}
	if !maps.Equal(got, want) {
		t.Errorf("lineage has %d groups, the index %d clusters, and they differ", len(got), len(want))
	}

	// A query of each representative finds the members as the cluster
	// describes them.
	rescued, checked := 0, 0
	qw := scan.NewQueryWorker(st)
	defer qw.Close()
	for _, c := range clusters {
		r := c.Members[0]
		p := filepath.Join(dir, r.Dataset, filepath.FromSlash(r.Path))
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		res, err := qw.Query(ctx, st, p, data, scan.QueryOptions{MaxDistance: -1})
		if err != nil || len(res) != 1 {
			t.Fatalf("query %s/%s: %v %+v", r.Dataset, r.Path, err, res)
		}
		for _, q := range res[0].Matches {
			if q.Verified && q.Image.ID != r.ImageID && !slices.ContainsFunc(c.Members, func(m index.ClusterMember) bool { return m.ImageID == q.Image.ID }) {
				t.Errorf("query of %s/%s verifies %s/%s (%s %s, score %.5f), which is not in its cluster", r.Dataset, r.Path,
					q.Image.Dataset, q.Image.Path, q.Kind, q.Result.TransformName(), q.Result.Score)
			}
		}
		for _, m := range c.Members[1:] {
			i := slices.IndexFunc(res[0].Matches, func(x index.Match) bool { return x.Image.ID == m.ImageID })
			if i < 0 {
				if !m.Relation.Cropped() || m.Distance <= index.DefaultMaxDistance {
					t.Errorf("query of %s/%s does not return %s/%s (%s %s, distance %d)", r.Dataset, r.Path, m.Dataset, m.Path, m.Kind, m.Transform, m.Distance)
				}
				rescued++
				continue
			}
			q := res[0].Matches[i]
			checked++
			if q.Kind != m.Kind || q.Result.TransformName() != m.Transform || !q.Verified {
				t.Errorf("%s/%s ~ %s/%s: query says %s %s verified %v, the cluster %s %s", r.Dataset, r.Path, m.Dataset, m.Path,
					q.Kind, q.Result.TransformName(), q.Verified, m.Kind, m.Transform)
			}
		}
	}
	t.Logf("%d clusters; %d members checked against a query, %d crops only the rescue pass finds", len(clusters), checked, rescued)
	if checked < 100 {
		t.Errorf("only %d members checked", checked)
	}
}

func fmtIDs(ids []uint64) string {
	b := make([]byte, 0, 8*len(ids))
	for _, id := range ids {
		for k := range 8 {
			b = append(b, byte(id>>(8*k)))
		}
	}
	return string(b)
}

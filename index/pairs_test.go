package index

import (
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/copycat-dev/copycat/hash"
	"github.com/copycat-dev/copycat/match"
)

// pairsFixture indexes an original dataset and an upload of most of it:
// near copies at every distance up to 10, mirrored copies, and images
// with no copy, so that the search, verification and rescue all act.
func pairsFixture(tb testing.TB) *Store {
	tb.Helper()
	s := openStore(tb, Options{})
	orig := map[string][]Image{}
	upload := map[string][]Image{}
	for i := range 24 {
		im := fakeImage(uint64(100+i), 0)
		orig[fmt.Sprintf("%02d.dcm", i)] = []Image{im}
		switch {
		case i < 11:
			upload[fmt.Sprintf("near/%02d.png", i)] = []Image{nearCopy(im, i, uint64(i))}
		case i < 15:
			m := nearCopy(im, 0, uint64(i))
			m.Fingerprint.PHash = im.Fingerprint.Dihedral[hash.FlipH]
			m.Fingerprint.Thumb = match.TransformThumb(&im.Fingerprint.Thumb, match.FlipH)
			upload[fmt.Sprintf("mirrored/%02d.png", i)] = []Image{m}
		case i < 20:
			upload[fmt.Sprintf("far/%02d.jpg", i)] = []Image{nearCopy(im, 14, uint64(i))}
		}
	}
	indexFiles(tb, s, "orig", orig)
	indexFiles(tb, s, "upload", upload)
	return s
}

func verifiedPairs(tb testing.TB, s *Store, opts ClusterOptions) []IDPair {
	tb.Helper()
	var out []IDPair
	err := s.VerifiedPairs(tb.Context(), opts, func(p Pair) error {
		if p.A >= p.B || !p.Result.Verified {
			tb.Errorf("VerifiedPairs gave %+v: want A < B, verified", p)
		}
		out = append(out, IDPair{p.A, p.B})
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	slices.SortFunc(out, func(x, y IDPair) int { return cmp.Or(cmp.Compare(x.A, y.A), cmp.Compare(x.B, y.B)) })
	return out
}

func clustersOf(tb testing.TB, s *Store, opts ClusterOptions, pairs []IDPair) ([]Cluster, ClusterStats) {
	tb.Helper()
	var cs []Cluster
	var st ClusterStats
	var err error
	if pairs == nil {
		cs, st, err = s.Clusters(tb.Context(), opts)
	} else {
		cs, st, err = s.ClustersOf(tb.Context(), opts, pairs)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return cs, st
}

func TestVerifiedPairsAreTheVerifiedCandidates(t *testing.T) {
	s := pairsFixture(t)
	for _, opts := range []ClusterOptions{{MaxDistance: -1}, {MaxDistance: 4}, {MaxDistance: -1, NoTransforms: true}} {
		all, err := s.Pairs(t.Context(), opts)
		if err != nil {
			t.Fatal(err)
		}
		var want []IDPair
		for _, p := range all {
			if p.Result.Verified {
				want = append(want, IDPair{p.A, p.B})
			}
		}
		if got := verifiedPairs(t, s, opts); !slices.Equal(got, want) {
			t.Errorf("%+v: VerifiedPairs\n got %v\nwant %v", opts, got, want)
		}
		if len(want) == 0 {
			t.Errorf("%+v: no verified pair: the fixture tests nothing", opts)
		}
	}
}

func TestClustersOfVerifiedPairsEqualsClusters(t *testing.T) {
	s := pairsFixture(t)
	for _, opts := range []ClusterOptions{{MaxDistance: -1}, {MaxDistance: 4}, {MaxDistance: -1, NoTransforms: true}, {MaxDistance: -1, NoRescue: true}} {
		want, wst := clustersOf(t, s, opts, nil)
		got, gst := clustersOf(t, s, opts, verifiedPairs(t, s, opts))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%+v: ClustersOf\n got %+v\nwant %+v", opts, got, want)
		}
		if gst.VerifiedPairs != wst.VerifiedPairs || gst.RescuedPairs != wst.RescuedPairs {
			t.Errorf("%+v: ClustersOf verified %d, rescued %d; Clusters %d, %d", opts, gst.VerifiedPairs, gst.RescuedPairs, wst.VerifiedPairs, wst.RescuedPairs)
		}
	}
	// A subset of the pairs gives other clusters: ClustersOf does not search.
	opts := ClusterOptions{MaxDistance: -1, NoRescue: true}
	want, _ := clustersOf(t, s, opts, nil)
	got, _ := clustersOf(t, s, opts, verifiedPairs(t, s, opts)[:1])
	if len(got) != 1 || len(want) < 2 {
		t.Errorf("ClustersOf one pair gave %d clusters (Clusters %d), want 1", len(got), len(want))
	}
}

func TestSetPairs(t *testing.T) {
	s := pairsFixture(t)
	opts := ClusterOptions{MaxDistance: -1}
	want, _ := clustersOf(t, s, opts, nil)
	pairs := verifiedPairs(t, s, opts)
	set := PairSet{Pairs: pairs, MaxDistance: DefaultMaxDistance}
	for range 2 { // idempotent
		if err := s.SetPairs(t.Context(), set); err != nil {
			t.Fatal(err)
		}
		ps, err := s.ImportedPairs(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if wps := (PairsStatus{Pairs: len(pairs), MaxDistance: DefaultMaxDistance, Current: true}); ps != wps {
			t.Errorf("ImportedPairs = %+v, want %+v", ps, wps)
		}
		got, st := clustersOf(t, s, opts, nil)
		if st.ImportedPairs != len(pairs) {
			t.Errorf("Clusters used %d imported pairs, want %d", st.ImportedPairs, len(pairs))
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Clusters from imported pairs\n got %+v\nwant %+v", got, want)
		}
	}
	mustCheck(t, s)

	// Other options than the pairs': the search runs.
	if _, st := clustersOf(t, s, ClusterOptions{MaxDistance: 4}, nil); st.ImportedPairs != 0 {
		t.Errorf("Clusters at distance 4 used %d imported pairs of distance 8", st.ImportedPairs)
	}

	// Fewer pairs than the search's: Clusters shows the imported ones
	// are used (one cluster), not searched.
	if err := s.SetPairs(t.Context(), PairSet{Pairs: pairs[:1], MaxDistance: DefaultMaxDistance}); err != nil {
		t.Fatal(err)
	}
	if got, _ := clustersOf(t, s, opts, nil); len(got) != 1 {
		t.Errorf("Clusters on one imported pair gave %d clusters, want 1", len(got))
	}

	// A later scan adds an image: the pairs no longer apply, the search
	// runs again, and finds what it found before plus nothing new.
	indexFiles(t, s, "more", map[string][]Image{"x.png": {fakeImage(999, 0)}})
	got, st := clustersOf(t, s, opts, nil)
	if st.ImportedPairs != 0 {
		t.Errorf("after a scan Clusters used %d imported pairs, want its own search", st.ImportedPairs)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after a scan, clusters\n got %+v\nwant %+v", got, want)
	}
	if ps, err := s.ImportedPairs(t.Context()); err != nil || ps.Current || ps.Pairs != 1 {
		t.Errorf("ImportedPairs after a scan = %+v, %v: want 1 pair, not current", ps, err)
	}

	if err := s.SetPairs(t.Context(), PairSet{Pairs: []IDPair{{1, 1 << 40}}, MaxDistance: 8}); !errors.Is(err, ErrPairsUnknownImage) {
		t.Errorf("SetPairs with an unknown image: %v, want ErrPairsUnknownImage", err)
	}
}

package bench

import (
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // the baseline decodes the scenario's JPEGs
	_ "image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/corona10/goimagehash"

	"github.com/copycat-dev/copycat"
	"github.com/copycat-dev/copycat/internal/reupload"
	"github.com/copycat-dev/copycat/lineage"
)

// QualityConfig is the copy-detection quality benchmark (tracker issue
// 13): a re-upload scenario built from real MRI volumes
// (internal/reupload) is scanned into a fresh index, and copycat's
// clusters and lineage are scored against the scenario's truth, next to a
// plain pHash baseline on the same PNG/JPEG files.
type QualityConfig struct {
	// Volumes is the folder holding ch2better.nii.gz (and, optionally,
	// inia19-t1-brain.nii.gz); "" looks in $COPYCAT_VOLUMES, then in
	// Debian's mricron-data folder, and falls back to the cut of
	// ch2better embedded in internal/reupload when neither is set and
	// mricron-data is not installed.
	Volumes string
	// Cut uses the embedded cut even when the volumes are installed.
	Cut bool
	// Slices is the length of the main series; 0 means 108.
	Slices int
	Seed   uint64
	// Dir receives the scenario and the index and is kept; "" means a
	// temporary folder, removed afterwards.
	Dir string
	// Workers is the scan's worker count (0: the scan's default).
	Workers int
	// BaselineDistance is the baseline's pHash radius; 0 means 6.
	BaselineDistance int
	// Scenario names the scenario (reupload.ScenarioNames); "" means
	// "mr". RunQualitySuite also takes "all".
	Scenario string
	// Corpus is the development corpus the "mix" scenario is built from;
	// "" looks in $COPYCAT_CORPUS, then for shared/corpus beside the
	// working folder or its parents.
	Corpus string
}

// QualityReport is the result of RunQuality. It is JSON-serialisable;
// WriteQualityText prints it as a table.
type QualityReport struct {
	Scenario string           `json:"scenario"`
	Source   string           `json:"source"` // which volumes the scenario was built from
	Seed     uint64           `json:"seed"`
	Datasets []QualityDataset `json:"datasets"`
	// Pairs is the number of true copy pairs in the scenario; Raster the
	// number among PNG/JPEG files only.
	Pairs       int `json:"truth_pairs"`
	RasterPairs int `json:"truth_raster_pairs"`
	// Copycat scores the clusters on every image; CopycatRaster the same
	// clusters restricted to PNG/JPEG pairs; Baseline the pHash baseline
	// on those PNG/JPEG files.
	Copycat       QualityScores  `json:"copycat"`
	CopycatRaster QualityScores  `json:"copycat_raster"`
	Baseline      QualityScores  `json:"baseline_raster"`
	Lineage       LineageQuality `json:"lineage"`
	// Unmatched counts cluster members that are not in the truth (none
	// expected).
	Unmatched int `json:"unmatched_members"`
	// Skipped lists source files the scenario left out, with the reason.
	Skipped []string `json:"skipped_sources,omitempty"`
	// Seconds: generating, scanning, clustering, lineage, baseline.
	Seconds map[string]float64 `json:"seconds"`
}

// QualityDataset is one dataset of the scenario.
type QualityDataset struct {
	Name   string `json:"name"`
	Images int    `json:"images"`
}

// QualityScores are the pair scores of one contender.
type QualityScores struct {
	Name string `json:"name"`
	// Labels has one row per transform label, then "all". A pair counts
	// under each of its two images' labels.
	Labels     []QualityRow    `json:"labels"`
	Neighbours NeighbourLinks  `json:"neighbours"`
	Clusters   int             `json:"clusters,omitempty"`
	Missed     []QualityMissed `json:"missed_by_pair_kind"`
	// FalseLinks counts the predicted pairs that are not copies by pair
	// kind and slice distance.
	FalseLinks []QualityFalse `json:"false_links_by_pair_kind"`
	// Failures lists the first maxFailures missed and false pairs with
	// their paths (copycat over every image only; JSON only).
	Failures []QualityFailure `json:"failures,omitempty"`
}

// QualityFailure is one missed or falsely linked pair.
type QualityFailure struct {
	A        string `json:"a"` // dataset/path
	B        string `json:"b"`
	Kind     string `json:"kind"`
	Missed   bool   `json:"missed"`   // a copy pair not predicted; else a false link
	Distance int    `json:"distance"` // slices apart, -1 across volumes
}

// maxFailures bounds QualityScores.Failures.
const maxFailures = 200

// QualityFalse counts the false links of one pair kind at one slice
// distance; Distance is -1 across volumes (or between distinct pictures).
type QualityFalse struct {
	Kind     string `json:"kind"`
	Distance int    `json:"distance"`
	Links    int    `json:"links"`
}

// QualityRow scores the pairs that involve one transform label.
type QualityRow struct {
	Label      string  `json:"label"`
	TruthPairs int     `json:"truth_pairs"`
	Found      int     `json:"found"` // true pairs predicted
	Recall     float64 `json:"recall"`
	Predicted  int     `json:"predicted"` // predicted pairs involving the label
	True       int     `json:"true"`      // of which are copies
	Precision  float64 `json:"precision"`
}

// QualityMissed counts the true pairs of one kind ("dicom~window-png")
// that a contender missed.
type QualityMissed struct {
	Kind   string `json:"kind"`
	Missed int    `json:"missed"`
	Of     int    `json:"of"`
}

// NeighbourLinks counts false links between distinct slices.
type NeighbourLinks struct {
	// Pairs1 is the number of image pairs 1 slice apart in one volume;
	// Linked1 how many a contender linked, Rate1 the ratio.
	Pairs1  int     `json:"pairs_distance_1"`
	Linked1 int     `json:"linked_distance_1"`
	Rate1   float64 `json:"rate_distance_1"`
	// Linked2 counts false links 2 or more slices apart, Cross links
	// between the two volumes.
	Linked2 int `json:"linked_distance_2_plus"`
	Cross   int `json:"linked_across_volumes"`
}

// LineageQuality scores the lineage analysis against the expected edges.
type LineageQuality struct {
	Edges      []EdgeQuality `json:"edges"`
	Leaks      []LeakQuality `json:"leaks"`
	Unexpected []string      `json:"unexpected_edges"` // "A -> B (n)"
	// OtherLeakPairs counts leak pairs reported where none are expected.
	OtherLeakPairs int `json:"other_leak_pairs"`
}

// EdgeQuality is one expected edge and what lineage made of it.
type EdgeQuality struct {
	Original string `json:"original"`
	Copy     string `json:"copy"`
	Expected int    `json:"expected_shared"`
	// Found is "direct", "reversed", "indirect", "indirect-reversed" or
	// "missing".
	Found  string  `json:"found"`
	Shared int     `json:"shared"`
	RelErr float64 `json:"relative_error"`
}

// LeakQuality is one expected leak and the pairs lineage counted.
type LeakQuality struct {
	Dataset  string `json:"dataset"`
	Expected int    `json:"expected_pairs"`
	Reported int    `json:"reported_pairs"`
}

// pairKey is a pair of truth indices, a < b.
type pairKey [2]int

func mkPair(a, b int) pairKey {
	if a > b {
		a, b = b, a
	}
	return pairKey{a, b}
}

// RunQuality builds the scenario, scans it, and scores copycat and the
// baseline against its truth.
func RunQuality(ctx context.Context, cfg QualityConfig) (*QualityReport, error) {
	in, err := loadQualityInputs(cfg)
	if err != nil {
		return nil, err
	}
	return runQuality(ctx, cfg, in)
}

// qualityInputs are the volumes (and corpus) a scenario is built from,
// read once for every scenario of a suite.
type qualityInputs struct {
	gen    reupload.Config
	source string
	dir    string // the volumes folder; "" for the shipped cut
}

func loadQualityInputs(cfg QualityConfig) (*qualityInputs, error) {
	var in qualityInputs
	vols, err := reupload.FindVolumes(cfg.Volumes)
	switch {
	case cfg.Cut || (errors.Is(err, reupload.ErrNoVolumes) && cfg.Volumes == "" && os.Getenv(reupload.EnvVolumes) == ""):
		if in.gen.Main, err = reupload.CutVolume(); err != nil {
			return nil, err
		}
		in.source = "shipped cut of ch2better (32 slices, internal/reupload/testdata); no second volume"
	case err != nil:
		return nil, err
	default:
		if in.gen.Main, err = reupload.ReadNIfTIFile(vols.Main); err != nil {
			return nil, err
		}
		in.source = "mricron-data " + vols.Main
		in.dir = vols.Dir
		if vols.Second != "" {
			if in.gen.Second, err = reupload.ReadNIfTIFile(vols.Second); err != nil {
				return nil, err
			}
			in.source += " + " + filepath.Base(vols.Second)
		}
	}
	return &in, nil
}

func runQuality(ctx context.Context, cfg QualityConfig, in *qualityInputs) (*QualityReport, error) {
	if cfg.BaselineDistance <= 0 {
		cfg.BaselineDistance = 6
	}
	if cfg.Scenario == "" {
		cfg.Scenario = reupload.ScenarioMR
	}
	rep := &QualityReport{Scenario: cfg.Scenario, Seed: cfg.Seed, Source: in.source, Seconds: map[string]float64{}}
	gcfg := in.gen
	gcfg.Slices, gcfg.Seed = cfg.Slices, cfg.Seed
	if reupload.NeedsCorpus(cfg.Scenario) {
		corpus, err := reupload.FindCorpus(cfg.Corpus)
		if err != nil {
			return nil, err
		}
		gcfg.Corpus = corpus
		rep.Source += "; corpus " + corpus
	}
	var err error
	dir := cfg.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "copycat-quality-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	t0 := time.Now()
	truth, err := reupload.GenerateScenario(ctx, cfg.Scenario, gcfg, dir)
	if err != nil {
		return nil, err
	}
	rep.Skipped = truth.Skipped
	rep.Seconds["generate"] = time.Since(t0).Seconds()

	// Scan every dataset into a fresh index, as `copycat scan` does.
	t0 = time.Now()
	idx := filepath.Join(dir, "index")
	if err := os.RemoveAll(idx); err != nil {
		return nil, err
	}
	var ds []copycat.Dataset
	for _, name := range truth.Datasets {
		ds = append(ds, copycat.Dataset{Name: name, Path: filepath.Join(dir, name)})
	}
	ix, err := copycat.Open(idx, copycat.Options{})
	if err != nil {
		return nil, err
	}
	defer ix.Close()
	sum, err := ix.Scan(ctx, ds, copycat.ScanOptions{Workers: cfg.Workers})
	if err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	for _, d := range sum.Datasets {
		if d.FailedTotal > 0 {
			return nil, fmt.Errorf("scan: %s: %d files failed (%s: %s)", d.Name, d.FailedTotal, d.Failed[0].Path, d.Failed[0].Reason)
		}
	}
	rep.Seconds["scan"] = time.Since(t0).Seconds()

	ims := truth.Images
	byPath := map[string]int{}
	for i, im := range ims {
		byPath[im.Dataset+"\x00"+im.Path] = i
	}
	counts := map[string]int{}
	for _, im := range ims {
		counts[im.Dataset]++
	}
	for _, name := range truth.Datasets {
		rep.Datasets = append(rep.Datasets, QualityDataset{name, counts[name]})
	}

	// copycat: every pair within a cluster is a predicted copy.
	t0 = time.Now()
	clusters, _, err := ix.Clusters(ctx, copycat.ClusterOptions{})
	if err != nil {
		return nil, fmt.Errorf("clusters: %w", err)
	}
	predicted := map[pairKey]bool{}
	for _, c := range clusters {
		var members []int
		for _, m := range c.Members {
			i, ok := byPath[m.Dataset+"\x00"+m.Path]
			if !ok {
				rep.Unmatched++
				continue
			}
			members = append(members, i)
		}
		for x, a := range members {
			for _, b := range members[x+1:] {
				if a != b {
					predicted[mkPair(a, b)] = true
				}
			}
		}
	}
	rep.Seconds["clusters"] = time.Since(t0).Seconds()
	all := func(reupload.Image) bool { return true }
	raster := reupload.Image.IsRaster
	rep.Copycat = score("copycat clusters", ims, predicted, all)
	rep.Copycat.Clusters = len(clusters)
	rep.CopycatRaster = score("copycat clusters, PNG/JPEG pairs", ims, predicted, raster)
	rep.CopycatRaster.Failures = nil
	rep.Pairs = rep.Copycat.Labels[len(rep.Copycat.Labels)-1].TruthPairs
	rep.RasterPairs = rep.CopycatRaster.Labels[len(rep.CopycatRaster.Labels)-1].TruthPairs

	// The baseline: goimagehash pHash of image.Decode, distance <= 6.
	t0 = time.Now()
	hashes := make([]*goimagehash.ImageHash, len(ims))
	for i, im := range ims {
		if !im.IsRaster() {
			continue
		}
		if hashes[i], err = qualityPHash(filepath.Join(dir, im.Dataset, filepath.FromSlash(im.Path))); err != nil {
			return nil, err
		}
	}
	base := map[pairKey]bool{}
	for a := range ims {
		for b := a + 1; b < len(ims); b++ {
			if hashes[a] == nil || hashes[b] == nil {
				continue
			}
			if d, err := hashes[a].Distance(hashes[b]); err == nil && d <= cfg.BaselineDistance {
				base[pairKey{a, b}] = true
			}
		}
	}
	rep.Baseline = score(fmt.Sprintf("baseline pHash <= %d, PNG/JPEG pairs", cfg.BaselineDistance), ims, base, raster)
	rep.Baseline.Failures = nil
	rep.Seconds["baseline"] = time.Since(t0).Seconds()

	t0 = time.Now()
	lin, err := ix.Lineage(ctx, copycat.LineageOptions{})
	if err != nil {
		return nil, fmt.Errorf("lineage: %w", err)
	}
	rep.Lineage = scoreLineage(truth, lin)
	rep.Seconds["lineage"] = time.Since(t0).Seconds()
	return rep, nil
}

func qualityPHash(path string) (*goimagehash.ImageHash, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	h, err := goimagehash.PerceptionHash(img)
	if err != nil {
		return nil, fmt.Errorf("phash %s: %w", path, err)
	}
	return h, nil
}

// score compares predicted pairs with the truth over the images keep
// admits (both images of a pair must be admitted).
func score(name string, ims []reupload.Image, predicted map[pairKey]bool, keep func(reupload.Image) bool) QualityScores {
	s := QualityScores{Name: name}
	rows := map[string]*QualityRow{}
	var labels []string
	row := func(l string) *QualityRow {
		if rows[l] == nil {
			rows[l] = &QualityRow{Label: l}
			labels = append(labels, l)
		}
		return rows[l]
	}
	for _, im := range ims {
		if keep(im) {
			row(im.Transform)
		}
	}
	total := &QualityRow{Label: "all"}
	missed := map[string]*QualityMissed{}
	falses := map[QualityFalse]int{}
	each := func(a, b reupload.Image, f func(r *QualityRow)) {
		f(total)
		f(rows[a.Transform])
		if b.Transform != a.Transform {
			f(rows[b.Transform])
		}
	}
	for i, a := range ims {
		if !keep(a) {
			continue
		}
		for j := i + 1; j < len(ims); j++ {
			b := ims[j]
			if !keep(b) {
				continue
			}
			p := predicted[pairKey{i, j}]
			if c := reupload.Copies(a, b); c != p && len(s.Failures) < maxFailures {
				d := abs(a.Slice - b.Slice)
				if a.Volume != b.Volume {
					d = -1
				}
				s.Failures = append(s.Failures, QualityFailure{A: a.Dataset + "/" + a.Path, B: b.Dataset + "/" + b.Path,
					Kind: pairKind(a, b), Missed: c, Distance: d})
			}
			if reupload.Copies(a, b) {
				kind := pairKind(a, b)
				if missed[kind] == nil {
					missed[kind] = &QualityMissed{Kind: kind}
				}
				missed[kind].Of++
				if !p {
					missed[kind].Missed++
				}
				each(a, b, func(r *QualityRow) {
					r.TruthPairs++
					if p {
						r.Found++
					}
				})
			}
			if p {
				each(a, b, func(r *QualityRow) {
					r.Predicted++
					if reupload.Copies(a, b) {
						r.True++
					}
				})
			}
			if a.Volume == b.Volume && abs(a.Slice-b.Slice) == 1 {
				s.Neighbours.Pairs1++
			}
			if p && !reupload.Copies(a, b) {
				d := abs(a.Slice - b.Slice)
				if a.Volume != b.Volume {
					d = -1
				}
				falses[QualityFalse{Kind: pairKind(a, b), Distance: d}]++
				switch {
				case a.Volume != b.Volume:
					s.Neighbours.Cross++
				case abs(a.Slice-b.Slice) == 1:
					s.Neighbours.Linked1++
				default:
					s.Neighbours.Linked2++
				}
			}
		}
	}
	s.Neighbours.Rate1 = ratio(s.Neighbours.Linked1, s.Neighbours.Pairs1)
	for _, l := range append(labels, "") {
		r := total
		if l != "" {
			r = rows[l]
		}
		r.Recall, r.Precision = ratio(r.Found, r.TruthPairs), ratio(r.True, r.Predicted)
		s.Labels = append(s.Labels, *r)
	}
	for _, m := range missed {
		s.Missed = append(s.Missed, *m)
	}
	slices.SortFunc(s.Missed, func(a, b QualityMissed) int { return strings.Compare(a.Kind, b.Kind) })
	for f, n := range falses {
		f.Links = n
		s.FalseLinks = append(s.FalseLinks, f)
	}
	slices.SortFunc(s.FalseLinks, func(a, b QualityFalse) int {
		if c := b.Links - a.Links; c != 0 {
			return c
		}
		if c := strings.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		return a.Distance - b.Distance
	})
	return s
}

// pairKind names a pair by its two labels in name order: "dicom~window-png".
func pairKind(a, b reupload.Image) string {
	x, y := a.Transform, b.Transform
	if x > y {
		x, y = y, x
	}
	return x + "~" + y
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// ratio is n/d, or -1 when d is 0 (printed "-"; JSON has no NaN).
func ratio(n, d int) float64 {
	if d == 0 {
		return -1
	}
	return float64(n) / float64(d)
}

func scoreLineage(truth *reupload.Truth, lin *lineage.Report) LineageQuality {
	var q LineageQuality
	type dir struct{ a, b string }
	expected := map[dir]bool{}
	for _, e := range truth.Edges {
		expected[dir{e.Original, e.Copy}] = true
		eq := EdgeQuality{Original: e.Original, Copy: e.Copy, Expected: e.Shared, Found: "missing"}
		find := func(edges []lineage.Edge, kind string) bool {
			for _, le := range edges {
				switch {
				case le.Original == e.Original && le.Copy == e.Copy:
					eq.Found = kind
				case le.Original == e.Copy && le.Copy == e.Original:
					eq.Found = kind + "-reversed"
					if kind == "direct" {
						eq.Found = "reversed"
					}
				default:
					continue
				}
				eq.Shared = le.SharedImages
				return true
			}
			return false
		}
		if !find(lin.Edges, "direct") {
			find(lin.Indirect, "indirect")
		}
		if e.Either {
			// The files hold the same pixels: no direction is wrong.
			eq.Found = strings.TrimSuffix(strings.TrimSuffix(eq.Found, "-reversed"), "reversed")
			if eq.Found == "" {
				eq.Found = "direct"
			}
		}
		eq.RelErr = math.Abs(float64(eq.Shared-e.Shared)) / float64(max(e.Shared, 1))
		q.Edges = append(q.Edges, eq)
	}
	for _, le := range lin.Edges {
		if !expected[dir{le.Original, le.Copy}] && !expected[dir{le.Copy, le.Original}] {
			q.Unexpected = append(q.Unexpected, fmt.Sprintf("%s -> %s (%d shared)", le.Original, le.Copy, le.SharedImages))
		}
	}
	want := map[string]bool{}
	for _, l := range truth.Leaks {
		lq := LeakQuality{Dataset: l.Dataset, Expected: l.Pairs}
		want[l.Dataset] = true
		for _, rl := range lin.Leaks {
			if rl.Dataset == l.Dataset && rl.Original == "" {
				lq.Reported += rl.Pairs
			}
		}
		q.Leaks = append(q.Leaks, lq)
	}
	for _, rl := range lin.Leaks {
		if !want[rl.Dataset] || rl.Original != "" {
			q.OtherLeakPairs += rl.Pairs
		}
	}
	return q
}

// WriteQualityText prints the report as tables. Timings go on the last
// line, which starts with "time:".
func WriteQualityText(w io.Writer, r *QualityReport) error {
	var errs []error
	p := func(format string, a ...any) {
		_, err := fmt.Fprintf(w, format, a...)
		errs = append(errs, err)
	}
	if r.Scenario == "" || r.Scenario == reupload.ScenarioMR {
		p("copy-detection quality on a re-upload scenario (seed %d)\n", r.Seed)
	} else {
		p("copy-detection quality on the %q re-upload scenario (seed %d)\n", r.Scenario, r.Seed)
	}
	p("volumes: %s\n", r.Source)
	var parts []string
	total := 0
	for _, d := range r.Datasets {
		parts = append(parts, fmt.Sprintf("%s %d", d.Name, d.Images))
		total += d.Images
	}
	p("datasets: %s (%d images)\n", strings.Join(parts, ", "), total)
	rule := "same volume and slice"
	if reupload.NeedsCorpus(r.Scenario) {
		rule += ", or same corpus picture (its known duplicate group)"
	}
	p("truth: %d copy pairs, %d among PNG/JPEG files; two images are copies iff %s\n", r.Pairs, r.RasterPairs, rule)
	for _, sk := range r.Skipped {
		p("skipped source: %s\n", sk)
	}
	if r.Unmatched > 0 {
		p("warning: %d cluster members not in the truth\n", r.Unmatched)
	}
	for _, s := range []QualityScores{r.Copycat, r.CopycatRaster, r.Baseline} {
		p("\n%s", s.Name)
		if s.Clusters > 0 {
			p(" (%d clusters)", s.Clusters)
		}
		p("\n")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "label\ttruth pairs\tfound\trecall\tpredicted\ttrue\tprecision\t")
		for _, row := range s.Labels {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%d\t%d\t%s\t\n", row.Label, row.TruthPairs, row.Found, f2(row.Recall), row.Predicted, row.True, f2(row.Precision))
		}
		errs = append(errs, tw.Flush())
		n := s.Neighbours
		p("false links: 1 slice apart %d of %d pairs (%s); 2+ slices apart %d; across volumes %d\n",
			n.Linked1, n.Pairs1, pct(n.Rate1), n.Linked2, n.Cross)
		var miss []string
		for _, m := range s.Missed {
			if m.Missed > 0 {
				miss = append(miss, fmt.Sprintf("%s %d/%d", m.Kind, m.Missed, m.Of))
			}
		}
		if len(miss) > 0 {
			p("missed by pair kind: %s\n", strings.Join(miss, ", "))
		}
		// The baseline's false links are many and known; copycat's are the
		// ones to fix.
		if s.Clusters > 0 && len(s.FalseLinks) > 0 {
			var fl []string
			for _, f := range s.FalseLinks {
				d := fmt.Sprintf("%d apart", f.Distance)
				if f.Distance < 0 {
					d = "distinct volumes/pictures"
				}
				fl = append(fl, fmt.Sprintf("%s %s %d", f.Kind, d, f.Links))
			}
			p("false links by pair kind: %s\n", strings.Join(fl, ", "))
		}
	}
	p("\nlineage (expected edges)\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "original -> copy\tfound\tshared\texpected\trel. error")
	for _, e := range r.Lineage.Edges {
		fmt.Fprintf(tw, "%s -> %s\t%s\t%d\t%d\t%s\n", e.Original, e.Copy, e.Found, e.Shared, e.Expected, pct(e.RelErr))
	}
	errs = append(errs, tw.Flush())
	for _, l := range r.Lineage.Leaks {
		p("leak pairs in %s: %d reported, %d expected\n", l.Dataset, l.Reported, l.Expected)
	}
	if r.Lineage.OtherLeakPairs > 0 {
		p("leak pairs reported elsewhere: %d (none expected)\n", r.Lineage.OtherLeakPairs)
	}
	if len(r.Lineage.Unexpected) == 0 {
		p("unexpected edges: none\n")
	} else {
		p("unexpected edges: %s\n", strings.Join(r.Lineage.Unexpected, "; "))
	}
	var times []string
	for _, k := range []string{"generate", "scan", "clusters", "baseline", "lineage"} {
		times = append(times, fmt.Sprintf("%s %.1fs", k, r.Seconds[k]))
	}
	p("\ntime: %s\n", strings.Join(times, ", "))
	return errors.Join(errs...)
}

func f2(x float64) string {
	if x < 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f", x)
}

func pct(x float64) string {
	if x < 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*x)
}

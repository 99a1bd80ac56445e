package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/copycat-dev/copycat/internal/reupload"
	"github.com/copycat-dev/copycat/internal/testkit"
)

// qualityText runs the benchmark and returns its table without the
// timings, with the volumes folder replaced by $VOLUMES.
func qualityText(tb testing.TB, cfg QualityConfig, volumes string) (*QualityReport, string) {
	tb.Helper()
	rep, err := RunQuality(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteQualityText(&buf, rep); err != nil {
		tb.Fatal(err)
	}
	tb.Log("\n" + buf.String())
	var lines []string
	for l := range strings.Lines(buf.String()) {
		if !strings.HasPrefix(l, "time:") {
			lines = append(lines, l)
		}
	}
	text := strings.Join(lines, "")
	if volumes != "" {
		text = strings.ReplaceAll(text, volumes, "$VOLUMES")
	}
	// The JSON form must hold the same report.
	data, err := json.Marshal(rep)
	if err != nil {
		tb.Fatalf("report is not JSON-serialisable: %v", err)
	}
	var back QualityReport
	if err := json.Unmarshal(data, &back); err != nil || back.Copycat.Labels[len(back.Copycat.Labels)-1] != rep.Copycat.Labels[len(rep.Copycat.Labels)-1] {
		tb.Fatalf("JSON round trip: %v", err)
	}
	return rep, text
}

// checkQuality checks what holds whatever the matching does: every
// cluster member is in the truth, and the scores are ratios.
func checkQuality(tb testing.TB, rep *QualityReport) {
	tb.Helper()
	if rep.Unmatched != 0 {
		tb.Errorf("%d cluster members are not in the truth", rep.Unmatched)
	}
	for _, s := range []QualityScores{rep.Copycat, rep.CopycatRaster, rep.Baseline} {
		for _, r := range s.Labels {
			if r.Found > r.TruthPairs || r.True > r.Predicted || r.Recall > 1 || r.Precision > 1 {
				tb.Errorf("%s %s: impossible row %+v", s.Name, r.Label, r)
			}
		}
	}
}

// TestQualityCut runs the quality benchmark on the cut of ch2better that
// internal/reupload ships, so it runs everywhere; the golden file pins
// every number (rewrite it with -update when the matching changes).
func TestQualityCut(t *testing.T) {
	rep, text := qualityText(t, QualityConfig{Cut: true, Seed: 1, Workers: 2}, "")
	checkQuality(t, rep)
	if rep.Pairs == 0 || len(rep.Lineage.Edges) != 4 || len(rep.Lineage.Leaks) != 1 {
		t.Errorf("scenario: %d truth pairs, %d expected edges, %d leaks; want pairs, 4 edges, 1 leak",
			rep.Pairs, len(rep.Lineage.Edges), len(rep.Lineage.Leaks))
	}
	testkit.Check(t, filepath.Join("testdata", "quality.golden"), text)
}

// TestQualityFull runs the benchmark on the full volumes of Debian's
// mricron-data: 108 human slices and the primate series.
func TestQualityFull(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("builds and scans about 500 images: skipped with -short and -race")
	}
	vols, err := reupload.FindVolumes("")
	if errors.Is(err, reupload.ErrNoVolumes) {
		t.Skipf("skipping the full quality benchmark: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if vols.Second == "" {
		t.Skipf("skipping the full quality benchmark: no %s beside %s", reupload.SecondFile, vols.Main)
	}
	rep, text := qualityText(t, QualityConfig{Volumes: vols.Dir, Seed: 1, Workers: 2}, vols.Dir)
	checkQuality(t, rep)
	want := map[string]int{reupload.DSDICOM: 108, reupload.DSPNG: 108, reupload.DSKaggle: 113, reupload.DSMinMax: 40,
		reupload.DSAugmented: 36, reupload.DSPrimDICOM: 46, reupload.DSPrimPNG: 46}
	for _, d := range rep.Datasets {
		if want[d.Name] != d.Images {
			t.Errorf("%s: %d images, want %d", d.Name, d.Images, want[d.Name])
		}
	}
	testkit.Check(t, filepath.Join("testdata", "quality-full.golden"), text)
}

// scenarioInputs reads the mricron-data volumes once for the scenario
// tests; it skips the test when they are absent.
var scenarioInputs = sync.OnceValues(func() (*qualityInputs, error) {
	vols, err := reupload.FindVolumes("")
	if err != nil {
		return nil, err
	}
	if vols.Second == "" {
		return nil, fmt.Errorf("%w: no %s beside %s", reupload.ErrNoVolumes, reupload.SecondFile, vols.Main)
	}
	return loadQualityInputs(QualityConfig{Volumes: vols.Dir})
})

// TestQualityScenarios pins the added scenarios (reupload.ScenarioNames
// beyond "mr"), each with its golden file testdata/quality-NAME.golden.
// They need mricron-data, and "mix" the development corpus; they take
// about 25 s together and are skipped with -short and -race.
func TestQualityScenarios(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("builds and scans about 1200 images: skipped with -short and -race")
	}
	for _, name := range reupload.ScenarioNames() {
		if name == reupload.ScenarioMR {
			continue // TestQualityCut and TestQualityFull
		}
		t.Run(name, func(t *testing.T) {
			in, err := scenarioInputs()
			if errors.Is(err, reupload.ErrNoVolumes) {
				t.Skipf("skipping scenario %s: %v", name, err)
			}
			if err != nil {
				t.Fatal(err)
			}
			cfg := QualityConfig{Scenario: name, Seed: 1, Workers: 2}
			var corpus string
			if reupload.NeedsCorpus(name) {
				if corpus, err = reupload.FindCorpus(""); errors.Is(err, reupload.ErrNoCorpus) {
					t.Skipf("skipping scenario %s: %v", name, err)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			rep, err := runQuality(context.Background(), cfg, in)
			if err != nil {
				t.Fatal(err)
			}
			checkQuality(t, rep)
			if rep.Pairs == 0 || len(rep.Lineage.Edges) == 0 {
				t.Errorf("scenario %s: %d truth pairs, %d expected edges", name, rep.Pairs, len(rep.Lineage.Edges))
			}
			var buf bytes.Buffer
			if err := WriteQualityText(&buf, rep); err != nil {
				t.Fatal(err)
			}
			t.Log("\n" + buf.String())
			var lines []string
			for l := range strings.Lines(buf.String()) {
				if !strings.HasPrefix(l, "time:") {
					lines = append(lines, l)
				}
			}
			text := strings.ReplaceAll(strings.Join(lines, ""), in.dir, "$VOLUMES")
			if corpus != "" {
				text = strings.ReplaceAll(text, corpus, "$CORPUS")
			}
			testkit.Check(t, filepath.Join("testdata", "quality-"+name+".golden"), text)
		})
	}
}

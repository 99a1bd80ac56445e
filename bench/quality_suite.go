package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"

	"github.com/copycat-dev/copycat/internal/reupload"
)

// ScenarioAll runs every scenario of reupload.ScenarioNames.
const ScenarioAll = "all"

// QualitySuite is the result of RunQualitySuite: one report per scenario
// run, the scenarios skipped for want of inputs, and the pair scores
// summed over the reports.
type QualitySuite struct {
	All     bool             `json:"all"`
	Reports []*QualityReport `json:"reports"`
	Skipped []QualitySkip    `json:"skipped,omitempty"`
	// Overall sums the "all" rows: Copycat over every image, Raster and
	// Baseline over PNG/JPEG pairs.
	Overall struct {
		Copycat  QualityRow `json:"copycat"`
		Raster   QualityRow `json:"copycat_raster"`
		Baseline QualityRow `json:"baseline_raster"`
	} `json:"overall"`
}

// QualitySkip is a scenario not run, and why.
type QualitySkip struct {
	Scenario string `json:"scenario"`
	Reason   string `json:"reason"`
}

// RunQualitySuite runs cfg.Scenario, or every scenario when it is
// ScenarioAll; the volumes are read once. Under ScenarioAll a scenario
// whose inputs are absent (the corpus) is skipped with the reason; named
// on its own, it is an error. With cfg.Dir set, each scenario of "all"
// goes into its own subfolder.
func RunQualitySuite(ctx context.Context, cfg QualityConfig) (*QualitySuite, error) {
	names := []string{cfg.Scenario}
	all := cfg.Scenario == ScenarioAll
	switch {
	case all:
		names = reupload.ScenarioNames()
	case cfg.Scenario == "":
		names = []string{reupload.ScenarioMR}
	case !slices.Contains(reupload.ScenarioNames(), cfg.Scenario):
		return nil, fmt.Errorf("bench: unknown scenario %q (want %v or %s)", cfg.Scenario, reupload.ScenarioNames(), ScenarioAll)
	}
	in, err := loadQualityInputs(cfg)
	if err != nil {
		return nil, err
	}
	s := &QualitySuite{All: all}
	for _, name := range names {
		c := cfg
		c.Scenario = name
		if all && cfg.Dir != "" {
			c.Dir = filepath.Join(cfg.Dir, name)
		}
		if reupload.NeedsCorpus(name) {
			if _, err := reupload.FindCorpus(cfg.Corpus); errors.Is(err, reupload.ErrNoCorpus) && all {
				s.Skipped = append(s.Skipped, QualitySkip{name, err.Error()})
				continue
			}
		}
		rep, err := runQuality(ctx, c, in)
		if err != nil {
			return nil, fmt.Errorf("scenario %s: %w", name, err)
		}
		s.Reports = append(s.Reports, rep)
		add := func(sum *QualityRow, sc QualityScores) {
			r := sc.Labels[len(sc.Labels)-1]
			sum.TruthPairs += r.TruthPairs
			sum.Found += r.Found
			sum.Predicted += r.Predicted
			sum.True += r.True
			sum.Recall, sum.Precision = ratio(sum.Found, sum.TruthPairs), ratio(sum.True, sum.Predicted)
		}
		add(&s.Overall.Copycat, rep.Copycat)
		add(&s.Overall.Raster, rep.CopycatRaster)
		add(&s.Overall.Baseline, rep.Baseline)
	}
	s.Overall.Copycat.Label, s.Overall.Raster.Label, s.Overall.Baseline.Label = "all", "all", "all"
	return s, nil
}

// WriteQualitySuiteText prints each report as WriteQualityText does; with
// more than one scenario, a header per scenario and an overall line. A
// single named scenario prints exactly WriteQualityText's table.
func WriteQualitySuiteText(w io.Writer, s *QualitySuite) error {
	if !s.All && len(s.Reports) == 1 {
		return WriteQualityText(w, s.Reports[0])
	}
	var errs []error
	p := func(format string, a ...any) {
		_, err := fmt.Fprintf(w, format, a...)
		errs = append(errs, err)
	}
	for i, r := range s.Reports {
		if i > 0 {
			p("\n")
		}
		p("=== scenario %s\n", r.Scenario)
		errs = append(errs, WriteQualityText(w, r))
	}
	for _, sk := range s.Skipped {
		p("\n=== scenario %s skipped: %s\n", sk.Scenario, sk.Reason)
	}
	o := s.Overall
	p("\noverall (%d scenarios): copycat precision %s recall %s (%d of %d copy pairs, %d predicted); PNG/JPEG pairs: copycat precision %s recall %s, pHash baseline precision %s recall %s (%d pairs)\n",
		len(s.Reports), f2(o.Copycat.Precision), f2(o.Copycat.Recall), o.Copycat.Found, o.Copycat.TruthPairs, o.Copycat.Predicted,
		f2(o.Raster.Precision), f2(o.Raster.Recall), f2(o.Baseline.Precision), f2(o.Baseline.Recall), o.Raster.TruthPairs)
	return errors.Join(errs...)
}

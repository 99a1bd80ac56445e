package main

import (
	"context"
	"encoding/json"
	"io"

	"github.com/copycat-dev/copycat"
	// Not the public package: `copycat bench` measures the pipeline's
	// parts (decoders, the search structure, the copy rule) against
	// baselines, which a library user has no reason to call.
	"github.com/copycat-dev/copycat/bench"
)

func runBench(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("which benchmark? copycat bench scan [flags] DIR..., bench hash [flags] DIR, bench index [flags] or bench quality [flags]")
	}
	switch args[0] {
	case "hash":
		fs := newFlagSet(e, "bench hash", "[--workers N] [--rounds N] [--format F] DIR")
		workers := fs.Int("workers", 0, "workers for both contenders (default: all cores)")
		rounds := fs.Int("rounds", 1, "passes over the files")
		format := fs.String("format", "", "only files of this format: dicom, png or jpeg")
		dirs, err := parseArgs(fs, args[1:])
		if err != nil {
			return err
		}
		if len(dirs) != 1 {
			return usagef("bench hash takes one folder")
		}
		_, err = bench.RunHash(ctx, bench.HashConfig{Dir: dirs[0], Workers: *workers, Rounds: *rounds, Format: *format}, e.stdout)
		return err
	case "scan":
		fs := newFlagSet(e, "bench scan", "[--workers N] [--rounds N] [--index DIR] [--json] DIR...")
		workers := fs.Int("workers", 0, "workers for both contenders (default: all cores)")
		rounds := fs.Int("rounds", 3, "turns per contender, interleaved")
		index := fs.String("index", "", "folder for the scans' indexes, one per round (default: a temporary folder)")
		asJSON := fs.Bool("json", false, "print JSON")
		dirs, err := parseArgs(fs, args[1:])
		if err != nil {
			return err
		}
		if len(dirs) == 0 {
			return usagef("bench scan takes one or more folders")
		}
		out := e.stdout
		if *asJSON {
			out = io.Discard
		}
		res, err := bench.RunScan(ctx, bench.ScanConfig{Dirs: dirs, Workers: *workers, Rounds: *rounds, Index: *index}, out)
		if err != nil || !*asJSON {
			return err
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	case "index":
		fs := newFlagSet(e, "bench index", "[--n N] [--max-distance D] [--uniform] [--no-store] [--workers N]")
		n := fs.Int("n", 1_000_000, "fingerprints (about 1% planted near-duplicates)")
		maxDist := fs.Int("max-distance", copycat.DefaultMaxDistance, "pHash radius, 1..64: near-duplicates are planted at every distance up to it")
		uniform := fs.Bool("uniform", false, "uniformly random pHashes instead of real-looking ones")
		noStore := fs.Bool("no-store", false, "measure the in-memory pair search only (for 10M and more)")
		workers := fs.Int("workers", 0, "workers for the pair search (default: all cores)")
		if err := parseNoArgs(fs, args[1:]); err != nil {
			return err
		}
		if *maxDist < 1 || *maxDist > 64 {
			return usagef("--max-distance must be 1..64")
		}
		_, err := bench.RunIndex(ctx, bench.IndexConfig{N: *n, MaxDistance: *maxDist, Uniform: *uniform, NoStore: *noStore, Workers: *workers}, e.stdout)
		return err
	case "quality":
		fs := newFlagSet(e, "bench quality", "[--scenario NAME|all] [--volumes DIR] [--corpus DIR] [--cut] [--slices N] [--seed S] [--keep DIR] [--json]")
		scenario := fs.String("scenario", "mr", "scenario: mr, mr-thick, partial, partial-nodicom, anon, mix, or all (each table and an overall line)")
		volumes := fs.String("volumes", "", "folder holding ch2better.nii.gz (default: $COPYCAT_VOLUMES, then mricron-data, else the shipped cut)")
		corpus := fs.String("corpus", "", "development corpus for the mix scenario (default: $COPYCAT_CORPUS, then shared/corpus beside the working folder or a parent)")
		cut := fs.Bool("cut", false, "use the shipped 32-slice cut of ch2better even when mricron-data is installed")
		slices := fs.Int("slices", 0, "slices of the main MR series (default: the scenario's, 108 for mr)")
		seed := fs.Uint64("seed", 1, "scenario seed")
		keep := fs.String("keep", "", "build the scenario and index in DIR and keep them (default: a temporary folder)")
		asJSON := fs.Bool("json", false, "print JSON")
		if err := parseNoArgs(fs, args[1:]); err != nil {
			return err
		}
		suite, err := bench.RunQualitySuite(ctx, bench.QualityConfig{Scenario: *scenario, Volumes: *volumes, Corpus: *corpus,
			Cut: *cut, Slices: *slices, Seed: *seed, Dir: *keep})
		if err != nil {
			return err
		}
		if *asJSON {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			if !suite.All && len(suite.Reports) == 1 {
				return enc.Encode(suite.Reports[0])
			}
			return enc.Encode(suite)
		}
		return bench.WriteQualitySuiteText(e.stdout, suite)
	}
	return usagef("unknown benchmark %q (want hash, index or quality)", args[0])
}

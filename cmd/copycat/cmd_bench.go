package main

import (
	"context"

	"github.com/copycat-dev/copycat/bench"
)

func runBench(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("which benchmark? copycat bench hash [--workers N] [--rounds N] DIR")
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
	}
	return usagef("unknown benchmark %q (want hash)", args[0])
}

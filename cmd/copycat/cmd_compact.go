package main

import (
	"context"
	"fmt"

	"github.com/copycat-dev/copycat"
)

func runCompact(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "compact", "[--index DIR] [--wait] [--json] [--min-free BYTES]")
	indexFlag := addIndexFlag(fs)
	indexFlag.minFree = fs.Int64("min-free", 0, "free space to keep on the index's device, in bytes (default: three times what is left to copy, plus 8 MiB, at most 128 MiB)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	res, err := copycat.Compact(ctx, indexFlag.path(e), indexFlag.options(e))
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e, res)
	}
	fmt.Fprintf(e.stdout, "compacted %s: %s -> %s, %d records kept, in %.1fs\n", res.Dir, megabytes(res.Before), megabytes(res.After), res.Records, res.Seconds)
	return nil
}

// megabytes formats a byte count for people.
func megabytes(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }

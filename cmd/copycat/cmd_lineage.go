package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/copycat-dev/copycat"
)

// analyze opens the index read-only and runs the lineage analysis; the
// caller closes the index.
func analyze(ctx context.Context, e *env, flags *indexFlags, maxDist int) (*copycat.LineageReport, *copycat.Index, error) {
	if maxDist < 0 || maxDist > 64 {
		return nil, nil, usagef("--max-distance must be 0..64")
	}
	ix, err := flags.open(ctx, e, true)
	if err != nil {
		return nil, nil, err
	}
	r, err := ix.Lineage(ctx, copycat.LineageOptions{MaxDistance: copycat.Distance(maxDist)})
	if err != nil {
		ix.Close()
		return nil, nil, err
	}
	return r, ix, nil
}

func runLineage(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "lineage", "[--index DIR] [--wait] [--max-distance D] [--json]")
	indexFlag := addIndexFlag(fs)
	maxDist := fs.Int("max-distance", copycat.DefaultMaxDistance, "largest pHash distance (of 64 bits) between copies")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	r, ix, err := analyze(ctx, e, indexFlag, *maxDist)
	if err != nil {
		return err
	}
	defer ix.Close()
	if *asJSON {
		return r.WriteJSON(e.stdout)
	}
	return r.WriteText(e.stdout)
}

func runReport(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "report", "[--index DIR] [--wait] [--max-distance D] --html FILE")
	indexFlag := addIndexFlag(fs)
	maxDist := fs.Int("max-distance", copycat.DefaultMaxDistance, "largest pHash distance (of 64 bits) between copies")
	out := fs.String("html", "", "write the HTML report to FILE (clusters beyond the first 100 in pages in the folder FILE_clusters beside it)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("--html FILE is required")
	}
	r, ix, err := analyze(ctx, e, indexFlag, *maxDist)
	if err != nil {
		return err
	}
	defer ix.Close()
	pages, err := ix.WriteHTMLReportFile(ctx, *out, r)
	if err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	if len(pages) > 0 {
		fmt.Fprintf(e.stdout, "wrote %s and %d cluster pages in %s\n", *out, len(pages), filepath.Dir(pages[0]))
		return nil
	}
	fmt.Fprintf(e.stdout, "wrote %s\n", *out)
	return nil
}

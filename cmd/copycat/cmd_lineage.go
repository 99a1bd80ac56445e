package main

import (
	"context"
	"fmt"
	"os"

	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/lineage"
)

// analyze opens the index read-only and runs the lineage analysis.
func analyze(ctx context.Context, dir string, maxDist int) (*lineage.Report, *index.Store, error) {
	st, err := index.Open(dir, index.Options{ReadOnly: true})
	if err != nil {
		return nil, nil, err
	}
	r, err := lineage.Analyze(ctx, st, lineage.Options{MaxDistance: maxDist})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return r, st, nil
}

func runLineage(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "lineage", "[--index DIR] [--max-distance D] [--json]")
	indexFlag := addIndexFlag(fs)
	maxDist := fs.Int("max-distance", 0, "largest pHash distance between copies (default: the index's)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	r, st, err := analyze(ctx, indexDir(*indexFlag, e), *maxDist)
	if err != nil {
		return err
	}
	defer st.Close()
	if *asJSON {
		return r.WriteJSON(e.stdout)
	}
	return r.WriteText(e.stdout)
}

func runReport(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "report", "[--index DIR] [--max-distance D] --html FILE")
	indexFlag := addIndexFlag(fs)
	maxDist := fs.Int("max-distance", 0, "largest pHash distance between copies (default: the index's)")
	out := fs.String("html", "", "write a self-contained HTML report to FILE")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("--html FILE is required")
	}
	r, st, err := analyze(ctx, indexDir(*indexFlag, e), *maxDist)
	if err != nil {
		return err
	}
	defer st.Close()
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := r.WriteHTML(f, st); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", *out, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s\n", *out)
	return nil
}

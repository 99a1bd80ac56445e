package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/copycat-dev/copycat"
)

// queryMatchJSON is one match in `copycat query --json`.
type queryMatchJSON struct {
	Dataset   string `json:"dataset"`
	Path      string `json:"path"`
	Frame     int    `json:"frame"`
	Distance  int    `json:"distance"`
	Kind      string `json:"kind"`
	Transform string `json:"transform,omitempty"`
	// Rendering is "min-max" when the match was found through a min-max
	// rendering of a DICOM frame (copycat.Match.MinMax).
	Rendering string `json:"rendering,omitempty"`
	Verified  bool   `json:"verified"`
}

type queryJSON struct {
	Path    string           `json:"path"`
	Frame   int              `json:"frame"`
	Error   string           `json:"error,omitempty"`
	Matches []queryMatchJSON `json:"matches"`
}

func runQuery(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "query", "[--index DIR] [--wait] [--max-distance D] [--json] IMAGE...")
	indexFlag := addIndexFlag(fs)
	maxDist := fs.Int("max-distance", copycat.DefaultMaxDistance, "largest pHash distance (of 64 bits) reported")
	noFlip := fs.Bool("no-transforms", false, "do not look for rotated or mirrored copies")
	asJSON := fs.Bool("json", false, "print JSON")
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		fs.Usage()
		return usagef("no image given")
	}
	if *maxDist < 0 || *maxDist > 64 {
		return usagef("--max-distance must be 0..64")
	}
	ix, err := indexFlag.open(ctx, e, true)
	if err != nil {
		return err
	}
	defer ix.Close()
	opts := copycat.QueryOptions{MaxDistance: copycat.Distance(*maxDist), NoTransforms: *noFlip}
	out := []queryJSON{}
	failed := 0
	for _, file := range files {
		results, err := ix.Query(ctx, file, opts)
		var fe *copycat.FileError
		if errors.As(err, &fe) {
			failed++
			results, err = []copycat.QueryResult{{Path: file}}, nil
		}
		if err != nil {
			return err
		}
		for _, r := range results {
			q := queryJSON{Path: r.Path, Frame: r.Frame, Matches: []queryMatchJSON{}}
			if fe != nil {
				q.Error = fe.Reason
			}
			for _, m := range r.Matches {
				mj := queryMatchJSON{Dataset: m.Image.Dataset, Path: m.Image.Path, Frame: m.Image.Frame,
					Distance: m.Distance, Kind: m.Kind.String(), Verified: m.Verified}
				if name := m.Result.TransformName(); m.Kind == copycat.NearDuplicate && name != "none" {
					mj.Transform = name // a rotation or mirror, "crop", or both
				}
				if m.MinMax {
					mj.Rendering = "min-max"
				}
				q.Matches = append(q.Matches, mj)
			}
			if *asJSON {
				out = append(out, q)
				continue
			}
			name := framePath(q.Path, q.Frame)
			if q.Error != "" {
				// Per-file errors go to stderr, as in hash and scan; the
				// exit code says some failed.
				fmt.Fprintf(e.stderr, "copycat query: %s: %s\n", name, q.Error)
				continue
			}
			fmt.Fprintf(e.stdout, "%s: %d %s\n", name, len(q.Matches), plural(int64(len(q.Matches)), "match", "matches"))
			for _, m := range q.Matches {
				extra := ""
				if m.Transform != "" {
					extra += " " + m.Transform
				}
				if m.Rendering != "" {
					extra += " (" + m.Rendering + " rendering)"
				}
				if !m.Verified {
					extra += " (unverified: look before trusting)"
				}
				fmt.Fprintf(e.stdout, "  %2d  %-19s %s  %s%s\n", m.Distance, m.Kind, m.Dataset, framePath(m.Path, m.Frame), extra)
			}
		}
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"queries": out}); err != nil {
			return err
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of the query files could not be read or decoded", failed)
	}
	return nil
}

func runClusters(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "clusters", "[--index DIR] [--wait] [--max-distance D] [--json]")
	indexFlag := addIndexFlag(fs)
	maxDist := fs.Int("max-distance", copycat.DefaultMaxDistance, "largest pHash distance (of 64 bits) between copies")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *maxDist < 0 || *maxDist > 64 {
		return usagef("--max-distance must be 0..64")
	}
	ix, err := indexFlag.open(ctx, e, true)
	if err != nil {
		return err
	}
	defer ix.Close()
	clusters, stats, err := ix.Clusters(ctx, copycat.ClusterOptions{MaxDistance: copycat.Distance(*maxDist)})
	if err != nil {
		return err
	}
	if clusters == nil {
		clusters = []copycat.Cluster{}
	}
	incomplete, err := ix.Incomplete(ctx)
	if err != nil {
		return err
	}
	if len(incomplete) > 0 {
		fmt.Fprintf(e.stderr, "copycat clusters: warning: the last scan of %s did not finish: the clusters cover only what it committed; scan again to complete it\n",
			strings.Join(incomplete, ", "))
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		out := map[string]any{"clusters": clusters}
		if len(incomplete) > 0 {
			out["incomplete_datasets"] = incomplete
		}
		return enc.Encode(out)
	}
	for _, c := range clusters {
		fmt.Fprintf(e.stdout, "cluster %s (%d %s)\n", c.ID, len(c.Members), plural(int64(len(c.Members)), "image", "images"))
		for _, m := range c.Members {
			extra := ""
			if m.Transform != "none" {
				extra += " " + m.Transform
			}
			if m.Rendering != "" {
				extra += " (" + m.Rendering + " rendering)"
			}
			fmt.Fprintf(e.stdout, "  %-19s %2d  %s  %s%s\n", m.Kind, m.Distance, m.Dataset, framePath(m.Path, m.Frame), extra)
		}
	}
	fmt.Fprintf(e.stdout, "%d %s among %d %s (%d candidate %s, %d verified)\n", len(clusters), plural(int64(len(clusters)), "cluster", "clusters"),
		stats.Images, plural(int64(stats.Images), "image", "images"), stats.CandidatePairs, plural(int64(stats.CandidatePairs), "pair", "pairs"), stats.VerifiedPairs)
	return nil
}

package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/copycat-dev/copycat"
)

func runCheck(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "check", "[--index DIR] [--wait] [--json]")
	indexFlag := addIndexFlag(fs)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	dir := indexFlag.path(e)
	// Read-only, like every reader: after a killed scan this is also the
	// open that recovers the index, which is part of what is checked.
	ix, err := indexFlag.open(ctx, e, true)
	if err != nil {
		return err
	}
	rep, err := ix.Check(ctx)
	if cerr := ix.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return printCheck(e, dir, rep, *asJSON)
}

// printCheck prints the report and returns an error (exit code 1) when the
// index is inconsistent.
func printCheck(e *env, dir string, rep copycat.CheckReport, asJSON bool) error {
	found := max(rep.ProblemsFound, len(rep.Problems))
	if asJSON {
		problems := rep.Problems
		if problems == nil {
			problems = []string{}
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		err := enc.Encode(map[string]any{
			"index": dir, "ok": rep.OK(), "datasets": rep.Datasets, "files": rep.Files, "images": rep.Images,
			"problems": problems, "problems_truncated": found > len(rep.Problems),
			"problems_found": found,
		})
		if err != nil {
			return err
		}
	} else {
		fmt.Fprintf(e.stdout, "index %s: %d datasets, %d files, %d images\n", dir, rep.Datasets, rep.Files, rep.Images)
		for _, p := range rep.Problems {
			fmt.Fprintf(e.stdout, "  %s\n", p)
		}
		if rep.OK() {
			fmt.Fprintln(e.stdout, "consistent")
		}
	}
	if rep.OK() {
		return nil
	}
	more := ""
	if n := found - len(rep.Problems); n > 0 {
		if !asJSON {
			fmt.Fprintf(e.stdout, "  ... and %d more\n", n)
		}
		more = fmt.Sprintf(" (%d listed)", len(rep.Problems))
	}
	return fmt.Errorf("index %s is inconsistent: %d problems%s", dir, found, more)
}

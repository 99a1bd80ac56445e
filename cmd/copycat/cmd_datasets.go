package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"
)

func runDatasets(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "datasets", "[--index DIR] [--wait] [--json]")
	indexFlag := addIndexFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	ix, err := indexFlag.open(ctx, e, true)
	if err != nil {
		return err
	}
	defer ix.Close()
	infos, err := ix.Datasets(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		type row struct {
			Name     string `json:"name"`
			Source   string `json:"source"`
			Files    int    `json:"files"`
			Images   int    `json:"images"`
			Failures int    `json:"failures"`
			// FailedTotal is Failures under the name scan's JSON uses.
			FailedTotal int        `json:"failed_total"`
			LastScan    *time.Time `json:"last_scan"`
			Complete    bool       `json:"complete"`
		}
		rows := []row{}
		for _, d := range infos {
			r := row{Name: d.Name, Source: d.Source, Files: d.Files, Images: d.Images, Failures: d.Failures, FailedTotal: d.Failures, Complete: d.Complete}
			if !d.LastScan.IsZero() {
				t := d.LastScan
				r.LastScan = &t
			}
			rows = append(rows, r)
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"datasets": rows})
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tFILES\tIMAGES\tFAILURES\tLAST SCAN\tSOURCE")
	for _, d := range infos {
		last := "never finished"
		if !d.LastScan.IsZero() {
			last = d.LastScan.Local().Format("2006-01-02 15:04")
		}
		if !d.Complete {
			last += " (incomplete: rescan to finish)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\n", d.Name, d.Files, d.Images, d.Failures, last, d.Source)
	}
	return tw.Flush()
}

func runForget(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "forget", "[--index DIR] [--wait] NAME...")
	indexFlag := addIndexFlag(fs)
	names, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return usagef("no dataset name given")
	}
	ix, err := indexFlag.open(ctx, e, false)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err = ix.Forget(ctx, n); err != nil {
			break
		}
		fmt.Fprintf(e.stdout, "forgot %s\n", n)
	}
	if cerr := ix.Close(); err == nil {
		err = cerr
	}
	return err
}

package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/copycat-dev/copycat"
)

func runExport(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "export", "[--index DIR] [--wait] [--json] --parquet OUT")
	indexFlag := addIndexFlag(fs)
	out := fs.String("parquet", "", "write datasets.parquet, files.parquet, images.parquet and documents.parquet into folder OUT")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *out == "" {
		fs.Usage()
		return usagef("--parquet OUT is required")
	}
	ix, err := indexFlag.open(ctx, e, true)
	if err != nil {
		return err
	}
	defer ix.Close()
	sum, err := ix.Export(ctx, *out)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e, sum)
	}
	fmt.Fprintf(e.stdout, "exported %d datasets, %d files, %d images to %s (%d bytes)\n", sum.Datasets, sum.Files, sum.Images, sum.Dir, sum.Bytes)
	return nil
}

func runImport(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "import", "[--index DIR] [--wait] [--json] EXPORT... | --pairs PARQUET...")
	indexFlag := addIndexFlag(fs)
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	pairs := fs.Bool("pairs", false, "the arguments are the files of one pairs output (copycat-beam pairs): clusters, lineage and report use these pairs while the index holds the images they were computed on")
	dirs, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(dirs) == 0 {
		fs.Usage()
		if *pairs {
			return usagef("no pairs file given (the Parquet files copycat-beam pairs writes)")
		}
		return usagef("no export given (a folder written by copycat export --parquet)")
	}
	ix, err := indexFlag.open(ctx, e, false)
	if err != nil {
		return err
	}
	if *pairs {
		return importPairs(ctx, e, ix, dirs, *asJSON)
	}
	sum, err := ix.Import(ctx, dirs)
	if cerr := ix.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e, sum)
	}
	fmt.Fprintf(e.stdout, "imported %d exports: %d datasets, %d files (%d images) written, %d unchanged\n",
		len(sum.Exports), sum.Datasets, sum.Files, sum.Images, sum.Unchanged)
	if sum.DigestsDropped > 0 {
		fmt.Fprintf(e.stdout, "%d patient-ID digests dropped: the exports come from an index with another salt\n", sum.DigestsDropped)
	}
	return nil
}

func importPairs(ctx context.Context, e *env, ix *copycat.Index, paths []string, asJSON bool) error {
	sum, err := ix.ImportPairs(ctx, paths)
	if cerr := ix.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(e, sum)
	}
	fmt.Fprintf(e.stdout, "imported %d pairs (%d rows in %d files) computed at distance %d on %d images\n",
		sum.Pairs, sum.Rows, len(sum.Files), sum.MaxDistance, sum.Images)
	return nil
}

func printJSON(e *env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

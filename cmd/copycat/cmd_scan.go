package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"golang.org/x/term"

	"github.com/copycat-dev/copycat"
)

func runScan(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "scan", "[--index DIR] [--wait] [--workers N] [--json] [--max-pixels N] [--replace] [--shard K/N] [--min-free BYTES] [NAME=]PATH...")
	var (
		indexFlag = addIndexFlag(fs)
		workers   = fs.Int("workers", 0, "decode/hash workers (default: all cores)")
		asJSON    = fs.Bool("json", false, "print the summary as JSON")
		maxPixels = fs.Int64("max-pixels", 0, "refuse images (DICOM: frames) with more pixels than this (default 100000000)")
		maxFile   = fs.Int64("max-file-size", 0, "refuse files and archive members larger than this many bytes (default 1 GiB)")
		readMem   = fs.Int64("read-budget", 0, "bytes of file data all workers hold at once; a larger file is processed alone (default 64 MiB)")
		replace   = fs.Bool("replace", false, "let a dataset name that the index holds for another folder or archive take this one")
		shard     = fs.String("shard", "", "scan only shard K of N (K/N, 1 <= K <= N) of each dataset's files, by a hash of dataset and path")
	)
	indexFlag.minFree = fs.Int64("min-free", 0, "free space to keep on the index's device, in bytes, whatever the job (default: what the job may still write, at most 128 MiB)")
	paths, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		fs.Usage()
		return usagef("no dataset given")
	}
	opts := copycat.ScanOptions{Workers: *workers, PixelBudget: *maxPixels, ReadBudget: *readMem, Replace: *replace}
	opts.Walk.MaxFileSize = *maxFile
	if *shard != "" {
		if opts.Shard, err = copycat.ParseShard(*shard); err != nil {
			return &usageError{err.Error()}
		}
	}
	if !*asJSON && e.stdoutFile != nil && term.IsTerminal(int(e.stdoutFile.Fd())) {
		opts.Progress = progressBar(e.stderr, func() int {
			w, _, err := term.GetSize(int(e.stdoutFile.Fd()))
			if err != nil {
				return 0
			}
			return w
		})
	}
	var ds []copycat.Dataset
	for _, p := range paths {
		ds = append(ds, copycat.ParseDataset(p))
	}
	if err := copycat.CheckDatasets(ds); err != nil {
		return err
	}
	indexFlag.scanJob = ds
	ix, err := indexFlag.open(ctx, e, false)
	if err != nil {
		return err
	}
	sum, err := ix.Scan(ctx, ds, opts)
	if cerr := ix.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if sum != nil {
		if *asJSON {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			if jerr := enc.Encode(sum); jerr != nil && err == nil {
				err = jerr
			}
		} else {
			printScanSummary(e.stdout, sum)
		}
		if sum.Interrupted {
			fmt.Fprintf(e.stderr, "scan interrupted; what was done is in %s. Run the same command again to resume: unchanged files are skipped.\n", sum.Index)
		}
	}
	return err
}

func printScanSummary(w io.Writer, s *copycat.ScanSummary) {
	for _, d := range s.Datasets {
		fmt.Fprintf(w, "%s (%s): %d files, %d decoded, %d images, %d skipped, %d failed", d.Name, d.Source, d.Files, d.Decoded, d.Images, d.Skipped, d.FailedTotal)
		if d.Unchanged > 0 {
			fmt.Fprintf(w, ", %d unchanged", d.Unchanged)
		}
		if d.Removed > 0 {
			fmt.Fprintf(w, ", %d removed", d.Removed)
		}
		fmt.Fprintf(w, " in %.1fs\n", d.Seconds)
		if d.FailedTotal == 0 {
			continue
		}
		for _, reason := range d.ReasonsByCount() {
			fmt.Fprintf(w, "  %6d  %s\n", d.FailureReasons[reason], reason)
		}
		for _, f := range d.Failed {
			fmt.Fprintf(w, "    %s: %s\n", f.Path, f.Reason)
		}
		if int64(len(d.Failed)) < d.FailedTotal {
			fmt.Fprintf(w, "    ... and %d more\n", d.FailedTotal-int64(len(d.Failed)))
		}
	}
	fmt.Fprintf(w, "index: %s (%.1fs)\n", s.Index, s.Seconds)
}

// progressBar returns a Progress callback that redraws one status line.
func progressBar(w io.Writer, width func() int) func(copycat.Progress) {
	return func(p copycat.Progress) {
		fmt.Fprint(w, "\r\033[K"+fitWidth(progressLine(p), width()))
		if p.Done {
			fmt.Fprint(w, "\r\033[K")
		}
	}
}

// progressLine is the scan's one-line status. The counts run across all
// datasets, so the line says which of them is being scanned; once the
// files are counted it shows the total, the share done and the time left
// ("~" when the total is an estimate: tars count as one file).
func progressLine(p copycat.Progress) string {
	secs := max(p.Elapsed.Seconds(), 1e-3)
	where := p.Dataset
	if p.Datasets > 1 {
		where = fmt.Sprintf("[%d/%d] %s", p.DatasetIndex, p.Datasets, p.Dataset)
	}
	rate := float64(p.Files) / secs
	files := fmt.Sprintf("%d %s (%.0f/s)", p.Files, plural(p.Files, "file", "files"), rate)
	if p.TotalFiles > 0 && p.Files <= p.TotalFiles {
		approx := "~"
		if p.TotalExact {
			approx = ""
		}
		left := "-"
		if p.Files > 0 && secs >= 1 {
			left = (time.Duration(float64(p.TotalFiles-p.Files)/rate) * time.Second).Round(time.Second).String() + " left"
		}
		files = fmt.Sprintf("%d of %s%d files (%s%.0f%%, %.0f/s, %s)", p.Files, approx, p.TotalFiles, approx,
			100*float64(p.Files)/float64(p.TotalFiles), rate, left)
	}
	return fmt.Sprintf("%s: %s, %d %s, %.1f MB/s, %d %s, %s",
		where, files, p.Images, plural(p.Images, "image", "images"),
		float64(p.Bytes)/secs/1e6, p.Failed, plural(p.Failed, "error", "errors"), p.Elapsed.Truncate(time.Second))
}

// plural picks the word for n.
func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// fitWidth cuts line to a terminal of width columns, leaving the last one
// free: a line that wraps cannot be redrawn with a carriage return, and
// leaves a stale line behind at every update. Zero width (unknown) leaves
// the line whole.
func fitWidth(line string, width int) string {
	if width <= 1 {
		return line
	}
	r := []rune(line)
	if len(r) < width {
		return line
	}
	return string(r[:width-2]) + "…"
}

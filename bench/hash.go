package bench

import (
	"bytes"
	"context"
	"fmt"
	"image"
	_ "image/jpeg" // the baseline decodes through image.Decode
	_ "image/png"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync/atomic"
	"time"

	"github.com/corona10/goimagehash"
	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
	"golang.org/x/sync/errgroup"

	"github.com/copycat-dev/copycat/ingest"
	"github.com/copycat-dev/copycat/scan"
)

// HashConfig is the decode+hash workload: every file under Dir, processed
// by copycat's scan worker and, in the same run on the same files, by the
// straightforward baseline (image.Decode, or suyashkumar/dicom's frames for
// DICOM, then goimagehash.PerceptionHash), with the same worker count.
type HashConfig struct {
	Dir     string
	Workers int // 0: all cores
	Rounds  int // passes over the files per contender, taken in turns; 0 means 1
	// Format, when set ("dicom", "png" or "jpeg"), keeps only files of that
	// format (by content).
	Format string
}

// HashRun is one contender's figures.
type HashRun struct {
	Name    string
	Files   int
	Images  int
	Failed  int
	Bytes   int64
	Elapsed time.Duration
}

// ImagesPerSec is the throughput in images (frames) per second.
func (r HashRun) ImagesPerSec() float64 { return float64(r.Images) / r.Elapsed.Seconds() }

// MBPerSec is the throughput in megabytes of files per second.
func (r HashRun) MBPerSec() float64 { return float64(r.Bytes) / 1e6 / r.Elapsed.Seconds() }

// HashResult holds both contenders.
type HashResult struct {
	Copycat, Baseline HashRun
}

// Ratio is copycat's images/s over the baseline's. Image counts can differ
// (the baseline cannot decode some files), so throughput, not time, is
// compared.
func (r HashResult) Ratio() float64 { return r.Copycat.ImagesPerSec() / r.Baseline.ImagesPerSec() }

// RunHash loads the files under cfg.Dir into memory (so that both sides
// measure decoding and hashing, not the disk), then runs copycat and the
// baseline on them and writes a report to w.
func RunHash(ctx context.Context, cfg HashConfig, w io.Writer) (HashResult, error) {
	var res HashResult
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	rounds := max(cfg.Rounds, 1)
	var files []loaded
	err := filepath.WalkDir(cfg.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if k, f := ingest.Sniff(data[:min(len(data), ingest.SniffLen)]); k == ingest.KindImage && (cfg.Format == "" || cfg.Format == f) {
			files = append(files, loaded{path: p, data: data})
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	if len(files) == 0 {
		return res, fmt.Errorf("bench hash: no DICOM, PNG or JPEG file under %s (format %q)", cfg.Dir, cfg.Format)
	}
	sort.Slice(files, func(i, j int) bool { return len(files[i].data) > len(files[j].data) })

	// The contenders take turns, one pass over the files each per round,
	// so that a change in the machine's load during the run (it is shared)
	// falls on both rather than on whichever ran second.
	res.Copycat = HashRun{Name: "copycat"}
	res.Baseline = HashRun{Name: "baseline"}
	// One scan worker per goroutine, kept for the whole run as a scan keeps
	// its workers: a fresh one per round would charge its first images with
	// growing buffers and weight tables a scan builds once.
	copycatWork := make([]func(loaded) (int, bool), workers)
	baselineWork := make([]func(loaded) (int, bool), workers)
	for i := range workers {
		wk := scan.NewWorker(ingest.Options{})
		defer wk.Close()
		copycatWork[i] = func(f loaded) (int, bool) {
			n, failure := wk.Process(ingest.NewMemoryEntry(f.path, f.data))
			return n, failure == ""
		}
		baselineWork[i] = baselineHash
	}
	for range rounds {
		for _, c := range []struct {
			run  *HashRun
			work []func(loaded) (int, bool)
		}{{&res.Copycat, copycatWork}, {&res.Baseline, baselineWork}} {
			r, err := runContender(ctx, c.run.Name, files, 1, c.work)
			if err != nil {
				return res, err
			}
			c.run.add(r)
		}
	}
	fmt.Fprintf(w, "%d files (%.1f MB) under %s, %d workers, %d round(s)\n", len(files), float64(totalBytes(files))/1e6, cfg.Dir, workers, rounds)
	for _, r := range []HashRun{res.Copycat, res.Baseline} {
		fmt.Fprintf(w, "%-9s %6d images %5d failed  %8.1f images/s  %7.1f MB/s  %v\n", r.Name, r.Images, r.Failed, r.ImagesPerSec(), r.MBPerSec(), r.Elapsed.Round(time.Millisecond))
	}
	fmt.Fprintf(w, "ratio (copycat/baseline images/s): %.2fx\n", res.Ratio())
	return res, nil
}

type loaded struct {
	path string
	data []byte
}

func totalBytes(files []loaded) int64 {
	var n int64
	for _, f := range files {
		n += int64(len(f.data))
	}
	return n
}

// add accumulates another run of the same contender.
func (r *HashRun) add(o HashRun) {
	r.Files += o.Files
	r.Images += o.Images
	r.Failed += o.Failed
	r.Bytes += o.Bytes
	r.Elapsed += o.Elapsed
}

// runContender runs the files through a pool of goroutines, one per
// element of work (each its own state).
func runContender(ctx context.Context, name string, files []loaded, rounds int, work []func(loaded) (int, bool)) (HashRun, error) {
	run := HashRun{Name: name, Files: len(files) * rounds}
	var images, failed atomic.Int64
	var next atomic.Int64
	total := int64(len(files) * rounds)
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	for _, work := range work {
		g.Go(func() error {
			for {
				i := next.Add(1) - 1
				if i >= total {
					return nil
				}
				if err := gctx.Err(); err != nil {
					return err
				}
				n, ok := work(files[i%int64(len(files))])
				images.Add(int64(n))
				if !ok {
					failed.Add(1)
				}
			}
		})
	}
	if err := g.Wait(); err != nil {
		return run, err
	}
	run.Elapsed = time.Since(start)
	run.Images, run.Failed = int(images.Load()), int(failed.Load())
	run.Bytes = totalBytes(files) * int64(rounds)
	return run, nil
}

// baselineHash is what a Go programmer writes first: decode with the
// standard library (or suyashkumar/dicom's frames for DICOM) and hash with
// goimagehash. Panics in the decoders count as failures.
func baselineHash(f loaded) (n int, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	if k, name := ingest.Sniff(f.data[:min(len(f.data), ingest.SniffLen)]); k == ingest.KindImage && name == string(ingest.FormatDICOM) {
		ds, err := dicom.Parse(bytes.NewReader(f.data), int64(len(f.data)), nil)
		if err != nil {
			return 0, false
		}
		el, err := ds.FindElementByTag(tag.PixelData)
		if err != nil {
			return 0, false
		}
		for _, fr := range dicom.MustGetPixelDataInfo(el.Value).Frames {
			img, err := fr.GetImage()
			if err != nil {
				return n, false
			}
			if _, err := goimagehash.PerceptionHash(img); err != nil {
				return n, false
			}
			n++
		}
		return n, true
	}
	img, _, err := image.Decode(bytes.NewReader(f.data))
	if err != nil {
		return 0, false
	}
	if _, err := goimagehash.PerceptionHash(img); err != nil {
		return 0, false
	}
	return 1, true
}

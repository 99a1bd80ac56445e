package bench

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/ingest"
	"github.com/copycat-dev/copycat/scan"
)

// ScanConfig is the whole-scan workload: `copycat scan` of the folders
// (read from disk, decode, digests, fingerprints, index write) against the
// naive route on the same files with the same worker count (os.ReadFile,
// image.Decode or suyashkumar/dicom, goimagehash's pHash), in turns.
type ScanConfig struct {
	Dirs    []string
	Workers int // 0: all cores
	Rounds  int // turns per contender; 0 means 3
	// Index is where the scans write their indexes (a fresh one per round);
	// empty means a temporary folder.
	Index string
}

// ScanRun is one contender's figures over all its rounds.
type ScanRun struct {
	Name    string        `json:"name"`
	Files   int           `json:"files"`
	Images  int           `json:"images"`
	Failed  int           `json:"failed"`
	Bytes   int64         `json:"bytes"`
	Elapsed time.Duration `json:"elapsed_ns"`
	CPU     time.Duration `json:"cpu_ns"` // user + system time of the process
	// PeakRSS is the largest resident set size of any of its rounds.
	PeakRSS int64 `json:"peak_rss_bytes"`
	// Rounds are the images per second of each round, in order.
	Rounds []float64 `json:"rounds_images_per_sec"`
}

// ImagesPerSec is the throughput in images (frames) per second.
func (r ScanRun) ImagesPerSec() float64 { return float64(r.Images) / r.Elapsed.Seconds() }

// CPUPerImage is the process's CPU time per image.
func (r ScanRun) CPUPerImage() time.Duration {
	if r.Images == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Images)
}

// StageTime is the time a scan spent in one stage, per image.
type StageTime struct {
	Stage    string        `json:"stage"`
	PerImage time.Duration `json:"per_image_ns"`
}

// ScanResult holds both contenders and where copycat's time went.
type ScanResult struct {
	Files    int       `json:"files"`
	Bytes    int64     `json:"bytes"`
	Workers  int       `json:"workers"`
	Copycat  ScanRun   `json:"copycat"`
	Baseline ScanRun   `json:"baseline"`
	Ratio    float64   `json:"ratio"`        // copycat's images/s over the baseline's, all rounds
	Ratios   []float64 `json:"round_ratios"` // the same, round by round
	// Stages is copycat's time per image in each stage, summed over the
	// goroutines that run it (see scan.Stages).
	Stages []StageTime `json:"stages"`
	// Gzip compares, for the gzip'd images among the files (.nii.gz
	// volumes), copycat's decoding with reading their gzip streams; nil
	// when there are none.
	Gzip *GzipDecode `json:"gzip,omitempty"`
}

// GzipDecode is the time, on one goroutine and the best of three turns,
// to read the gzip streams of the gzip'd images with compress/gzip, and to
// decode them with ingest.Decode (inflating, and rendering every slice).
type GzipDecode struct {
	Files         int           `json:"files"`
	InflatedBytes int64         `json:"inflated_bytes"`
	Read          time.Duration `json:"read_ns"`
	Decode        time.Duration `json:"decode_ns"`
}

// add times one file, if it is a gzip'd image.
func (g *GzipDecode) add(data []byte) error {
	if k, _ := ingest.Sniff(data[:min(len(data), ingest.SniffLen)]); k != ingest.KindImage || len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		return nil
	}
	best := func(f func() error) (time.Duration, error) {
		var b time.Duration
		for i := range 3 {
			start := time.Now()
			if err := f(); err != nil {
				return 0, err
			}
			if d := time.Since(start); i == 0 || d < b {
				b = d
			}
		}
		return b, nil
	}
	var n int64
	read, err := best(func() error {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return err
		}
		n, err = io.Copy(io.Discard, zr)
		return err
	})
	if err != nil {
		return nil // not readable: the scan reports it
	}
	dec, err := best(func() error {
		_, err := ingest.Decode(data, ingest.Options{}, func(ingest.Frame) error { return nil })
		return err
	})
	if err != nil {
		return nil
	}
	g.Files++
	g.InflatedBytes += n
	g.Read += read
	g.Decode += dec
	return nil
}

// RunScan warms the page cache with the files under cfg.Dirs, then scans
// them into a fresh index and runs the baseline on them, in turns, and
// writes a report to w.
func RunScan(ctx context.Context, cfg ScanConfig, w io.Writer) (ScanResult, error) {
	var res ScanResult
	if len(cfg.Dirs) == 0 {
		return res, fmt.Errorf("bench scan: no folder given")
	}
	res.Workers = cfg.Workers
	if res.Workers <= 0 {
		res.Workers = runtime.NumCPU()
	}
	rounds := cfg.Rounds
	if rounds <= 0 {
		rounds = 3
	}
	var paths []string
	var gz GzipDecode
	for _, d := range cfg.Dirs {
		err := filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil || !e.Type().IsRegular() {
				return err
			}
			// Read once so that both contenders find the files in the page
			// cache: the benchmark measures the CPU work, not the disk.
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			paths = append(paths, p)
			res.Bytes += int64(len(data))
			return gz.add(data)
		})
		if err != nil {
			return res, err
		}
	}
	if len(paths) == 0 {
		return res, fmt.Errorf("bench scan: no file under %v", cfg.Dirs)
	}
	res.Files = len(paths)
	if gz.Files > 0 {
		res.Gzip = &gz
	}
	root := cfg.Index
	if root == "" {
		tmp, err := os.MkdirTemp("", "copycat-bench-scan-")
		if err != nil {
			return res, err
		}
		defer os.RemoveAll(tmp)
		root = tmp
	}

	var stages scan.Stages
	res.Copycat, res.Baseline = ScanRun{Name: "copycat"}, ScanRun{Name: "baseline"}
	for round := range rounds {
		c, err := copycatScan(ctx, cfg.Dirs, filepath.Join(root, fmt.Sprintf("index-%d", round)), res.Workers, &stages)
		if err != nil {
			return res, err
		}
		res.Copycat.add(c)
		b, err := baselineScan(ctx, paths, res.Workers)
		if err != nil {
			return res, err
		}
		res.Baseline.add(b)
		res.Ratios = append(res.Ratios, c.ImagesPerSec()/b.ImagesPerSec())
	}
	res.Ratio = res.Copycat.ImagesPerSec() / res.Baseline.ImagesPerSec()
	if n := stages.Images(); n > 0 {
		for st := scan.StageRead; st <= scan.StageWrite; st++ {
			res.Stages = append(res.Stages, StageTime{Stage: st.String(), PerImage: stages.Time(st) / time.Duration(n)})
		}
	}
	writeScanReport(w, cfg, rounds, &res)
	return res, nil
}

// add accumulates another round of the same contender.
func (r *ScanRun) add(o ScanRun) {
	r.Files += o.Files
	r.Images += o.Images
	r.Failed += o.Failed
	r.Bytes += o.Bytes
	r.Elapsed += o.Elapsed
	r.CPU += o.CPU
	r.PeakRSS = max(r.PeakRSS, o.PeakRSS)
	r.Rounds = append(r.Rounds, o.ImagesPerSec())
}

// copycatScan is one `copycat scan` of the folders into a new index, the
// index opened and closed as the command does (and timed with the scan:
// about half a second that small sets feel).
func copycatScan(ctx context.Context, dirs []string, dir string, workers int, stages *scan.Stages) (ScanRun, error) {
	run := ScanRun{Name: "copycat"}
	resetPeakRSS()
	cpu0, start := cpuTime(), time.Now()
	st, err := index.Open(dir, index.Options{})
	if err != nil {
		return run, err
	}
	var ds []scan.Dataset
	for i, d := range dirs {
		ds = append(ds, scan.Dataset{Name: fmt.Sprintf("d%d-%s", i, filepath.Base(d)), Path: d})
	}
	sum, err := scan.Run(ctx, st, scan.Options{Workers: workers, Stages: stages}, ds)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return run, err
	}
	run.Elapsed, run.CPU = time.Since(start), cpuTime()-cpu0
	run.PeakRSS = peakRSSSinceReset()
	for _, d := range sum.Datasets {
		run.Files += int(d.Files)
		run.Images += int(d.Images)
		run.Failed += int(d.FailedTotal)
		run.Bytes += d.Bytes
	}
	return run, os.RemoveAll(dir)
}

// baselineScan reads and hashes every file the naive way, with a pool of
// workers (files that are not images fail, as they cost the baseline
// little).
func baselineScan(ctx context.Context, paths []string, workers int) (ScanRun, error) {
	run := ScanRun{Name: "baseline", Files: len(paths)}
	resetPeakRSS()
	cpu0, start := cpuTime(), time.Now()
	var next, images, failed, bytes atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	for range workers {
		g.Go(func() error {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(paths) {
					return nil
				}
				if err := gctx.Err(); err != nil {
					return err
				}
				data, err := os.ReadFile(paths[i])
				if err != nil {
					failed.Add(1)
					continue
				}
				bytes.Add(int64(len(data)))
				n, ok := baselineHash(loaded{path: paths[i], data: data})
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
	run.Elapsed, run.CPU = time.Since(start), cpuTime()-cpu0
	run.PeakRSS = peakRSSSinceReset()
	run.Images, run.Failed, run.Bytes = int(images.Load()), int(failed.Load()), bytes.Load()
	return run, nil
}

func writeScanReport(w io.Writer, cfg ScanConfig, rounds int, r *ScanResult) {
	fmt.Fprintf(w, "%d files (%.1f MB) under %v, %d workers, %d interleaved round(s) per contender; copycat's time includes opening and closing its index\n",
		r.Files, float64(r.Bytes)/1e6, cfg.Dirs, r.Workers, rounds)
	fmt.Fprintf(w, "%-9s %8s %7s %10s %8s %12s %10s\n", "", "images", "failed", "images/s", "MB/s", "CPU/image", "peak RSS")
	for _, c := range []ScanRun{r.Copycat, r.Baseline} {
		fmt.Fprintf(w, "%-9s %8d %7d %10.1f %8.1f %12v %7.0f MB\n", c.Name, c.Images, c.Failed, c.ImagesPerSec(),
			float64(c.Bytes)/1e6/c.Elapsed.Seconds(), c.CPUPerImage().Round(time.Microsecond), float64(c.PeakRSS)/1e6)
	}
	rs := slices.Clone(r.Ratios)
	slices.Sort(rs)
	fmt.Fprintf(w, "ratio (copycat/baseline images/s): %.2fx (rounds: min %.2fx, median %.2fx, max %.2fx)\n",
		r.Ratio, rs[0], rs[len(rs)/2], rs[len(rs)-1])
	if len(r.Stages) > 0 {
		fmt.Fprintf(w, "copycat per image, wall time inside each stage summed over the workers (the writer for index write):")
		var total time.Duration
		for _, s := range r.Stages {
			fmt.Fprintf(w, " %s %v,", s.Stage, s.PerImage.Round(time.Microsecond))
			total += s.PerImage
		}
		fmt.Fprintf(w, " total %v\n", total.Round(time.Microsecond))
	}
	if g := r.Gzip; g != nil {
		mb := float64(g.InflatedBytes) / 1e6
		fmt.Fprintf(w, "gzip'd images: %d file(s), %.1f MB inflated; on one goroutine, best of 3: reading the gzip streams (compress/gzip) %v, %.1f MB/s; copycat decoding them %v, %.1f MB/s (%.2fx)\n",
			g.Files, mb, g.Read.Round(time.Millisecond), mb/g.Read.Seconds(), g.Decode.Round(time.Millisecond), mb/g.Decode.Seconds(), g.Read.Seconds()/g.Decode.Seconds())
	}
}

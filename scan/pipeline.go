package scan

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/copycat-dev/copycat/hash"
	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/ingest"
	"github.com/copycat-dev/copycat/match"
)

// job is one entry on its way to a worker.
type job struct {
	entry *ingest.Entry
}

// result is one file on its way to the writer: processed, or found
// unchanged in the index (then only counted).
type result struct {
	file      index.File
	images    []index.Image
	unchanged bool
	// doc is the head of a documentation file (index.KindOfDocument),
	// nil for other files and unchanged ones.
	doc []byte
}

// counters are read by the progress ticker while the writer updates them.
type counters struct {
	files, images, failed, bytes atomic.Int64
	dataset                      atomic.Value // string
	datasetIndex, datasets       atomic.Int64
	// total is the files of all datasets, once counted (see
	// countTotal); exact says the count is not an estimate.
	total   atomic.Int64
	counted atomic.Bool
	exact   atomic.Bool
}

func run(ctx context.Context, store *index.Store, opts Options, datasets []Dataset) (*Summary, error) {
	start := time.Now()
	dir := store.Dir()
	floor := JobFloor(ctx, datasets, opts.MinFreeSpace)
	floor.opened = true // store is open
	if err := checkSpace(dir, dir, floor.Need()); err != nil {
		return nil, err
	}
	sum := &Summary{Index: dir}
	decodeOpts := ingest.Options{PixelBudget: opts.PixelBudget, Salt: store.Salt()}
	var cnt counters
	stopTicker := startProgress(ctx, opts.Progress, &cnt, start, datasets)
	var runErr error
	cnt.datasets.Store(int64(len(datasets)))
	for i, d := range datasets {
		cnt.datasetIndex.Store(int64(i + 1))
		ds, err := scanDataset(ctx, opts, decodeOpts, store, d, &cnt, floor)
		if ds != nil {
			sum.Datasets = append(sum.Datasets, ds)
		}
		if err != nil {
			runErr = err
			break
		}
	}
	stopTicker()
	sum.Seconds = time.Since(start).Seconds()
	if opts.Progress != nil {
		opts.Progress(snapshot(&cnt, start, true))
	}
	if runErr != nil {
		if errors.Is(runErr, context.Canceled) {
			sum.Interrupted = true
		}
		return sum, runErr
	}
	return sum, nil
}

// startProgress calls report about five times a second until the returned
// stop is called, and meanwhile counts the datasets' files for the total
// (ingest.CountFiles: a folder listing and zip directories, which the
// scan's own walk then finds in the page cache). These are the two
// goroutines a scan keeps beside its pipelines, and stop waits for both.
func startProgress(ctx context.Context, report func(Progress), cnt *counters, start time.Time, datasets []Dataset) (stop func()) {
	if report == nil {
		return func() {}
	}
	done := make(chan struct{})
	exited := make(chan struct{})
	countCtx, cancelCount := context.WithCancel(ctx)
	counted := make(chan struct{})
	go func() {
		defer close(counted)
		countTotal(countCtx, cnt, datasets)
	}()
	go func() {
		defer close(exited)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				report(snapshot(cnt, start, false))
			}
		}
	}()
	return func() { cancelCount(); close(done); <-exited; <-counted }
}

// countTotal counts the files of every dataset into cnt.total; a dataset
// that cannot be counted (its walk will report why) leaves no total.
func countTotal(ctx context.Context, cnt *counters, datasets []Dataset) {
	var total int64
	exact := true
	for _, d := range datasets {
		n, ok, err := ingest.CountFiles(ctx, d.Path)
		if err != nil {
			return
		}
		total += n
		exact = exact && ok
	}
	cnt.total.Store(total)
	cnt.exact.Store(exact)
	cnt.counted.Store(true)
}

// scanDataset runs the pipeline over one dataset: a walker, a pool of
// workers and one writer into the index, joined by bounded channels under
// one errgroup. The index allows one scan at a time, so datasets are
// scanned one after the other.
func scanDataset(ctx context.Context, opts Options, decodeOpts ingest.Options, store *index.Store, d Dataset, cnt *counters, floor *Floor) (*DatasetSummary, error) {
	dsStart := time.Now()
	src, err := ingest.OpenDataset(d.Path, opts.Walk)
	if err != nil {
		return nil, fmt.Errorf("scan: dataset %s: %w", d.Name, err)
	}
	defer src.Close() // after the workers: archive members are read by them
	sc, err := store.BeginWrite(d.Name, d.Path)
	if err != nil {
		return nil, err
	}
	cnt.dataset.Store(d.Name)
	sum := newDatasetSummary(d)

	nw := opts.workers()
	jobs := make(chan job, 2*nw)
	results := make(chan result, 2*nw)
	g, gctx := errgroup.WithContext(ctx)

	// The walker asks the index whether a file changed, so unchanged files
	// skip the workers and go straight to the writer to be counted.
	g.Go(func() error {
		defer close(jobs)
		return src.Walk(gctx, func(e *ingest.Entry) error {
			if !opts.Shard.Includes(d.Name, e.Path) {
				return nil
			}
			if e.Err == nil {
				same, err := sc.Unchanged(e.Path, e.Size, e.ModTime)
				if err != nil {
					return err
				}
				if same && index.KindOfDocument(e.Path) != index.NotDocument {
					// Read it again if the index lacks its text (an
					// index from before documents were kept).
					if same, err = sc.HasDocument(e.Path); err != nil {
						return err
					}
				}
				if same {
					return send(gctx, results, result{file: index.File{Path: e.Path, Size: e.Size}, unchanged: true})
				}
			}
			return send(gctx, jobs, job{entry: e})
		})
	})

	budget := newReadBudget(opts.ReadBudget)
	workers, wctx := errgroup.WithContext(gctx)
	for range nw {
		workers.Go(func() error {
			wk := NewWorker(decodeOpts)
			wk.stages = opts.Stages
			defer wk.Close()
			for {
				select {
				case <-wctx.Done():
					return wctx.Err()
				case j, ok := <-jobs:
					if !ok {
						return nil
					}
					hold, err := budget.acquire(wctx, j.entry.Size)
					if err != nil {
						return err
					}
					r, err := wk.process(wctx, j, hold)
					hold.release()
					if err != nil {
						return err
					}
					if err := send(wctx, results, r); err != nil {
						return err
					}
				}
			}
		})
	}
	g.Go(func() error {
		defer close(results)
		return workers.Wait()
	})

	// The single writer. It checks the free space before every file,
	// unchanged ones too (their records are rewritten): see MinFreeSpace
	// and Floor.
	// It gathers the documentation files, stored before Finish.
	var docs docSet
	g.Go(func() error {
		for {
			select {
			case <-gctx.Done():
				return gctx.Err()
			case r, ok := <-results:
				if !ok {
					return checkSpace(store.Dir(), store.Dir(), floor.Need()) // before Finish writes
				}
				if err := checkSpace(store.Dir(), store.Dir(), floor.Need()); err != nil {
					return err
				}
				floor.processed(r.file.Size)
				if r.doc != nil || r.unchanged {
					docs.add(index.Document{Path: r.file.Path, Size: r.file.Size, Data: r.doc}, r.unchanged)
				}
				t := opts.Stages.start()
				err := record(sc, sum, r, cnt)
				t.lap(StageWrite)
				if err != nil {
					return err
				}
			}
		}
	})

	if err := g.Wait(); err != nil {
		// Keep what was written: the next scan of this dataset resumes.
		if cerr := sc.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
		sum.Seconds = time.Since(dsStart).Seconds()
		sum.sort()
		return sum, err
	}
	t := opts.Stages.start()
	if err := docs.store(sc); err != nil {
		_ = sc.Close()
		return sum, fmt.Errorf("scan: dataset %s: %w", d.Name, err)
	}
	res, err := sc.Finish()
	t.lap(StageWrite)
	if err != nil {
		return sum, err
	}
	if err := summarize(ctx, store, d.Name, res, sum); err != nil {
		return sum, err
	}
	sum.Seconds = time.Since(dsStart).Seconds()
	return sum, nil
}

// summarize fills the dataset's counts from the index after a finished
// scan, so that unchanged files (not reprocessed) count as what they were:
// decoded, skipped or failed.
func summarize(ctx context.Context, store *index.Store, name string, res index.WriteResult, sum *DatasetSummary) error {
	sum.Files, sum.Unchanged, sum.Removed = int64(res.Files), int64(res.Unchanged), int64(res.Removed)
	sum.Decoded, sum.Images, sum.Skipped, sum.FailedTotal = 0, 0, 0, 0
	sum.Failed, sum.Documents = sum.Failed[:0], sum.Documents[:0]
	clear(sum.FailureReasons)
	for f, err := range store.Files(ctx, name) {
		if err != nil {
			return err
		}
		countFile(sum, f)
	}
	sum.sort()
	return nil
}

// countFile adds one file to a dataset summary.
func countFile(s *DatasetSummary, f index.File) {
	switch {
	case f.Failure != "":
		s.FailedTotal++
		s.FailureReasons[reasonClass(f.Failure)]++
		if len(s.Failed) < MaxListedFailures {
			s.Failed = append(s.Failed, Failure{Path: f.Path, Reason: f.Failure})
		}
	case f.Frames > 0:
		s.Decoded++
		s.Images += int64(f.Frames)
	default:
		s.Skipped++
		if isDocumentation(f.Path) && len(s.Documents) < MaxListedFailures {
			s.Documents = append(s.Documents, f.Path)
		}
	}
}

func snapshot(c *counters, start time.Time, done bool) Progress {
	name, _ := c.dataset.Load().(string)
	return Progress{Dataset: name, DatasetIndex: int(c.datasetIndex.Load()), Datasets: int(c.datasets.Load()),
		Files: c.files.Load(), Images: c.images.Load(), Failed: c.failed.Load(),
		Bytes: c.bytes.Load(), Elapsed: time.Since(start), Done: done,
		TotalFiles: c.total.Load(), TotalExact: c.exact.Load() && c.counted.Load()}
}

// send delivers v unless ctx ends first.
func send[T any](ctx context.Context, ch chan<- T, v T) error {
	select {
	case ch <- v:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Worker does a scan's per-file work: read, file digest, sniff, decode,
// pixel digest and fingerprint of every frame. The scan pipeline runs one
// per worker goroutine, and `copycat bench hash` measures exactly this. A
// Worker is not safe for concurrent use; Close releases its decoders.
type Worker struct {
	dec    *ingest.Decoder
	h      *hash.Hasher
	pv     previewer
	stages *Stages // measured when set (Options.Stages)
}

// NewWorker returns a Worker that decodes with opts. Unless opts.MinSide is
// set, images are decoded down to hash.MinSide, the smallest size at which
// the fingerprints are as good as from the full image.
func NewWorker(opts ingest.Options) *Worker {
	if opts.MinSide == 0 {
		opts.MinSide = hash.MinSide
	}
	return &Worker{dec: ingest.NewDecoder(opts), h: hash.NewScanHasher()}
}

// Close releases the worker's decoders.
func (w *Worker) Close() error { return w.dec.Close() }

// Process does the work for one entry and reports how many images it
// produced and, when it failed, why.
func (w *Worker) Process(e *ingest.Entry) (images int, failure string) {
	r, _ := w.process(context.Background(), job{entry: e}, nil)
	return len(r.images), r.file.Failure
}

// process turns problems with the file into its failure reason; it fails
// only when ctx ends while it waits for the budget. hold, when not nil, is
// the file's share of the scan's budget: once the file is read it grows by
// the memory the decoding will hold.
func (w *Worker) process(ctx context.Context, j job, hold *budgetHold) (result, error) {
	e := j.entry
	r := result{file: index.File{Path: e.Path, Size: e.Size, ModTime: e.ModTime}}
	t := w.stages.start()
	if w.stages != nil {
		w.stages.files.Add(1)
	}
	data, err := e.ReadAll()
	t.lap(StageRead)
	if err != nil {
		r.file.Failure = failureReason(err)
		return r, nil
	}
	r.file.SHA256 = sha256Sum(data)
	t.lap(StageDigest)
	kind, name := ingest.Sniff(data[:min(len(data), ingest.SniffLen)])
	switch {
	case (kind == ingest.KindDocument || kind == ingest.KindData) && hasImageExtension(e.Path):
		// Named like an image but holding text or data: someone will expect
		// an image here, so say what it is instead of skipping it silently.
		r.file.Format = name
		r.file.Failure = fmt.Sprintf("not an image: %s content in a %s file", name, strings.ToLower(path.Ext(e.Path)))
		return r, nil
	case kind == ingest.KindDocument, kind == ingest.KindData:
		r.file.Format = name
		r.doc = docHead(e.Path, data)
		return r, nil
	case kind == ingest.KindEmpty && isPlaceholder(e.Path):
		return r, nil
	}
	if hold != nil {
		if err := hold.grow(ctx, w.dec.DecodeCost(data)); err != nil {
			return r, err
		}
		t = w.stages.start() // the wait is not decoding
	}
	meta, imgs, err := decodeImages(w.dec, w.h, &w.pv, data, &t)
	r.file.Format = string(meta.Format)
	if err != nil {
		r.file.Failure = failureReason(err)
		return r, nil
	}
	r.images = imgs
	r.file.Frames = len(imgs)
	for i := range imgs {
		imgs[i].Path, imgs[i].FileSize, imgs[i].FileSHA256 = e.Path, int64(len(data)), r.file.SHA256
	}
	return r, nil
}

// decodeImages decodes one file and returns an index record per frame with
// everything the file says (the scan adds path and file digests): the one
// decode-digest-fingerprint step that scan, query and hash share.
// pv, when not nil, makes each frame's preview (the index stores it, for
// the HTML report). t, when measuring, is charged the decoding, digests,
// fingerprints and previews.
func decodeImages(dec *ingest.Decoder, h *hash.Hasher, pv *previewer, data []byte, t *stageTimer) (ingest.Meta, []index.Image, error) {
	var imgs []index.Image
	var ts []int                     // each image's volume, for NIfTI slices
	var ranges [][]ingest.NIfTIRange // each NIfTI slice's window ranges
	meta, err := dec.Decode(data, func(f ingest.Frame) error {
		t.lap(StageDecode)
		im := index.Image{Frame: f.Index, PixelSHA256: ingest.FrameDigest(f)}
		ts = append(ts, f.T)
		ranges = append(ranges, f.Ranges)
		t.lap(StageDigest)
		im.Fingerprint = h.ComputeReduced(f.Image, f.Scale, f.Width, f.Height)
		// The min-max rendering is often the same picture (a window that
		// clips a few outliers): the PDQ-less preview decides that at a
		// fraction of a full fingerprint's cost on a large frame.
		if f.MinMax != nil {
			if pv := h.Preview(f.MinMax); !sameRendering(&im.Fingerprint, &pv) {
				mm := h.Compute(f.MinMax)
				im.MinMax = &mm
			}
		}
		if pv != nil {
			im.Preview = pv.encode(f.Image)
		}
		t.lap(StageFingerprint)
		imgs = append(imgs, im)
		return nil
	})
	t.lap(StageDecode)
	if t.s != nil {
		t.s.images.Add(int64(len(imgs)))
	}
	if err != nil {
		return meta, nil, err
	}
	for i := range imgs {
		im := &imgs[i]
		// The size is the image's, not that of the reduced frame hashed.
		im.Width, im.Height = meta.Width, meta.Height
		im.Format = string(meta.Format)
		im.Bits = meta.Bits
		im.Photometric = meta.Photometric
		im.Lossy = meta.Lossy
		im.JPEGQuality = meta.Quality
		im.TransferSyntax = meta.TransferSyntax
		im.SOPInstanceUID = meta.SOPInstanceUID
		im.SeriesInstanceUID = meta.SeriesInstanceUID
		im.StudyInstanceUID = meta.StudyInstanceUID
		im.Modality = meta.Modality
		im.PatientIDDigest = meta.PatientIDDigest
		if v := meta.Volume; v != nil {
			tv := ts[i]
			im.Volume = &index.Volume{Dims: v.Dims, PixelSize: v.PixelSize, Datatype: v.Datatype,
				QformCode: v.QformCode, SformCode: v.SformCode, Slice: im.Frame - tv*v.Dims[2], T: tv, Plane: v.Plane,
				Windows: volumeWindows(ranges[i])}
		}
	}
	return meta, imgs, nil
}

// volumeWindows converts a NIfTI slice's window ranges to the record's,
// in ingest's order (the rendered windows first).
func volumeWindows(rs []ingest.NIfTIRange) []index.VolumeWindow {
	if len(rs) == 0 {
		return nil
	}
	out := make([]index.VolumeWindow, len(rs))
	for i, r := range rs {
		out[i] = index.VolumeWindow{Name: r.Window.String(), Low: float32(r.Low), High: float32(r.High)}
	}
	return out
}

// maxSameRendering is the pHash distance up to which a frame's min-max
// rendering counts as the picture its stored window already shows (when
// the pair also passes verification): its own fingerprint would only
// double the search for the same matches.
const maxSameRendering = 2

// sameRendering reports whether a min-max rendering adds nothing to the
// frame's own fingerprint. minMax may be a preview (no PDQ): verification
// then judges on the thumbnails alone.
func sameRendering(own, minMax *hash.Fingerprint) bool {
	return hash.Distance64(own.PHash, minMax.PHash) <= maxSameRendering &&
		match.Thresholds{}.Accept(match.Verify(own, minMax, match.Identity))
}

// sha256Sum is the file digest: SHA-256, which Go computes with the CPU's
// SHA extensions where present (about 2 GB/s here), so it costs little
// next to decoding.
func sha256Sum(data []byte) [32]byte { return sha256.Sum256(data) }

// record is the writer: it stores one file's results and counts them.
func record(sc *index.Writer, s *DatasetSummary, r result, c *counters) error {
	c.files.Add(1)
	if r.unchanged {
		return nil // counted from the index when the scan finishes
	}
	f := r.file
	s.Bytes += f.Size
	c.bytes.Add(f.Size)
	err := sc.Put(f, r.images)
	if errors.Is(err, index.ErrTooLarge) {
		// More frames than one transaction holds: record the file as failed
		// rather than lose it silently.
		f.Failure = fmt.Sprintf("too large: %d frames exceed what the index writes at once", len(r.images))
		f.Frames, r.images = 0, nil
		err = sc.Put(f, nil)
	}
	if err != nil {
		return fmt.Errorf("index %s: %w", f.Path, err)
	}
	// Running counts for an interrupted scan; a finished scan recounts
	// from the index.
	s.Files++
	countFile(s, f)
	if f.Failure != "" {
		c.failed.Add(1)
	}
	c.images.Add(int64(f.Frames))
	return nil
}

package copycat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/ingest"
	"github.com/copycat-dev/copycat/interchange"
	"github.com/copycat-dev/copycat/lineage"
	"github.com/copycat-dev/copycat/match"
	"github.com/copycat-dev/copycat/scan"
)

// DefaultMaxDistance is the pHash distance (of 64 bits) up to which two
// images are candidate copies when an options struct leaves MaxDistance
// nil. Candidates are then verified beyond the pHash.
const DefaultMaxDistance = index.DefaultMaxDistance

// Distance returns a pointer to d, for the MaxDistance fields: nil there
// means DefaultMaxDistance, and Distance(0) asks for exact copies only.
func Distance(d int) *int { return &d }

// maxDistance turns an optional distance into the convention of the
// packages below: negative means the default.
func maxDistance(d *int) int {
	if d == nil {
		return -1
	}
	return max(*d, 0)
}

// Options configure Open. The zero value opens the index for writing, with
// logging off.
type Options struct {
	// ReadOnly opens the index without writing anything, so that other
	// read-only users (another process's query or report) can share it.
	// Scan and Forget then fail with ErrReadOnly. A read-only Open fails
	// with a *LockedError while a writer holds the index, and a writable
	// one while anybody does: the index's store (Badger) cannot share a
	// folder between a writer and readers.
	ReadOnly bool
	// Logger receives the store's messages and the scan's debug detail;
	// nil discards them.
	Logger *slog.Logger
	// Wait makes OpenContext wait while another process holds the index
	// (a read while a scan writes, a scan while a report reads) instead
	// of failing with a *LockedError. Reads cannot run beside a scan: they
	// start on the committed state once it has finished.
	Wait bool
	// Waiting, when set, is called once if the open has to wait, with the
	// lock in the way, so that a program can say why nothing happens.
	Waiting func(*LockedError)
	// MinFreeSpace, when positive, is the free space that a writable Open
	// and every Scan keep on the index's device, whatever the job. By
	// default a scan keeps what its job may still write, up to
	// MinFreeSpace (see ScanJob), and other writes keep MinFreeSpace: the
	// floor is what keeps Badger from meeting a full device mid-write (see
	// SpaceError).
	MinFreeSpace int64
	// ScanJob, when set, is the datasets the caller opens the index to
	// Scan: a writable Open then checks the free space that job needs,
	// which for a small job is far less than MinFreeSpace (a few hundred
	// images run with tens of MB free), instead of MinFreeSpace.
	ScanJob []Dataset
}

// Index is an open copycat index: a folder holding the fingerprints and
// records of every scanned dataset. Open it once and make as many calls as
// needed: the search structure is built on the first query and kept until
// a scan or Forget changes the index. Its methods are safe for concurrent
// use, but only one Scan runs at a time. Close releases it.
type Index struct {
	st       *index.Store
	readOnly bool
	logger   *slog.Logger
	minFree  int64 // Options.MinFreeSpace

	mu      sync.Mutex
	workers []*scan.Worker // idle query decoders, reused across Query calls
	closed  bool
}

// Open opens the index in folder dir, creating it unless opts.ReadOnly.
// Opening for writing first checks that the folder can be written and that
// its device has the free space it keeps (a *SpaceError otherwise: see
// Options.MinFreeSpace and Options.ScanJob), since the store cannot
// survive a full device mid-write.
func Open(dir string, opts Options) (*Index, error) {
	return OpenContext(context.Background(), dir, opts)
}

// OpenContext is Open, with ctx ending a wait for another process's lock
// (Options.Wait).
func OpenContext(ctx context.Context, dir string, opts Options) (*Index, error) {
	if !opts.ReadOnly {
		floor := scan.FixedFloor(opts.MinFreeSpace)
		if opts.ScanJob != nil {
			floor = scan.JobFloor(ctx, opts.ScanJob, opts.MinFreeSpace)
		}
		if err := scan.CheckIndexDir(dir, floor.Need()); err != nil {
			return nil, err
		}
	}
	st, err := index.OpenContext(ctx, dir, index.Options{ReadOnly: opts.ReadOnly, Logger: opts.Logger, Wait: opts.Wait, Waiting: opts.Waiting})
	if err != nil {
		return nil, err
	}
	return &Index{st: st, readOnly: opts.ReadOnly, logger: opts.Logger, minFree: opts.MinFreeSpace}, nil
}

// Dir returns the index's folder.
func (ix *Index) Dir() string { return ix.st.Dir() }

// Close releases the index. Writes made by Scan and Forget are durable
// once they return; Close flushes the store's files and reports what
// failed doing so.
func (ix *Index) Close() error {
	ix.mu.Lock()
	ws := ix.workers
	ix.workers, ix.closed = nil, true
	ix.mu.Unlock()
	var errs []error
	for _, w := range ws {
		errs = append(errs, w.Close())
	}
	errs = append(errs, ix.st.Close())
	return errors.Join(errs...)
}

// Dataset is one thing to scan: a folder, a zip file or a tar (optionally
// gzipped) archive, under a name that identifies it in the index.
type Dataset = scan.Dataset

// ParseDataset reads a dataset argument as the command line takes it,
// "[NAME=]PATH"; without NAME the name is the path's base name, archive
// extensions removed.
func ParseDataset(arg string) Dataset { return scan.ParseDataset(arg) }

// CheckDatasets refuses, without opening or creating anything, what Scan
// would refuse of the datasets themselves: none given, an empty or repeated
// name, a path that does not exist, a file that is neither a zip nor a tar
// archive (one image given as a dataset is told to use Query). Call it
// before Open to leave no index behind for a mistyped command.
func CheckDatasets(datasets []Dataset) error { return scan.CheckDatasets(datasets) }

// ScanOptions configure Scan. The zero value of every field is its
// default.
type ScanOptions struct {
	// Workers decode and hash in parallel; 0 means one per CPU.
	Workers int
	// PixelBudget refuses images (frames) larger than this many pixels,
	// recording them as too large; 0 means 100 megapixels.
	PixelBudget int64
	// ReadBudget bounds the bytes of file data the workers hold at once;
	// 0 means 64 MiB. A larger file is processed alone.
	ReadBudget int64
	// Walk bounds what is read of each file and archive (size, compression
	// ratio, nesting); its zero value uses the defaults.
	Walk WalkOptions
	// Progress, when set, is called about five times a second with the
	// counts so far, from a goroutine of the scan, and once at the end.
	Progress func(Progress)
	// Replace lets a dataset take a name the index holds for another
	// source; without it Scan refuses with a *NameTakenError before
	// scanning anything. Rescanning a dataset's own source needs nothing.
	Replace bool
	// Shard, when set (ParseShard), scans only that deterministic part of
	// each dataset's files, so that N machines share one tree: Export
	// each shard's index, then Import the N exports into one.
	Shard Shard
}

// Shard is a deterministic part K of N of every dataset's files, chosen
// by a hash of dataset name and path; the zero value is every file.
type Shard = scan.Shard

// ParseShard reads a shard as the command line gives it, "K/N" with
// 1 <= K <= N.
func ParseShard(s string) (Shard, error) { return scan.ParseShard(s) }

// WalkOptions bound what a scan reads of each file and archive: file size,
// the compression ratio of archive members, archives nested in archives.
// The zero value uses the defaults.
type WalkOptions = ingest.WalkOptions

// Progress is a snapshot of a running scan.
type Progress = scan.Progress

// ScanSummary is what a scan did, per dataset: files seen, images indexed,
// unchanged and removed files, and every file that failed with its reason.
// Its JSON form is what `copycat scan --json` prints.
type ScanSummary = scan.Summary

// DatasetSummary is what one dataset's scan found (see ScanSummary).
type DatasetSummary = scan.DatasetSummary

// Failure is a file a scan could not index, with its one-line reason
// (corrupt, unsupported, too large, unreadable).
type Failure = scan.Failure

// Scan reads the datasets into the index, one after the other. A dataset
// scanned before under the same name is updated: unchanged files are
// skipped, changed ones re-read, vanished ones removed. Files that cannot
// be read are recorded in the summary, never returned as errors: Scan
// fails only when the scan itself cannot go on (a read-only index, a
// dataset that does not exist, a full device) or ctx ends, and then the
// summary still says what was done and committed.
func (ix *Index) Scan(ctx context.Context, datasets []Dataset, opts ScanOptions) (*ScanSummary, error) {
	if ix.readOnly {
		return nil, fmt.Errorf("scan into %s: %w", ix.Dir(), ErrReadOnly)
	}
	return scan.Run(ctx, ix.st, scan.Options{
		Workers:      opts.Workers,
		PixelBudget:  opts.PixelBudget,
		ReadBudget:   opts.ReadBudget,
		Walk:         opts.Walk,
		Progress:     opts.Progress,
		Replace:      opts.Replace,
		Shard:        opts.Shard,
		MinFreeSpace: ix.minFree,
	}, datasets)
}

// QueryOptions configure Query and QueryBytes.
type QueryOptions struct {
	// MaxDistance is the largest pHash distance reported; nil means
	// DefaultMaxDistance, Distance(0) exact copies only.
	MaxDistance *int
	// NoTransforms looks the image up as it is, not its rotations and
	// mirrors.
	NoTransforms bool
}

// QueryResult is the answer for one image (one frame) of a query file.
type QueryResult = scan.QueryResult

// Match is one indexed image that matches a query: the image's record,
// how it matches (identical file, identical pixels, same DICOM instance,
// near-duplicate), the pHash distance, the rotation or mirror or crop that
// maps the query onto it, and whether the match passed verification.
type Match = index.Match

// Kind is how two images are copies; its String is the name the command
// line and JSON show ("identical-file", "near-duplicate", ...).
type Kind = match.Kind

// The kinds of copy, strongest first. A pair has the strongest that
// applies; Representative marks the member of a cluster the others are
// described against.
const (
	Representative    = match.Representative
	IdenticalFile     = match.IdenticalFile     // the same file bytes, same frame
	IdenticalPixels   = match.IdenticalPixels   // the same decoded pixels, any format
	SameDICOMInstance = match.SameDICOMInstance // the same DICOM instance and frame, re-encoded
	NearDuplicate     = match.NearDuplicate     // a verified near-duplicate: resized, recompressed, rotated, cropped...
)

// Query decodes the image file at path (any format a scan reads) and looks
// each of its frames up in the index, nearest matches first. A file that
// cannot be read or decoded gives a *FileError that unwraps to the cause:
// errors.As finds a *CorruptError, *UnsupportedError or *TooLargeError.
func (ix *Index) Query(ctx context.Context, path string, opts QueryOptions) ([]QueryResult, error) {
	return ix.query(ctx, path, nil, opts)
}

// QueryBytes is Query for an image file already in memory; name labels the
// results and errors.
func (ix *Index) QueryBytes(ctx context.Context, name string, data []byte, opts QueryOptions) ([]QueryResult, error) {
	if data == nil {
		data = []byte{} // nil means "read name" below
	}
	return ix.query(ctx, name, data, opts)
}

// query looks up data, or the file at path when data is nil.
func (ix *Index) query(ctx context.Context, path string, data []byte, opts QueryOptions) ([]QueryResult, error) {
	w, err := ix.worker()
	if err != nil {
		return nil, err
	}
	defer ix.release(w)
	if data == nil {
		if data, err = scan.ReadFile(path); err != nil {
			return nil, err
		}
	}
	return w.Query(ctx, ix.st, path, data, scan.QueryOptions{MaxDistance: maxDistance(opts.MaxDistance), NoTransforms: opts.NoTransforms})
}

// worker takes an idle query decoder or makes one.
func (ix *Index) worker() (*scan.Worker, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.closed {
		return nil, index.ErrClosed
	}
	if n := len(ix.workers); n > 0 {
		w := ix.workers[n-1]
		ix.workers = ix.workers[:n-1]
		return w, nil
	}
	return scan.NewQueryWorker(ix.st), nil
}

// maxIdleWorkers bounds the decoders kept between queries: each holds
// buffers sized for the images it last decoded.
const maxIdleWorkers = 8

// release returns a query decoder for reuse, or closes it.
func (ix *Index) release(w *scan.Worker) {
	ix.mu.Lock()
	if !ix.closed && len(ix.workers) < maxIdleWorkers {
		ix.workers = append(ix.workers, w)
		w = nil
	}
	ix.mu.Unlock()
	if w != nil {
		w.Close()
	}
}

// ClusterOptions configure Clusters.
type ClusterOptions struct {
	// MaxDistance is the pHash distance up to which two images are
	// candidate copies; nil means DefaultMaxDistance, Distance(0) exact
	// copies only.
	MaxDistance *int
	// NoTransforms leaves rotated and mirrored copies out.
	NoTransforms bool
	// Workers bounds the goroutines of the pair search; 0 means one per
	// CPU.
	Workers int
}

// Cluster is a group of images that are copies of one another, with how
// each member relates to the group's first (its transform and rendering).
type Cluster = index.Cluster

// ClusterMember is one image of a Cluster.
type ClusterMember = index.ClusterMember

// ClusterStats says what clustering did: candidate pairs, verified pairs,
// clusters, and the time each step took.
type ClusterStats = index.ClusterStats

// Clusters groups every indexed image with its copies, across datasets and
// within them, by the rule copycat uses everywhere (package match): pHash
// candidates under the eight orientations, verified on thumbnails, crops
// recovered, neighbouring slices of one series kept apart. Singletons are
// left out.
func (ix *Index) Clusters(ctx context.Context, opts ClusterOptions) ([]Cluster, ClusterStats, error) {
	return ix.st.Clusters(ctx, index.ClusterOptions{
		MaxDistance:  maxDistance(opts.MaxDistance),
		NoTransforms: opts.NoTransforms,
		Workers:      opts.Workers,
	})
}

// LineageOptions configure Lineage.
type LineageOptions struct {
	// MaxDistance is the pHash distance up to which two images are
	// candidate copies; nil means DefaultMaxDistance, Distance(0) exact
	// copies only.
	MaxDistance *int
	// NoTransforms leaves rotated and mirrored copies out.
	NoTransforms bool
	// NoDocuments skips the licence and documentation audit (which reads
	// the documents the scan kept in the index): licences are then
	// reported "unavailable".
	NoDocuments bool
	// Workers bounds the goroutines of the pair search; 0 means one per
	// CPU.
	Workers int
}

// LineageReport is the dataset-level analysis: which dataset derives from
// which and how (converted, resized, recompressed, rotated, subset...),
// overlaps, leaks between splits, and licence findings. Its JSON form is
// what `copycat lineage --json` prints.
type LineageReport = lineage.Report

// Lineage analyses the whole index: it clusters the images as Clusters
// does and turns the clusters into derivations between datasets, leaks
// and licence findings. It fails with ErrNoDatasets on an empty index.
func (ix *Index) Lineage(ctx context.Context, opts LineageOptions) (*LineageReport, error) {
	return lineage.Analyze(ctx, ix.st, lineage.Options{
		MaxDistance:  maxDistance(opts.MaxDistance),
		NoTransforms: opts.NoTransforms,
		NoDocuments:  opts.NoDocuments,
		Workers:      opts.Workers,
		Logger:       ix.logger,
	})
}

// WriteHTMLReport writes r, made by Lineage from this index, as one
// self-contained HTML page with the copies' previews, every cluster on
// it: for small indexes (WriteHTMLReportFile pages the clusters).
func (ix *Index) WriteHTMLReport(ctx context.Context, w io.Writer, r *LineageReport) error {
	return r.WriteHTML(ctx, w, ix.st)
}

// WriteHTMLReportFile writes r, made by Lineage from this index, to the
// HTML file path with the first 100 clusters; the others go to
// self-contained pages of 100 in the folder beside it named after the
// file (report.html: report_clusters/), whose paths it returns.
func (ix *Index) WriteHTMLReportFile(ctx context.Context, path string, r *LineageReport) ([]string, error) {
	return r.WriteHTMLFile(ctx, path, ix.st)
}

// DatasetInfo describes one dataset of the index: its source, counts,
// when it was last scanned and whether that scan finished.
type DatasetInfo = index.DatasetInfo

// Datasets lists the datasets in the index, by name.
func (ix *Index) Datasets(ctx context.Context) ([]DatasetInfo, error) {
	return ix.st.Datasets(ctx)
}

// Incomplete names the datasets whose last scan did not finish (it was
// interrupted, or runs now): what Clusters and Lineage say of them covers
// only what that scan committed. Lineage reports them itself
// (LineageReport.Incomplete).
func (ix *Index) Incomplete(ctx context.Context) ([]string, error) {
	infos, err := ix.st.Datasets(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, d := range infos {
		if !d.Complete {
			names = append(names, d.Name)
		}
	}
	return names, nil
}

// Forget removes a dataset and everything indexed for it. It fails with an
// error matching ErrNotFound when there is no such dataset, ErrBusy while
// a scan runs and ErrReadOnly on a read-only index. If it is interrupted,
// the dataset stays hidden and the next writable Open finishes the job.
func (ix *Index) Forget(ctx context.Context, name string) error {
	return ix.st.Forget(ctx, name)
}

// CheckReport is the result of Check: counts, and the problems found.
type CheckReport = index.CheckReport

// Check verifies that the index is consistent: every record decodes, every
// image belongs to a file and every file's images exist.
func (ix *Index) Check(ctx context.Context) (CheckReport, error) {
	return ix.st.Check(ctx)
}

// FrameHash is the fingerprint of one image (one frame) of a file, as
// HashFiles reports it.
type FrameHash = scan.FrameHash

// HashFiles decodes each file (any format a scan reads, by content) and
// calls fn with the fingerprint of every frame, in order, without an
// index. A file that cannot be decoded is reported to fn with Err set to
// a *FileError, and the next one is hashed; an error from fn stops it.
func HashFiles(ctx context.Context, paths []string, fn func(FrameHash) error) error {
	return scan.HashFiles(ctx, paths, ingest.Options{}, fn)
}

// Codecs lists the optional C codecs built into this binary ("charls",
// "openjpeg", "turbojpeg", "spng", "libdeflate"; see the package
// documentation).
func Codecs() []string { return ingest.Codecs() }

// CompactResult says what Compact did: the index's bytes before and after,
// and the records kept. Its JSON form is what `copycat compact --json`
// prints.
type CompactResult = index.CompactResult

// Compact frees the disk space that rescans and Forget leave in the index
// in dir: replaced and deleted records keep theirs until then, so an index
// rescanned often grows by its datasets' size each time. It copies the
// live records into a new index beside it and swaps the two folders
// atomically (Linux only), holding the index's lock, so readers and
// writers wait or fail as for a scan (opts.Wait). Killed at any point, it
// leaves the old index or the new one, never a broken one. It keeps free
// space on the device as a scan does (three times what is left to copy,
// plus 8 MiB, at most MinFreeSpace; opts.MinFreeSpace fixes it).
func Compact(ctx context.Context, dir string, opts Options) (*CompactResult, error) {
	return index.Compact(ctx, dir, index.CompactOptions{
		Options: index.Options{Logger: opts.Logger, Wait: opts.Wait, Waiting: opts.Waiting},
		Check: func(next string, copied, total int64) error {
			return scan.CheckIndexDir(next, scan.CopyFloor(total, copied, opts.MinFreeSpace).Need())
		},
	})
}

// ExportSummary is what Export wrote: the folder, the rows of each table
// and the bytes. Its JSON form is what `copycat export --json` prints.
type ExportSummary = interchange.ExportSummary

// Export writes every dataset, file and image record of the index, with
// all fingerprints, as Parquet files in folder dir: datasets.parquet,
// files.parquet, images.parquet and documents.parquet, in a versioned
// schema documented in
// package interchange. dir must not hold an export already. A read-only
// index can be exported.
func (ix *Index) Export(ctx context.Context, dir string) (*ExportSummary, error) {
	return interchange.Export(ctx, ix.st, dir)
}

// ImportSummary is what Import did. Its JSON form is what
// `copycat import --json` prints.
type ImportSummary = interchange.ImportSummary

// Import merges exports (folders written by Export, perhaps by other
// machines from shards of one tree) into the index: each dataset's files
// are added to what the index holds under its name; a file already there
// with the same size and modification time is kept, so importing an
// export twice changes nothing. Clusters, Lineage and reports then work
// on the union. A damaged export fails with an error matching
// ErrBadExport, naming the file. Patient-ID digests of an export from an
// index with another salt are dropped (counted in the summary): they
// would not compare.
func (ix *Index) Import(ctx context.Context, dirs []string) (*ImportSummary, error) {
	if ix.readOnly {
		return nil, fmt.Errorf("import into %s: %w", ix.Dir(), ErrReadOnly)
	}
	return interchange.Import(ctx, ix.st, dirs)
}

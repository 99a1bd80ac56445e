package scan

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/ingest"
)

// Dataset is one thing to scan: a folder or an archive, under a name.
type Dataset struct {
	Name string // as given with NAME=PATH, or ingest.DatasetName(Path)
	Path string
}

// ParseDataset reads a command-line dataset argument, "[NAME=]PATH". A
// PATH that exists as given wins over a NAME= reading, so folders with "="
// in their names still work.
func ParseDataset(arg string) Dataset {
	if i := strings.IndexByte(arg, '='); i > 0 {
		if _, err := os.Stat(arg); err != nil {
			return Dataset{Name: arg[:i], Path: arg[i+1:]}
		}
	}
	return Dataset{Name: ingest.DatasetName(arg), Path: arg}
}

// Options configure a scan. The zero value scans with the defaults.
type Options struct {
	// Workers decode and hash in parallel; 0 means runtime.NumCPU(), since
	// decoding and hashing are CPU-bound and files are read by the workers.
	Workers int
	// PixelBudget refuses images larger than this many pixels; 0 means
	// ingest.DefaultPixelBudget.
	PixelBudget int64
	// ReadBudget bounds the bytes of file data held by all workers at once
	// (see readBudget); 0 means DefaultReadBudget. A file larger than it is
	// processed alone, so memory does not grow with Workers.
	ReadBudget int64
	// Walk bounds what the walker reads (file size, zip ratio, nesting).
	Walk ingest.WalkOptions
	// Progress, when set, is called about five times a second from the
	// pipeline with the counts so far, and once at the end.
	Progress func(Progress)
	// Replace lets a dataset name that the index holds for another source
	// folder or archive take the new one; without it Run refuses with a
	// *NameTakenError before scanning anything.
	Replace bool
	// Shard, when set, scans only that shard of each dataset's files
	// (see Shard).
	Shard Shard
	// Stages, when set, accumulates the time of each stage of the work
	// (see Stages); `copycat bench scan` reports it.
	Stages *Stages
	// MinFreeSpace, when positive, replaces MinFreeSpace as the free space
	// the scan keeps on the index's device. Lower it only for a job known
	// to be small: see MinFreeSpace for what the floor protects against.
	MinFreeSpace int64
}

func (o Options) workers() int {
	if o.Workers > 0 {
		return o.Workers
	}
	return runtime.NumCPU()
}

// Progress is a snapshot of a running scan.
type Progress struct {
	Dataset string // the dataset being scanned
	// DatasetIndex is Dataset's position among the scan's datasets (from
	// 1), of Datasets: the counts below run across all of them.
	DatasetIndex, Datasets int
	Files                  int64 // files seen (all datasets)
	Images                 int64 // images (frames) decoded
	Failed                 int64 // files that failed
	Bytes                  int64 // bytes read
	Elapsed                time.Duration
	Done                   bool
	// TotalFiles is the number of files of all datasets, counted while
	// the scan starts (0 until then); TotalExact is false while it is an
	// estimate (tars, whose members are only known by reading them, count
	// as one file).
	TotalFiles int64
	TotalExact bool
}

// MaxListedFailures caps the failures a Summary lists per dataset, so that a
// scan of a million broken files does not hold a million errors in memory.
// All failures stay in the index; FailedTotal and FailureReasons count them
// all.
const MaxListedFailures = 10000

// Failure is one file that could not be read.
type Failure struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// DatasetSummary is what one dataset's scan found.
type DatasetSummary struct {
	Name      string `json:"name"`
	Source    string `json:"source"`
	Files     int64  `json:"files"`     // every file seen
	Decoded   int64  `json:"decoded"`   // image files that decoded
	Images    int64  `json:"images"`    // decoded images, frames counted one by one
	Skipped   int64  `json:"skipped"`   // non-image files (documents, data)
	Unchanged int64  `json:"unchanged"` // files already indexed with the same size and mtime, not reprocessed
	Removed   int64  `json:"removed"`   // files indexed before that are gone
	Bytes     int64  `json:"bytes"`     // bytes read and processed in this scan
	// Failed lists files that could not be read, up to MaxListedFailures.
	Failed         []Failure      `json:"failed"`
	FailedTotal    int64          `json:"failed_total"`
	FailureReasons map[string]int `json:"failure_reasons"` // failures grouped by reason class
	// Documents are the dataset's documentation files (README, LICENSE,
	// metadata JSON) the scan saw, listed for the user. The scan also
	// keeps the text of those lineage audits in the index
	// (index.Writer.SetDocuments), so the audit needs no source.
	Documents []string `json:"documents"`
	Seconds   float64  `json:"seconds"`
}

// Summary is the result of a scan.
type Summary struct {
	Index       string            `json:"index"`
	Datasets    []*DatasetSummary `json:"datasets"`
	Seconds     float64           `json:"seconds"`
	Interrupted bool              `json:"interrupted,omitempty"`
}

// Failures sums failed files over all datasets.
func (s *Summary) Failures() int64 {
	var n int64
	for _, d := range s.Datasets {
		n += d.FailedTotal
	}
	return n
}

// Run scans the datasets into st, which must be open for writing. Per-file
// failures are recorded, not returned: Run returns an error only when the
// scan itself could not run (a read-only index, a dataset path that does
// not exist, a full disk) or was cancelled, and then the summary still says
// what was done. Call CheckIndexDir before opening st, since opening writes.
func Run(ctx context.Context, st *index.Store, opts Options, datasets []Dataset) (*Summary, error) {
	if err := CheckDatasets(datasets); err != nil {
		return nil, err
	}
	if !opts.Replace {
		if err := checkNames(ctx, st, datasets); err != nil {
			return nil, err
		}
	}
	return run(ctx, st, opts, datasets)
}

// CheckDatasets refuses, before anything is opened or created, what Run
// would refuse of the datasets themselves: none given, an empty or repeated
// name, a path that does not exist, and a file that is neither a zip nor a
// tar archive (a single image given as a dataset, say).
func CheckDatasets(datasets []Dataset) error {
	if len(datasets) == 0 {
		return errors.New("scan: no dataset given")
	}
	seen := map[string]bool{}
	for _, d := range datasets {
		if d.Name == "" {
			return fmt.Errorf("scan: empty dataset name for %s", d.Path)
		}
		if seen[d.Name] {
			return fmt.Errorf("scan: dataset name %q given twice; name them with NAME=PATH", d.Name)
		}
		seen[d.Name] = true
		fi, err := os.Stat(d.Path)
		if err != nil {
			return fmt.Errorf("scan: dataset %s: %w", d.Name, err)
		}
		if fi.IsDir() {
			continue
		}
		head, err := ingest.ReadFileHead(d.Path, ingest.SniffLen)
		if err != nil {
			return fmt.Errorf("scan: dataset %s: %w", d.Name, err)
		}
		switch kind, format := ingest.Sniff(head); kind {
		case ingest.KindArchive:
		case ingest.KindImage:
			return fmt.Errorf("scan: dataset %s: %s is one %s image, not a dataset: scan the folder that holds it, or look it up with `copycat query %s`",
				d.Name, d.Path, format, d.Path)
		default:
			return fmt.Errorf("scan: dataset %s: %s is not a folder, zip, tar or tar.gz", d.Name, d.Path)
		}
	}
	return nil
}

// NameTakenError refuses to scan a source under a dataset name the index
// holds for another source: two downloads often share a base name
// ("images", "train"), and scanning the second would silently replace the
// first.
type NameTakenError struct {
	Name     string
	Existing string // the source the index holds under Name
	New      string // the source given now
}

func (e *NameTakenError) Error() string {
	return fmt.Sprintf("dataset name %q already belongs to %s; to scan %s as well, name it: NAME=%s; to replace the dataset with it, add --replace",
		e.Name, e.Existing, e.New, e.New)
}

// checkNames refuses datasets whose name the index holds for another
// source. The same source given again (a rescan) passes, whether written
// as recorded or resolving to the same absolute path from here.
func checkNames(ctx context.Context, st *index.Store, datasets []Dataset) error {
	// Not cancelled with ctx: a scan cancelled before it starts still
	// reports an interrupted summary, and this read is short.
	infos, err := st.Datasets(context.WithoutCancel(ctx))
	if err != nil {
		return err
	}
	sources := map[string]string{}
	for _, in := range infos {
		sources[in.Name] = in.Source
	}
	for _, d := range datasets {
		old, ok := sources[d.Name]
		if ok && old != "" && !samePath(old, d.Path) {
			return &NameTakenError{Name: d.Name, Existing: old, New: d.Path}
		}
	}
	return nil
}

// samePath reports whether two paths name the same file: equal once
// cleaned, or once made absolute from the working folder.
func samePath(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	aa, err1 := filepath.Abs(a)
	ab, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == ab
}

func newDatasetSummary(d Dataset) *DatasetSummary {
	return &DatasetSummary{Name: d.Name, Source: d.Path, Failed: []Failure{}, FailureReasons: map[string]int{}, Documents: []string{}}
}

// sort orders the lists by path: workers finish files in any order, and a
// summary should read the same every time.
func (d *DatasetSummary) sort() {
	sort.Slice(d.Failed, func(i, j int) bool { return d.Failed[i].Path < d.Failed[j].Path })
	sort.Strings(d.Documents)
}

// reasonClass groups failure reasons for the summary: numbers become N and
// parenthesised details (UIDs, sizes) go, so that "pixel data length 32768"
// and "pixel data length 512" count as one reason.
func reasonClass(reason string) string {
	var b strings.Builder
	depth, digits := 0, false
	for _, r := range reason {
		switch {
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
		case depth > 0:
		case r >= '0' && r <= '9':
			if !digits {
				b.WriteByte('N')
			}
			digits = true
			continue
		default:
			b.WriteRune(r)
		}
		digits = false
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// failureReason turns a per-file error into the one-line reason users see.
func failureReason(err error) string {
	var (
		ce *ingest.CorruptError
		ue *ingest.UnsupportedError
		te *ingest.TooLargeError
		pe *fs.PathError
	)
	switch {
	case errors.As(err, &ce), errors.As(err, &ue), errors.As(err, &te):
		return oneLine(err.Error())
	case errors.Is(err, fs.ErrNotExist):
		return "not found"
	case errors.Is(err, fs.ErrPermission):
		return "unreadable: permission denied"
	case errors.As(err, &pe):
		return "unreadable: " + oneLine(pe.Err.Error())
	}
	return "unreadable: " + oneLine(err.Error())
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	const max = 300
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}

// isDocumentation reports whether a skipped text file is one the licence
// audit will want: READMEs, licences, dataset cards and metadata.
func isDocumentation(p string) bool {
	base := strings.ToLower(path.Base(p))
	for _, prefix := range []string{"readme", "license", "licence", "copying", "notice", "citation", "dataset-metadata", "dataset_info", "datacard", "croissant", "metadata"} {
		if strings.HasPrefix(base, prefix) {
			return true
		}
	}
	switch path.Ext(base) {
	case ".md", ".cff", ".jsonld":
		return true
	}
	return false
}

// hasImageExtension reports whether a file is named like an image.
func hasImageExtension(p string) bool {
	switch strings.ToLower(path.Ext(p)) {
	case ".dcm", ".dicom", ".dic", ".ima", ".png", ".jpg", ".jpeg", ".jpe", ".jfif":
		return true
	}
	return false
}

// placeholder names are zero-byte files that keep empty folders in git;
// they are not broken images.
func isPlaceholder(p string) bool {
	switch strings.ToLower(path.Base(p)) {
	case ".gitkeep", ".keep", ".gitignore", ".empty":
		return true
	}
	return false
}

// ReasonsByCount lists the failure reason classes, most frequent first.
func (d *DatasetSummary) ReasonsByCount() []string {
	m := d.FailureReasons
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || (m[keys[i]] == m[keys[j]] && keys[i] < keys[j]) })
	return keys
}

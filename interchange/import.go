package interchange

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/copycat-dev/copycat/index"
)

// Sentinel errors; the errors Import returns wrap them with the file.
var (
	// ErrFormat means a file is not a table of a copycat export, or is
	// damaged: not Parquet, another schema, rows out of order, values out
	// of range.
	ErrFormat = errors.New("interchange: not a valid copycat export")
	// ErrVersion means an export of another schema version.
	ErrVersion = errors.New("interchange: unsupported export schema version")
)

// ImportSummary is what Import did.
type ImportSummary struct {
	Exports   []string `json:"exports"`   // the export folders, in the order imported
	Datasets  int      `json:"datasets"`  // dataset rows read (a dataset in two exports counts twice)
	Files     int      `json:"files"`     // files written (new or replaced)
	Unchanged int      `json:"unchanged"` // files already in the index with the same size and time, kept
	Images    int      `json:"images"`    // images written
	// DigestsDropped counts the patient-ID digests left out because the
	// export came from an index with another salt, where they would not
	// compare with this index's.
	DigestsDropped int `json:"digests_dropped"`
}

// maxImagesPerFile bounds the images Import gathers for one file: far
// more than one index transaction takes (about 6,000 frames, where a scan
// records the file as a failure), so only a damaged export reaches it.
const maxImagesPerFile = 1 << 16

// maxDatasets bounds the datasets table, which Import holds in memory.
const maxDatasets = 1 << 20

// Import merges the exports in the given folders (each written by
// Export) into the index, one after the other. Each dataset is merged
// with index.Store.BeginMerge: files are added to what the index holds
// for that dataset name, a file already there with the same size and
// modification time is kept, any other replaced. So importing an export
// twice changes nothing, and importing the exports of N shard scans (scan
// with a Shard) gives the index one full scan would.
//
// The files are untrusted: a damaged or hostile one gives an error that
// wraps ErrFormat or ErrVersion and names it, never a panic, and nothing
// out of the ranges the index reads back is written. Files imported before
// the error stay, each with all its images; the dataset being imported
// stays marked incomplete.
func Import(ctx context.Context, st *index.Store, dirs []string) (*ImportSummary, error) {
	sum := &ImportSummary{}
	for _, dir := range dirs {
		if err := importOne(ctx, st, dir, sum); err != nil {
			return sum, err
		}
		sum.Exports = append(sum.Exports, dir)
	}
	return sum, nil
}

// export is one export folder being read.
type export struct {
	dir            string
	datasets       *rowReader[Dataset]
	files          *rowReader[File]
	images         *rowReader[Image]
	documents      *rowReader[Document]
	dropDigests    bool
	closers        []io.Closer
	pendingImage   *Image // read ahead: the first image of the next file
	imagesFinished bool
}

func importOne(ctx context.Context, st *index.Store, dir string, sum *ImportSummary) (err error) {
	if fi, err := os.Stat(dir); err != nil {
		return fmt.Errorf("import: %w", err)
	} else if !fi.IsDir() {
		return fmt.Errorf("import %s: not a folder (give the folder copycat export wrote)", dir)
	}
	ex := &export{dir: dir}
	defer ex.close()
	var salts [4]string
	if ex.datasets, salts[0], err = openTable[Dataset](ex, TableDatasets); err != nil {
		return err
	}
	if ex.files, salts[1], err = openTable[File](ex, TableFiles); err != nil {
		return err
	}
	if ex.images, salts[2], err = openTable[Image](ex, TableImages); err != nil {
		return err
	}
	if ex.documents, salts[3], err = openTable[Document](ex, TableDocuments); err != nil {
		return err
	}
	if salts[0] != salts[1] || salts[1] != salts[2] || salts[2] != salts[3] {
		return fmt.Errorf("import %s: %w: its tables come from different indexes (salt ids %v)", dir, ErrFormat, salts)
	}
	ex.dropDigests = salts[0] != SaltID(st.Salt())

	var datasets []Dataset
	for {
		d, ok, err := ex.datasets.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if n := len(datasets); n > 0 && d.Dataset <= datasets[n-1].Dataset {
			return ex.datasets.errorf("datasets not in name order at %q", d.Dataset)
		}
		if len(datasets) >= maxDatasets {
			return ex.datasets.errorf("more than %d datasets", maxDatasets)
		}
		datasets = append(datasets, d)
	}
	for i := range datasets {
		if err := ex.importDataset(ctx, st, &datasets[i], sum); err != nil {
			return err
		}
		sum.Datasets++
	}
	if f, ok, err := ex.files.next(); err != nil || ok {
		if err == nil {
			err = ex.files.errorf("file %q of dataset %q, which the datasets table lacks or holds out of order", f.Path, f.Dataset)
		}
		return err
	}
	if im, err := ex.nextImage(); err != nil || im != nil {
		if err == nil {
			err = ex.images.errorf("image of %q in dataset %q, a file the files table lacks", im.Path, im.Dataset)
		}
		return err
	}
	if d, ok, err := ex.documents.next(); err != nil || ok {
		if err == nil {
			err = ex.documents.errorf("document %q of dataset %q, which the datasets table lacks or holds out of order", d.Path, d.Dataset)
		}
		return err
	}
	return nil
}

// importDataset merges the files of one dataset, which come next in the
// files table, and their images, next in the images table.
func (ex *export) importDataset(ctx context.Context, st *index.Store, d *Dataset, sum *ImportSummary) (err error) {
	w, err := st.BeginMerge(d.Dataset, d.Source, d.Complete)
	if err != nil {
		return fmt.Errorf("import %s: %w", ex.dir, err)
	}
	defer func() {
		if err != nil {
			w.Close() // keep what was written; the dataset stays incomplete
		}
	}()
	var prev string
	first := true
	var imgs []index.Image
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		row, ok, err := ex.files.peek()
		if err != nil {
			return err
		}
		if !ok || row.Dataset != d.Dataset {
			break
		}
		ex.files.take()
		if !first && row.Path <= prev {
			return ex.files.errorf("files of dataset %q not in path order at %q", d.Dataset, row.Path)
		}
		first, prev = false, row.Path
		f := row.record()
		if imgs, err = ex.imagesOf(&row, imgs[:0], sum); err != nil {
			return err
		}
		if err := index.CheckRecord(&f, imgs); err != nil {
			return fmt.Errorf("import %s: %w: dataset %q: %w", ex.dir, ErrFormat, d.Dataset, err)
		}
		same, err := w.Unchanged(f.Path, f.Size, f.ModTime)
		if err != nil {
			return fmt.Errorf("import %s: %w", ex.dir, err)
		}
		if same {
			sum.Unchanged++
			continue
		}
		if err := w.Put(f, imgs); err != nil {
			return fmt.Errorf("import %s: %w", ex.dir, err)
		}
		sum.Files++
		sum.Images += len(imgs)
	}
	if err := ex.importDocuments(ctx, st, w, d); err != nil {
		return err
	}
	if _, err := w.Finish(); err != nil {
		return fmt.Errorf("import %s: %w", ex.dir, err)
	}
	return nil
}

// importDocuments merges the dataset's documentation files, which come
// next in the documents table: the export's are written, the index's
// others stay (a shard's export holds the documents of its shard only).
// An export whose scan recorded no documentation leaves the index's as
// they are.
func (ex *export) importDocuments(ctx context.Context, st *index.Store, w *index.Writer, d *Dataset) error {
	var docs []index.Document
	var prev string
	for {
		row, ok, err := ex.documents.peek()
		if err != nil {
			return err
		}
		if !ok || row.Dataset != d.Dataset {
			break
		}
		ex.documents.take()
		if len(docs) > 0 && row.Path <= prev {
			return ex.documents.errorf("documents of dataset %q not in path order at %q", d.Dataset, row.Path)
		}
		if len(docs) >= index.MaxDocuments || len(row.Data) > index.MaxDocumentBytes || row.Size < int64(len(row.Data)) {
			return ex.documents.errorf("document %q of dataset %q: over the index's limits", row.Path, d.Dataset)
		}
		prev = row.Path
		docs = append(docs, index.Document{Path: row.Path, Size: row.Size, Data: row.Data})
	}
	if !d.DocumentsRecorded {
		if len(docs) > 0 {
			return ex.documents.errorf("dataset %q has documents but says none were recorded", d.Dataset)
		}
		return nil
	}
	have, _, err := st.Documents(ctx, d.Dataset)
	if err != nil && !errors.Is(err, index.ErrNotFound) {
		return fmt.Errorf("import %s: %w", ex.dir, err)
	}
	var keep []string
	for _, h := range have {
		if !slices.ContainsFunc(docs, func(x index.Document) bool { return x.Path == h.Path }) {
			keep = append(keep, h.Path)
		}
	}
	if err := w.SetDocuments(docs, keep); err != nil {
		return fmt.Errorf("import %s: dataset %q: %w", ex.dir, d.Dataset, err)
	}
	return nil
}

// imagesOf gathers the images of file f, which come next in the images
// table in frame order.
func (ex *export) imagesOf(f *File, out []index.Image, sum *ImportSummary) ([]index.Image, error) {
	for {
		row, err := ex.nextImage()
		if err != nil || row == nil {
			return out, err
		}
		if row.Dataset != f.Dataset || row.Path != f.Path {
			ex.pendingImage = row
			if row.Dataset < f.Dataset || row.Dataset == f.Dataset && row.Path < f.Path {
				return out, ex.images.errorf("image of %q in dataset %q, a file the files table lacks or holds out of order", row.Path, row.Dataset)
			}
			return out, nil
		}
		if len(out) >= maxImagesPerFile {
			return out, ex.images.errorf("more than %d images for %q", maxImagesPerFile, f.Path)
		}
		if n := len(out); n > 0 && int64(out[n-1].Frame) >= row.Frame {
			return out, ex.images.errorf("frames of %q not in order", f.Path)
		}
		im, ok := row.record()
		if !ok {
			return out, ex.images.errorf("image of %q: a fingerprint without its 8 dihedral hashes", f.Path)
		}
		if ex.dropDigests && im.PatientIDDigest != "" {
			im.PatientIDDigest = ""
			sum.DigestsDropped++
		}
		out = append(out, im)
	}
}

// close closes the export's files.
func (ex *export) close() {
	for _, c := range ex.closers {
		c.Close()
	}
}

// nextImage returns the next image row, nil at the end.
func (ex *export) nextImage() (*Image, error) {
	if r := ex.pendingImage; r != nil {
		ex.pendingImage = nil
		return r, nil
	}
	if ex.imagesFinished {
		return nil, nil
	}
	r, ok, err := ex.images.next()
	if err != nil {
		return nil, err
	}
	if !ok {
		ex.imagesFinished = true
		return nil, nil
	}
	return &r, nil
}

// rowReader reads one table row by row, in batches.
type rowReader[T any] struct {
	path string
	r    *parquet.GenericReader[T]
	buf  []T
	i    int
	done bool
}

// readBatch rows are read at once: a few hundred kilobytes of images.
const readBatch = 128

// openTable opens dir/name.parquet, checks that it is the table name of
// this schema version, and returns its reader and salt id.
func openTable[T any](ex *export, name string) (*rowReader[T], string, error) {
	path := filepath.Join(ex.dir, name+".parquet")
	f, err := os.Open(path)
	if err != nil {
		return nil, "", fmt.Errorf("import: %w", err)
	}
	ex.closers = append(ex.closers, f)
	fi, err := f.Stat()
	if err != nil {
		return nil, "", fmt.Errorf("import: %w", err)
	}
	rr := &rowReader[T]{path: path}
	var salt string
	err = safely(func() error {
		pf, err := parquet.OpenFile(f, fi.Size())
		if err != nil {
			return fmt.Errorf("%w: %w", ErrFormat, err)
		}
		if v, _ := pf.Lookup(KeyTable); v != name {
			return fmt.Errorf("%w: table %q, want %q", ErrFormat, v, name)
		}
		v, _ := pf.Lookup(KeySchemaVersion)
		if n, err := strconv.Atoi(v); err != nil || n != SchemaVersion {
			return fmt.Errorf("%w: schema version %q (this copycat reads %d)", ErrVersion, v, SchemaVersion)
		}
		salt, _ = pf.Lookup(KeySaltID)
		want := parquet.SchemaOf(new(T))
		if !parquet.EqualNodes(want, pf.Schema()) {
			return fmt.Errorf("%w: columns differ from schema version %d's: %s", ErrFormat, SchemaVersion, columnNames(pf.Schema()))
		}
		rr.r = parquet.NewGenericReader[T](pf)
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("import %s: %w", path, err)
	}
	ex.closers = append(ex.closers, rr.r)
	return rr, salt, nil
}

func columnNames(s *parquet.Schema) string {
	var names []string
	for _, c := range s.Columns() {
		names = append(names, strings.Join(c, "."))
	}
	return strings.Join(names, ", ")
}

// safely runs fn, turning a panic of the Parquet library on a damaged
// file into an ErrFormat error: an import must not crash on bad input.
func safely(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: unreadable (%v)", ErrFormat, p)
		}
	}()
	return fn()
}

func (rr *rowReader[T]) errorf(format string, args ...any) error {
	return fmt.Errorf("import %s: %w: %s", rr.path, ErrFormat, fmt.Sprintf(format, args...))
}

// fill reads the next batch when the current one is used up.
func (rr *rowReader[T]) fill() error {
	if rr.i < len(rr.buf) || rr.done {
		return nil
	}
	if rr.buf == nil {
		rr.buf = make([]T, readBatch)
	}
	rr.buf = rr.buf[:cap(rr.buf)]
	clear(rr.buf) // the reader fills fields, it does not reset optional ones
	var n int
	err := safely(func() error {
		var err error
		n, err = rr.r.Read(rr.buf)
		return err
	})
	rr.buf, rr.i = rr.buf[:n], 0
	if errors.Is(err, io.EOF) {
		rr.done = true
		err = nil
	}
	if err != nil {
		if !errors.Is(err, ErrFormat) {
			err = fmt.Errorf("%w: %w", ErrFormat, err)
		}
		return fmt.Errorf("import %s: %w", rr.path, err)
	}
	return nil
}

// peek returns the next row without consuming it; take consumes it.
func (rr *rowReader[T]) peek() (T, bool, error) {
	var zero T
	if err := rr.fill(); err != nil {
		return zero, false, err
	}
	if rr.i >= len(rr.buf) {
		return zero, false, nil
	}
	return rr.buf[rr.i], true, nil
}

func (rr *rowReader[T]) take() { rr.i++ }

// next returns the next row and consumes it.
func (rr *rowReader[T]) next() (T, bool, error) {
	r, ok, err := rr.peek()
	if ok {
		rr.take()
	}
	return r, ok, err
}

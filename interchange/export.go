package interchange

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/parquet-go/parquet-go"

	"github.com/copycat-dev/copycat/index"
)

// ExportSummary is what Export wrote.
type ExportSummary struct {
	Dir      string `json:"dir"`      // the export folder
	Datasets int    `json:"datasets"` // rows of each table
	Files    int    `json:"files"`
	Images   int    `json:"images"`
	Bytes    int64  `json:"bytes"` // size of the three files together
}

// rowGroupRows bounds the rows a writer buffers before it writes a row
// group: an image row is about 1.3 KB before compression, so the images
// writer holds about 20 MB, however large the index.
const rowGroupRows = 16384

// writeBatch is how many rows are handed to a writer at once.
const writeBatch = 256

// SaltID identifies an index's salt without revealing it: a hash of it,
// cut to 16 hex digits. Two exports with the same SaltID have comparable
// patient-ID digests.
func SaltID(salt []byte) string {
	h := sha256.New()
	h.Write([]byte("copycat salt id\x00"))
	h.Write(salt)
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// table is one table being written: to a temporary name, renamed when the
// whole export succeeded, so that a failed or interrupted export never
// leaves a folder that looks complete.
type table[T any] struct {
	path, tmp string
	f         *os.File
	w         *parquet.GenericWriter[T]
	buf       []T
	rows      int
}

func newTable[T any](dir, name, saltID string) (*table[T], error) {
	t := &table[T]{path: filepath.Join(dir, name+".parquet")}
	t.tmp = t.path + ".tmp"
	f, err := os.Create(t.tmp)
	if err != nil {
		return nil, err
	}
	t.f = f
	t.w = parquet.NewGenericWriter[T](f,
		parquet.Compression(&parquet.Zstd),
		parquet.MaxRowsPerRowGroup(rowGroupRows),
		parquet.KeyValueMetadata(KeySchemaVersion, strconv.Itoa(SchemaVersion)),
		parquet.KeyValueMetadata(KeyTable, name),
		parquet.KeyValueMetadata(KeySaltID, saltID),
		parquet.CreatedBy("copycat", strconv.Itoa(SchemaVersion), ""),
	)
	return t, nil
}

func (t *table[T]) add(row T) error {
	t.buf = append(t.buf, row)
	if len(t.buf) < writeBatch {
		return nil
	}
	return t.flush()
}

func (t *table[T]) flush() error {
	if len(t.buf) == 0 {
		return nil
	}
	if _, err := t.w.Write(t.buf); err != nil {
		return fmt.Errorf("write %s: %w", t.path, err)
	}
	t.rows += len(t.buf)
	clear(t.buf) // drop references to strings and slices
	t.buf = t.buf[:0]
	return nil
}

// close finishes the file under its temporary name and returns its size.
func (t *table[T]) close() (int64, error) {
	err := t.flush()
	if err == nil {
		err = t.w.Close()
	}
	if err == nil {
		err = t.f.Sync()
	}
	if cerr := t.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("write %s: %w", t.path, err)
	}
	st, err := os.Stat(t.tmp)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// abort removes the temporary file.
func (t *table[T]) abort() {
	t.f.Close()
	os.Remove(t.tmp)
}

// Export writes every dataset, file and image of the index as three
// Parquet files in folder dir (created if needed): datasets.parquet,
// files.parquet and images.parquet (see the package documentation for
// the schema). dir must not already hold an export. Rows come in dataset
// name order, then path order, then frame order, which Import relies on
// to join files and images in one pass.
func Export(ctx context.Context, st *index.Store, dir string) (*ExportSummary, error) {
	infos, err := st.Datasets(ctx)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	t, err := createTables(dir, SaltID(st.Salt()))
	if err != nil {
		return nil, err
	}
	defer t.abort()
	dt, ft, it, doct := t.datasets, t.files, t.images, t.documents

	for i := range infos {
		docs, recorded, err := st.Documents(ctx, infos[i].Name)
		if err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		row := datasetRow(&infos[i])
		row.DocumentsRecorded = recorded
		if err := dt.add(row); err != nil {
			return nil, err
		}
		for _, d := range docs {
			if err := doct.add(Document{Dataset: infos[i].Name, Path: d.Path, Size: d.Size, Data: d.Data}); err != nil {
				return nil, err
			}
		}
		for f, err := range st.Files(ctx, infos[i].Name) {
			if err != nil {
				return nil, fmt.Errorf("export: %w", err)
			}
			if err := ft.add(fileRow(&f)); err != nil {
				return nil, err
			}
		}
		for im, err := range st.Images(ctx, infos[i].Name) {
			if err != nil {
				return nil, fmt.Errorf("export: %w", err)
			}
			if im.Preview, err = st.Preview(ctx, im.ID); err != nil {
				return nil, fmt.Errorf("export: %w", err)
			}
			if err := it.add(imageRow(&im)); err != nil {
				return nil, err
			}
		}
	}
	return t.finish(dir)
}

// exportTables are the four tables of an export being written: Export
// fills them from an index, WriteRecords from records made elsewhere.
type exportTables struct {
	datasets  *table[Dataset]
	files     *table[File]
	images    *table[Image]
	documents *table[Document]
}

// createTables starts the tables of an export in folder dir, created if
// needed; dir must not hold an export already.
func createTables(dir, saltID string) (_ *exportTables, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	for _, name := range []string{TableDatasets, TableFiles, TableImages, TableDocuments} {
		p := filepath.Join(dir, name+".parquet")
		if _, err := os.Lstat(p); err == nil {
			return nil, fmt.Errorf("export: %s exists: export into an empty folder", p)
		}
	}
	t := &exportTables{}
	defer func() {
		if err != nil {
			t.abort()
		}
	}()
	if t.datasets, err = newTable[Dataset](dir, TableDatasets, saltID); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if t.files, err = newTable[File](dir, TableFiles, saltID); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if t.images, err = newTable[Image](dir, TableImages, saltID); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if t.documents, err = newTable[Document](dir, TableDocuments, saltID); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return t, nil
}

// abort removes what the tables wrote, unless finish renamed it in place.
func (t *exportTables) abort() {
	if t.datasets != nil {
		t.datasets.abort()
	}
	if t.files != nil {
		t.files.abort()
	}
	if t.images != nil {
		t.images.abort()
	}
	if t.documents != nil {
		t.documents.abort()
	}
}

// finish closes the tables and moves them to their names in dir.
func (t *exportTables) finish(dir string) (*ExportSummary, error) {
	sum := &ExportSummary{Dir: dir}
	for _, c := range []func() (int64, error){t.datasets.close, t.files.close, t.images.close, t.documents.close} {
		n, err := c()
		if err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		sum.Bytes += n
	}
	var errs []error
	for _, p := range [][2]string{{t.datasets.tmp, t.datasets.path}, {t.files.tmp, t.files.path},
		{t.images.tmp, t.images.path}, {t.documents.tmp, t.documents.path}} {
		errs = append(errs, os.Rename(p[0], p[1]))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	sum.Datasets, sum.Files, sum.Images = t.datasets.rows, t.files.rows, t.images.rows
	return sum, nil
}

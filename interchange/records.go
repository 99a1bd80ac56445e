package interchange

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/copycat-dev/copycat/index"
)

// Records made outside an index, in and out: a Beam worker fingerprints a
// shard of the files (scan.Records) and writes them as an export with
// WriteRecords, which `copycat import` reads like any other; the pairs
// step reads the images of exports with ReadImages.

// DatasetRecords is one dataset's records made outside an index.
type DatasetRecords struct {
	Name, Source      string
	Started, Finished time.Time
	Files             []FileRecords    // any order
	Documents         []index.Document // any order
}

// FileRecords is one file's record and its images.
type FileRecords struct {
	File   index.File
	Images []index.Image
}

// WriteRecords writes datasets as an export in folder dir (created if
// needed; it must not hold one), in the order Import reads, with saltID
// (SaltID of the salt the patient-ID digests were made with, "" for
// none). Each dataset is written complete, with its documentation
// recorded.
func WriteRecords(ctx context.Context, dir, saltID string, datasets []DatasetRecords) (*ExportSummary, error) {
	t, err := createTables(dir, saltID)
	if err != nil {
		return nil, err
	}
	defer t.abort()
	dt, ft, it, doct := t.datasets, t.files, t.images, t.documents

	datasets = slices.Clone(datasets)
	slices.SortFunc(datasets, func(a, b DatasetRecords) int { return cmp.Compare(a.Name, b.Name) })
	for i := range datasets {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		d := &datasets[i]
		files := slices.Clone(d.Files)
		slices.SortFunc(files, func(a, b FileRecords) int { return cmp.Compare(a.File.Path, b.File.Path) })
		row := Dataset{Dataset: d.Name, Source: d.Source, ScanStartedNS: nanos(d.Started), LastScanNS: nanos(d.Finished),
			Complete: true, DocumentsRecorded: true}
		for _, f := range files {
			row.Files++
			row.Images += int64(len(f.Images))
			if f.File.Failure != "" {
				row.Failures++
			}
		}
		if err := dt.add(row); err != nil {
			return nil, err
		}
		docs := slices.Clone(d.Documents)
		slices.SortFunc(docs, func(a, b index.Document) int { return cmp.Compare(a.Path, b.Path) })
		for _, doc := range docs {
			if err := doct.add(Document{Dataset: d.Name, Path: doc.Path, Size: doc.Size, Data: doc.Data}); err != nil {
				return nil, err
			}
		}
		for _, f := range files {
			f.File.Dataset = d.Name
			if err := ft.add(fileRow(&f.File)); err != nil {
				return nil, err
			}
		}
		for _, f := range files {
			imgs := slices.Clone(f.Images)
			slices.SortFunc(imgs, func(a, b index.Image) int { return cmp.Compare(a.Frame, b.Frame) })
			for k := range imgs {
				imgs[k].Dataset = d.Name
				if err := it.add(imageRow(&imgs[k])); err != nil {
					return nil, err
				}
			}
		}
	}
	return t.finish(dir)
}

// ReadImages calls fn with every image of the export in folder dir, in
// the file's order (dataset, path, frame), with Dataset set; ID is 0 and
// Preview nil (the pairs step does not need them). A damaged file gives
// an error wrapping ErrFormat or ErrVersion; fn's error is returned as is.
func ReadImages(dir string, fn func(index.Image) error) error {
	path := filepath.Join(dir, TableImages+".parquet")
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read images: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("read images: %w", err)
	}
	var fnErr error
	err = safely(func() error {
		pf, err := parquet.OpenFile(f, fi.Size())
		if err != nil {
			return fmt.Errorf("%w: %w", ErrFormat, err)
		}
		if v, _ := pf.Lookup(KeyTable); v != TableImages {
			return fmt.Errorf("%w: table %q, want %q", ErrFormat, v, TableImages)
		}
		if !parquet.EqualNodes(parquet.SchemaOf(new(Image)), pf.Schema()) {
			return fmt.Errorf("%w: columns differ from schema version %d's", ErrVersion, SchemaVersion)
		}
		r := parquet.NewGenericReader[Image](pf)
		defer r.Close()
		buf := make([]Image, readBatch)
		for {
			clear(buf)
			n, err := r.Read(buf)
			for i := range buf[:n] {
				im, ok := buf[i].record()
				if !ok {
					return fmt.Errorf("%w: malformed fingerprint of %s %s", ErrFormat, buf[i].Dataset, buf[i].Path)
				}
				im.Preview = nil
				if fnErr = fn(im); fnErr != nil {
					return fnErr
				}
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%w: %w", ErrFormat, err)
			}
		}
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("read images %s: %w", path, err)
	}
	return nil
}

package scan

import (
	"context"
	"fmt"

	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/ingest"
)

// FileRecords is what a scan records of one file: its file record, its
// images (frames, with previews), and, for a documentation file, the head
// the index keeps of it.
type FileRecords struct {
	File     index.File
	Images   []index.Image
	Document []byte // nil unless index.KindOfDocument(File.Path) names a kind
}

// RecordOptions configure Records, as the same fields of Options
// configure a scan.
type RecordOptions struct {
	Shard       Shard
	PixelBudget int64
	// Salt keys the patient-ID digests: the salt of the index the
	// records will go to (index.Store.Salt), or nil to leave them out.
	Salt []byte
	Walk ingest.WalkOptions
}

// Records walks dataset d and calls fn with the records of every file of
// opts.Shard, in walk order, as a scan of d into an empty index with the
// same salt writes them: the same Worker does the work. It runs on the
// calling goroutine, one file at a time, and returns fn's first error;
// parallelism is the caller's (a Beam pipeline runs one Records per
// shard). Failures of single files are in their records, as in a scan.
func Records(ctx context.Context, d Dataset, opts RecordOptions, fn func(FileRecords) error) error {
	src, err := ingest.OpenDataset(d.Path, opts.Walk)
	if err != nil {
		return fmt.Errorf("records: dataset %s: %w", d.Name, err)
	}
	defer src.Close()
	wk := NewWorker(ingest.Options{PixelBudget: opts.PixelBudget, Salt: opts.Salt})
	defer wk.Close()
	return src.Walk(ctx, func(e *ingest.Entry) error {
		if !opts.Shard.Includes(d.Name, e.Path) {
			return nil
		}
		r, err := wk.process(ctx, job{entry: e}, nil)
		if err != nil {
			return err
		}
		return fn(FileRecords{File: r.file, Images: r.images, Document: r.doc})
	})
}

// Package scan runs copycat's one pipeline: it walks each dataset with
// ingest, decodes and fingerprints files in a pool of workers, and writes the
// results into the index through a single writer goroutine.
//
// It is a package of its own because it is the only place that knows all
// three stages (ingest, hash, index): ingest must not know the index exists,
// hash does no I/O, and cmd only binds flags. The stages are joined by bounded
// channels under one errgroup, and every send and receive also watches the
// context, so cancelling a scan stops it promptly, keeps what was written, and
// leaks nothing.
//
// Memory does not grow with the dataset or the worker count: channels hold
// a few files per worker, failures beyond MaxListedFailures are only
// counted, and the workers share a read budget (Options.ReadBudget, 64 MB
// by default), so a large multi-frame DICOM is decoded by one worker at a
// time while the others go on with small files. Measured with
// bench/scripts/memory.sh: see the index package for Badger's part.
//
// The writer also gathers the dataset's documentation files (licence,
// README, dataset card, Kaggle metadata: index.KindOfDocument), at most
// index.MaxDocuments of them and index.MaxDocumentsBytes in all, and
// stores them before the dataset's scan finishes (docs.go): lineage audits
// them from the index, after the download may have been moved or deleted.
// A documentation file unchanged since the last scan is read again only if
// the index lacks its text (an index from before documents were kept).
package scan

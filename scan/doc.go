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
package scan

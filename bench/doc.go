// Package bench holds copycat's benchmark workloads as Config structs and
// Run functions, so that `copycat bench` (which only binds flags to them)
// and `go test -bench` measure the same thing: RunHash puts the scan's
// per-file work (read, digest, decode, fingerprint) against image.Decode +
// goimagehash on the same files; RunIndex measures inserts into a real
// Badger store, the all-pairs search, single queries and bytes on disk;
// RunVerify measures what separates real copies from adjacent slices;
// RunQuality and RunQualitySuite score copycat's clusters and lineage on
// re-upload scenarios built from real MR volumes (internal/reupload),
// pair precision and recall per transform, next to a plain pHash.
// Figures are throughput ratios measured in one run, since the machines
// are shared and noisy.
package bench

// Package copycat finds duplicate and copied images across image datasets,
// and says which dataset derives from which, and how. It is the library
// behind the copycat command; a Go program uses it through this package
// alone.
//
// # Quick start
//
// Open an index (a folder), scan datasets into it, then ask questions:
//
//	ix, err := copycat.Open("copycat-index", copycat.Options{})
//	if err != nil { ... }
//	defer ix.Close()
//	sum, err := ix.Scan(ctx, []copycat.Dataset{
//		{Name: "original", Path: "/data/lidc"},
//		{Name: "kaggle-copy", Path: "/downloads/lidc-png.zip"},
//	}, copycat.ScanOptions{})
//	results, err := ix.Query(ctx, "slice-042.png", copycat.QueryOptions{})
//	clusters, stats, err := ix.Clusters(ctx, copycat.ClusterOptions{})
//	report, err := ix.Lineage(ctx, copycat.LineageOptions{})
//
// The examples below run exactly this on the project's test data.
//
// # Past one machine
//
// Scan with ScanOptions.Shard on N machines (each its own index), Export
// each index as Parquet, and Import the N exports into one index: it then
// holds what one full scan would, and Clusters and Lineage give the same
// answers. The Parquet schema is documented in package interchange.
//
// # What is compared
//
// A dataset is a folder, a zip file or a tar archive (gzipped or not, with
// archives nested inside), scanned under a name. Every DICOM, NIfTI
// (.nii, .nii.gz), PNG and JPEG file in it is decoded (each frame of a
// multi-frame DICOM, and each slice of a NIfTI volume, is an image of its
// own) to the pixels a viewer shows: DICOM frames through their modality
// and VOI LUTs or window, plus a min-max rendering when the stored window
// makes another picture than a min-max export would; NIfTI slices between
// the volume's 0.5th and 99.5th percentiles, as slice-dump scripts do.
// Each image is fingerprinted (a 64-bit pHash under the eight rotations and
// mirrors, PDQ, a grey thumbnail) and recorded with its digests and, for
// DICOM, its instance, series and study UIDs and a salted digest of the
// patient ID (never the ID itself).
//
// Two images are copies by one rule, used by Query, Clusters and Lineage
// alike: their pHashes are within MaxDistance under some rotation or
// mirror, and their thumbnails agree beyond that (correlation, pixel
// difference, a crop's box), and they are not two slices of one
// acquisition. Identical files, identical pixels and the same DICOM
// instance match at distance 0 whatever their format.
//
// # Concurrency and processes
//
// An Index is safe for concurrent use by goroutines; one Scan runs at a
// time. Between processes the index is locked: one writer (a scan, a
// forget) excludes everybody else, and any number of read-only opens
// (Options.ReadOnly) share it. Open fails with a *LockedError, matching
// ErrLocked, when the lock is held; with Options.Wait, OpenContext waits
// for it instead (the store, Badger, cannot let readers in beside a
// writer, so reads queue behind a scan rather than run during it). A scan that is interrupted (ctx ends,
// the process is killed) keeps everything it committed; scanning the same
// dataset again finishes the job and skips unchanged files.
//
// # Options
//
// Every options struct's zero value means the defaults, field by field.
// Where 0 is a meaningful setting, the field is a pointer and nil means
// the default: MaxDistance nil is DefaultMaxDistance, and Distance(0) asks
// for exact copies only.
//
// # Errors
//
// A file that cannot be read never stops a scan: it is recorded in the
// ScanSummary with its path and a one-line reason. Query and HashFiles
// return a *FileError for such a file, with its path, which unwraps to
// the cause: errors.As finds a *CorruptError, *UnsupportedError or
// *TooLargeError (and errors.Is matches ErrCorrupt, ErrUnsupported or
// ErrTooLarge), or the *fs.PathError of a file that could not be opened.
// Errors about the index match ErrLocked, ErrReadOnly, ErrNotFound,
// ErrBusy and the others listed below, and a full device gives a
// *SpaceError.
//
// # Codecs and build tags
//
// The pure Go build (CGO_ENABLED=0 works) decodes PNG, baseline and
// progressive JPEG, and DICOM in its uncompressed (little and big endian,
// deflated, encapsulated), RLE Lossless, JPEG Lossless and JPEG
// Baseline/Extended transfer syntaxes; 8- and 16-bit grey PNGs go through
// a decoder of its own, faster than Go's, with the same pixels. Five build
// tags add C codecs from Debian's libraries (`make build` turns on those
// installed):
//
//	charls      JPEG-LS DICOM (libcharls-dev)
//	openjpeg    JPEG 2000 DICOM (libopenjp2-7-dev)
//	turbojpeg   faster, reduced-scale JPEG decoding (libturbojpeg0-dev)
//	spng        faster PNG decoding, same pixels (libspng-dev)
//	libdeflate  faster grey PNG decoding, same pixels (libdeflate-dev)
//
// Without charls and openjpeg, DICOM files in JPEG-LS or JPEG 2000
// (including High-Throughput JPEG 2000) are refused with an
// *UnsupportedError naming the transfer syntax, and appear among a scan's
// failures. Whatever the build, so are the video (MPEG-2, H.264, HEVC),
// JPEG XL, JPIP and JPEG 2000 Part 2 transfer syntaxes. turbojpeg changes
// speed only, and a few hash bits of colour JPEGs. spng changes speed
// only, except that it decodes one kind of damaged PNG that Go's decoder
// refuses (a zlib stream holding more rows than the image); libdeflate
// too (a deflate block declaring more Huffman codes than the format
// allows). Codecs reports what this binary has.
//
// # Layout
//
// This package is a thin layer over the pipeline's packages, which a
// program does not need to import: ingest (walk and decode), hash
// (fingerprints), match (the copy rule), index (the Badger store, the
// Hamming search and the clustering), scan (the pipeline joining them) and
// lineage (the dataset-level analysis).
package copycat

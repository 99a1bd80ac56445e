package copycat

import (
	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/ingest"
	"github.com/copycat-dev/copycat/interchange"
	"github.com/copycat-dev/copycat/lineage"
	"github.com/copycat-dev/copycat/scan"
)

// Errors about input files. Query and HashFiles return them wrapped in a
// *FileError; a scan records them as failures with their message.
var (
	// ErrCorrupt matches (errors.Is) input that claims a format but breaks
	// its rules: truncated, bad lengths, bad entropy-coded data.
	ErrCorrupt = ingest.ErrCorrupt
	// ErrUnsupported matches valid input this build cannot decode, such as
	// a DICOM transfer syntax whose codec was not compiled in.
	ErrUnsupported = ingest.ErrUnsupported
	// ErrTooLarge matches input refused by a resource limit before
	// decoding (the pixel budget, the file size limit).
	ErrTooLarge = ingest.ErrTooLarge
)

// FileError reports a file that could not be read or decoded: its path,
// the one-line reason a scan would record, and the cause it unwraps to.
type FileError = scan.FileError

// CorruptError is the cause of an ErrCorrupt failure: the format the input
// claimed, and what was wrong.
type CorruptError = ingest.CorruptError

// UnsupportedError is the cause of an ErrUnsupported failure, with a
// complete one-line reason.
type UnsupportedError = ingest.UnsupportedError

// TooLargeError is the cause of an ErrTooLarge failure: what was refused
// and by which limit.
type TooLargeError = ingest.TooLargeError

// Errors about the index.
var (
	// ErrLocked matches a *LockedError: another process holds the index.
	ErrLocked = index.ErrLocked
	// ErrReadOnly is returned by Scan and Forget on an index opened
	// read-only.
	ErrReadOnly = index.ErrReadOnly
	// ErrClosed is returned by calls on a closed Index.
	ErrClosed = index.ErrClosed
	// ErrNotFound matches a dataset name the index does not hold.
	ErrNotFound = index.ErrNotFound
	// ErrBadName matches a dataset name the index refuses (empty, too
	// long, or with control characters).
	ErrBadName = index.ErrBadName
	// ErrBusy matches a write refused because a scan is running on this
	// Index.
	ErrBusy = index.ErrBusy
	// ErrIndexCorrupt matches an index whose records do not decode.
	ErrIndexCorrupt = index.ErrCorrupt
	// ErrIndexVersion matches an index written by a newer copycat.
	ErrIndexVersion = index.ErrVersion
	// ErrNoDatasets is returned by Lineage on an index with no dataset.
	ErrNoDatasets = lineage.ErrNoDatasets
)

// Errors about exports (Import).
var (
	// ErrBadExport matches an export file Import cannot use: not Parquet,
	// not a copycat table, other columns, rows out of order or values out
	// of range.
	ErrBadExport = interchange.ErrFormat
	// ErrExportVersion matches an export of a schema version this copycat
	// does not read.
	ErrExportVersion = interchange.ErrVersion
)

// NameTakenError is Scan's refusal to give a dataset name that the index
// holds for one source to another (ScanOptions.Replace allows it): it
// names both sources.
type NameTakenError = scan.NameTakenError

// LockedError reports that another process holds the index, and whether
// it writes or only reads.
type LockedError = index.LockedError

// SpaceError reports that the index's device has less free space than a
// scan keeps (what its job may write, at most MinFreeSpace), so the scan
// did not start or stopped; what was written is kept. It matches
// syscall.ENOSPC.
type SpaceError = scan.SpaceError

// MinFreeSpace is the most free space a scan keeps on the index's device,
// and what other writes keep (see SpaceError and Options.MinFreeSpace).
const MinFreeSpace = scan.MinFreeSpace

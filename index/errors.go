package index

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers match them with errors.Is; the errors the
// package returns wrap them with the details (path, name, cause).
var (
	// ErrLocked means another process holds the index: a second writer while
	// a scan runs, or any open that conflicts with one. The error is a
	// *LockedError naming the lock file.
	ErrLocked = errors.New("index: locked")
	// ErrReadOnly is returned by writes to a store opened read-only.
	ErrReadOnly = errors.New("index: opened read-only")
	// ErrClosed is returned by calls on a closed store or a finished scan.
	ErrClosed = errors.New("index: closed")
	// ErrNotFound means the named dataset is not in the index.
	ErrNotFound = errors.New("index: not found")
	// ErrBadName rejects a dataset name that cannot be stored or shown.
	ErrBadName = errors.New("index: bad dataset name")
	// ErrCorrupt marks a key or record that does not decode.
	ErrCorrupt = errors.New("index: corrupt")
	// ErrVersion means the index was written by a newer copycat.
	ErrVersion = errors.New("index: unsupported version")
	// ErrTooLarge means a file has too many frames to be written in one
	// transaction (about 6,000 frames of 1.3 KB records); the caller records it
	// as a failure.
	ErrTooLarge = errors.New("index: file too large for one transaction")
	// ErrBusy means a scan is already active on this store.
	ErrBusy = errors.New("index: a scan is already active")
)

// errUnreadable marks a file record that exists but does not decode (it
// wraps ErrCorrupt or ErrVersion too): a scan treats it as no record and
// reprocesses the file. Internal: callers never see it.
var errUnreadable = errors.New("index: unreadable file record")

// LockedError reports that another copycat process holds the index.
type LockedError struct {
	Dir      string // the index directory
	LockFile string // the file whose lock is held
	Write    bool   // the open wanted to write (scan, forget)
	Readers  bool   // the holders are readers only (query, clusters, reports)
	Err      error  // the cause from the operating system, if any
}

func (e *LockedError) Error() string {
	switch {
	case e.Write && e.Readers:
		return fmt.Sprintf("index %s is in use by another copycat command reading it (lock %s is held); run the scan when it has finished, or add --wait", e.Dir, e.LockFile)
	case e.Write:
		return fmt.Sprintf("index %s is locked by another copycat scan (lock %s is held); add --wait to run when it finishes, or use another --index", e.Dir, e.LockFile)
	default:
		return fmt.Sprintf("index %s is being written by another copycat scan (lock %s is held); read commands work again when it finishes (add --wait to wait for it)", e.Dir, e.LockFile)
	}
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// Unwrap returns the operating system's error.
func (e *LockedError) Unwrap() error { return e.Err }

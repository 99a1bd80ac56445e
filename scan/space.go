package scan

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// MinFreeSpace is the free space a scan leaves on the index's device: it
// stops with a *SpaceError before the device has less than this.
//
// A full disk cannot simply be met with an error, because Badger writes
// its write-ahead log, value log and new tables through memory maps of
// sparse files (created at their full size without allocating it: 128 MB
// for a value log, 32 MB for a memtable's log). When a write lands on a page the device has no room for,
// the kernel sends SIGBUS and the Go runtime dies with "fatal error: fault"
// and a stack trace, in a Badger goroutine that copycat cannot recover in.
// Measured on a full tmpfs: the vlog write, the memtable's log write, and
// the table flush at close each die that way. The index survives (it opens
// again and a rescan finishes), but the user sees a crash.
//
// So the scan keeps room for what Badger may write between two checks
// (one per file): the batches not yet written (the one in flight and the
// one committed next, each at most 15% of the 16 MB memtable, under 3 MB,
// to both logs), memtables flushed to tables (at most three of 16 MB), a
// compaction's new tables before it deletes the old ones, and the rest of
// the 64 MB value log file being written. 128 MB covers them with room to
// spare. It cannot cover another process filling the device between two
// checks.
const MinFreeSpace = 128 << 20

// SpaceError reports that the device holding the index has less free
// space than MinFreeSpace, so the scan stopped (or did not start) before
// Badger could run out. What was written before is kept. It unwraps to
// syscall.ENOSPC.
type SpaceError struct {
	Dir  string // the index directory
	Free uint64 // bytes available on its device
	Need uint64 // bytes the scan keeps free
}

func (e *SpaceError) Error() string {
	return fmt.Sprintf("index %s: no space left on device (%s free; a scan needs %s free to write the index safely): "+
		"free some space or use another --index, then run the same command again; what was written is kept",
		e.Dir, megabytes(e.Free), megabytes(e.Need))
}

// Unwrap makes errors.Is(err, syscall.ENOSPC) true.
func (e *SpaceError) Unwrap() error { return syscall.ENOSPC }

func megabytes(n uint64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }

// CheckIndexDir refuses an index a scan could not write, before the index
// is opened for writing (opening writes): a folder the user may not write,
// a read-only file system, a device short of space (a *SpaceError). The
// index folder may not exist yet: its nearest existing parent is checked
// then.
//
// minFree replaces MinFreeSpace as the floor when positive (the user
// knows the job is small, or the device is watched otherwise).
func CheckIndexDir(dir string, minFree int64) error {
	probe := existingAncestor(dir)
	if virtualFS(probe) {
		return fmt.Errorf("index %s is not writable: %s is on a virtual file system (such as /proc), which holds no files; use another --index", dir, probe)
	}
	if err := writable(probe); err != nil {
		return fmt.Errorf("index %s is not writable: %w (a scan writes to it; datasets, query, clusters, lineage and report only read it)", dir, err)
	}
	return checkSpace(dir, probe, minFree)
}

// checkSpace returns a *SpaceError when the device holding probe has less
// than the floor available: minFree when positive, else MinFreeSpace.
// Where free space cannot be measured it returns nil: the scan goes on
// unguarded.
func checkSpace(dir, probe string, minFree int64) error {
	need := uint64(MinFreeSpace)
	if minFree > 0 {
		need = uint64(minFree)
	}
	free, ok := freeSpace(probe)
	if ok && free < need {
		return &SpaceError{Dir: dir, Free: free, Need: need}
	}
	return nil
}

// existingAncestor returns dir if it exists, else its nearest existing
// parent (os.MkdirAll will create the rest on its device).
func existingAncestor(dir string) string {
	d := filepath.Clean(dir)
	for {
		if _, err := os.Stat(d); err == nil || !errors.Is(err, os.ErrNotExist) {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return d
		}
		d = parent
	}
}

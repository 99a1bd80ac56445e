package scan

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/ingest"
)

// MinFreeSpace is the most free space a scan keeps on the index's device
// (a job measured smaller keeps less: see Floor): it stops with a
// *SpaceError before the device has less than its floor.
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
// need is the free space to keep: a Floor's Need, usually.
func CheckIndexDir(dir string, need uint64) error {
	probe := existingAncestor(dir)
	if virtualFS(probe) {
		return fmt.Errorf("index %s is not writable: %s is on a virtual file system (such as /proc), which holds no files; use another --index", dir, probe)
	}
	if err := writable(probe); err != nil {
		return fmt.Errorf("index %s is not writable: %w (a scan writes to it; datasets, query, clusters, lineage and report only read it)", dir, err)
	}
	return checkSpace(dir, probe, need)
}

// checkSpace returns a *SpaceError when the device holding probe has less
// than need available. Where free space cannot be measured it returns nil:
// the scan goes on unguarded.
func checkSpace(dir, probe string, need uint64) error {
	free, ok := freeSpace(probe)
	if ok && free < need {
		return &SpaceError{Dir: dir, Free: free, Need: need}
	}
	return nil
}

// What a job may write, per its measure (ingest.MeasureDataset). A scanned
// file writes its file record, and per image an image record (about 1.4
// KB), a preview (about 2 KB) and keys: perFileWrite covers a one-image
// file with room to spare, and a quarter of the file's bytes covers the
// images of a multi-frame DICOM or a NIfTI volume (a frame's records are
// far smaller than a quarter of the frame's bytes, down to frames of
// about 13 KB: a NIfTI of blank slices in a .gz is measured by its
// uncompressed size for that reason). A dataset's documents are stored
// whole, up to index.MaxDocumentsBytes. Badger may then write each byte
// up to writeAmplification times before the space is reclaimed: the
// write-ahead log, the table a memtable is flushed to, and a compaction's
// copy before the old table is deleted. spaceSlack covers Badger's own
// files (MANIFEST, DISCARD, key registry) and the pages of its memory-mapped
// files that it touches first; openWrite of it is what opening an index
// writes (measured: 20 KB once closed, a few pages more while open), so a
// scan that opened the index keeps that much less than its Open checked.
//
// Measured (TestFreeSpaceFloor): 1100 small generated PNGs keep 49.1 MB at
// the start, a device of that size holds their scan, and the index they
// leave is 1.8 MB: the estimate is generous, by design, since a wrong one
// costs a crash.
const (
	perFileWrite       = 8 << 10
	writeAmplification = 3
	spaceSlack         = 8 << 20
	openWrite          = 256 << 10
)

// Floor is the free space a scan keeps on the index's device, checked
// before every file. A job whose size can be measured keeps what it may
// still write, which shrinks as it goes (a scan of a few hundred images
// runs on a device with tens of MB free); a job that cannot be measured
// (it holds a tar) or may write more keeps MinFreeSpace; a fixed floor
// (--min-free) overrides both. Only the scan's writer goroutine uses it.
type Floor struct {
	fixed    uint64 // when > 0, the floor whatever the job
	measured bool   // write holds the job's estimate
	write    int64  // the whole job's estimated writes
	done     int64  // estimated writes of the files already processed
	opened   bool   // the index is open: what opening wrote is spent
}

// FixedFloor is a Floor of exactly need bytes (need > 0), or MinFreeSpace
// when need <= 0.
func FixedFloor(need int64) *Floor {
	if need <= 0 {
		need = MinFreeSpace
	}
	return &Floor{fixed: uint64(need)}
}

// JobFloor measures the datasets (ingest.MeasureDataset, stopping once the
// job is known to need MinFreeSpace) and returns the Floor for scanning
// them. minFree, when positive, makes it a FixedFloor instead. A dataset
// that cannot be measured (it does not exist) is left to the scan to
// report.
func JobFloor(ctx context.Context, datasets []Dataset, minFree int64) *Floor {
	if minFree > 0 {
		return FixedFloor(minFree)
	}
	f := &Floor{measured: true}
	for _, d := range datasets {
		base := f.write
		e, err := ingest.MeasureDataset(ctx, d.Path, func(e ingest.Extent) bool {
			return writeAmplification*(base+datasetWrite(e))+spaceSlack >= MinFreeSpace
		})
		if err != nil || !e.Exact || e.Stopped {
			return FixedFloor(MinFreeSpace)
		}
		f.write += datasetWrite(e)
	}
	return f
}

// CopyFloor is the Floor of copying total bytes of index (index.Compact),
// copied of them done; minFree, when positive, makes it a FixedFloor.
func CopyFloor(total, copied, minFree int64) *Floor {
	if minFree > 0 {
		return FixedFloor(minFree)
	}
	return &Floor{measured: true, write: total, done: min(max(copied, 0), total)}
}

// datasetWrite is what a dataset of this extent may write to the index.
func datasetWrite(e ingest.Extent) int64 {
	return e.Files*perFileWrite + e.Bytes/4 + min(e.Bytes, index.MaxDocumentsBytes)
}

// processed counts a file of size bytes as written.
func (f *Floor) processed(size int64) {
	f.done = min(f.done+perFileWrite+max(size, 0)/4, f.write)
}

// Need is the free space to keep now: what the rest of the job may write,
// amplified, plus one more copy of what it wrote (the flush of the
// memtables still holding it), plus slack; never more than MinFreeSpace.
// Before the index is opened, that is what CheckIndexDir asks for.
func (f *Floor) Need() uint64 {
	if f.fixed > 0 {
		return f.fixed
	}
	n := writeAmplification*(f.write-f.done) + f.done + spaceSlack
	if f.opened {
		n -= openWrite
	}
	return uint64(min(n, MinFreeSpace))
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

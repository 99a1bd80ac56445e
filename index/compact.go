package index

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// compactSuffix names the folder beside the index where Compact builds the
// new one. Whoever holds the index's exclusive lock may delete it: before
// the swap it is an unfinished copy, after it the old index.
const compactSuffix = ".compacting"

// CompactOptions configure Compact.
type CompactOptions struct {
	Options
	// Check, when set, is called with the folder being written, the bytes
	// copied so far and the size of the index's files, before the copy
	// starts and after every few thousand records; an error from it stops
	// the compaction (the index is left as it was). copycat uses it to
	// keep free space on the device, as a scan does.
	Check func(dir string, copied, total int64) error
}

// CompactResult says what Compact did.
type CompactResult struct {
	Dir     string  `json:"index"`        // the index
	Before  int64   `json:"bytes_before"` // bytes of the index's files before
	After   int64   `json:"bytes_after"`  // and after
	Records int64   `json:"records"`      // keys copied
	Seconds float64 `json:"seconds"`      // the whole compaction
}

// Compact rewrites the index in dir with only its live records, and frees
// the space that replaced and deleted records still take.
//
// Badger keeps an image record replaced by a rescan, or deleted by Forget,
// in its value log until a value-log GC rewrites the file; copycat never
// runs that GC, because it brought deleted records back after a crash
// (see doc.go). So a rescan that rewrites every record makes the index grow
// by the dataset's size each time. Compact instead copies every live key
// into a new Badger store in a folder beside the index (dir + ".compacting"),
// closes it, and swaps the two folders in one atomic rename
// (RENAME_EXCHANGE), then deletes the old one. It holds the index's
// exclusive lock throughout, and the new folder's from before the swap, so
// no reader or writer sees a half-made index; one that was waiting for the
// lock finds the new folder (lockDir checks the file it locked is still the
// index's). Killed at any point, it leaves either the old index or the new
// one in place, and a leftover folder that the next writer deletes.
func Compact(ctx context.Context, dir string, opts CompactOptions) (*CompactResult, error) {
	start := time.Now()
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST")); err != nil {
		return nil, fmt.Errorf("compact %s: no index there: %w", dir, err)
	}
	real, err := filepath.EvalSymlinks(filepath.Clean(dir))
	if err != nil {
		return nil, fmt.Errorf("compact %s: %w", dir, err)
	}
	dir = real
	if err := sameDevice(dir, filepath.Dir(dir)); err != nil {
		return nil, fmt.Errorf("compact %s: %w", dir, err)
	}
	opts.ReadOnly = false
	old, err := OpenContext(ctx, dir, opts.Options)
	if err != nil {
		return nil, err
	}
	res := &CompactResult{Dir: dir}
	if res.Before, err = dirBytes(dir); err != nil {
		_ = old.Close()
		return nil, fmt.Errorf("compact %s: %w", dir, err)
	}
	next := dir + compactSuffix
	newLock, err := old.copyInto(ctx, next, opts, res)
	if err != nil {
		_ = old.Close()
		_ = newLock.release()
		_ = os.RemoveAll(next)
		return nil, fmt.Errorf("compact %s: %w", dir, err)
	}
	// The old store closes, its lock kept until the swap is done.
	oldLock := old.lock
	old.lock = nil
	if err := old.Close(); err != nil {
		_ = oldLock.release()
		_ = newLock.release()
		_ = os.RemoveAll(next)
		return nil, err
	}
	err = exchange(next, dir)
	if err == nil {
		err = syncDir(filepath.Dir(dir))
	}
	if err == nil {
		// next is the old index now.
		err = os.RemoveAll(next)
	}
	_ = oldLock.release()
	_ = newLock.release()
	if err != nil {
		return nil, fmt.Errorf("compact %s: %w", dir, err)
	}
	if res.After, err = dirBytes(dir); err != nil {
		return nil, fmt.Errorf("compact %s: %w", dir, err)
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// compactBatch is how many keys are copied between two Checks and context
// checks.
const compactBatch = 4096

// copyInto copies every live key of s into a new store in folder next,
// which it creates with s's folder permissions and locks; the lock is
// returned held, the store closed.
func (s *Store) copyInto(ctx context.Context, next string, opts CompactOptions, res *CompactResult) (*dirLock, error) {
	if err := os.RemoveAll(next); err != nil {
		return nil, fmt.Errorf("remove the leftover %s: %w", next, err)
	}
	fi, err := os.Stat(s.dir)
	if err != nil {
		return nil, err
	}
	if err := os.Mkdir(next, fi.Mode().Perm()); err != nil {
		return nil, err
	}
	lock, err := lockDir(next, true)
	if err != nil {
		return nil, err
	}
	var copied int64
	check := func() error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if opts.Check != nil {
			return opts.Check(next, copied, res.Before)
		}
		return nil
	}
	if err := check(); err != nil {
		return lock, err
	}
	db, err := openBadger(badgerOptions(next, s.log, Options{}))
	if err != nil {
		return lock, fmt.Errorf("create %s: %w", next, err)
	}
	copyErr := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		wb := db.NewWriteBatch()
		defer wb.Cancel()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			v, err := item.ValueCopy(nil)
			if err != nil {
				return fmt.Errorf("read %q: %w", item.Key(), err)
			}
			e := badger.NewEntry(item.KeyCopy(nil), v).WithMeta(item.UserMeta())
			if err := wb.SetEntry(e); err != nil {
				return err
			}
			res.Records++
			copied += int64(len(e.Key) + len(e.Value))
			if res.Records%compactBatch == 0 {
				if err := check(); err != nil {
					return err
				}
			}
		}
		return wb.Flush()
	})
	if err := errors.Join(copyErr, db.Close()); err != nil {
		return lock, err
	}
	shareFiles(next, s.log)
	return lock, syncDir(next)
}

// removeCompactLeftover deletes what a killed Compact left beside the
// index in dir. Only a holder of the index's exclusive lock may call it.
func removeCompactLeftover(dir string) error {
	real, err := filepath.EvalSymlinks(filepath.Clean(dir))
	if err != nil {
		return err
	}
	next := real + compactSuffix
	if _, err := os.Lstat(next); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return os.RemoveAll(next)
}

// dirBytes is the disk space of the regular files in dir (fileBytes
// each: Badger's memory-mapped files are sparse, their length is not what
// they take).
func dirBytes(dir string) (int64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			n += fileBytes(info)
		}
	}
	return n, nil
}

// syncDir makes a folder's entries durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

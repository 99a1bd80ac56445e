//go:build unix

package index

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// LockFileName is the file inside the index directory that copycat locks:
// exclusively to write, shared to read. It is separate from Badger's own
// LOCK file so that the error can say what holds it.
const LockFileName = "copycat.lock"

// dirLock is a held flock on the index's lock file.
type dirLock struct{ f *os.File }

// lockDir takes the index lock without waiting: exclusive for a writer,
// shared for a reader. The kernel releases it when the process dies, so a
// killed scan leaves no stale lock.
//
// Compact swaps a new index folder in for the old one while it holds the
// old one's lock: a process that opened the old lock file before the swap
// and got its lock after would hold a lock on a folder that is no longer
// the index. So a lock counts only if the file locked is still the one at
// the path; otherwise the lock is taken again on the new file.
func lockDir(dir string, write bool) (*dirLock, error) {
	path := filepath.Join(dir, LockFileName)
	for range 100 {
		l, err := lockFile(dir, write)
		if err != nil {
			return nil, err
		}
		if l.current(path) {
			return l, nil
		}
		_ = l.release()
	}
	return nil, fmt.Errorf("lock %s: the file keeps being replaced", path)
}

// current reports whether the locked file is the one at path now.
func (l *dirLock) current(path string) bool {
	held, err := l.f.Stat()
	if err != nil {
		return false
	}
	now, err := os.Stat(path)
	return err == nil && os.SameFile(held, now)
}

// lockFile takes the lock on the lock file in dir, as lockDir.
func lockFile(dir string, write bool) (*dirLock, error) {
	path := filepath.Join(dir, LockFileName)
	flag := os.O_RDONLY
	if write {
		flag = os.O_RDWR | os.O_CREATE
	}
	f, err := os.OpenFile(path, flag, 0o644)
	if err != nil {
		if !write && errors.Is(err, os.ErrNotExist) {
			// An index created by a writer always has the lock file; without
			// it there is no index here.
			return nil, fmt.Errorf("open index %s: %w", dir, err)
		}
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	how := syscall.LOCK_SH
	if write {
		how = syscall.LOCK_EX
	}
	if err := flock(f, how|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		le := &LockedError{Dir: dir, LockFile: path, Write: write, Err: err}
		if write {
			// Shared locks only conflict with us if readers hold them: try
			// one to tell the user which kind of process is in the way.
			if flock(f, syscall.LOCK_SH|syscall.LOCK_NB) == nil {
				le.Readers = true
				_ = flock(f, syscall.LOCK_UN)
			}
		}
		return nil, le
	}
	return &dirLock{f: f}, nil
}

// flock retries on EINTR.
func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// upgrade turns a shared lock into an exclusive one, without waiting.
func (l *dirLock) upgrade() error { return flock(l.f, syscall.LOCK_EX|syscall.LOCK_NB) }

// downgrade turns an exclusive lock back into a shared one.
func (l *dirLock) downgrade() error { return flock(l.f, syscall.LOCK_SH) }

func (l *dirLock) release() error {
	if l == nil {
		return nil
	}
	_ = flock(l.f, syscall.LOCK_UN)
	return l.f.Close()
}

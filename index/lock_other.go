//go:build !unix

package index

import (
	"fmt"
	"os"
	"path/filepath"
)

// LockFileName is the file inside the index directory that copycat locks.
const LockFileName = "copycat.lock"

// dirLock is a stand-in where flock does not exist: it creates the lock
// file but cannot stop a second process; Badger's own directory lock still
// refuses a second writer.
type dirLock struct{ f *os.File }

func lockDir(dir string, write bool) (*dirLock, error) {
	path := filepath.Join(dir, LockFileName)
	flag := os.O_RDONLY
	if write {
		flag = os.O_RDWR | os.O_CREATE
	}
	f, err := os.OpenFile(path, flag, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	return &dirLock{f: f}, nil
}

func (l *dirLock) upgrade() error   { return nil }
func (l *dirLock) downgrade() error { return nil }

func (l *dirLock) release() error {
	if l == nil {
		return nil
	}
	return l.f.Close()
}

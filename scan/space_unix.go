//go:build linux || darwin || freebsd

package scan

import (
	"errors"
	"syscall"
)

// freeSpace returns the bytes an unprivileged process may still allocate
// on the device holding path (root may also use the reserved blocks, but
// counting them would let a root scan fill the disk for everyone).
func freeSpace(path string) (uint64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, false
	}
	return uint64(st.Bavail) * uint64(st.Bsize), true
}

// virtualFS reports whether path is on a file system with no blocks at
// all (proc, sysfs): nothing can be stored there, and its "free space" of
// zero would read as a full disk.
func virtualFS(path string) bool {
	var st syscall.Statfs_t
	return syscall.Statfs(path, &st) == nil && st.Blocks == 0
}

// writable returns the reason the process may not write in dir
// (permission denied, read-only file system), or nil. Other failures of
// the probe are left for the index to report.
func writable(dir string) error {
	const wOK = 2 // W_OK
	err := syscall.Access(dir, wOK)
	if errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EROFS) {
		return err
	}
	return nil
}

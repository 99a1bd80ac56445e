package index

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// exchange swaps the folders a and b in one step, so that a crash leaves
// one or the other at each path, never neither.
func exchange(a, b string) error {
	err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		return fmt.Errorf("swap %s and %s: the file system cannot exchange folders atomically (%w); scan into a fresh index instead", a, b, err)
	}
	if err != nil {
		return fmt.Errorf("swap %s and %s: %w", a, b, err)
	}
	return nil
}

// sameDevice refuses an index folder that is a mount point: the folder
// beside it, where Compact builds the new index, is on another device and
// cannot be swapped in.
func sameDevice(dir, parent string) error {
	var a, b syscall.Stat_t
	if err := syscall.Stat(dir, &a); err != nil {
		return err
	}
	if err := syscall.Stat(parent, &b); err != nil {
		return err
	}
	if a.Dev != b.Dev {
		return fmt.Errorf("the index is a mount point, so compact cannot build the new index beside it on the same device (%s): %w", parent, os.ErrInvalid)
	}
	return nil
}

// fileBytes is the disk space a file takes: its allocated blocks.
func fileBytes(fi os.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Blocks * 512
	}
	return fi.Size()
}

//go:build !linux

package index

import (
	"errors"
	"fmt"
	"os"
)

// exchange is not available here: only Linux's renameat2 swaps two
// folders atomically, and two renames could leave no index behind.
func exchange(a, b string) error {
	return fmt.Errorf("swap %s and %s: %w", a, b, errors.ErrUnsupported)
}

// sameDevice has nothing to check where exchange fails anyway.
func sameDevice(dir, parent string) error { return nil }

// fileBytes is a file's length: here, what it takes.
func fileBytes(fi os.FileInfo) int64 { return fi.Size() }

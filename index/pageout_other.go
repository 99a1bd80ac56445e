//go:build !linux

package index

import "errors"

// pageOut is Linux's MADV_PAGEOUT (pageout_linux.go); elsewhere the
// kernel alone decides when mapped pages leave memory.
func pageOut(dir string) error { return errors.ErrUnsupported }

package nifti

import "fmt"

// The three kinds of failure Decode reports for bad input. They mirror
// ingest's *CorruptError, *UnsupportedError and *TooLargeError field for
// field, so that ingest turns one into the other without changing what a
// user reads. Decode returns them unwrapped; an error from emit is
// returned as is.

// CorruptError reports a file that claims to be NIfTI but breaks its rules
// (negative dimensions, a vox_offset outside the file, truncated voxels).
type CorruptError struct {
	Err error // the cause
}

// Error returns "corrupt nifti: " and the cause.
func (e *CorruptError) Error() string { return fmt.Sprintf("corrupt nifti: %v", e.Err) }

// Unwrap returns the cause.
func (e *CorruptError) Unwrap() error { return e.Err }

// UnsupportedError reports a valid file this package cannot decode (a
// complex data type, a .hdr/.img pair). Reason is a complete phrase.
type UnsupportedError struct {
	Reason string
}

// Error returns the reason.
func (e *UnsupportedError) Error() string { return e.Reason }

// TooLargeError reports a file refused by a limit before its voxels are
// read. It names the limit.
type TooLargeError struct {
	What  string // e.g. "volume 512x512x512x4 (536.9 megavoxels)"
	Limit string // e.g. "pixel budget of 100 megapixels"
}

// Error names what was refused and the limit it exceeds.
func (e *TooLargeError) Error() string {
	return fmt.Sprintf("too large: %s exceeds %s", e.What, e.Limit)
}

// corruptf is shorthand for a CorruptError with a formatted cause.
func corruptf(format string, args ...any) error {
	return &CorruptError{Err: fmt.Errorf(format, args...)}
}

// unsupportedf is shorthand for an UnsupportedError.
func unsupportedf(format string, args ...any) error {
	return &UnsupportedError{Reason: fmt.Sprintf(format, args...)}
}

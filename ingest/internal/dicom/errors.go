package dicom

import "fmt"

// The three kinds of failure Decode reports for bad input. They mirror
// ingest's *CorruptError, *UnsupportedError and *TooLargeError field for
// field, and word their messages as those do for a DICOM file, so that
// ingest turns one into the other without changing what a user reads.
// Decode returns them unwrapped; an error from emit is returned as is.

// CorruptError reports a file that claims to be DICOM but breaks its rules
// (truncated, bad lengths, bad compressed data). Its message is one line.
type CorruptError struct {
	Err error // the cause
}

// Error returns "corrupt dicom: " and the cause.
func (e *CorruptError) Error() string { return fmt.Sprintf("corrupt dicom: %v", e.Err) }

// Unwrap returns the cause.
func (e *CorruptError) Unwrap() error { return e.Err }

// UnsupportedError reports a valid file this build cannot decode. Reason is
// a complete one-line phrase such as
// "unsupported transfer syntax JPEG 2000 Image Compression (1.2.840.10008.1.2.4.91)".
type UnsupportedError struct {
	Reason string
}

// Error returns the reason.
func (e *UnsupportedError) Error() string { return e.Reason }

// TooLargeError reports a file refused by a limit before its pixels are
// decoded. It names the limit.
type TooLargeError struct {
	What  string // e.g. "frame 30000x30000 with 1 samples per pixel (900.0 megapixels)"
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

// Package decodeerr holds the three failures that ingest's format decoders
// (ingest/internal/dicom, ingest/internal/nifti) report for bad input. They
// mirror ingest's *CorruptError, *UnsupportedError and *TooLargeError field
// for field, and live in one place so that the decoders share one
// definition and ingest maps them onto its own types with one function.
// Decoders return them unwrapped; an error from the caller's emit passes
// through as is.
package decodeerr

import "fmt"

// CorruptError reports a file that claims to be in Format but breaks its
// rules (a truncated data set, negative dimensions, a bad offset).
type CorruptError struct {
	Format string // "dicom", "nifti": the decoder's format
	Err    error  // the cause
}

// Error returns "corrupt <format>: " and the cause.
func (e *CorruptError) Error() string { return fmt.Sprintf("corrupt %s: %v", e.Format, e.Err) }

// Unwrap returns the cause.
func (e *CorruptError) Unwrap() error { return e.Err }

// UnsupportedError reports a valid file the decoder cannot decode. Reason
// is a complete one-line phrase such as "unsupported transfer syntax JPEG
// 2000 Image Compression (1.2.840.10008.1.2.4.91)".
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

// Unsupportedf returns an UnsupportedError with a formatted reason.
func Unsupportedf(format string, args ...any) error {
	return &UnsupportedError{Reason: fmt.Sprintf(format, args...)}
}

// Format is a decoder's format name, as CorruptError messages give it.
type Format string

// Corrupt wraps a cause as a CorruptError of format f.
func (f Format) Corrupt(err error) error { return &CorruptError{Format: string(f), Err: err} }

// Corruptf is Corrupt with a formatted cause.
func (f Format) Corruptf(format string, args ...any) error {
	return f.Corrupt(fmt.Errorf(format, args...))
}

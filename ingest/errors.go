package ingest

import (
	"errors"
	"fmt"
)

// Sentinel classes of per-file failure. Every error that Decode returns for
// bad input matches exactly one of them with errors.Is.
var (
	// ErrCorrupt marks input that claims a format but breaks its rules
	// (truncated, bad lengths, bad entropy data).
	ErrCorrupt = errors.New("ingest: corrupt")
	// ErrUnsupported marks valid input this build cannot decode (a transfer
	// syntax without a codec, an exotic photometric interpretation).
	ErrUnsupported = errors.New("ingest: unsupported")
	// ErrTooLarge marks input refused by a resource limit before decoding.
	ErrTooLarge = errors.New("ingest: too large")
)

// CorruptError reports input that is malformed. Its message is one line.
type CorruptError struct {
	Format Format // the format the input claimed, if known
	Err    error  // the cause, typically from a decoder
}

func (e *CorruptError) Error() string {
	if e.Format != "" {
		return fmt.Sprintf("corrupt %s: %v", e.Format, e.Err)
	}
	return fmt.Sprintf("corrupt: %v", e.Err)
}

// Unwrap returns the cause.
func (e *CorruptError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// UnsupportedError reports valid input that this build cannot decode.
// Reason is a complete one-line phrase such as
// "unsupported transfer syntax JPEG 2000 Image Compression (1.2.840.10008.1.2.4.91)".
type UnsupportedError struct {
	Reason string
}

func (e *UnsupportedError) Error() string { return e.Reason }

// Is makes errors.Is(err, ErrUnsupported) true.
func (e *UnsupportedError) Is(target error) bool { return target == ErrUnsupported }

// TooLargeError reports input refused by a limit. It names the limit.
type TooLargeError struct {
	What  string // e.g. "image 30000x30000x1 (900.0 megapixels)"
	Limit string // e.g. "pixel budget of 100 megapixels"
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("too large: %s exceeds %s", e.What, e.Limit)
}

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// corruptf is shorthand for a CorruptError with a formatted cause.
func corruptf(f Format, format string, args ...any) error {
	return &CorruptError{Format: f, Err: fmt.Errorf(format, args...)}
}

// unsupportedf is shorthand for an UnsupportedError.
func unsupportedf(format string, args ...any) error {
	return &UnsupportedError{Reason: fmt.Sprintf(format, args...)}
}

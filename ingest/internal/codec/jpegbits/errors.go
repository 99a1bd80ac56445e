package jpegbits

import (
	"errors"
	"fmt"
)

// Error is a corrupt-stream error found by this package. Its text has no
// package prefix because it is meant to reach users through Wrap, which
// adds the name of the codec they called.
type Error struct {
	msg string
}

// Error returns the message, without a package prefix.
func (e *Error) Error() string { return e.msg }

// Sentinel errors, for errors.Is. They describe bad data: a codec reports
// them as corrupt input.
var (
	ErrNoSOI     = &Error{"missing SOI marker"}
	ErrBadCode   = &Error{"invalid Huffman code"}
	ErrTruncated = &Error{"entropy-coded data ends early"}
)

func errorf(format string, args ...any) error {
	return &Error{fmt.Sprintf(format, args...)}
}

// Wrap prefixes err with codec ("ljpeg: invalid Huffman code") when it is
// or wraps an *Error, and returns any other error, or nil, as it is: the
// codecs' own errors already carry their name.
func Wrap(codec string, err error) error {
	if _, ok := errors.AsType[*Error](err); ok {
		return fmt.Errorf("%s: %w", codec, err)
	}
	return err
}

// Package jpegls decodes JPEG-LS frames (ISO 14495-1, DICOM transfer
// syntaxes 1.2.840.10008.1.2.4.80 and .81) for copycat's DICOM reader by
// calling Debian's CharLS through cgo.
//
// The real decoder is built only with cgo and the build tag charls
// (go build -tags charls, with libcharls-dev installed); otherwise Decode
// returns an error matching codec.ErrNotBuilt and Available is false, so the
// caller can report such files as unsupported in this build.
//
// Samples come back as coded: near-lossless streams decode to their
// reconstructed values, components are interleaved whatever the stream's
// interleave mode, and there is no colour conversion beyond the HP colour
// transforms that CharLS itself undoes.
package jpegls

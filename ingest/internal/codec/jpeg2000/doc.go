// Package jpeg2000 decodes JPEG 2000 frames (DICOM transfer syntaxes
// 1.2.840.10008.1.2.4.90 and .91, and the HTJ2K ones OpenJPEG can read) for
// copycat's DICOM reader by calling Debian's OpenJPEG through cgo.
//
// The real decoder is built only with cgo and the build tag openjpeg
// (go build -tags openjpeg, with libopenjp2-7-dev installed); otherwise
// Decode returns an error matching codec.ErrNotBuilt and Available is false.
//
// DICOM normally stores a raw J2K codestream, sometimes a JP2 file; Decode
// tells them apart by their magic bytes. Samples come back after the
// codestream's own inverse multi-component transform, so YBR_RCT and
// YBR_ICT frames come back as RGB. Signed components set Image.Signed and
// Pix holds their two's-complement bit pattern within Precision bits.
// OpenJPEG's messages are captured into the returned error, never printed.
package jpeg2000

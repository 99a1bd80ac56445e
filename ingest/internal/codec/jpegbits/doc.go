// Package jpegbits holds the JPEG (ITU T.81) plumbing that copycat's two
// pure-Go JPEG decoders, ljpeg (DICOM's lossless and sequential DCT JPEG)
// and jpegscale (reduced-scale luma of baseline and progressive JPEG),
// share: one marker walk, one Huffman decoder and one bit reader, so that a
// fix to how either reads a stream reaches both.
//
// It knows the stream's syntax, not its meaning: it finds marker segments
// (skipping fill bytes and stray data as libjpeg does), parses DHT segments
// into lookup tables, and reads entropy-coded data, undoing byte stuffing
// and stopping at the marker that ends a scan. What a frame or scan header
// says, and what the decoded symbols mean, stays with the codecs.
//
// The bit reader and the Huffman decode are the codecs' innermost loops.
// Table.Lookup, Extend, Reader.Receive and Check inline; nothing here
// allocates per symbol or calls through an interface; and the Reader
// exposes its bit buffer (Acc, SetAcc, Refill) so that a codec's hand-tuned
// loop can keep it in registers.
//
// Errors that describe corrupt data are of type *Error and carry no
// package prefix; a codec passes them through Wrap with its own name, so a
// user reads "ljpeg: invalid Huffman code", not the name of this helper.
package jpegbits

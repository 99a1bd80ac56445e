// Package turbojpeg decodes the luma of a JPEG at reduced scale with
// libjpeg-turbo's TurboJPEG API, for copycat's fingerprints: the same job
// as package jpegscale, done by libjpeg-turbo's Huffman decoder and SIMD
// inverse DCTs.
//
// It needs cgo, the turbojpeg build tag and libturbojpeg (Debian
// libturbojpeg0-dev, 2.1.5 here). Without them it is compiled as a stub:
// Available is false and every call fails with an error matching
// codec.ErrNotBuilt, so callers fall back to jpegscale.
//
// Luma decodes with TJPF_GRAY at the largest reduction of 1/8, 1/4, 1/2 or
// 1/1 that keeps both sides at least minSide. libjpeg-turbo offers sixteen
// factors (n/8); only these four keep jpegscale's output geometry,
// ceil(side/scale), so the two are interchangeable, and the others (3/8,
// 5/8, ...) have no SIMD code. For a YCbCr stream the output is the Y
// plane (libjpeg skips the chroma inverse DCTs); for an RGB stream it is
// libjpeg's luminance conversion (jpegscale refuses RGB); CMYK and YCCK
// are refused with codec.ErrUnsupported, as are lossless, hierarchical and
// 12-bit streams, which this libjpeg-turbo version does not decode
// (package ljpeg does). At 1/8 the output is the block mean, identical to
// jpegscale's; at 1/4 and 1/2 libjpeg's scaled inverse DCTs are within one
// count of jpegscale's exact area means, and at 1/1 within one count of
// image/jpeg.
//
// libjpeg reports damaged data as warnings and decodes on, filling what it
// cannot read with grey, and it reports a missing EOI marker with the same
// warning ("Premature end of JPEG file") as a stream cut in half. A missing
// EOI is common in DICOM exports and harmless, so Luma appends one when
// the data lacks it; then a stream that still runs out of entropy-coded
// data draws libjpeg's "premature end of data segment" warning, which Luma
// reports as an error (a half-grey image would fingerprint as another
// picture). Other warnings, such as extraneous bytes before a marker,
// leave a complete image and are ignored.
//
// A TurboJPEG handle keeps the Huffman and quantisation tables of the
// images it decoded (libjpeg's support for abbreviated streams), and a
// header error leaves it mid-parse. The Decoder therefore replaces its
// handle after any error, and before a stream that does not define the
// tables its frame and first scan use, so that no image is decoded with
// another's tables.
//
// libjpeg decodes every scan of a progressive image into whole-image
// coefficient buffers whatever the scale, while 1/8 needs only the DC
// scans. Luma therefore hands progressive streams at 1/8 to package
// jpegscale, which skips the AC scans (15-20 times faster, identical
// output; damage confined to the AC scans then goes unnoticed, as it does
// not change the output), and keeps libjpeg for what jpegscale refuses.
package turbojpeg

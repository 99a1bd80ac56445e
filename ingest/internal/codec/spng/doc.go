// Package spng decodes PNG files with libspng, for copycat's ingest: the
// same images as image/png, in less CPU time. A scan of a chest X-ray
// dataset (100k+ 1024x1024 grey PNGs) spends most of its time in
// image/png.
//
// Decode returns the image type and pixels image/png.Decode returns for
// the same file: *image.Gray, *image.Gray16, *image.RGBA, *image.RGBA64,
// *image.NRGBA, *image.NRGBA64 or *image.Paletted, chosen from the colour
// type, bit depth and tRNS chunk exactly as image/png chooses, with the
// same palette (PLTE entries as color.RGBA, those with a tRNS alpha as
// color.NRGBA, extended with opaque black up to the largest index used).
// libspng only inflates, unfilters and de-interlaces (SPNG_FMT_RAW, no
// transparency or gamma applied; SPNG_FMT_RGBA8 for opaque 8-bit RGB);
// the conversion to Go's types is done here, following image/png's rules,
// from PLTE and tRNS payloads read here too, so callers cannot tell the
// two decoders apart. 8-bit grey, 16-bit grey and 8-bit RGBA images are
// decoded straight into the Go image's pixels.
//
// It needs cgo, the spng build tag and libspng (Debian libspng-dev, 0.7.3
// here). Without them it is compiled as a stub: Available is false and
// Decode fails with an error matching codec.ErrNotBuilt.
//
// # Errors and leniency
//
// An image of more pixels than the budget passed to Decode fails with
// codec.ErrTooLarge before its pixels are allocated; a header image/png
// calls unsupported (compression or filter method, bit depth and colour
// type) and an unknown critical chunk match codec.ErrUnsupported; memory
// and chunk-size limits match codec.ErrTooLarge; anything else is an
// ordinary error, corrupt input.
//
// libspng is set to be as strict as image/png: it checks the CRC of every
// chunk, ancillary ones included (its default discards ancillary chunks
// with a bad CRC, where image/png fails), and the zlib Adler-32, and
// Decode reads on through IEND, as image/png does, so a file cut after its
// image data fails. Before libspng runs, Decode walks the chunk headers
// and applies image/png's chunk-order and length rules (a PLTE chunk in a
// grey image, tRNS before PLTE, a PLTE longer than the bit depth allows,
// data in IEND), which libspng does not all enforce. What remains:
//
//   - libspng refuses some files image/png decodes: an unknown critical
//     chunk (image/png skips it), an IDAT chunk after other chunks that
//     follow the image data (image/png ignores it), a chunk larger than
//     the 64 MiB chunk limits set here (image/png keeps no chunk).
//     Callers that want image/png's verdict retry image/png when
//     Decode fails; package ingest does.
//   - libspng accepts a zlib stream that holds more rows than the image
//     (libpng does too, with a warning), which image/png refuses as "too
//     much pixel data". The pixels are those of the rows the image needs;
//     finding the surplus would cost a second inflate, so it is allowed.
//   - Both ignore what follows IEND, and ancillary chunks whose contents
//     libspng finds invalid (a zero gAMA, a bad tIME) but whose CRC is
//     right.
//
// TestLenient pins each of these, and FuzzDecode checks the rest: where
// image/png refuses a file, Decode refuses it (but for the surplus rows);
// where both decode, the images are identical.
package spng

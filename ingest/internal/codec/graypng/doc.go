// Package graypng decodes the PNGs of chest X-ray datasets, 8-bit and
// 16-bit grey, not interlaced, into the *image.Gray or *image.Gray16 that
// image/png.Decode returns for them, with the same pixels, in less CPU
// time. A scan of such a dataset (100k+ 1024x1024 grey PNGs) spends most
// of its time decoding them. Package ingest tries it first for every PNG;
// other PNGs fail at IHDR with ErrNotGray, before the rest is read.
//
// # Where the time goes
//
// image/png spends about two thirds of a 1024x1024 8-bit grey decode in
// compress/flate and most of the rest in unfiltering (image/png's encoder
// picks Paeth for most rows of a noisy X-ray, Average for the others).
// libspng inflates twice as fast as Go but unfilters 1-byte pixels more
// slowly, so it gains little on these files. This package does each step
// the fastest way found:
//
//   - The IDAT data, concatenated, is inflated in one call into one
//     buffer of the exact size the header gives (h rows of 1+stride
//     bytes): by libdeflate when built with cgo and the libdeflate tag
//     (Debian libdeflate-dev), about three times as fast as
//     compress/flate, else by compress/zlib.
//   - The rows are unfiltered in place, into the image's own pixels (row y
//     moves y+1 bytes left as it is unfiltered), with loops specialised
//     for 1- and 2-byte pixels. Paeth, where each byte depends on the one
//     just decoded, compares that byte with two thresholds computed from
//     the bytes above, with conditional moves only: about 1.5 times as fast
//     as image/png's loop for 1-byte pixels and 2.4 times for 2-byte
//     ones. Up adds eight bytes at a time.
//
// # Strictness
//
// Decode accepts a file only when image/png accepts it (but for one kind
// of malformed deflate stream with libdeflate, below), and refuses some
// that image/png accepts; callers then ask image/png, whose verdict
// stands. Decode checks, as image/png does, the signature, every chunk's
// CRC through IEND, image/png's chunk order (a second IHDR, IDAT or IEND
// out of place, data in IEND, a chunk length over 2^31-1), the zlib header
// (no preset dictionary) and Adler-32, that the stream holds exactly the
// image's rows, and every filter type. It applies the pixel budget from
// IHDR, before allocating. It ignores, as image/png does, unknown chunks,
// IDAT chunks after others that follow the image data, and what follows
// IEND. It refuses, where image/png accepts:
//
//   - bytes after the end of the zlib stream in the IDAT run (image/png
//     accepts those its reader has buffered, up to 4 KiB; Decode would
//     have to replay its buffering to tell);
//   - a chunk before IHDR;
//   - PLTE and tRNS chunks (PLTE is an error in a grey image; tRNS makes
//     image/png return another image type, left to the other decoders).
//
// With compress/zlib (the pure-Go build) Decode never accepts what
// image/png refuses: they share the inflater. libdeflate is as strict but
// in one case: it accepts a dynamic Huffman block declaring more
// literal/length or distance codes than RFC 1951 allows (HLIT over 286,
// HDIST over 30) when the extra codes go unused, and compress/flate does
// not. Only a hand-made stream has such a header; the libdeflate build
// decodes it, into the pixels it holds (TestDeflateEdges), where
// image/png refuses the file. Finding those headers would take a second
// pass through the whole stream. FuzzDecode and FuzzStream compare the two
// decoders on arbitrary files and streams, and have found no other
// difference.
package graypng

// Package jpegscale decodes only what copycat's fingerprints need from a
// JPEG: the luma plane, at a reduced scale.
//
// The perceptual hashes work on 32x32 to 64x64 grey images, so decoding a
// photograph at full size, converting its colour and then shrinking it away
// wastes most of the work. Luma picks the largest reduction of 8, 4, 2 or 1
// that keeps the short side at least minSide, and decodes the first
// component straight to that size: at scale 8 each output sample is the DC
// coefficient (the block mean) and no inverse DCT runs at all; at 4 and 2 a
// reduced inverse DCT computes the exact mean of each 4x4 or 2x2 group; at 1
// a full inverse DCT runs. Chroma is entropy-decoded only as far as an
// interleaved scan forces it (and not at all in separate scans), and the AC
// scans of a progressive image are skipped entirely at scale 8.
//
// It is an ingest-stage helper: the caller (package ingest, for JPEG files
// and JPEG-baseline DICOM frames) tries it first and falls back to a full
// decoder when it reports an error matching codec.ErrUnsupported, which it
// does for everything outside 8-bit Huffman-coded sequential and
// progressive DCT with a luma (or grey) first component: arithmetic coding,
// lossless, hierarchical, 12-bit, and RGB (Adobe transform 0, or
// components named R, G, B without JFIF), CMYK and YCCK streams, whose
// first component is not luma. Luma cannot see DICOM's Photometric
// Interpretation: a DICOM caller must not use it for RGB frames whose JPEG
// stream does not say so itself.
//
// LumaDigest also writes a canonical serialisation of every component's
// quantised coefficients to a hash, so that re-encodings which keep the
// coefficients (jpegtran -optimize or -progressive, stripped or added
// markers) are recognised as the same image before any pixel comparison.
//
// Bad data yields an ordinary error; a frame over codec.MaxSamples, or one
// the data is too short to code, yields one matching codec.ErrTooLarge
// before anything is allocated. Entropy-coded data that ends more than a
// byte early is an error (with no slack at all when the data stops without
// a marker); a missing EOI marker is not, and a progressive stream that
// ends after a complete scan decodes as far as it goes, as in libjpeg.
// Scans that are skipped (chroma without a digest; progressive AC scans at
// scale 8) are not checked. Nothing panics on bad input, and the work a
// progressive stream can demand is bounded (1000 scans, 1024 coefficient
// visits per block).
//
// Accuracy, measured on the 158 decodable JPEG files of copycat's test
// corpus against image/jpeg's luma: at scale 1 within one count (99.3%
// exact); at 2, 4 and 8 within one count of the rounded mean of
// image/jpeg's samples wherever none of them is clipped to 0 or 255. Where
// one is, the output is the mean before clipping (a bright edge's ringing
// is averaged in, not cut off) and differs by up to 14 counts at scale 2.
//
// The marker walk, the Huffman tables and the entropy-coded bit reader are
// package jpegbits's, shared with package ljpeg.
package jpegscale

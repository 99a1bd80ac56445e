// Package hash computes the fingerprint of a decoded image: the perceptual
// hashes copycat searches on and a thumbnail to check and show matches.
//
// # Place in the pipeline
//
// ingest decodes every file (DICOM frame, PNG, JPEG) into an image.Image;
// hash turns each into a Fingerprint; index stores fingerprints and finds
// near neighbours by Hamming distance; lineage reasons about the matches.
// This package is pure computation: no files, no goroutines, no global
// state. The scan pipeline gives each worker its own Hasher, which owns all
// scratch memory (0.2 MB, plus up to 0.3 MB for small images' pixels as
// float64 and 2 MB for PDQ, both on first use), so hashing
// allocates nothing per image in steady state.
//
// # The hashes
//
//   - PHash (64 bits) is the index hash: goimagehash's PerceptionHash (a
//     64x64 bilinear resize, luma, the unscaled 2-D DCT-II, the top-left 8x8
//     block including DC, thresholded at its median). Dihedral holds the
//     PHash of the 8 rotations and mirrors, derived from the same
//     coefficients (a left-right mirror negates the odd horizontal
//     frequencies, a top-bottom mirror the odd vertical ones, a transpose
//     swaps the two; the median is recomputed per variant because negating
//     coefficients changes it), so flipped and rotated copies are found
//     without hashing them.
//   - DHash (64 bits) is goimagehash's DifferenceHash (9x8 resize, a bit per
//     horizontal gradient): a second opinion on pHash candidates.
//   - AHash (64 bits) is goimagehash's AverageHash (8x8 resize, mean
//     threshold). It sees only coarse layout: on the corpus, distinct images
//     with a similar layout (two brain slices of different MR contrast, two
//     landscapes) come within 0-3 bits. Never decide on it alone.
//   - PDQ (256 bits) is Meta's PDQ hash, bit-exact with the reference
//     implementation: the hash copycat can exchange with other tools (for
//     example hash lists in the ThreatExchange format). Its quality says
//     whether the image has enough structure for the hash to mean anything.
//   - Thumb is a 32x32 grey thumbnail for pixel-level verification of a
//     match and for reports.
//
// # How the 64-bit hashes are computed, and how close they are to goimagehash
//
// goimagehash resizes the full image once per hash (with nfnt/resize, whose
// "bilinear" filter is a tent stretched to the scale factor) and spends most
// of its time there. This package reads the image once, into a 128x128
// exact-area average of its luma (integer sums, so flat regions stay exactly
// flat), with a one-cell border holding the first and last pixel rows and
// columns alone (nfnt clamps out-of-range taps to the edge pixel, which for
// the 8x8 and 9x8 resizes carries over a tenth of the weight). The 64x64,
// 9x8 and 8x8 resizes are then computed from that grid with nfnt's own
// per-pixel tent weights, pushed onto the grid cells. The pHash takes the
// eight DCT frequencies from a precomputed 8x64 cosine table. The thumbnail
// is a 4x4 pooling of the grid, hence also an exact-area average. JPEG
// colour images use their Y plane as luma (what goimagehash's YCbCr -> RGB
// -> 0.299R+0.587G+0.114B round trip approximates); RGB images use those
// weights, with alpha premultiplied. *image.Gray, Gray16, RGBA, NRGBA,
// NRGBA64, YCbCr and Paletted are read straight from their pixel buffers,
// sub-images included. Other standard types (RGBA64, CMYK, NYCbCrA, ...) are
// read with RGBA64At, which does not allocate (pHash of a 1024x1024 RGBA64:
// 5.2 ms CPU against 2.1 ms for the RGBA fast path); any other
// image.Image goes through At, correct but 10 times slower than the fast
// path and allocating once per pixel for most colour types (21 ms, 1M
// allocations).
//
// Measured against goimagehash v1.1.0 on all 185 PNG and JPEG files of the
// shared corpus (decoded with image.Decode; TestAgreementWithGoimagehash):
//
//	hash   mean bits  max  histogram (bits:images)
//	pHash  0.173      2    0:169 2:16
//	dHash  0.914      5    0:84 1:56 2:31 3:6 4:7 5:1
//	aHash  0.124      2    0:164 1:19 2:2
//
// The pHash differences are pairs of coefficients next to the median
// trading places.
//
// One departure from goimagehash is deliberate. A coefficient that is zero
// in exact arithmetic (every horizontal frequency of an image of
// horizontal bars, or of a ramp) comes out of a floating-point DCT as
// rounding noise of about 1e-12, and on such an image the median is that
// noise too: goimagehash's bits there are set by rounding, and two decoders
// of one picture disagree (pydicom's synthetic colour bars rendered by
// DCMTK and by copycat: 12-24 bits apart). PHash makes coefficients under
// 1e-6 the zeros they are (real content, even a 1/1024 grey-level step,
// gives 1e-3 or more), so those bits are 0 and stable (TestRoundOffZeros;
// the agreement figures above did not move). PDQ must stay bit-exact and
// keeps the noise: Fingerprint.PDQZeros counts its coefficients under 0.01
// (all 256 on the bars, none on photos, where the tenth percentile of
// |coefficient| is about 19), and verification ignores PDQ when more than
// PDQMaxZeros are. dHash is further off for a reason no fast kernel can
// remove: nfnt truncates to uint8 after each of its two passes, and dHash
// compares neighbours that are often within a grey level of each other. An
// exact float emulation of nfnt's resize, pixel by pixel, rounded to whole
// grey levels, is 0.924 bits from goimagehash on average (max 5) on the same
// images; the grid kernel does as well as that. Hashes of rotated and
// mirrored copies made with imaging (TestDihedral, 238 cases): our PHash of
// the copy equals the derived Dihedral entry in every case; goimagehash's
// PHash of the copy is 0.126 bits from it on average (max 2).
//
// # PDQ
//
// The PDQ code follows the reference (pdq/cpp of facebook/ThreatExchange)
// step by step in float32, in the reference's order of operations, with
// products rounded explicitly so no platform fuses them into FMAs: luma
// 0.299R+0.587G+0.114B (grey images: the grey value), two passes of
// Jarosz box filters with windows from the image size, decimation to 64x64,
// the gradient-sum quality, the 16x16 DCT, the Torben (lower) median, bits
// printed as sixteen 16-bit words, last word first. Images over 512 pixels
// on a side are first squashed to 512x512 by nearest-neighbour sampling, as
// the reference's pdq-photo-hasher does (this also bounds the cost of a
// huge image). Only 64x64 values of the second filter pass are ever read, so
// that pass divides only there; the running sums are still updated at every
// pixel, which is what fixes the float32 rounding.
//
// Against the reference's own outputs (../shared/pdq): all 28 lossless PNG
// vectors match exactly, hash and quality. On the 28 original files (JPEG
// decoded by Go instead of libjpeg; some over 512 pixels) the 27 of quality
// >= 80 are 0.22 bits off on average, max 2 (0:24 2:3); the published
// criterion is 10.
//
// A scan decodes JPEG data at 1/2, 1/4 or 1/8 scale (down to MinSide, 64
// pixels a side) and hashes it with ComputeReduced, where PDQ runs as
// explicit filter weights: the reference's two box passes and decimation
// composed into one tent per output sample, in full-size coordinates, then
// summed over the blocks each reduced pixel stands for (a DCT-scaled
// decode is close to the full image's block means). Run at full size the
// weights reproduce the reference on all 28 PNG vectors (the sums are in
// float64 and in another order, so a coefficient on the median could
// differ; none did). From reduced decodes of the corpus JPEGs the hash is
// 7.1 bits from the full decode's on average, p95 16, max 26 (hashing the
// small image itself, as before: up to 50); see MinSide for the trade-off.
// `copycat hash` decodes in full and prints the reference's hash.
//
// # Thresholds
//
// PHashThreshold (10), DHashThreshold (8), AHashThreshold (5) and
// PDQThreshold (31, the reference's recommendation) come from
// TestRobustness, summarised in testdata/robustness.golden. It makes 13
// ImageMagick copies of 30 corpus images (resize 50%, squash to 224x224!,
// JPEG q95/75/50, PNG -depth 8, a 256-colour palette, gamma 0.8 and 1.2,
// -flop, centre crops of 2% and 5% per side, a 3° rotation) and compares
// all 16566 pairs of distinct images among the 185 natural and medical
// PNG/JPEG files, the README's hard negatives (336 pairs: stereo pairs and
// sequences) and the known copy groups separately. Highlights:
//
//	                         pHash     pHash-dihedral  dHash   aHash   PDQ
//	benign copies, max dist  6         6 (flop: 2)     5       5       46*
//	distinct pairs, min dist 16        12              8       0       94
//	distinct false matches   0         0               3       26      0
//	hard negatives matched   12/336    12/336          7/336   11/336  2/336
//	recall crop 2% / rot 3°  .93/.97   .93/.97         1/.87   .80/.90 .17/.07
//
// (*) PDQ recall under resize-50% is 0.933 and 2 of 30 copies exceed 31
// bits: both are images under 256 pixels, and below 128 pixels the
// reference's box-filter window is 1, so it decimates without blurring.
// JPEG, palette and gamma copies all stay within 10 bits. Sweeping the
// pHash threshold from 6 to 14 keeps benign recall at 1 and distinct false
// matches at 0; 10 sits in the middle of that safe band. dHash reaches
// full benign recall at 5 and its first distinct false match at 8. The
// hard negatives the hashes do match are mostly the chessboard sequence
// (near-identical shots); separating those needs the thumbnail or pixels,
// which is what the index's verification does: after it, 0 of 340 hard-
// negative pairs and 0 of 16,566 distinct pairs are called copies (the
// verification study in index/doc.go, on fingerprints from the scan's
// reduced decodes). One hard-negative pair, two consecutive optical-flow
// frames, passes every image threshold; the index refuses it by its file
// names, as frames of one acquisition, not by the fingerprints.
// Crops beyond a few percent are out of reach of all four global hashes.
//
// # Speed
//
// Per-kernel benchmarks on 1024x1024 images made from testdata/hopper.jpg
// (go test -bench . -run '^$' -count 3 ./hash/). The build machine is a
// shared 2-core VM whose load moved wall-clock times by 2-5x between runs,
// so the figures are process CPU time per image (the cpu-ns/op metric,
// median of 3; it also charges goimagehash for the goroutines its resize
// fans out to), which is what a scan worker pays:
//
//	ms CPU per image                 Gray   YCbCr  RGBA   speed-up vs reference
//	Hasher.PHash                     0.94   0.57   3.78
//	goimagehash.PerceptionHash       7.99  14.05  10.49   8.5x  24.6x  2.8x
//	Hasher.DHash                     0.53   0.58   2.67
//	goimagehash.DifferenceHash       7.66  16.20  11.00  14.4x  27.9x  4.1x
//	Hasher.AHash                     0.60   0.57   2.29
//	goimagehash.AverageHash          5.07  12.98   9.08   8.4x  22.8x  4.0x
//	Hasher.Thumbnail                 0.77   0.83   4.06
//	imaging.Resize(Box)+Grayscale    6.32  14.18   7.96   8.2x  17.1x  2.0x
//	Hasher.PDQ                       1.81   3.77   2.85   (no Go reference)
//	Hasher.Compute (everything)      2.65   5.80   6.61
//	goimagehash p+d+aHash            16.79  36.39  26.51  6.3x   6.3x  4.0x
//
// All Hasher kernels allocate nothing per image (goimagehash: 21-233
// allocations and up to 9.8 MB per image). The grid kernels are bound by
// reading the pixels: on this machine merely summing a 4 MB buffer costs
// about 2 ms, which is why RGBA (4 bytes a pixel) gains least. PDQ is most
// of Compute: its float32 box filters must run at full resolution (up to
// 512x512) to stay bit-exact, and for JPEG colour it converts every sampled
// pixel to RGB as the reference does (reading the Y plane instead would save
// about 2 ms but moves some hashes 2-4 bits off the reference).
//
// What a scan hashes for a typical JPEG photo is much smaller: the luma of
// a 480x360 photo decoded at 1/4, a 120x90 image. There the grid would be
// an upsampling, so images of at most 192 pixels a side (grey or the Y
// plane) are resized straight from their pixels instead, with the products
// of the tent and bin weights (direct.go): the same linear map in another
// order, so the same hashes (TestDirectMatchesGrid; on all 1,090 corpus
// frames every pHash, dHash, aHash and PDQ was unchanged), and thumbnail
// cells whose exact average is k+0.5 now round up on both paths (27 of
// the corpus's 2,180 thumbnails changed, each by one level in a few
// cells). BenchmarkResizePaths (µs, median of 5, direct and through the
// grid): 120x90 56 and 105, 160x120 95 and 116, 192x144 104 and 122.
//
// The kernels after the pixels (resamples, DCTs, PDQ's sampling) are
// written for instruction-level parallelism: several taps added per pass
// over a row, several independent sums run side by side, intermediate
// rows kept in blocks of four so they stay in the L1 cache, one row of
// integer sums instead of a grid of them, a selection instead of a sort
// for the median. Every sum is still added in the order of the plain
// loop, so the output is bit-identical (kernels_test.go holds each kernel
// to its plain form). BenchmarkKernels, plain against fused, median of 3
// (µs, final code, 05:35 UTC): resampleRows to 64 rows 73 -> 33, to 8 rows
// 71 -> 20, resampleCols 64 -> 17, phashBlock 92 -> 35, PDQ's folded DCT
// 92 -> 31, PDQ's reduced sampling 71 -> 50, median64 1.30 -> 0.37;
// binRow8 on a 120-pixel row 0.68 -> 0.52.
//
// Together, BenchmarkComputeReduced 480x360/4 went from 328 to 246 µs with
// the kernels and to 147 µs with the direct path (old and new test
// binaries alternated 8-10 times, benchstat; 1024x1024/4, a 256x256 image,
// from 491 to 379 µs). In a whole scan worker (BenchmarkWorkerProcess/jpeg
// in scan, libjpeg-turbo; three profiles) the decode is then 69-72% of
// the time, the two SHA-256 digests 7-9% and all hashing 16-19% (it was
// 23%, PDQ's DCT then a
// fifth of it; the reduced path takes a folded DCT, rows k and 63-k of
// the cosine matrix being equal or opposite, while Compute keeps the
// reference's float32 order).
//
// # Gaps
//
// Luma for the 64-bit hashes is 8-bit-precise like goimagehash (16-bit
// inputs are averaged exactly, then the resized pixels are rounded to whole
// grey levels for aHash and dHash): ingest must window high-bit-depth
// medical images to a useful range first. PDQ reads 16-bit samples by their
// high byte. Images whose pixel buffer is shorter than their bounds hash as
// empty. Crops of more than a few percent, and rotations by other than
// multiples of 90°, defeat all four hashes.
package hash

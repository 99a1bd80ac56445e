#!/bin/sh
# Regenerates the fixtures from the shared corpus with libjpeg-turbo's
# cjpeg/jpegtran (Debian libjpeg-turbo-progs 2.1.5) and ImageMagick.
# Run from this directory: sh make.sh [path/to/corpus]. The fixtures are
# committed; tests never run this script.
set -eu
C=${1:-../../../../../../shared/corpus}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
convert "$C/natural/go-stdlib-variants/video-001.png" "$T/v.ppm"
convert "$C/natural/go-stdlib-variants/video-005.gray.png" "$T/g.pgm"
convert "$C/natural/go-stdlib-variants/video-001.png" -crop 37x21+50+40 +repage "$T/odd.ppm"

cjpeg -quality 85 -sample 1x1 "$T/v.ppm" > v444.jpg
cjpeg -quality 85 "$T/v.ppm" > v420.jpg
cjpeg -quality 85 -sample 2x1 "$T/v.ppm" > v422.jpg
cjpeg -quality 85 -sample 1x2 "$T/v.ppm" > v440.jpg
cjpeg -quality 85 -sample 4x1 "$T/v.ppm" > v411.jpg
cjpeg -quality 85 -sample 3x2,1x1,1x2 "$T/v.ppm" > v_odd_sampling.jpg
cjpeg -quality 85 -sample 1x1,2x2,1x1 "$T/v.ppm" > v_luma_subsampled.jpg
cjpeg -quality 50 "$T/v.ppm" > v420_q50.jpg
cjpeg -quality 85 -restart 1 "$T/v.ppm" > v420_rst_row.jpg
cjpeg -quality 85 -restart 5B "$T/v.ppm" > v420_rst_5b.jpg
cjpeg -quality 85 -progressive "$T/v.ppm" > v420_prog.jpg
cjpeg -quality 85 -progressive -sample 1x1 -restart 2B "$T/v.ppm" > v444_prog_rst.jpg
cjpeg -quality 85 -rgb "$T/v.ppm" > v_rgb.jpg
cjpeg -quality 85 -arithmetic "$T/v.ppm" > v_arith.jpg
convert "$C/natural/go-stdlib-variants/video-001.png" -colorspace CMYK -quality 85 v_cmyk.jpg
cjpeg -quality 90 -grayscale "$T/g.pgm" > g.jpg
cjpeg -quality 90 -grayscale -sample 2x2 "$T/g.pgm" > g_sampled2x2.jpg
cjpeg -quality 90 -grayscale -progressive "$T/g.pgm" > g_prog.jpg
cjpeg -quality 85 "$T/odd.ppm" > odd_420.jpg
cjpeg -quality 85 -progressive -sample 2x1 "$T/odd.ppm" > odd_422_prog.jpg

# Same coefficients, other bytes.
jpegtran -progressive -copy none v420.jpg > v420_tran_prog.jpg
jpegtran -optimize -copy none v420.jpg > v420_tran_opt.jpg
jpegtran -scans scans.txt -copy none v420.jpg > v420_tran_scans.jpg
jpegtran -scans scans_seq.txt -copy none v420.jpg > v420_tran_seqscans.jpg
jpegtran -restart 3B -copy all v420.jpg > v420_tran_rst.jpg

# Real DICOM JPEG-baseline frames (grailbio, MIT): a grey one padded with
# fill bytes after EOI, and a YBR_FULL_422 one.
cp "$C/medical_png_jpeg/extracted_from_dicom/grailbio_I_000000_frame1.jpg" us_gray_pad.jpg
cp "$C/medical_png_jpeg/extracted_from_dicom/grailbio_I_000007_frame1.jpg" us_422.jpg
chmod 644 us_*.jpg

# Processes this package refuses: 12-bit extended DCT and lossless, from
# package ljpeg's fixtures (dcmcjpeg +ee and +el +sv 1 of pydicom/heudiconv
# files; see ../ljpeg/testdata/README.md).
cp ../../ljpeg/testdata/fmap_ee.jpg x_12bit.jpg
cp ../../ljpeg/testdata/mr_sv1.jpg x_lossless.jpg

#!/usr/bin/env bash
# Regenerates the raster fixtures with ImageMagick. The source is a seeded
# plasma, so the files are the project's own (no third-party pixels).
set -euo pipefail
cd "$(dirname "$0")"
convert -seed 7 -size 40x30 plasma:red-blue -depth 8 src.ppm
convert src.ppm -colorspace gray -depth 8 srcgray.pgm
c() { convert "$@"; }
c srcgray.pgm -define png:bit-depth=1 -define png:color-type=0 -threshold 50% gray1.png
c srcgray.pgm -define png:bit-depth=2 -define png:color-type=0 -depth 2 gray2.png
c srcgray.pgm -define png:bit-depth=4 -define png:color-type=0 -depth 4 gray4.png
c srcgray.pgm -define png:bit-depth=8 -define png:color-type=0 gray8.png
c srcgray.pgm -depth 16 -define png:bit-depth=16 -define png:color-type=0 gray16.png
c srcgray.pgm -alpha set -channel A -evaluate set 60% +channel -define png:color-type=4 graya8.png
c src.ppm -define png:color-type=2 rgb8.png
c src.ppm -depth 16 -define png:bit-depth=16 -define png:color-type=2 rgb16.png
c src.ppm -alpha set -channel A -evaluate set 50% +channel -define png:color-type=6 rgba8.png
c src.ppm -alpha set -channel A -evaluate set 50% +channel -depth 16 -define png:bit-depth=16 -define png:color-type=6 rgba16.png
c src.ppm +dither -colors 16 -define png:color-type=3 palette.png
# The grey picture stored as RGB and as palette: same pixels as gray8.png.
c srcgray.pgm -define png:color-type=2 gray-as-rgb.png
c srcgray.pgm +dither -define png:color-type=3 gray-as-palette.png
c src.ppm -quality 90 baseline.jpg
c src.ppm -quality 90 -interlace Plane progressive.jpg
c srcgray.pgm -quality 90 gray.jpg
c src.ppm -quality 90 -colorspace CMYK cmyk.jpg
# EXIF orientation 6 (rotate 90 clockwise to view): the file stores a 30x40
# picture whose upright view equals baseline.jpg's content turned.
c src.ppm -rotate -90 -quality 90 rotated-exif6.jpg
# ImageMagick writes no EXIF here: insert a minimal APP1 Exif segment with
# IFD0 Orientation=6 right after SOI.
python3 - <<'PY'
import struct
d = open("rotated-exif6.jpg", "rb").read()
tiff = b"MM\x00*" + struct.pack(">I", 8) + struct.pack(">H", 1) + struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0) + struct.pack(">I", 0)
app1 = b"Exif\x00\x00" + tiff
open("rotated-exif6.jpg", "wb").write(d[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + d[2:])
PY
rm -f src.ppm srcgray.pgm

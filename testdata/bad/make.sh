#!/usr/bin/env bash
# Regenerates the malformed-input corpus from the demo fixtures: one file per
# kind of damage a real download shows. Expected reasons: ../../scan/testdata/bad.golden.
set -euo pipefail
cd "$(dirname "$0")"
src=../demo/original/ct_0001.dcm
jpg=../../ingest/testdata/raster/baseline.jpg
pngf=../../ingest/testdata/raster/rgb8.png
rm -f -- *.dcm *.png *.jpg *.zip *.gz *.tgz *.bin *.txt
head -c 200 "$src" > truncated-header.dcm
size=$(stat -c %s "$src"); head -c $((size - 5000)) "$src" > truncated-pixels.dcm
head -c $(( $(stat -c %s "$pngf") / 2 )) "$pngf" > truncated.png
head -c $(( $(stat -c %s "$jpg") / 2 )) "$jpg" > truncated.jpg
# A flipped byte inside the PNG image data fails its CRC.
python3 - "$pngf" <<'PY'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
i = d.index(b"IDAT") + 20
d[i] ^= 0xFF
open("bitflip.png", "wb").write(bytes(d))
PY
# Pixel Data claiming 4 GB in a small file.
python3 - "$src" <<'PY'
import sys, struct
d = bytearray(open(sys.argv[1], "rb").read())
i = d.rindex(b"\xe0\x7f\x10\x00OW\x00\x00")
d[i+8:i+12] = struct.pack("<I", 0xFFFFFFF0)
open("wrong-length.dcm", "wb").write(bytes(d))
PY
# A transfer syntax UID that names nothing.
python3 - "$src" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
old = b"1.2.840.10008.1.2.1\x00"
new = b"1.2.840.99999.1.2.1\x00"
assert old in d
open("bogus-syntax.dcm", "wb").write(d.replace(old, new, 1))
PY
: > empty.png
printf 'name,label\na,1\n' > labels-not-an-image.png
python3 -c 'import random,sys; r=random.Random(5); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(2048)))' > random.bin
# An encrypted zip member (ZipCrypto) and a gzip stream cut short.
python3 - <<'PY'
import struct, zlib
data = b"not really encrypted, but flagged as such"
name = b"secret.png"
crc = zlib.crc32(data)
local = struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 1, 0, 0, 0, crc, len(data), len(data), len(name), 0) + name + data
cd = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 20, 20, 1, 0, 0, 0, crc, len(data), len(data), len(name), 0, 0, 0, 0, 0, 0) + name
end = struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, 1, 1, len(cd), len(local), 0)
open("encrypted.zip", "wb").write(local + cd + end)
PY
tar -C ../demo/original -czf - README.md ct_0001.dcm | head -c 3000 > cut.tgz

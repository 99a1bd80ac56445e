#!/usr/bin/env bash
# Regenerates the demo datasets from seeded synthetic phantoms with real
# tools: DCMTK writes and transcodes the DICOMs, renders them to PNG/JPEG the
# way uploaders do, and zip packs the "re-upload". Needs python3, dcmtk, zip.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
rm -rf original broken upload.zip kaggle-copy.tar.gz && mkdir -p original broken "$tmp/up/train" "$tmp/up/test"

# dicom SEED OUT PHOTOMETRIC FRAMES: a CT-like slice (or several) via dump2dcm.
dicom() {
  local seed=$1 out=$2 photometric=$3 frames=$4 raw="$tmp/$1.raw"
  : > "$raw"
  for f in $(seq 1 "$frames"); do python3 phantom.py $((seed * 100 + f)) 128 "$tmp/f.raw"; cat "$tmp/f.raw" >> "$raw"; done
  cat > "$tmp/$seed.dump" <<DUMP
(0008,0016) UI 1.2.840.10008.5.1.4.1.1.2
(0008,0018) UI 1.2.826.0.1.3680043.10.543.$seed
(0008,0060) CS CT
(0010,0010) PN Phantom^Demo$seed
(0010,0020) LO DEMO-$seed
(0020,000d) UI 1.2.826.0.1.3680043.10.543.1000
(0020,000e) UI 1.2.826.0.1.3680043.10.543.2000
(0028,0002) US 1
(0028,0004) CS $photometric
(0028,0008) IS $frames
(0028,0010) US 128
(0028,0011) US 128
(0028,0100) US 16
(0028,0101) US 16
(0028,0102) US 15
(0028,0103) US 1
(0028,1050) DS 40
(0028,1051) DS 400
(0028,1052) DS -1024
(0028,1053) DS 1
(7fe0,0010) OW =$raw
DUMP
  dump2dcm +te "$tmp/$seed.dump" "$out"
}

dicom 1 original/ct_0001.dcm MONOCHROME2 1
dicom 2 "$tmp/ct_0002.dcm" MONOCHROME2 1
dcmcjpeg +el "$tmp/ct_0002.dcm" original/ct_0002.dcm          # JPEG Lossless SV1
dicom 3 "$tmp/ct_0003.dcm" MONOCHROME2 1
dcmcrle "$tmp/ct_0003.dcm" original/ct_0003.dcm               # RLE Lossless
dicom 4 "$tmp/ct_0004.dcm" MONOCHROME2 3
dcmconv +ti "$tmp/ct_0004.dcm" original/ct_0004.dcm           # implicit VR, 3 frames
dicom 5 original/cr_0005.dcm MONOCHROME1 1                    # inverted display
cat > original/README.md <<'TXT'
# Demo phantoms

Synthetic CT-like slices made by testdata/demo/make.sh.

License: CC-BY-4.0
TXT
printf 'file,label\nct_0001.dcm,normal\nct_0002.dcm,lesion\nct_0003.dcm,normal\n' > original/labels.csv

# The re-upload: rendered to 8-bit PNG with the file's own window, one to
# JPEG, a subset, relicensed.
dcm2pnm +on +Wi 1 original/ct_0001.dcm "$tmp/up/train/img_1.png"
dcmj2pnm +on +Wi 1 original/ct_0002.dcm "$tmp/up/train/img_2.png"
dcmj2pnm +oj +Jq 90 +Wi 1 "$tmp/ct_0003.dcm" "$tmp/up/test/img_3.jpg"
cat > "$tmp/up/README.md" <<'TXT'
# CT slices for deep learning
License: MIT
TXT
(cd "$tmp/up" && zip -q -X -r ../upload.zip README.md train test)
cp "$tmp/upload.zip" upload.zip

# A second-generation copy of the upload, as it circulates on data sites:
# squashed to 96x96, re-saved as JPEG q75, one image mirrored for
# "augmentation", one image in both train and test (a leak), no licence.
mkdir -p "$tmp/k/train" "$tmp/k/test"
convert "$tmp/up/train/img_1.png" -resize 96x96! -quality 75 "$tmp/k/train/0001.jpg"
convert "$tmp/up/train/img_2.png" -resize 96x96! -flop -quality 75 "$tmp/k/train/0002.jpg"
convert "$tmp/up/test/img_3.jpg" -resize 96x96! -quality 75 "$tmp/k/test/0003.jpg"
cp "$tmp/k/train/0001.jpg" "$tmp/k/test/0004.jpg"
printf '# CT slices 96px\nReady for training!\n' > "$tmp/k/README.md"
tar -C "$tmp/k" --sort=name --mtime=2026-11-01 --owner=0 --group=0 -czf "$PWD/kaggle-copy.tar.gz" README.md train test

# Broken files a real download contains.
head -c 20000 original/ct_0001.dcm > broken/ct_0001_truncated.dcm
: > broken/empty.png
python3 -c 'import random,sys; r=random.Random(3); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(4096)))' > broken/random.dcm
printf 'II*\0\10\0\0\0' > broken/scan.tif
printf 'downloaded 2026-11\n' > broken/notes.txt

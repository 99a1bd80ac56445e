#!/usr/bin/env bash
# scan-sets.sh: `copycat bench scan` on the three kinds of dataset issue 14
# sets targets for, built from the shared corpus with ImageMagick:
#
#   png224    400 grey PNG 224x224 (ML exports)
#   png1024   150 grey PNG 1024x1024 (chest X-ray style)
#   jpeg1024  300 JPEG photos 1024 px wide, quality 88
#
# Each set cycles through the corpus's PNG and JPEG images, each copy
# cropped by a few more pixels so that every file differs. The sets are
# built once and reused.
#
# usage (from the repository root):
#   bench/scripts/scan-sets.sh [DATA_DIR]     # default /tmp/copycat-scan-sets
# environment:
#   CORPUS=../shared/corpus  ROUNDS=3  TAGS=... (default: as `make build`)
set -euo pipefail

data=${1:-/tmp/copycat-scan-sets}
corpus=${CORPUS:-../shared/corpus}
rounds=${ROUNDS:-3}
convert -version 2>/dev/null | grep -q ImageMagick || { echo "scan-sets.sh: needs ImageMagick's convert (make deps)" >&2; exit 1; }

mapfile -t sources < <(find "$corpus/natural" "$corpus/medical_png_jpeg" -type f \( -iname '*.png' -o -iname '*.jpg' -o -iname '*.jpeg' \) | sort)
[ ${#sources[@]} -gt 0 ] || { echo "scan-sets.sh: no PNG or JPEG under $corpus" >&2; exit 1; }

# build NAME COUNT EXT CONVERT-ARGS...: COUNT files DATA/NAME/NNNN.EXT
build() {
  local name=$1 count=$2 ext=$3; shift 3
  local dir=$data/$name
  [ -f "$dir.done" ] && return
  rm -rf "$dir" && mkdir -p "$dir"
  for ((i = 0; i < count; i++)); do
    local src=${sources[i % ${#sources[@]}]} k=$((i / ${#sources[@]}))
    convert "$src[0]" -shave "$((k * 2))x$((k * 2))" "$@" "$dir/$(printf %04d "$i").$ext"
  done
  touch "$dir.done"
}
build png224 400 png -colorspace Gray -resize '224x224!' -depth 8
build png1024 150 png -colorspace Gray -resize '1024x1024!' -depth 8
build jpeg1024 300 jpg -resize 1024x -quality 88

tags=${TAGS:-$(make -s tags)}
go build -tags "$tags" -o "$data/copycat" ./cmd/copycat
for set in png224 png1024 jpeg1024; do
  echo "== $set (tags: ${tags:-none})"
  "$data/copycat" bench scan --rounds "$rounds" "$data/$set"
done

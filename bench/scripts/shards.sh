#!/usr/bin/env bash
# shards.sh: a sharded scan imported into one index equals one full scan,
# at scale (issue 18), with the time of each step.
#
# It generates N distinct images with internal/gendata (reused when
# present) and a second dataset, "copies", holding identical copies of the
# first 10,000 (so that clusters and lineage have something to say), then:
#   - scans both into one index (full);
#   - scans shard K of S of both into S indexes (scan --shard K/S), and
#     exports each (export --parquet);
#   - imports the S exports into one index (union);
#   - compares `clusters --json` and `lineage --json` of full and union,
#     image IDs removed (each index allocates its own), and the datasets'
#     counts; any difference fails the script.
# Every index starts as a copy of one empty index, so they share the salt
# of patient-ID digests (as S machines would, given one index folder).
#
# usage (from the repository root):
#   bench/scripts/shards.sh [DATA_DIR]     # default /tmp/copycat-shard-data
# environment: N=100000 (multiple of 1000), SHARDS=4, WORKERS (default: all cores)
# Needs Go, jq and coreutils.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
data=${1:-/tmp/copycat-shard-data}
N=${N:-100000}
SHARDS=${SHARDS:-4}
workers=()
[ -n "${WORKERS:-}" ] && workers=(--workers "$WORKERS")
cd "$root"
make -s build >/dev/null
cc="$root/bin/copycat"

mkdir -p "$data"
if [ ! -d "$data/gen-$N" ]; then
  go run ./internal/gendata -kind small -n "$N" "$data/gen-$N.tmp"
  mv "$data/gen-$N.tmp" "$data/gen-$N"
fi
if [ ! -d "$data/copies-$N" ]; then
  mkdir -p "$data/copies-$N.tmp"
  for d in $(ls "$data/gen-$N" | head -10); do cp -r "$data/gen-$N/$d" "$data/copies-$N.tmp/"; done
  mv "$data/copies-$N.tmp" "$data/copies-$N"
fi
sets=("gen=$data/gen-$N" "copies=$data/copies-$N")

work=$(mktemp -d "$data/run.XXXXXX")
trap 'rm -rf "$work"' EXIT
secs() { local t0=$(date +%s.%N); "$@" >/dev/null; echo "$(date +%s.%N) - $t0" | bc; }

mkdir "$work/empty"
"$cc" scan --index "$work/base" "$work/empty" >/dev/null
"$cc" forget --index "$work/base" empty >/dev/null
cp -r "$work/base" "$work/full"
echo "full scan: $(secs "$cc" scan "${workers[@]}" --index "$work/full" "${sets[@]}") s"
exports=()
for k in $(seq 1 "$SHARDS"); do
  cp -r "$work/base" "$work/shard$k"
  s=$(secs "$cc" scan "${workers[@]}" --index "$work/shard$k" --shard "$k/$SHARDS" "${sets[@]}")
  e=$(secs "$cc" export --index "$work/shard$k" --parquet "$work/export$k")
  echo "shard $k/$SHARDS: scan $s s, export $e s, $(du -sb "$work/export$k" | cut -f1) bytes of Parquet, $(jq '[.datasets[].files]|add' <("$cc" datasets --json --index "$work/shard$k")) files"
  exports+=("$work/export$k")
done
cp -r "$work/base" "$work/union"
echo "import of $SHARDS exports: $(secs "$cc" import --index "$work/union" "${exports[@]}") s"
echo "index sizes: full $(du -sb "$work/full" | cut -f1) bytes, union $(du -sb "$work/union" | cut -f1) bytes"

status=0
for cmd in clusters lineage; do
  for ix in full union; do
    t=$(secs sh -c "'$cc' $cmd --json --index '$work/$ix' | jq -S 'del(.. | .image_id?)' > '$work/$cmd-$ix.json'")
    echo "$cmd on $ix: $t s"
  done
  if cmp -s "$work/$cmd-full.json" "$work/$cmd-union.json"; then
    echo "$cmd --json: identical ($(wc -c <"$work/$cmd-full.json") bytes)"
  else
    echo "$cmd --json: DIFFERENT"; diff "$work/$cmd-full.json" "$work/$cmd-union.json" | head -20; status=1
  fi
done
for ix in full union; do
  "$cc" datasets --json --index "$work/$ix" | jq -S '[.datasets[] | {name, files, images, failures, complete}]' > "$work/ds-$ix.json"
done
if cmp -s "$work/ds-full.json" "$work/ds-union.json"; then
  echo "datasets: identical counts: $(jq -c '[.[] | {name, files, images}]' "$work/ds-full.json")"
else
  echo "datasets: DIFFERENT"; diff "$work/ds-full.json" "$work/ds-union.json"; status=1
fi
exit $status

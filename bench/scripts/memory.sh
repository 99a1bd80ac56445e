#!/usr/bin/env bash
# memory.sh: peak memory of `copycat scan` as datasets grow (issue 6).
#
# It builds copycat, generates synthetic datasets with internal/gendata
# (once: they are reused when present), then scans each into a fresh index
# with 1 and 2 workers and prints one table: peak RSS, wall time, images/s.
#
#   small-10k, small-25k, small-50k  distinct PNG/JPEG images, 64-512 px; the
#                                    smaller sets are hard links into the
#                                    largest, so they cost no disk
#   large-200                        100 JPEG 6000x4000 q90 and 100 DICOM of
#                                    100 frames 512x512x16 bit (about 6 GB)
#
# Peak RSS should stay flat from 10k to 50k files: a scan streams. The
# table splits it into anonymous memory and resident pages of the index's
# memory-mapped files (Badger maps its value log and keeps every value-log
# file mapped), which the kernel reclaims under pressure.
#
# usage (from the repository root):
#   bench/scripts/memory.sh [DATA_DIR]          # default /tmp/copycat-memory-data
# environment:
#   SIZES="10000 25000 50000"  small dataset sizes (multiples of 1000)
#   LARGE_N=200                large files (half JPEG, half DICOM); 0: none
#   WORKERS="1 2"              --workers values
#   REPEATS="2 4"              also scan the largest small dataset 2 and 4 times
#                              over, as that many datasets (100k, 200k images)
#   TAGS=...                   build tags (default: the C codecs installed here, as `make build`)
#   LIMIT_MB=N                 run every scan in a memory cgroup capped at N MiB
#                              (root only; cgroup v2 or v1 memory controller):
#                              the scan must finish, which shows that the pages
#                              of mapped index files above the cap were
#                              reclaimable; an OOM kill fails the run
#
# Needs Go and coreutils. Peak RSS comes from GNU time (`/usr/bin/time -v`,
# installed with apt-get when missing and run as root), else from VmHWM in
# /proc/PID/status, polled every 50 ms with RssAnon and RssFile. Generated
# data stays in DATA_DIR, outside the repository.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
data=${1:-/tmp/copycat-memory-data}
sizes=${SIZES:-10000 25000 50000}
large_n=${LARGE_N:-200}
workers=${WORKERS:-1 2}
repeats=${REPEATS:-}
mkdir -p "$data"
data=$(cd "$data" && pwd)

log() { printf '%s\n' "$*" >&2; }

# --- tools -----------------------------------------------------------------
command -v go >/dev/null || { log "memory.sh: go not found"; exit 1; }
gnutime=/usr/bin/time
if ! "$gnutime" -v true >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		log "installing GNU time"
		apt-get install -y -qq time >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq time >/dev/null; } || true
	fi
	"$gnutime" -v true >/dev/null 2>&1 || gnutime=""
fi
rss_from="GNU time"
[ -n "$gnutime" ] || { rss_from="VmHWM polling"; log "GNU time not available: polling VmHWM instead"; }

[ -n "${TAGS+x}" ] || TAGS=$(make -s tags) # the C codecs installed here, as make build
bin=$data/bin/copycat
log "building copycat (tags: ${TAGS:-none})"
go build -tags "$TAGS" -o "$bin" ./cmd/copycat
go build -o "$data/bin/gendata" ./internal/gendata

# --- data ------------------------------------------------------------------
max_small=0
for n in $sizes; do
	[ $((n % 1000)) = 0 ] || { log "SIZES must be multiples of 1000: $n"; exit 2; }
	[ "$n" -gt "$max_small" ] && max_small=$n
done

# need_kb is a generous estimate of what generation writes: 15 KB a small
# image, 60 MB a large file (a DICOM is 52 MB, a JPEG about 7 MB).
need_kb=0
[ -f "$data/small-$max_small.done" ] || need_kb=$((need_kb + max_small * 15))
[ "$large_n" = 0 ] || [ -f "$data/large-$large_n.done" ] || need_kb=$((need_kb + large_n * 60 * 1024))
need_kb=$((need_kb + 2 * 1024 * 1024)) # indexes and slack
avail_kb=$(df -Pk "$data" | awk 'NR==2 {print $4}')
if [ "$avail_kb" -lt "$need_kb" ]; then
	log "memory.sh: $data has $((avail_kb / 1024)) MB free, generation needs about $((need_kb / 1024)) MB"
	exit 1
fi

big=$data/small-$max_small
if [ ! -f "$big.done" ]; then
	log "generating $max_small small images in $big"
	rm -rf "$big"
	"$data/bin/gendata" -kind small -n "$max_small" "$big"
	touch "$big.done"
fi
for n in $sizes; do
	d=$data/small-$n
	[ "$n" = "$max_small" ] || [ -f "$d.done" ] && continue
	log "linking the first $n small images into $d"
	rm -rf "$d" && mkdir -p "$d"
	for ((k = 0; k < n / 1000; k++)); do
		cp -al "$big/$(printf 'd%03d' "$k")" "$d/"
	done
	touch "$d.done"
done
large=$data/large-$large_n
if [ "$large_n" -gt 0 ] && [ ! -f "$large.done" ]; then
	log "generating $large_n large files in $large (several minutes)"
	rm -rf "$large"
	"$data/bin/gendata" -kind large -n "$large_n" "$large"
	touch "$large.done"
fi

# --- memory cgroup (LIMIT_MB) ------------------------------------------------
# cg_dir is a fresh cgroup capped at LIMIT_MB, cg_peak reads the peak of
# what it charged (anonymous memory and page cache) after a run.
cg_dir=""
cg_peak() { :; }
if [ -n "${LIMIT_MB:-}" ]; then
	[ "$(id -u)" = 0 ] || { log "LIMIT_MB needs root"; exit 1; }
	if [ -f /sys/fs/cgroup/cgroup.controllers ] && grep -qw memory /sys/fs/cgroup/cgroup.controllers; then
		cg_dir=/sys/fs/cgroup/copycat-memory-$$
		mkdir "$cg_dir"
		echo $((LIMIT_MB << 20)) >"$cg_dir/memory.max"
		echo 0 >"$cg_dir/memory.swap.max" 2>/dev/null || true
		cg_peak() { cat "$cg_dir/memory.peak" 2>/dev/null || echo 0; }
	elif [ -d /sys/fs/cgroup/memory ]; then
		cg_dir=/sys/fs/cgroup/memory/copycat-memory-$$
		mkdir "$cg_dir"
		echo $((LIMIT_MB << 20)) >"$cg_dir/memory.limit_in_bytes"
		cg_peak() { cat "$cg_dir/memory.max_usage_in_bytes"; }
	else
		log "LIMIT_MB: no memory cgroup controller here"
		exit 1
	fi
	trap 'rmdir "$cg_dir" 2>/dev/null || true' EXIT
	log "scans run in $cg_dir, capped at $LIMIT_MB MiB"
fi
# in_cgroup CMD...: runs CMD in place of the calling (background) shell, in
# the capped cgroup when there is one, so that $! is CMD's PID.
in_cgroup() {
	if [ -n "$cg_dir" ]; then
		[ ! -f "$cg_dir/memory.max_usage_in_bytes" ] || echo 0 >"$cg_dir/memory.max_usage_in_bytes"
		echo "$BASHPID" >"$cg_dir/cgroup.procs"
	fi
	exec "$@"
}

# --- runs ------------------------------------------------------------------
# measure WORKERS DATASET... prints "rss_kb anon_kb file_kb wall_ms files
# images failed index_kb". rss_kb is the peak RSS (GNU time's, else the
# last VmHWM seen); anon_kb and file_kb are the peaks of RssAnon and RssFile
# sampled every 50 ms: anonymous memory (Go heap, Badger's memtables) and
# resident pages of memory-mapped files (Badger's value log and write-ahead
# log, which the kernel can reclaim).
measure() {
	local w=$1 idx=$data/index out=$data/scan.json tf=$data/time.txt
	local rss=0 anon=0 file=0 t0 t1 pid scan_pid st h a f c
	shift
	rm -rf "$idx"
	t0=$(date +%s%N)
	if [ -n "$gnutime" ]; then
		in_cgroup "$gnutime" -v -o "$tf" "$bin" scan --index "$idx" --workers "$w" --json "$@" >"$out" &
	else
		in_cgroup "$bin" scan --index "$idx" --workers "$w" --json "$@" >"$out" &
	fi
	pid=$!
	scan_pid=$pid
	while kill -0 "$pid" 2>/dev/null; do
		if [ -n "$gnutime" ] && [ "$scan_pid" = "$pid" ]; then
			# GNU time forks copycat: sample the child.
			c=$(cat "/proc/$pid/task/$pid/children" 2>/dev/null || true)
			[ -n "$c" ] && scan_pid=${c%% *}
		fi
		st=$(cat "/proc/$scan_pid/status" 2>/dev/null || true)
		read -r h a f <<<"$(awk '/^VmHWM:/ {h=$2} /^RssAnon:/ {a=$2} /^RssFile:/ {f=$2} END {print h+0, a+0, f+0}' <<<"$st")"
		[ "$h" -gt "$rss" ] && rss=$h
		[ "$a" -gt "$anon" ] && anon=$a
		[ "$f" -gt "$file" ] && file=$f
		sleep 0.05
	done
	if ! wait "$pid"; then
		log "memory.sh: the scan failed (exit status $?${cg_dir:+; OOM-killed in the $LIMIT_MB MiB cgroup?})"
		exit 1
	fi
	t1=$(date +%s%N)
	[ -z "$gnutime" ] || rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tf")
	# Summed over the datasets of the summary.
	field() { grep -o "\"$1\": *[0-9]*" "$out" | grep -o '[0-9]*$' | awk '{n += $1} END {print n + 0}'; }
	local cg_kb=-
	[ -z "$cg_dir" ] || cg_kb=$(($(cg_peak) / 1024))
	echo "$rss $anon $file $(((t1 - t0) / 1000000)) $(field files) $(field images) $(field failed_total) $(du -sk "$idx" | cut -f1) $cg_kb"
}

log "load before the runs: $(uptime)"
rows=()
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
runs=()
for n in $sizes; do runs+=("small-$n"); done
[ "$large_n" = 0 ] || runs+=("large-$large_n")
for k in $repeats; do runs+=("small-${max_small}x$k"); done
for ds in "${runs[@]}"; do
	args=("$data/$ds")
	if [[ $ds == *x* ]]; then
		# The largest small dataset k times, as k datasets: k times the images.
		args=()
		for ((c = 1; c <= ${ds##*x}; c++)); do args+=("copy$c=$data/${ds%x*}"); done
	fi
	for w in $workers; do
		log "scanning $ds with $w worker(s)"
		measure "$w" "${args[@]}" >"$data/row.txt"
		read -r rss anon file ms files images failed idx_kb cg_kb <"$data/row.txt"
		[ "$cg_kb" = - ] || cg_kb=$(mib "$cg_kb")
		rows+=("$(printf '%-14s %7s %7s %7s %9s %9s %9s %7.1f %8.1f %6s %9s %10s' \
			"$ds" "$w" "$files" "$images" "$(mib "$rss")" "$(mib "$anon")" "$(mib "$file")" \
			"$(awk -v m="$ms" 'BEGIN {print m / 1000}')" \
			"$(awk -v n="$images" -v m="$ms" 'BEGIN {print n * 1000 / m}')" "$failed" "$(mib "$idx_kb")" "$cg_kb")")
	done
done
rm -rf "$data/index"

echo "copycat scan peak memory ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, tags: ${TAGS:-none}, RSS from $rss_from)"
echo "load after the runs: $(uptime | sed 's/.*load average/load average/')"
printf '%-14s %7s %7s %7s %9s %9s %9s %7s %8s %6s %9s %10s\n' dataset workers files images "RSS MiB" "anon MiB" "file MiB" "wall s" images/s failed "index MiB" "cgroup MiB"
printf '%s\n' "${rows[@]}"
echo "RSS: peak resident set; anon: peak anonymous memory (Go heap, Badger memtables); file: peak resident"
echo "pages of mapped files: the index's value log and write-ahead log, which the kernel can reclaim, and"
echo "the copycat binary itself (about 16 MiB). cgroup: the peak charged to the LIMIT_MB cgroup"
echo "(anonymous memory and page cache); - without LIMIT_MB."

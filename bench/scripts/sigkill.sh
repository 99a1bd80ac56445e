#!/usr/bin/env bash
# sigkill.sh: SIGKILL `copycat scan` at random moments and check the index
# survives (issue 6): after every kill it opens and `copycat check` passes,
# and after the next scan it holds exactly the images on disk.
#
# It builds copycat, makes a dataset (a copy of ../shared/corpus when present
# plus SMALL_N generated PNG/JPEG images), and runs trials on one index
# until TRIALS kills have landed mid-scan. Before most trials it changes the
# dataset: new files, removed files and rewritten files (see mutate), so
# that scans have work to be killed in; every fifth trial rescans an
# unchanged dataset; every sixth first forgets the dataset, so that the kill
# lands in a first scan.
# Each trial:
#   1. scans the new state into a reference index that is never killed: its
#      image count is what the killed index must reach, and its duration
#      bounds the kill delay;
#   2. starts `copycat scan` on the tested index and SIGKILLs it after a
#      random delay within that duration;
#   3. runs `copycat check` (which also recovers the index after the kill);
#   4. scans to completion, compares files and images with the reference and
#      with the files on disk, and runs `copycat check` again.
# Then EARLY quick kills land while the scan opens the index, each followed
# by a check; a final reference scan into a fresh index confirms the counts.
# One line per trial, then PASS or FAIL; the exit code is 1 on any failure. A
# failed trial's outputs are kept in WORK_DIR/failed-N/ (and the index as
# the failed check left it in WORK_DIR/failed-N-index/).
#
# usage (from the repository root):
#   bench/scripts/sigkill.sh [WORK_DIR]        # default /tmp/copycat-sigkill
# environment:
#   TRIALS=25     kills that land mid-scan (trials whose scan finishes before
#                 the kill are run too but not counted; at most 2*TRIALS)
#   SMALL_N=3000  generated images in the starting dataset
#   CHURN=1000    at most this many files added, removed and rewritten
#                 before a trial (each a random number up to it; above 512
#                 files a rescan commits more than once before it finishes)
#   EARLY=100     kills 0-30 ms into an unchanged rescan, while it opens the
#                 index, each followed by a check (after the trials)
#   SEED=...      seed of the random choices (default: random; printed)
#   TAGS=...      build tags (default: the C codecs installed here)
#
# Needs Go and coreutils. WORK_DIR is wiped at the start (a folder the
# script made before, or an empty or missing one).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
work=${1:-/tmp/copycat-sigkill}
trials=${TRIALS:-25}
small_n=${SMALL_N:-3000}
churn=${CHURN:-1000}
early=${EARLY:-100}
seed=${SEED:-$(((RANDOM << 15) | RANDOM))}
RANDOM=$seed

log() { printf '%s\n' "$*" >&2; }

command -v go >/dev/null || { log "sigkill.sh: go not found"; exit 1; }
[ -n "${TAGS+x}" ] || TAGS=$(make -s tags) # the C codecs installed here, as make build

# WORK_DIR is wiped: refuse a non-empty folder this script did not make.
if [ -n "$(ls -A "$work" 2>/dev/null)" ] && [ ! -f "$work/.copycat-sigkill" ]; then
	log "sigkill.sh: $work is not empty and was not made by sigkill.sh; give another WORK_DIR"
	exit 2
fi
rm -rf "$work"
mkdir -p "$work/bin"
touch "$work/.copycat-sigkill"
work=$(cd "$work" && pwd)
avail_kb=$(df -Pk "$work" | awk 'NR==2 {print $4}')
need_kb=$((small_n * 15 + 200 * 1024 + 1024 * 1024))
[ "$avail_kb" -ge "$need_kb" ] || { log "sigkill.sh: $work has $((avail_kb / 1024)) MB free, needs about $((need_kb / 1024)) MB"; exit 1; }

log "building copycat (tags: ${TAGS:-none})"
go build -tags "$TAGS" -o "$work/bin/copycat" ./cmd/copycat
go build -o "$work/bin/gendata" ./internal/gendata
cc=$work/bin/copycat
gendata=$work/bin/gendata

data=$work/data
mkdir -p "$data"
corpus=$root/../shared/corpus
if [ -d "$corpus" ]; then
	cp -r "$corpus" "$data/corpus"
else
	log "no shared corpus at $corpus: generated images only"
fi
"$gendata" -q -kind small -n "$small_n" "$data/gen"
next_gen=$small_n # index of the next new generated file

idx=$work/index
ref=$work/ref

# json_field FILE NAME prints the first integer field NAME of a JSON file.
json_field() { grep -o "\"$2\": *[0-9]*" "$1" | head -1 | grep -o '[0-9]*$' || echo "?"; }
num() { if [[ $1 =~ ^[0-9]+$ ]]; then echo "$1"; else echo 0; fi; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# rand N sets r to a random number below N. Not $(...): bash reseeds
# $RANDOM in subshells, which would make SEED useless.
rand() { r=$((((RANDOM << 15) | RANDOM) % $1)); }

# mutate changes the dataset at random and sets $what to a summary, and
# $add, $del and $chg to the counts:
# +N new generated files, -N removed files (generated ones and, every other
# time, a corpus file, so image and file counts move apart), ~N rewritten
# generated files (new content under the same name; one of them becomes a
# copy of a corpus file, a multi-frame DICOM perhaps, so that a changed
# file can change its number of images or fail). N is up to $churn.
mutate() {
	local files corpus_files n i k f id
	rand $((churn + 1)); add=$r
	rand $((churn + 1)); del=$r
	rand $((churn + 1)); chg=$r
	if [ "$add" -gt 0 ]; then
		"$gendata" -q -kind small -start "$next_gen" -n "$add" "$data/gen"
		next_gen=$((next_gen + add))
	fi
	mapfile -t files < <(find "$data/gen" -type f -name 's*' | sort)
	n=${#files[@]}
	for ((k = 0; k < del && n > 0; k++)); do
		rand "$n"
		rm -f "${files[$r]}"
		files[r]=${files[n - 1]}
		n=$((n - 1))
	done
	mapfile -t corpus_files < <(find "$data/corpus" -type f 2>/dev/null | sort)
	if [ ${#corpus_files[@]} -gt 0 ]; then
		rand 2
		if [ "$r" = 0 ]; then
			rand ${#corpus_files[@]}
			rm -f "${corpus_files[$r]}"
			del=$((del + 1))
		fi
	fi
	for ((k = 0; k < chg && n > 0; k++)); do
		rand "$n"
		i=$r
		f=${files[$i]}
		if [ "$k" = 0 ] && [ ${#corpus_files[@]} -gt 0 ]; then
			rand ${#corpus_files[@]}
			[ -f "${corpus_files[$r]}" ] && cp "${corpus_files[$r]}" "$f"
		else
			id=$(basename "$f")
			id=${id#s}
			id=$((10#${id%.*}))
			"$gendata" -q -kind small -start "$id" -n 1 -seed "$((RANDOM + 2))" "$data/gen"
		fi
		files[i]=${files[n - 1]}
		n=$((n - 1))
	done
	chg=$k
	what="+$add -$del ~$chg"
}

# scan_ref scans the current state into the reference index and sets
# $ref_ms, $ref_files and $ref_images.
scan_ref() {
	local t0
	t0=$(now_ms)
	"$cc" scan --index "$ref" --json "ds=$data" >"$work/ref.json"
	ref_ms=$(($(now_ms) - t0))
	"$cc" datasets --index "$ref" --json >"$work/ref-ds.json"
	ref_files=$(json_field "$work/ref-ds.json" files)
	ref_images=$(json_field "$work/ref-ds.json" images)
	"$cc" check --index "$ref" >/dev/null || { log "reference index inconsistent"; return 1; }
}

log "sigkill.sh: seed $seed, $trials trials, $(find "$data" -type f | wc -l) files; load: $(uptime | sed 's/.*load average/load average/')"
fails=0 landed=0 files=0
# A trial whose scan finishes before the kill does not count towards
# TRIALS: trials go on until TRIALS kills have landed (at most 2*TRIALS).
for ((t = 1; landed < trials && t <= 2 * trials; t++)); do
	what="unchanged"
	untouched=$(num "$files") # files the killed scan has no work on
	if [ "$t" -gt 1 ] && [ $((t % 6)) = 0 ]; then
		"$cc" forget --index "$idx" ds >/dev/null
		what="forgotten"
		untouched=0
	elif [ "$t" -gt 1 ] && [ $((t % 5)) != 0 ]; then
		mutate # every fifth trial rescans an unchanged dataset
		untouched=$(($(num "$files") - del - chg))
	fi
	scan_ref
	# The first reference scan reads the whole dataset: its time is the
	# window for the first scans of forgotten trials too.
	[ "$t" = 1 ] && full_ms=$ref_ms
	window=$ref_ms
	[ "$what" = forgotten ] && window=$full_ms
	rand "$((window > 100 ? window : 100))"
	delay=$r
	delay_s=$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))

	# The kill.
	"$cc" scan --index "$idx" --json "ds=$data" >"$work/killed.json" 2>"$work/killed.err" &
	pid=$!
	sleep "$delay_s"
	kill -KILL "$pid" 2>/dev/null || true
	rc=0
	{ wait "$pid"; } 2>/dev/null || rc=$? # the braces keep bash's "Killed" notice out of the table
	if [ "$rc" = 137 ]; then
		state=killed
		landed=$((landed + 1))
	else
		state="finished first (exit $rc)"
	fi
	problems=()

	# The index opens and is consistent.
	if "$cc" check --json --index "$idx" >"$work/check1.json" 2>"$work/check1.err"; then
		check1="ok"
	else
		check1="FAIL"
		problems+=("check after kill: $(tr '\n' ' ' <"$work/check1.err" | cut -c1-600)")
		# Keep the index as the check left it, for a post-mortem.
		cp -a "$idx" "$work/failed-$t-index"
	fi
	held="$(json_field "$work/check1.json" files) files, $(json_field "$work/check1.json" images) images"

	# The next scan completes it exactly.
	if ! "$cc" scan --index "$idx" --json "ds=$data" >"$work/rescan.json" 2>"$work/rescan.err"; then
		problems+=("rescan failed: $(tr '\n' ' ' <"$work/rescan.err" | cut -c1-600)")
	fi
	unchanged=$(json_field "$work/rescan.json" unchanged)
	# What the killed scan committed: files the rescan found already done
	# beyond those the mutation did not touch.
	kept=$(($(num "$unchanged") - untouched))
	"$cc" datasets --index "$idx" --json >"$work/ds.json" 2>&1 || problems+=("datasets failed: $(cut -c1-200 "$work/ds.json")")
	files=$(json_field "$work/ds.json" files)
	images=$(json_field "$work/ds.json" images)
	on_disk=$(find "$data" -type f | wc -l)
	grep -q '"complete": true' "$work/ds.json" || problems+=("dataset not complete after the rescan")
	[ "$files" = "$ref_files" ] && [ "$files" = "$on_disk" ] || problems+=("files: index $files, reference $ref_files, on disk $on_disk")
	[ "$images" = "$ref_images" ] || problems+=("images: index $images, reference $ref_images")
	if "$cc" check --index "$idx" >"$work/check2.txt" 2>&1; then
		check2="ok"
	else
		check2="FAIL"
		problems+=("check after rescan: $(tr '\n' ' ' <"$work/check2.txt" | cut -c1-600)")
	fi

	verdict=PASS
	if [ ${#problems[@]} -gt 0 ]; then
		verdict=FAIL
		fails=$((fails + 1))
		mkdir -p "$work/failed-$t"
		cp "$work"/*.err "$work"/*.json "$work/check2.txt" "$work/failed-$t/" 2>/dev/null || true
	fi
	printf 'trial %2d  %-17s kill at %6ss of ~%5.1fs: %-22s | after kill: check %-4s index holds %-26s | rescan: %5s files, %5s images, %4s done by the killed scan; reference %5s files, %5s images; on disk %5s files | check %-4s | %s\n' \
		"$t" "$what" "$delay_s" "$(echo "$window" | awk '{print $1/1000}')" "$state" "$check1" "$held" \
		"$files" "$images" "$kept" "$ref_files" "$ref_images" "$on_disk" "$check2" "$verdict"
	for p in "${problems[@]}"; do
		printf '          %s\n' "$p"
	done
done

t=$((t - 1))

# Early kills: the trials above rarely land in the first milliseconds, while
# the scan opens the index (Badger creates its new log files then). These
# kill an unchanged rescan 0-30 ms after it starts, EARLY times, and check
# after each.
early_fail=0
for ((e = 1; e <= early; e++)); do
	"$cc" scan --index "$idx" --json "ds=$data" >/dev/null 2>&1 &
	pid=$!
	rand 30
	sleep "0.0$(printf '%02d' "$r")"
	kill -KILL "$pid" 2>/dev/null || true
	{ wait "$pid"; } 2>/dev/null || true
	if ! "$cc" check --index "$idx" >/dev/null 2>"$work/early.err"; then
		early_fail=$((early_fail + 1))
		printf 'early kill %d at %d ms: check FAIL: %s\n' "$e" "$r" "$(tr '\n' ' ' <"$work/early.err" | cut -c1-400)"
		[ -d "$work/failed-early-index" ] || cp -a "$idx" "$work/failed-early-index"
		# Check and scan in turn until one works: what it takes to recover.
		seq="check FAIL"
		for ((k = 1; k <= 3; k++)); do
			if "$cc" check --index "$idx" >/dev/null 2>&1; then seq+=", check ok" && break; fi
			seq+=", check FAIL"
			if "$cc" scan --index "$idx" "ds=$data" >/dev/null 2>&1; then seq+=", scan ok" && break; fi
			seq+=", scan FAIL"
		done
		printf '          then: %s\n' "$seq"
	fi
done
if [ "$early" -gt 0 ]; then
	"$cc" scan --index "$idx" --json "ds=$data" >/dev/null 2>&1 || true
	"$cc" datasets --index "$idx" --json >"$work/ds.json" 2>&1 || true
	files=$(json_field "$work/ds.json" files)
	images=$(json_field "$work/ds.json" images)
	"$cc" check --index "$idx" >/dev/null 2>&1 || early_fail=$((early_fail + 1))
	echo "early kills: $early, $early_fail failed checks; then $files files, $images images (reference $ref_files, $ref_images)"
	[ "$early_fail" = 0 ] || fails=$((fails + 1))
fi

# A fresh reference: the incremental one could share a bug with the index.
rm -rf "$ref"
scan_ref
if [ "$ref_files" != "$files" ] || [ "$ref_images" != "$images" ]; then
	echo "final: a fresh reference has $ref_files files, $ref_images images; the index $files, $images"
	fails=$((fails + 1))
fi

echo "seed $seed; $t trials, $landed kills landed mid-scan, $((t - landed)) scans finished before the kill; load: $(uptime | sed 's/.*load average/load average/')"
[ "$landed" -ge "$trials" ] || echo "warning: only $landed kills landed, $trials wanted: scans are too short for the kill window"
if [ "$fails" -gt 0 ]; then
	echo "FAIL: $fails failures (trials, early kills, final comparison)"
	exit 1
fi
echo "PASS: $t trials and $early early kills; the index opened and checked consistent after every kill and held exactly the images on disk after every rescan"

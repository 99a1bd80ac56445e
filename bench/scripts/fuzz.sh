#!/usr/bin/env bash
# fuzz.sh runs every fuzz target of the module for FUZZTIME each (one worker,
# so the figures are comparable between machines with different core counts)
# and prints, per target: execs, new interesting inputs, and the statement
# coverage of the target's package reached by its seeds alone and by seeds plus
# the inputs fuzzing kept. It runs in a throwaway git worktree of HEAD so that
# the fuzzer's corpus never lands in the working tree; crashers it finds are
# copied to the same testdata/fuzz/ path of the working tree, to be kept as
# regression cases.
#
# Usage: bench/scripts/fuzz.sh [FUZZTIME] [REGEXP]   (default 10m, all targets)
# REGEXP selects targets by package path and name, e.g. 'ingest/internal' or
# '^ingest\.FuzzDecode$'.
set -uo pipefail
fuzztime=${1:-10m}
only=${2:-.}
root=$(git rev-parse --show-toplevel)
cd "$root"
tags=${TAGS-$(make -s tags)} # the C codecs installed here, as make build
wt=$(mktemp -d /tmp/copycat-fuzz.XXXXXX)
git worktree add --detach "$wt" HEAD >/dev/null
# Tests find ../shared beside the module root; give the worktree the same.
[ -e "$(dirname "$wt")/shared" ] || ln -s "$(cd "$root/.." && pwd)/shared" "$(dirname "$wt")/shared" 2>/dev/null || true
trap 'cd "$root"; git worktree remove --force "$wt"' EXIT
cd "$wt"
cache=$(go env GOCACHE)/fuzz
printf '%-58s %10s %8s %8s %8s %s\n' target execs new seeds% fuzzed% result
for pkg in $(go list -tags "$tags" ./...); do
  rel=${pkg#github.com/copycat-dev/copycat}; rel=.${rel}
  for f in $(go test -tags "$tags" -list '^Fuzz' "$pkg" | grep '^Fuzz'); do
    grep -qE "$only" <<<"${rel#./}.$f" || continue
    log=$(mktemp)
    seeds=$(go test -tags "$tags" -run "^$f\$" -cover -coverpkg "$pkg" "$pkg" 2>&1 | grep -o 'coverage: [0-9.]*%' | grep -o '[0-9.]*%')
    go test -tags "$tags" -run '^$' -fuzz "^$f\$" -fuzztime "$fuzztime" -parallel 1 "$pkg" >"$log" 2>&1
    rc=$?
    last=$(grep 'elapsed:' "$log" | tail -1)
    execs=$(sed -n 's/.*execs: \([0-9]*\).*/\1/p' <<<"$last")
    new=$(sed -n 's/.*new interesting: \([0-9]*\).*/\1/p' <<<"$last")
    result=ok
    if [ $rc -ne 0 ]; then
      result="FAIL: $(grep -m1 -E 'panic|Error|error|failing input' "$log" | cut -c1-120)"
      for c in "$rel/testdata/fuzz/$f"/*; do
        [ -f "$c" ] || continue
        if ! git ls-files --error-unmatch "$c" >/dev/null 2>&1; then
          mkdir -p "$root/$rel/testdata/fuzz/$f" && cp "$c" "$root/$rel/testdata/fuzz/$f/"
          result="$result (crasher: $rel/testdata/fuzz/$f/$(basename "$c"))"
        fi
      done
      cp "$log" "$root/fuzz-$f-$(basename "$rel").log"
    fi
    # Coverage with what fuzzing kept: copy the cached corpus beside the seeds.
    mkdir -p "$rel/testdata/fuzz/$f"
    cp "$cache/$pkg/$f"/* "$rel/testdata/fuzz/$f/" 2>/dev/null
    fuzzed=$(go test -tags "$tags" -run "^$f\$" -cover -coverpkg "$pkg" "$pkg" 2>&1 | grep -o 'coverage: [0-9.]*%' | grep -o '[0-9.]*%')
    git checkout -q -- "$rel/testdata" 2>/dev/null; git clean -qfd "$rel/testdata/fuzz" 2>/dev/null
    printf '%-58s %10s %8s %8s %8s %s\n' "${rel#./}.$f" "${execs:-?}" "${new:-?}" "${seeds:-?}" "${fuzzed:-?}" "$result"
    rm -f "$log"
  done
done

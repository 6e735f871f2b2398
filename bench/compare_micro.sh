#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Compare two microbenchmark runs with Google Benchmark's own compare.py (Debian package
# libbenchmark-tools; it needs python3 with scipy and numpy: python3-scipy).
#
# usage: bench/compare_micro.sh [compare.py options] BASE CONTENDER
#   BASE, CONTENDER  a run directory of `ipcbench --all` (its gbench.json is used) or a
#                    Google Benchmark JSON file (ipcbench micro --benchmark_out=F
#                    --benchmark_out_format=json)
#   options          passed to compare.py before its "benchmarks" mode, e.g. --no-color,
#                    -a (aggregates only), -d OUT.json (also write the comparison as JSON)
# With repetitions (ipcbench --all runs --reps of them) compare.py adds a Mann-Whitney U
# test per benchmark. Environment: IPCBENCH_GBENCH_COMPARE=path/to/compare.py,
# IPCBENCH_PYTHON=python with scipy.
# Exit status: compare.py's (0 when it ran), 2 bad usage or input, 77 compare.py or scipy
# not installed (the CTest "skipped" code).
set -euo pipefail

die() { echo "compare_micro: $*" >&2; exit "${2:-2}"; }

[ $# -ge 2 ] || die "usage: $0 [compare.py options] BASE CONTENDER"
args=("$@")
n=${#args[@]}
base=${args[n-2]}
cont=${args[n-1]}
opts=("${args[@]:0:n-2}")

json_of() {
  if [ -d "$1" ]; then
    [ -f "$1/gbench.json" ] || die "$1: no gbench.json (a run of ipcbench --all writes one)"
    echo "$1/gbench.json"
  elif [ -f "$1" ]; then
    echo "$1"
  else
    die "$1: no such file or run directory"
  fi
}
a=$(json_of "$base")
b=$(json_of "$cont")

cmp=${IPCBENCH_GBENCH_COMPARE:-}
if [ -z "$cmp" ]; then
  for c in /usr/share/benchmark/compare.py \
           $(dpkg -L libbenchmark-tools 2>/dev/null | grep '/compare\.py$' || true); do
    [ -f "$c" ] && { cmp=$c; break; }
  done
fi
[ -n "$cmp" ] && [ -f "$cmp" ] ||
  die "compare.py not found: apt-get install libbenchmark-tools (or set IPCBENCH_GBENCH_COMPARE)" 77

# compare.py imports scipy and numpy: take the first python that has them.
py=""
for p in ${IPCBENCH_PYTHON:-} python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import scipy.stats, numpy' 2>/dev/null; then
    py=$p
    break
  fi
done
[ -n "$py" ] || die "no python3 with scipy and numpy for compare.py: apt-get install python3-scipy" 77

exec "$py" "$cmp" "${opts[@]}" benchmarks "$a" "$b"

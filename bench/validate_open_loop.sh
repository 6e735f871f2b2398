#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Coordinated omission, shown: a 10 ms stall injected into the echoing worker (test hook
# IPCBENCH_TEST_FAULT=stall@N) barely moves the closed-loop p99 -- the stalled round trip is
# one sample among thousands, and the sender simply waited -- but raises the open-loop p99
# (--rate), where every message that fell due during the stall is charged the delay.
# Usage: bench/validate_open_loop.sh BUILD_DIR [CPUS]   (prints a table; exits 0)
set -euo pipefail
bin=${1:?usage: validate_open_loop.sh BUILD_DIR [CPUS]}/ipcbench
cpus=${2:-0,1}
out=$(mktemp -d /tmp/ipcb-ol.XXXXXX)
trap 'rm -rf "$out"' EXIT
p99() {   # median p99 of a run, in microseconds
  awk -F, '$13=="median" && $14=="rtt_p99_ns" {printf "%.1f", $16/1000}' "$out"/latest/results.csv
}
run() {
  IPCBENCH_TEST_FAULT=${1} "$bin" run pingpong --mech pipe --sizes 64 --cpus "$cpus" --reps 5 \
    --duration 500ms --warmup 0 ${2:-} --no-plots --progress off --out "$out" >/dev/null 2>&1 || true
  p99
}
printf '%-28s %14s %14s %8s\n' "loop" "p99 no stall" "p99 stall" "ratio"
for mode in closed open; do
  extra=""; [ $mode = open ] && extra="--rate 2000/s"
  a=$(run "" "$extra"); b=$(run "stall@300" "$extra")
  printf '%-28s %12s us %12s us %8.2f\n' "$mode ${extra:-}" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { print (a > 0 ? b / a : 0) }')"
done

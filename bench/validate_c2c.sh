#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Cross-check of the c2c bench: build the standalone cache-line ping-pong in
# bench/probes/c2c_probe.c (it shares no code with ipcbench), run it and
# `ipcbench run c2c` on the same two CPUs, print the two round trips side by side,
# and fail when they differ by more than 15% of the probe's value.
#
#   bench/validate_c2c.sh [IPCBENCH] [CPU_A CPU_B]
# IPCBENCH defaults to build/ipcbench next to this source tree; CPUs to 0 1.
# Needs a C compiler (cc, or $CC). Exit 0: agree; 1: disagree; 2: could not run.
#
# On a virtual machine the hypervisor may move the two vCPUs between physical cores
# (SMT siblings one minute, separate cores the next), which changes the answer by
# 20% or more from one run to the next. So the probe and ipcbench (process and
# thread mode) run interleaved, ROUNDS times each, and the medians are compared.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
ipcbench=${1:-$here/../build/ipcbench}
[ -d "$ipcbench" ] && ipcbench=$ipcbench/ipcbench   # a build directory works too
cpu_a=${2:-0}
cpu_b=${3:-1}
tolerance=15
rounds=${ROUNDS:-5}
cc=${CC:-cc}

if [ ! -x "$ipcbench" ]; then
	echo "validate_c2c: $ipcbench is not an executable (give the ipcbench path)" >&2
	exit 2
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/validate_c2c.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

if ! "$cc" -O2 -pthread -o "$tmp/c2c_probe" "$here/probes/c2c_probe.c"; then
	echo "validate_c2c: cannot build the probe with $cc" >&2
	exit 2
fi

# ipcbench's number: the median over repetitions of each repetition's p50, in ns.
ipcb_p50() {
	out="$tmp/res-$1-$2"
	"$ipcbench" run c2c --cpus "$cpu_a,$cpu_b" --mode "$1" --reps 3 --duration 0.3s \
		--no-plots --progress off --out "$out" >"$out.log" 2>&1 || {
		echo "validate_c2c: ipcbench failed:" >&2
		cat "$out.log" >&2
		exit 2
	}
	# Columns: 2 bench, 13 rep, 14 metric, 16 value (params hold no commas).
	awk -F, '$2 == "c2c" && $13 == "median" && $14 == "rtt_p50_ns" { print $16; exit }' \
		"$(ls "$out"/*/results.csv | head -n 1)"
}

median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

: >"$tmp/probe"
: >"$tmp/process"
: >"$tmp/thread"
i=0
while [ "$i" -lt "$rounds" ]; do
	"$tmp/c2c_probe" "$cpu_a" "$cpu_b" 3000 | sed -n 's/.*rtt_p50_ns=\([0-9.]*\).*/\1/p' \
		>>"$tmp/probe"
	ipcb_p50 process "$i" >>"$tmp/process"
	ipcb_p50 thread "$i" >>"$tmp/thread"
	i=$((i + 1))
done
probe=$(median <"$tmp/probe")
proc=$(median <"$tmp/process")
thr=$(median <"$tmp/thread")
if [ -z "$probe" ] || [ -z "$proc" ] || [ -z "$thr" ]; then
	echo "validate_c2c: no value (probe '$probe', ipcbench '$proc' / '$thr')" >&2
	exit 2
fi

echo "CPUs $cpu_a,$cpu_b: cache-line round trip, median of $rounds interleaved runs each"
echo "  (runs: probe $(tr '\n' ' ' <"$tmp/probe")| processes $(tr '\n' ' ' <"$tmp/process")| threads $(tr '\n' ' ' <"$tmp/thread"))"
awk -v p="$probe" -v a="$proc" -v t="$thr" -v tol="$tolerance" 'BEGIN {
	da = (a - p) / p * 100; dt = (t - p) / p * 100
	printf "  c2c_probe (threads)        %8.1f ns\n", p
	printf "  ipcbench c2c (processes)   %8.1f ns   %+6.1f%%\n", a, da
	printf "  ipcbench c2c (threads)     %8.1f ns   %+6.1f%%\n", t, dt
	bad = (da > tol || da < -tol || dt > tol || dt < -tol)
	printf "%s: within %d%%? %s\n", bad ? "DISAGREE" : "agree", tol, bad ? "no" : "yes"
	exit bad
}'

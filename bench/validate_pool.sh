#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Sanity check of the pool bench on this machine: run it (P = 1 and 2, every api and
# grain) and print, per api and grain, tasks/s at P = 1, speedup and efficiency at P = 2,
# latency p50 and the sweet spot. Then check two things a wrong bench would get wrong:
#   1. the calibrated 1 ms task really costs 1 ms: at P = 1, apply_async with 1 ms tasks
#      runs 1000 tasks/s, within 15% (the queue overhead is ~0.1% of a 1 ms task);
#   2. with two CPUs or more, 1 ms tasks scale: speedup at P = 2 of at least 1.6.
#
#   bench/validate_pool.sh [IPCBENCH] [extra ipcbench options, e.g. --quick]
# Exit 0: both hold; 1: one does not; 2: could not run.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
ipcbench=${1:-$here/../build/ipcbench}
[ -d "$ipcbench" ] && ipcbench=$ipcbench/ipcbench   # a build directory works too
[ $# -gt 0 ] && shift
if [ ! -x "$ipcbench" ]; then
	echo "validate_pool: $ipcbench is not an executable (give the ipcbench path)" >&2
	exit 2
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/validate_pool.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

if ! "$ipcbench" run pool --pool-sizes 1,2 --reps 3 --duration 0.3s --no-plots \
	--progress off --out "$tmp" "$@" >"$tmp/log" 2>&1; then
	echo "validate_pool: ipcbench failed:" >&2
	cat "$tmp/log" >&2
	exit 2
fi
csv=$(ls "$tmp"/*/results.csv | head -n 1)
ncpus=$(getconf _NPROCESSORS_ONLN)

# Columns: 2 bench, 12 params, 13 rep, 14 metric, 16 value, 21 status.
awk -F, -v ncpus="$ncpus" '
$2 == "pool" && $13 == "median" {
	p = $12
	sub(/^.*api=/, "", p)
	api = p; sub(/;.*/, "", api)
	ch = p; sub(/^.*chunk=/, "", ch); sub(/;.*/, "", ch)
	g = p; sub(/^.*grain_ns=/, "", g); sub(/;.*/, "", g)
	ps = p; sub(/^.*pool_size=/, "", ps); sub(/;.*/, "", ps)
	key = api (api == "map" ? " c=" ch : "") "\t" g
	if (!(key in seen)) { seen[key] = 1; order[++n] = key }
	v[key, ps, $14] = $16
}
END {
	printf "%-22s %9s %12s %9s %9s %12s %12s %6s\n", "api", "grain_ns", "tasks/s P=1",
	       "speedup2", "effic.2", "p50 P=1 ns", "p50 P=2 ns", "sweet"
	for (i = 1; i <= n; i++) {
		split(order[i], k, "\t")
		printf "%-22s %9s %12.0f %9.2f %9.2f %12.0f %12.0f %6s\n", k[1], k[2],
		       v[order[i], 1, "tasks_per_s"], v[order[i], 2, "speedup"],
		       v[order[i], 2, "efficiency"], v[order[i], 1, "task_latency_p50_ns"],
		       v[order[i], 2, "task_latency_p50_ns"], v[order[i], 2, "sweet_spot_pool_size"]
	}
	key = "apply_async\t1000000"
	t1 = v[key, 1, "tasks_per_s"]; s2 = v[key, 2, "speedup"]
	bad = 0
	if (t1 < 850 || t1 > 1150) {
		printf "FAIL: 1 ms tasks at P = 1 run %.0f tasks/s, not 1000 +- 15%%\n", t1; bad = 1
	} else
		printf "ok: 1 ms tasks at P = 1 run %.0f tasks/s (1000 expected)\n", t1
	if (ncpus >= 2 && s2 < 1.6) {
		printf "FAIL: 1 ms tasks at P = 2 speed up %.2fx on %d CPUs (1.6 at least)\n", s2, ncpus
		bad = 1
	} else
		printf "ok: 1 ms tasks at P = 2 speed up %.2fx on %d CPUs\n", s2, ncpus
	exit bad
}' "$csv"

#!/bin/sh
# SPDX-License-Identifier: MIT
#
# CI regression check, end to end: run the quick pipe benches the way the tracked baseline
# was made (results/baselines/pipe-quick, see results/baselines/README.md), compare the
# fresh run with the baseline (ipcbench compare), and make a platform-comparison report of
# the two (ipcbench report), so every piece of post-processing runs on real files.
#
#   bench/ci_compare.sh BUILD_DIR
#
# The baseline was measured on another machine than the one CI runs on, so the threshold
# is deliberately generous (IPCB_CI_THRESHOLD, default 1000%: only a case more than 11
# times slower, or a rate 11 times lower, counts): this check is about the machinery --
# the run, the CSV, the matching of cases, the U test, the verdicts, the exit status --
# not about this machine's speed. A case that FAILED here but passed in the baseline is a
# regression whatever the threshold. Only the medians are judged (IPCB_CI_METRICS, default
# rtt_p50_ns,msgs_per_s): a quick run's p99 moves by 10x on a busy virtual machine. For
# real performance tracking, compare runs from one machine with the default 5% and the
# default metrics (ipcbench compare BASE NEW).
#
# Exit status: 0 no regression, 1 a regression (or the run itself failed), 2 unusable
# input or a broken step. IPCB_KEEP=1 keeps the work directory.
set -u

build=${1:?usage: bench/ci_compare.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
base=$(cd "$here/../results/baselines/pipe-quick" 2>/dev/null && pwd) || base=$here/../results/baselines/pipe-quick
threshold=${IPCB_CI_THRESHOLD:-1000%}
metrics=${IPCB_CI_METRICS:-rtt_p50_ns,msgs_per_s}
ipcbench=$build/ipcbench

if [ ! -x "$ipcbench" ]; then
	echo "ci_compare: $ipcbench: not an executable (build first)" >&2
	exit 2
fi
if [ ! -f "$base/results.csv" ]; then
	echo "ci_compare: $base/results.csv: missing baseline" >&2
	exit 2
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/ipcb-ci-compare.XXXXXX") || exit 2
if [ -z "${IPCB_KEEP:-}" ]; then
	trap 'rm -rf "$work"' EXIT
else
	echo "ci_compare: keeping $work"
fi

# The same command as the baseline's (its metadata.json has it): same cases, same params.
"$ipcbench" run pingpong,stream --mech pipe --quick --reps 5 --sizes 64,4K --no-plots \
	--progress off --out "$work/results" >"$work/run.log" 2>&1
rc=$?
if [ $rc -ne 0 ]; then
	cat "$work/run.log" >&2
	echo "ci_compare: the run failed (exit $rc)" >&2
	[ $rc -eq 1 ] && exit 1
	exit 2
fi
new=$(ls -d "$work"/results/2* 2>/dev/null | head -1)
if [ -z "$new" ] || [ ! -f "$new/results.csv" ]; then
	echo "ci_compare: the run wrote no results.csv under $work/results" >&2
	exit 2
fi

"$ipcbench" compare "$base" "$new" --threshold "$threshold" --metric "$metrics" \
	--md "$work/compare.md"
rc=$?
case $rc in
0) ;;
1) echo "ci_compare: REGRESSION against $base (threshold $threshold); see the table above" >&2
   exit 1 ;;
*) echo "ci_compare: compare could not use its input (exit $rc)" >&2
   exit 2 ;;
esac
if [ ! -s "$work/compare.md" ]; then
	echo "ci_compare: compare wrote no $work/compare.md" >&2
	exit 2
fi

"$ipcbench" report "$base" "$new" --out "$work/report" >/dev/null
rc=$?
if [ $rc -ne 0 ] || [ ! -s "$work/report/report.md" ] || [ ! -s "$work/report/report.html" ]; then
	echo "ci_compare: report failed (exit $rc)" >&2
	exit 2
fi
echo "ci_compare: no regression against $base (threshold $threshold); compare and report ok"
exit 0

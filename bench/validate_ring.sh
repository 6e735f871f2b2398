#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Measure the shm-ring transport against the targets the project set for it, next to three
# standalone probes (bench/probes/, compiled here, never part of the library):
#
#   spsc_ref            a classic padded SPSC ring with cached indices (Rigtorp's idea),
#                       64-byte messages between two pinned processes
#   cacheline_pingpong  a raw cache-line ping-pong between the two CPUs (the floor), and
#                       the same round trip carrying a stamped 64-byte message through two
#                       bare slot rings (the floor for a message that carries its payload)
#   memcpy_bw           single-core memcpy bandwidth at 1 MiB
#
# and then ipcbench itself:
#   ipcbench run stream   --mech shm-ring --sizes 64,1M --cpus A,B
#   ipcbench run pingpong --mech shm-ring --sizes 56,64 --cpus A,B --shm-ring-wait spin
#
# Targets (printed as PASS or MISS; recorded, never asserted: the script exits 0 once it
# has measured, 2 when it cannot run at all):
#   1. ring stream rate at 64 B        >= 1.0 x the reference ring
#   2. ring ping-pong p50 at 64 B      <= 1.5 x the raw cache-line ping-pong p50
#   3. ring stream bandwidth at 1 MiB  >= 0.5 x single-core memcpy bandwidth
#
# Like for like: ipcbench's stream stamps every message before sending and checks it after
# receiving (harness/msg.h, sparse mode). Target 1 is judged against the reference ring
# doing the same per-message work (spsc_ref -s); the bare reference (sequence number only)
# is printed beside it for information. Both rings get the same capacity (4 MiB).
# Target 2 compares like with like: the probe runs after ipcbench and times batches of
# the same number of round trips as ipcbench's ping-pong did (its ops_per_sample), and both
# report the p50 of the per-batch means. The floor is the probe's one-line variant (one
# word on one line, written in turn by both CPUs), as the target was set. Printed beside it,
# for reading the ratio: the one-line-per-direction variant, and the probe's "payload"
# variant -- a stamped and checked 64-byte message through two bare slot rings, each
# message a sequence word plus payload, two lines (64 + 8 bytes do not fit in one). That is
# the least a 64-byte message costs when it must travel with its payload in lines written by
# one side only (the "mailbox" variant, echoing in the very lines the message came in, shows
# whether sharing lines between the directions would help: measured, it does not once a
# payload is copied and checked); the ring's own extra (space accounting, wait modes, a call through the
# transport table) shows as ring / payload. The ring at 56 bytes is printed too: there a
# whole record (length word + payload) is one line.
# Some machines (virtual ones especially) switch between states where a line transfer costs
# very different times; the one-line floor is measured before and after everything (1000
# round trips per sample), and a run whose two disagree by more than 25% says so: its
# ratios compare numbers from different states.
#
# Usage: bench/validate_ring.sh BUILD_DIR
# Environment: CPUS=A,B (default 0,1); CC (default cc); IPCB_ARGS extra ipcbench options
# (e.g. "--reps 9 --duration 1s"); PROBE_SECONDS per probe run (default 1); PROBE_RUNS runs
# of each probe, the median kept (default 3).
# Numbers from a loaded machine are not worth much: run it on an otherwise idle one.
set -u

. "$(dirname "$0")/validate_lib.sh"
validate_init validate_ring "$@" -- spsc_ref cacheline_pingpong memcpy_bw

# The one-line floor at 1000 round trips per sample: taken first and last (see above).
state() { kv "$("$probes/cacheline_pingpong" -a "$cpu_a" -b "$cpu_b" -d 0.2)" one_line_p50_ns; }

echo "== probes (CPUs $cpu_a,$cpu_b; median of $runs runs each) =="
uptime | sed 's/^/machine load before: /'
state_before=$(state)
ref_raw_out=$(median_run msgs_per_s "$probes/spsc_ref" -a "$cpu_a" -b "$cpu_b" -d "$secs")
ref_out=$(median_run msgs_per_s "$probes/spsc_ref" -s -a "$cpu_a" -b "$cpu_b" -d "$secs")
mc_out=$(median_run memcpy_bytes_per_s "$probes/memcpy_bw" -c "$cpu_a" -s 1048576 -d "$secs")
echo "spsc_ref (bare):            $ref_raw_out"
echo "spsc_ref (stamp+check):     $ref_out"
echo "memcpy_bw:                  $mc_out"

ref_raw=$(kv "$ref_raw_out" msgs_per_s)
ref=$(kv "$ref_out" msgs_per_s)
mc=$(kv "$mc_out" memcpy_bytes_per_s)

echo
echo "== ipcbench =="
# shellcheck disable=SC2086 # IPCB_ARGS is a list of options on purpose
"$bin" run stream --mech shm-ring --sizes 64,1M --cpus "$cpu_a,$cpu_b" --no-plots \
	--progress off --out "$work/stream" $extra || echo "ipcbench stream exited $?" >&2
# shellcheck disable=SC2086
"$bin" run pingpong --mech shm-ring --sizes 56,64 --cpus "$cpu_a,$cpu_b" --shm-ring-wait spin \
	--no-plots --progress off --out "$work/pingpong" $extra || echo "ipcbench pingpong exited $?" >&2

# The median row of a metric: value and status (columns found by name in the header).
median() { # csv size metric
	awk -F, -v size="$2" -v metric="$3" '
		NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$col["rep"] == "median" && $col["size_bytes"] == size && $col["metric"] == metric {
			print $col["value"], $col["status"], $col["params"], $col["ops_per_sample"]; exit }' "$1"
}
csv_s=$(ls "$work"/stream/*/results.csv 2>/dev/null | head -1)
csv_p=$(ls "$work"/pingpong/*/results.csv 2>/dev/null | head -1)
read -r ring64 st64 par64 _ <<<"$( [ -n "$csv_s" ] && median "$csv_s" 64 msgs_per_s)"
read -r ring1m st1m par1m _ <<<"$( [ -n "$csv_s" ] && median "$csv_s" 1048576 bytes_per_s)"
read -r rtt strtt parrtt ops <<<"$( [ -n "$csv_p" ] && median "$csv_p" 64 rtt_p50_ns)"
read -r rtt56 strtt56 _ ops56 <<<"$( [ -n "$csv_p" ] && median "$csv_p" 56 rtt_p50_ns)"

# The floor, right after the ring and with the ring's batch (ops_per_sample) per sample.
echo
echo "== floor probe (CPUs $cpu_a,$cpu_b; ${ops:-1000} round trips per sample, as ipcbench; median of $runs runs) =="
cl_out=$(median_run one_line_p50_ns "$probes/cacheline_pingpong" -a "$cpu_a" -b "$cpu_b" -d "$secs" \
	-B "${ops:-1000}" -m 64 -s)
echo "cacheline_pingpong:         $cl_out"
cl1=$(kv "$cl_out" one_line_p50_ns)
cl2=$(kv "$cl_out" two_lines_p50_ns)
clp=$(kv "$cl_out" payload_p50_ns)
clm=$(kv "$cl_out" mailbox_p50_ns)
if [ -n "$ops56" ] && [ "$ops56" != "${ops:-}" ]; then
	cl56_out=$(median_run one_line_p50_ns "$probes/cacheline_pingpong" -a "$cpu_a" -b "$cpu_b" \
		-d "$secs" -B "$ops56" -m 56 -s)
	echo "cacheline_pingpong (56 B):  $cl56_out"
	cl1_56=$(kv "$cl56_out" one_line_p50_ns)
else
	cl1_56=$cl1
fi

echo
echo "== targets =="
# verdict NAME MEASURED REFERENCE RATIO_OP LIMIT UNIT-TEXT
verdict() {
	awk -v name="$1" -v m="${2:-}" -v r="${3:-}" -v op="$4" -v lim="$5" -v what="$6" -v st="${7:-}" '
	BEGIN {
		if (m == "" || r == "" || r + 0 == 0) {
			printf "%-44s no measurement (%s)  MISS\n", name, (m == "" ? "ring" : "reference"); exit
		}
		q = m / r
		ok = (op == ">=") ? (q >= lim) : (q <= lim)
		printf "%-44s %s  ratio %.2f (target %s %.2f)%s  %s\n", name, what, q, op, lim,
		       (st != "" && st != "ok") ? "  [" st "]" : "", ok ? "PASS" : "MISS"
	}'
}
fmt() { awk -v x="${1:-0}" -v d="$2" 'BEGIN { printf "%.3g %s", x / d, (d == 1e6 ? "M/s" : d == 1e9 ? "GB/s" : "ns") }'; }
verdict "1. stream 64 B vs reference ring" "$ring64" "$ref" ">=" 1.0 \
	"ring $(fmt "$ring64" 1e6), reference $(fmt "$ref" 1e6) (bare $(fmt "$ref_raw" 1e6))" "$st64"
verdict "2. ping-pong 64 B p50 vs cache-line floor" "$rtt" "$cl1" "<=" 1.5 \
	"ring $(fmt "$rtt" 1), one line $(fmt "$cl1" 1)" "$strtt"
awk -v r="${rtt:-}" -v b="${cl2:-}" -v p="${clp:-}" -v mb="${clm:-}" -v r56="${rtt56:-}" -v a56="${cl1_56:-}" 'BEGIN {
	if (r != "" && b > 0)
		printf "   one line per direction %.0f ns -> ring %.2fx\n", b, r / b
	if (r != "" && p > 0)
		printf "   64 B stamped message through bare slot rings (2 lines each way) %.0f ns -> ring %.2fx\n", p, r / p
	if (r != "" && mb > 0)
		printf "   the same message, echoed in the lines it came in (a mailbox) %.0f ns -> ring %.2fx\n", mb, r / mb
	if (r56 != "" && a56 > 0)
		printf "   ring at 56 B (length word + payload in one line) %.0f ns -> %.2fx the one-line floor\n", r56, r56 / a56 }'
verdict "3. stream 1 MiB vs memcpy bandwidth" "$ring1m" "$mc" ">=" 0.5 \
	"ring $(fmt "$ring1m" 1e9), memcpy $(fmt "$mc" 1e9)" "$st1m"
echo
echo "ring parameters: 64 B stream: ${par64:-?}; 1 MiB stream: ${par1m:-?}; ping-pong: ${parrtt:-?}"
state_after=$(state)
awk -v a="${state_before:-0}" -v b="${state_after:-0}" 'BEGIN {
	printf "one-line floor (1000 round trips per sample) before %.1f ns, after %.1f ns", a, b
	if (a <= 0 || b <= 0 || a / b > 1.25 || b / a > 1.25)
		printf "  WARNING: the machine changed state during the run, ratios not trustworthy"
	printf "\n" }'
uptime | sed 's/^/machine load after: /'
exit 0
